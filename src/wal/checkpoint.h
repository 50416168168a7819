#pragma once

// Checkpoints of a WAL, named and placed as Prometheus names them: a directory
// `checkpoint.NNNNNNNN` inside the WAL directory, where N is the last segment whose contents it
// replaces. A checkpoint is itself a WAL (written with wal::Wal, read with wal::Reader); ours hold
// series records only, so a reader that wants samples reads the segments after N. A checkpoint
// is created atomically: it is written as `checkpoint.NNNNNNNN.tmp`, synced and renamed into
// place; its owner deletes the older ones (DeleteCheckpoints) once it no longer needs them.
//
// Thread-safety: one writer of checkpoints per WAL directory at a time; readers may look at any
// time and see either the old or the new checkpoint, never a partial one.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "wal/wal.h"

namespace starling::wal {

// "<wal_dir>/checkpoint.00000042".
std::string CheckpointPath(std::string_view wal_dir, int index);

// The newest complete checkpoint in wal_dir as (path, N), or nullopt when there is none.
// Temporary (.tmp) directories are ignored.
base::Result<std::optional<std::pair<std::string, int>>> LastCheckpoint(const std::string& wal_dir);

// Creates checkpoint N of wal_dir from the records `write` logs into the WAL it is given, as
// described above. Returns the checkpoint's path. On error the previous checkpoint stays in
// place.
base::Result<std::string> CreateCheckpoint(const std::string& wal_dir, int index,
                                           const std::function<base::Status(Wal&)>& write);

// Deletes the checkpoints with N < index, and leftover temporary ones.
base::Status DeleteCheckpoints(const std::string& wal_dir, int index);

}  // namespace starling::wal
