#pragma once

// The web UI: the single-page app built from ui/ and embedded in the binary at build time,
// served under the UI's path prefix (--server.http.ui-path-prefix, "/" by default):
//   <prefix>assets/...   the app's files, named by content hash, cached for a year
//   <prefix>             index.html, with <base href> set to the prefix; any other GET path
//                        under the prefix (a page of the app, such as <prefix>clustering)
//                        gets it too, so deep links load
//   <prefix minus "/">   redirects to <prefix>
// Paths under <prefix>api/ are left to the web API: an unknown one is a 404, not the app.
//
// Stateless; the assets are constant.

#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/http.h"
#include "net/http_server.h"

namespace starling::service {

// One file of the UI's build, by its path relative to the build's root ("index.html").
struct UiAsset {
  std::string_view path;
  std::string_view data;
};

// The files embedded at build time (ui_assets.cc, generated from the npm build of ui/).
std::span<const UiAsset> EmbeddedUiAssets();

// The flag's value as a path prefix that starts and ends with "/": "" and "/" are "/",
// "agent" and "/agent/" are "/agent/". Fails on a value with "?", "#", "..", "//" or spaces.
base::Result<std::string> NormalizeUiPrefix(std::string_view flag);

// The Content-Type for a file name, by its extension.
std::string_view ContentTypeFor(std::string_view path);

// Answers a GET for `suffix`, the request path after the prefix (see the file comment).
net::Response ServeUi(std::span<const UiAsset> assets, std::string_view prefix,
                      std::string_view suffix);

// Routes the UI under `prefix` (normalized) on `server`; `assets` must outlive the server.
void RegisterUi(net::HttpServer& server, std::span<const UiAsset> assets,
                const std::string& prefix);

}  // namespace starling::service
