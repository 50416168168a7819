#pragma once

// prometheus.remote_write: a WAL-backed sample store (wal::Storage at <data_path>/wal) whose
// `receiver` export takes samples from scrapes and relabel components, and one remote::Queue
// per `endpoint` block that sends what the WAL holds with the remote write 1.0 protocol. The
// arguments and defaults are Grafana Agent v0.40's.
//
// The WAL is truncated every wal.truncate_frequency: segments every queue has fully delivered
// go, as do segments whose newest sample is older than wal.max_keepalive_time whatever the
// queues say; series not written to within wal.min_keepalive_time are then forgotten.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "component/component.h"
#include "components/common/http_client.h"
#include "model/relabel/relabel.h"
#include "remote/queue.h"

namespace starling::components {

// Accepted for compatibility; metadata is not sent.
struct RemoteWriteMetadataConfig {
  bool send = true;
  std::chrono::nanoseconds send_interval = std::chrono::minutes(1);
  int max_samples_per_send = 2000;
};

struct RemoteWriteEndpoint {
  std::string name;
  std::string url;
  std::chrono::nanoseconds remote_timeout = std::chrono::seconds(30);
  std::map<std::string, std::string> headers;
  bool send_exemplars = true;
  bool send_native_histograms = false;
  HttpClientArgs client;
  remote::QueueConfig queue;
  RemoteWriteMetadataConfig metadata;
  std::vector<model::relabel::Config> write_relabel_configs;
};

struct RemoteWriteWalOptions {
  std::chrono::nanoseconds truncate_frequency = std::chrono::hours(2);
  std::chrono::nanoseconds min_keepalive_time = std::chrono::minutes(5);
  std::chrono::nanoseconds max_keepalive_time = std::chrono::hours(8);
};

struct RemoteWriteArgs {
  std::map<std::string, std::string> external_labels;
  std::vector<RemoteWriteEndpoint> endpoints;
  RemoteWriteWalOptions wal;
};

void DecodeRemoteWriteArgs(component::ArgDecoder& d, RemoteWriteArgs* args);

// The segment truncation may keep from: the lowest segment some queue still needs (the
// segment being written when there are no queues), but never below the first segment whose
// newest sample is within max_keepalive_time.
int TruncateKeepFrom(const std::vector<int>& lowest_unacked, int current_segment,
                     int oldest_within_max_keepalive);

// The remote_name metric label and state folder of an endpoint: its name, or a short hash of
// its URL when unnamed.
std::string RemoteName(const RemoteWriteEndpoint& e);

component::Registration PrometheusRemoteWriteRegistration();

}  // namespace starling::components
