#include "service/peers_api.h"

#include <string>

#include "service/targets_api.h"
#include "service/web_api.h"

namespace starling::service {

nlohmann::json PeersToJson(const std::vector<cluster::Member>& members,
                           const std::map<std::string, int>& targets, const base::Clock& clock) {
  const base::Clock::TimePoint now = clock.Now();
  const base::Clock::Duration mono = clock.Monotonic();
  nlohmann::json out = nlohmann::json::array();
  for (const cluster::Member& m : members) {
    if (m.liveness != cluster::Liveness::kAlive && m.liveness != cluster::Liveness::kSuspect) {
      continue;
    }
    out.push_back({{"name", m.name},
                   {"addr", m.addr},
                   {"isSelf", m.is_self},
                   {"state", std::string(cluster::NodeStateName(m.state))},
                   {"lamport", m.state_lamport},
                   {"incarnation", m.incarnation},
                   {"liveness", std::string(cluster::LivenessName(m.liveness))},
                   {"lastHeard", FormatUpdatedTime(m.is_self ? now : now - (mono - m.last_heard))},
                   {"targets", targets.contains(m.name) ? targets.at(m.name) : 0}});
  }
  return out;
}

void RegisterPeersApi(net::HttpServer& server, const cluster::Cluster& cluster,
                      const runtime::Runtime& runtime, std::string_view prefix) {
  server.Handle("GET", WebApiPath(prefix, "peers"), [&cluster, &runtime](const net::Request&) {
    const std::map<std::string, int> owned =
        OwnedTargetCounts(runtime.Components(), cluster.View());
    return AllowAnyOrigin(net::Response::Json(
        200, PeersToJson(cluster.Members(), owned, base::Clock::Real()).dump()));
  });
}

}  // namespace starling::service
