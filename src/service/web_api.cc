#include "service/web_api.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string_view>

#include "syntax/value_json.h"

namespace starling::service {

std::string FormatUpdatedTime(base::Clock::TimePoint t) {
  if (t.time_since_epoch().count() == 0) return "0001-01-01T00:00:00Z";
  using std::chrono::floor;
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  auto secs = floor<seconds>(t);
  std::int64_t nanos = (t - secs).count();
  std::time_t tt = static_cast<std::time_t>(secs.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (nanos > 0) {
    char frac[32];
    std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

namespace {

nlohmann::json Strings(const std::vector<std::string>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& s : v) out.push_back(s);
  return out;
}

}  // namespace

nlohmann::json ComponentToJson(const runtime::ComponentInfo& info, bool with_values) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = info.name;
  j["type"] = "block";
  j["localID"] = info.id;
  j["moduleID"] = "";  // no modules yet: every component is in the root module
  if (!info.label.empty()) j["label"] = info.label;
  j["referencesTo"] = Strings(info.references);
  j["referencedBy"] = Strings(info.referenced_by);
  j["health"] = {
      {"state", std::string(component::HealthStateName(info.health.state))},
      {"message", info.health.message},
      {"updatedTime", FormatUpdatedTime(info.health.updated)},
  };
  if (with_values) {
    j["arguments"] = syntax::ValueToJson(info.arguments);
    j["exports"] = syntax::ValueToJson(info.exports);
    j["debugInfo"] = syntax::ValueToJson(info.debug_info);
  }
  return j;
}

net::Response ListComponents(const runtime::Runtime& runtime) {
  nlohmann::json out = nlohmann::json::array();
  for (const runtime::ComponentInfo& info : runtime.Components()) {
    out.push_back(ComponentToJson(info, /*with_values=*/false));
  }
  return net::Response::Json(200, out.dump());
}

net::Response GetComponent(const runtime::Runtime& runtime, std::string_view id) {
  std::optional<runtime::ComponentInfo> info = runtime.Component(id);
  if (!info.has_value()) return net::Response::Text(404, "404 page not found\n");
  return net::Response::Json(200, ComponentToJson(*info, /*with_values=*/true).dump());
}

std::string WebApiPath(std::string_view prefix, std::string_view endpoint) {
  std::string path(prefix);
  path.append("api/v0/web/").append(endpoint);
  return path;
}

net::Response AllowAnyOrigin(net::Response r) {
  r.headers.push_back({"Access-Control-Allow-Origin", "*"});
  return r;
}

void RegisterWebApi(net::HttpServer& server, const runtime::Runtime& runtime,
                    std::string_view prefix) {
  server.Handle("GET", WebApiPath(prefix, "components"), [&runtime](const net::Request&) {
    return AllowAnyOrigin(ListComponents(runtime));
  });
  server.HandlePrefix("GET", WebApiPath(prefix, "components/"), [&runtime](const net::Request& r) {
    return AllowAnyOrigin(GetComponent(runtime, net::PercentDecode(r.path_suffix, false)));
  });
}

}  // namespace starling::service
