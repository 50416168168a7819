#include "service/ui.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/http.h"

namespace starling::service {
namespace {

constexpr UiAsset kAssets[] = {
    {"index.html", "<html><head><base href=\"/\"></head><body>app</body></html>"},
    {"assets/index-1a2b.js", "console.log(1)"},
    {"assets/index-1a2b.css", "body{}"},
    {"favicon.svg", "<svg/>"},
};

std::string Header(const net::Response& r, std::string_view name) {
  std::optional<std::string_view> v = net::FindHeader(r.headers, name);
  return v.has_value() ? std::string(*v) : "";
}

TEST(UiTest, NormalizesThePrefix) {
  const std::vector<std::pair<std::string, std::string>> ok = {
      {"", "/"},
      {"/", "/"},
      {"agent", "/agent/"},
      {"/agent", "/agent/"},
      {"/a/b/", "/a/b/"},
      {"/a-b_c.d~e", "/a-b_c.d~e/"},
  };
  for (const auto& [flag, want] : ok) {
    SCOPED_TRACE(flag);
    base::Result<std::string> got = NormalizeUiPrefix(flag);
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(*got, want);
  }
  for (const std::string flag :
       {"/a b", "/a?x", "/a#x", "//a", "/a//b", "/a/../b", "/\"x\"", "/<script>"}) {
    SCOPED_TRACE(flag);
    EXPECT_FALSE(NormalizeUiPrefix(flag).ok());
  }
}

TEST(UiTest, ServesIndexWithThePrefixAsBase) {
  for (const std::string prefix : {"/", "/agent/"}) {
    SCOPED_TRACE(prefix);
    for (const std::string page :
         {"", "index.html", "clustering", "component/prometheus.scrape.a"}) {
      SCOPED_TRACE(page);
      net::Response r = ServeUi(kAssets, prefix, page);
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
      EXPECT_EQ(r.body, "<html><head><base href=\"" + prefix + "\"></head><body>app</body></html>");
      EXPECT_EQ(Header(r, "Cache-Control"), "no-cache");
    }
  }
}

TEST(UiTest, ServesAssetsWithTheirTypes) {
  struct Case {
    std::string path, type, cache;
  };
  const Case cases[] = {
      {"assets/index-1a2b.js", "text/javascript; charset=utf-8",
       "public, max-age=31536000, immutable"},
      {"assets/index-1a2b.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
      {"favicon.svg", "image/svg+xml", "no-cache"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    net::Response r = ServeUi(kAssets, "/", c.path);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, c.type);
    EXPECT_EQ(Header(r, "Cache-Control"), c.cache);
    for (const UiAsset& a : kAssets) {
      if (a.path == c.path) {
        EXPECT_EQ(r.body, a.data);
      }
    }
  }
}

TEST(UiTest, UnknownAssetsAndApiPathsAreNotFound) {
  for (const std::string path : {"assets/gone-0000.js", "api/v0/web/nope", "api/"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(ServeUi(kAssets, "/", path).status, 404);
  }
}

TEST(UiTest, WithoutAnIndexTheUiSaysSo) {
  net::Response r = ServeUi({}, "/", "");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("not built"), std::string::npos);
}

TEST(UiTest, TheEmbeddedBuildHasAnIndexWithABase) {
  const UiAsset* index = nullptr;
  for (const UiAsset& a : EmbeddedUiAssets()) {
    if (a.path == "index.html") index = &a;
  }
  ASSERT_NE(index, nullptr);
  EXPECT_NE(index->data.find("<base href=\"/\">"), std::string_view::npos);
  // Every script and stylesheet index.html names is embedded too.
  size_t pos = 0;
  int referenced = 0;
  while ((pos = index->data.find("\"./assets/", pos)) != std::string_view::npos) {
    const size_t end = index->data.find('"', pos + 1);
    const std::string_view path = index->data.substr(pos + 3, end - pos - 3);
    SCOPED_TRACE(std::string(path));
    net::Response r = ServeUi(EmbeddedUiAssets(), "/", path);
    EXPECT_EQ(r.status, 200);
    ++referenced;
    pos = end;
  }
  EXPECT_GT(referenced, 0);
}

}  // namespace
}  // namespace starling::service
