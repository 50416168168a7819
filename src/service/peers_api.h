#pragma once

// The cluster's peers as Grafana Agent Flow serves them for its clustering page:
//   GET /api/v0/web/peers -> [{"name", "addr", "isSelf", "state"}, ...]
// with the members that are alive or suspect, sorted by name; `state` is "viewer",
// "participant" or "terminating". Extra fields: "lamport" (the Lamport time of the member's
// last state change), "incarnation" and "liveness" ("alive" or "suspect").
//
// Stateless; the cluster's methods are thread-safe.

#include <nlohmann/json.hpp>

#include "cluster/cluster.h"
#include "net/http.h"
#include "net/http_server.h"

namespace starling::service {

inline constexpr char kPeersPath[] = "/api/v0/web/peers";

nlohmann::json PeersToJson(const std::vector<cluster::Member>& members);

// Routes kPeersPath on `server`; `cluster` must outlive the server's use of it.
void RegisterPeersApi(net::HttpServer& server, const cluster::Cluster& cluster);

}  // namespace starling::service
