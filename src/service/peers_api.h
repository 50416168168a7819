#pragma once

// The cluster's peers as Grafana Agent Flow serves them for its clustering page:
//   GET /api/v0/web/peers -> [{"name", "addr", "isSelf", "state"}, ...]
// with the members that are alive or suspect, sorted by name; `state` is "viewer",
// "participant" or "terminating". Extra fields: "lamport" (the Lamport time of the member's
// last state change), "incarnation", "liveness" ("alive" or "suspect"), "lastHeard" (when
// this node last heard from or about it alive, RFC 3339) and "targets" (how many targets of
// cluster-aware components it owns, computed locally as /api/v0/web/targets does).
//
// Stateless; the cluster's methods are thread-safe.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "cluster/cluster.h"
#include "net/http.h"
#include "net/http_server.h"
#include "runtime/runtime.h"

namespace starling::service {

// `targets`: targets owned per member name; `clock` turns the members' monotonic last-heard
// times into wall-clock times.
nlohmann::json PeersToJson(const std::vector<cluster::Member>& members,
                           const std::map<std::string, int>& targets, const base::Clock& clock);

// Routes <prefix>api/v0/web/peers on `server`; `cluster` and `runtime` must outlive the
// server's use.
void RegisterPeersApi(net::HttpServer& server, const cluster::Cluster& cluster,
                      const runtime::Runtime& runtime, std::string_view prefix = "/");

}  // namespace starling::service
