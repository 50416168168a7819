#pragma once

// Which node scrapes which target, for the whole cluster, computed locally:
//   GET /api/v0/web/targets -> [{"component", "labels", "owner", "isSelf", "clustered"
//                                [, "scrape"]}, ...]
// Every target in the `targets` argument of every component with a `clustering` block (the
// cluster-aware ones), with the node that owns it under the current peer set. Since every
// node sees the same targets and peers, any node answers for all of them. For a component
// whose clustering is off, every node scrapes every target: `owner` is this node and
// `clustered` false. While the cluster waits for --cluster.wait-for-size nobody owns anything
// (`owner` is "").
//
// The targets this node scrapes carry "scrape": {"health" (up, down or unknown before the first
// scrape), "lastError", "lastScrape", "lastScrapeDuration", "series", "url", "labels" (the
// labels its series get)}, from the component's debug info. For the others, ask their owner.
//
// Stateless; the runtime's and the cluster's methods are thread-safe.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster.h"
#include "net/http_server.h"
#include "runtime/runtime.h"

namespace starling::service {

nlohmann::json TargetsToJson(const std::vector<runtime::ComponentInfo>& components,
                             const cluster::ClusterView& view);

// How many of those targets each node owns, by owner name ("" while the cluster waits).
std::map<std::string, int> OwnedTargetCounts(const std::vector<runtime::ComponentInfo>& components,
                                             const cluster::ClusterView& view);

// Routes <prefix>api/v0/web/targets on `server`; `runtime` and `cluster` must outlive the
// server's use.
void RegisterTargetsApi(net::HttpServer& server, const runtime::Runtime& runtime,
                        const cluster::Cluster& cluster, std::string_view prefix = "/");

}  // namespace starling::service
