#pragma once

// The component web API that Grafana Agent Flow and Alloy serve for their UI, over a running
// runtime::Runtime:
//   GET /api/v0/web/components       -> JSON array of every component (no values)
//   GET /api/v0/web/components/{id}  -> one component with arguments, exports and debugInfo,
//                                       or 404 when no component has that id
// Field names follow Alloy's component info JSON (localID, moduleID, referencesTo, ...).
// Like the Agent's, the web API's routes hang under the UI's path prefix
// (--server.http.ui-path-prefix, "/" by default), and any origin may read them, as Prometheus's
// API allows by default: the UI of one node fetches its peers' target states.
// Values are rendered as plain JSON by syntax::ValueToJson, so secrets show as "(secret)".
//
// Stateless functions; the handlers only read the runtime, whose methods are thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "net/http.h"
#include "net/http_server.h"
#include "runtime/runtime.h"

namespace starling::service {

// prefix ("/" or "/foo/") + "api/v0/web/" + endpoint.
std::string WebApiPath(std::string_view prefix, std::string_view endpoint);

// r with Access-Control-Allow-Origin: *.
net::Response AllowAnyOrigin(net::Response r);

// Go's time.Time JSON form (RFC 3339 in UTC, fraction trimmed of trailing zeros), as Alloy's
// `updatedTime`. The clock's epoch (a health never set) renders as Go's zero time.
std::string FormatUpdatedTime(base::Clock::TimePoint t);

// One component as the API renders it; with_values adds arguments, exports and debugInfo.
nlohmann::json ComponentToJson(const runtime::ComponentInfo& info, bool with_values);

// The handlers, usable without a socket. `id` is the path after "components/".
net::Response ListComponents(const runtime::Runtime& runtime);
net::Response GetComponent(const runtime::Runtime& runtime, std::string_view id);

// Routes both endpoints on `server`; `runtime` must outlive the server's use of them.
void RegisterWebApi(net::HttpServer& server, const runtime::Runtime& runtime,
                    std::string_view prefix = "/");

}  // namespace starling::service
