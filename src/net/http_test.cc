#include "net/http.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "net/http_server.h"

namespace starling::net {
namespace {

TEST(HttpTest, PercentDecode) {
  struct Case {
    std::string in;
    bool plus_is_space;
    std::string want;
  };
  const Case cases[] = {
      {"plain", true, "plain"},     {"a%20b", false, "a b"}, {"a+b", true, "a b"},
      {"a+b", false, "a+b"},        {"%2f%2F", true, "//"},  {"bad%zzx", true, "bad%zzx"},
      {"trail%2", true, "trail%2"}, {"%", true, "%"},        {"%41%42", true, "AB"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(PercentDecode(c.in, c.plus_is_space), c.want);
  }
}

TEST(HttpTest, QueryParam) {
  Request req;
  req.query = "a=1&b=x%20y&empty=&flag&a=2&sp=a+b&k%3D=v";
  struct Case {
    std::string name;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"a", "1"},
      {"b", "x y"},
      {"empty", ""},
      {"flag", ""},
      {"sp", "a b"},
      {"k=", "v"},
      {"missing", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(req.QueryParam(c.name), c.want);
  }
}

TEST(HttpTest, HeaderValueIsCaseInsensitive) {
  Request req;
  req.headers = {{"Content-Type", "text/plain"}, {"X-Two", "first"}, {"x-two", "second"}};
  EXPECT_EQ(req.HeaderValue("content-type"), "text/plain");
  EXPECT_EQ(req.HeaderValue("X-TWO"), "first");
  EXPECT_EQ(req.HeaderValue("Accept"), std::nullopt);
}

TEST(HttpTest, ResponseHelpers) {
  Response t = Response::Text(404, "nope");
  EXPECT_EQ(t.status, 404);
  EXPECT_EQ(t.body, "nope");
  EXPECT_EQ(t.content_type, "text/plain; charset=utf-8");
  Response j = Response::Json(200, "{}");
  EXPECT_EQ(j.content_type, "application/json");
}

TEST(HttpTest, ParseHostPort) {
  struct Case {
    std::string in;
    bool ok;
    std::string host;
    int port;
  };
  const Case cases[] = {
      {"127.0.0.1:12345", true, "127.0.0.1", 12345},
      {"localhost:0", true, "localhost", 0},
      {":80", true, "", 80},
      {"[::1]:9090", true, "::1", 9090},
      {"0.0.0.0:65535", true, "0.0.0.0", 65535},
      {"127.0.0.1", false, "", 0},
      {"127.0.0.1:", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},
      {"127.0.0.1:-1", false, "", 0},
      {"127.0.0.1:12a", false, "", 0},
      {"::1:80", false, "", 0},
      {"[::1:80", false, "", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    base::Result<HostPort> r = ParseHostPort(c.in);
    ASSERT_EQ(r.ok(), c.ok) << r.error().ToString();
    if (!c.ok) {
      EXPECT_EQ(r.error().code(), base::StatusCode::kInvalidArgument);
      EXPECT_NE(r.error().message().find(c.in), std::string::npos);
      continue;
    }
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->port, c.port);
  }
}

}  // namespace
}  // namespace starling::net
