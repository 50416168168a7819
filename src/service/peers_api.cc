#include "service/peers_api.h"

#include <string>

namespace starling::service {

nlohmann::json PeersToJson(const std::vector<cluster::Member>& members) {
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
                   {"liveness", std::string(cluster::LivenessName(m.liveness))}});
  }
  return out;
}

void RegisterPeersApi(net::HttpServer& server, const cluster::Cluster& cluster) {
  server.Handle("GET", kPeersPath, [&cluster](const net::Request&) {
    return net::Response::Json(200, PeersToJson(cluster.Members()).dump());
  });
}

}  // namespace starling::service
