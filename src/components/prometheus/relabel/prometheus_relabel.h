#pragma once

// prometheus.relabel: rewrites or drops the series of the samples sent to its `receiver` with
// relabel `rule` blocks, then forwards them. Results are cached per input series (up to
// max_cache_size series) so that a series is relabeled once, not once per sample.

#include <cstddef>
#include <memory>
#include <vector>

#include "component/component.h"
#include "model/relabel/relabel.h"
#include "storage/storage.h"

namespace starling::components {

struct PrometheusRelabelArgs {
  std::shared_ptr<storage::Fanout> forward_to;
  std::vector<model::relabel::Config> rules;
  int max_cache_size = 100000;
};

void DecodePrometheusRelabelArgs(component::ArgDecoder& d, PrometheusRelabelArgs* args);

component::Registration PrometheusRelabelRegistration();

}  // namespace starling::components
