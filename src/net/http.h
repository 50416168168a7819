#pragma once

// HTTP request and response values exchanged between the server and its handlers. They are
// plain values with no I/O attached, so handlers can be unit-tested without a socket.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace starling::net {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/api/v0/web/components?x=1"
  std::string path;    // target up to '?', not decoded: "/api/v0/web/components"
  std::string query;   // target after '?', not decoded: "x=1"
  std::vector<Header> headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53422"
  // For a prefix route: the part of path after the prefix ("app.js" for "/ui/" + "app.js").
  std::string path_suffix;

  // The first header with this name (compared case-insensitively), if any.
  std::optional<std::string_view> HeaderValue(std::string_view name) const;
  // The first query parameter with this name, percent-decoded ('+' is a space), if any.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<Header> headers;  // extra headers; Content-Length is set by the server
  std::string body;

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
};

// Handlers run on the server's I/O threads: they should return quickly and must be
// thread-safe, as several requests may be handled at once.
using Handler = std::function<Response(const Request&)>;

// ASCII case folding and comparison, as HTTP header names need.
char AsciiLower(char c);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// The value of the first header named `name` (compared case-insensitively), if any.
std::optional<std::string_view> FindHeader(const std::vector<Header>& headers,
                                           std::string_view name);

// Decodes %XX escapes, and '+' as a space when plus_is_space. Invalid escapes are kept as is.
std::string PercentDecode(std::string_view s, bool plus_is_space);
// Appends s escaped as Go's url.QueryEscape does (a space becomes '+').
void QueryEscape(std::string_view s, std::string* out);
// The first value of `name` in a URL query or form body ("a=1&b=2"), percent-decoded, as Go's
// url.Values.Get; none when the name is absent.
std::optional<std::string> FormValue(std::string_view form, std::string_view name);

}  // namespace starling::net
