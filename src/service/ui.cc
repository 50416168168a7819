#include "service/ui.h"

#include <algorithm>
#include <utility>

namespace starling::service {
namespace {

constexpr std::string_view kIndex = "index.html";
// index.html as built says this; the server puts the prefix in.
constexpr std::string_view kBaseHref = "<base href=\"/\">";

const UiAsset* Find(std::span<const UiAsset> assets, std::string_view path) {
  auto it = std::find_if(assets.begin(), assets.end(),
                         [path](const UiAsset& a) { return a.path == path; });
  return it != assets.end() ? &*it : nullptr;
}

net::Response Index(std::span<const UiAsset> assets, std::string_view prefix) {
  const UiAsset* index = Find(assets, kIndex);
  if (index == nullptr)
    return net::Response::Text(500, "the web UI is not built into this binary\n");
  net::Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string(index->data);
  if (size_t at = r.body.find(kBaseHref); at != std::string::npos) {
    r.body.replace(at, kBaseHref.size(), "<base href=\"" + std::string(prefix) + "\">");
  }
  // The page names its hashed assets, so it must not outlive an upgrade in a cache.
  r.headers.push_back({"Cache-Control", "no-cache"});
  return r;
}

}  // namespace

base::Result<std::string> NormalizeUiPrefix(std::string_view flag) {
  for (char c : flag) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
    if (!ok) {
      return base::Status::InvalidArgument(
          "the UI path prefix may only hold letters, digits, '/', '-', '_', '.' and '~', got " +
          std::string(flag));
    }
  }
  std::string prefix(flag);
  if (prefix.empty() || prefix.front() != '/') prefix.insert(prefix.begin(), '/');
  if (prefix.back() != '/') prefix.push_back('/');
  if (prefix.find("//") != std::string::npos || prefix.find("/../") != std::string::npos ||
      prefix.find("/./") != std::string::npos) {
    return base::Status::InvalidArgument("the UI path prefix must be a clean path, got " +
                                         std::string(flag));
  }
  return prefix;
}

std::string_view ContentTypeFor(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

net::Response ServeUi(std::span<const UiAsset> assets, std::string_view prefix,
                      std::string_view suffix) {
  if (suffix.starts_with("api/")) return net::Response::Text(404, "404 page not found\n");
  if (suffix.empty() || suffix == kIndex) return Index(assets, prefix);
  if (const UiAsset* asset = Find(assets, suffix)) {
    net::Response r;
    r.content_type = std::string(ContentTypeFor(suffix));
    r.body = std::string(asset->data);
    // Files under assets/ are named by their content's hash: a new build has new names.
    r.headers.push_back({"Cache-Control", suffix.starts_with("assets/")
                                              ? "public, max-age=31536000, immutable"
                                              : "no-cache"});
    return r;
  }
  // A missing asset file is a 404; anything else is a page of the app.
  if (suffix.starts_with("assets/")) return net::Response::Text(404, "404 page not found\n");
  return Index(assets, prefix);
}

void RegisterUi(net::HttpServer& server, std::span<const UiAsset> assets,
                const std::string& prefix) {
  if (prefix != "/") {
    std::string bare = prefix.substr(0, prefix.size() - 1);
    server.Handle("GET", bare, [prefix](const net::Request&) {
      net::Response r = net::Response::Text(302, "");
      r.headers.push_back({"Location", prefix});
      return r;
    });
  }
  server.HandlePrefix("GET", prefix, [assets, prefix](const net::Request& r) {
    return ServeUi(assets, prefix, r.path_suffix);
  });
}

}  // namespace starling::service
