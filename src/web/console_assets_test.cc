// ConsoleAssets: files read once and served by exact path with their headers; traversal
// attempts, unknown paths, symlinks and hidden files are 404; the redirect; no assets.
#include "web/console_assets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "env/env_testing.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

HttpResponse Get(const ConsoleAssets& assets, const std::string& path) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  return assets.Handle(r);
}

class ConsoleAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(dir_.path() + "/console/index.html", "<!doctype html>");
    Write(dir_.path() + "/console/app.js", "export {}");
    Write(dir_.path() + "/console/vendor/xterm.css", ".x{}");
    Write(dir_.path() + "/console/.hidden/secret.js", "no");
    Write(dir_.path() + "/console/.env", "no");
    Write(dir_.path() + "/outside.txt", "secret");
    std::filesystem::create_symlink(dir_.path() + "/outside.txt",
                                    dir_.path() + "/console/link.txt");
    auto loaded = ConsoleAssets::Load(dir_.path() + "/console");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    assets_ = std::move(*loaded);
    // Served from memory: changing the disk afterwards changes nothing.
    Write(dir_.path() + "/console/late.js", "late");
  }

  env_testing::TempDir dir_{"kiln_console"};
  std::unique_ptr<ConsoleAssets> assets_;
};

TEST_F(ConsoleAssetsTest, ServesFilesWithTheirTypesAndHeaders) {
  HttpResponse index = Get(*assets_, "/console/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Header(index, "Content-Security-Policy"),
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(Header(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(index, "Cache-Control"), "no-cache");
  EXPECT_EQ(Get(*assets_, "/console/index.html").body, "<!doctype html>");
  HttpResponse js = Get(*assets_, "/console/app.js");
  EXPECT_EQ(js.body, "export {}");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Get(*assets_, "/console/vendor/xterm.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(assets_->size(), 3u);
}

TEST_F(ConsoleAssetsTest, RedirectsTheBarePath) {
  HttpResponse r = Get(*assets_, "/console");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(Header(r, "Location"), "/console/");
}

TEST_F(ConsoleAssetsTest, TraversalAndUnknownPathsAre404) {
  for (const char* path :
       {"/console/../outside.txt", "/console/%2e%2e/outside.txt", "/console/vendor/../app.js",
        "/console//app.js", "/console/./app.js", "/console/link.txt", "/console/.env",
        "/console/.hidden/secret.js", "/console/late.js", "/console/nope.js", "/console/vendor",
        "/console/vendor/", "/console/APP.JS", "/console/app.js/", "/console/..%2foutside.txt",
        "/console/\\..\\outside.txt"}) {
    HttpResponse r = Get(*assets_, path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_THAT(r.body, Not(HasSubstr("secret"))) << path;
  }
}

TEST_F(ConsoleAssetsTest, OnlyGet) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/console/app.js";
  EXPECT_EQ(assets_->Handle(r).status, 405);
}

TEST(ConsoleAssetsLoadTest, WithoutAssets) {
  ConsoleAssets none;
  HttpResponse r = Get(none, "/console/");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("the web console's assets are not built; run make"));
  EXPECT_EQ(Get(none, "/console").status, 301);
  EXPECT_EQ(ConsoleAssets::Load("/nonexistent/kiln-console").status().code(), Code::kNotFound);
}

TEST(ConsoleAssetsLoadTest, ContentTypes) {
  EXPECT_EQ(ConsoleAssets::ContentTypeFor("a/b.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ConsoleAssets::ContentTypeFor("x.svg"), "image/svg+xml");
  EXPECT_EQ(ConsoleAssets::ContentTypeFor("x.json"), "application/json");
  EXPECT_EQ(ConsoleAssets::ContentTypeFor("noext"), "application/octet-stream");
  EXPECT_EQ(ConsoleAssets::ContentTypeFor("dir.js/file"), "application/octet-stream");
}

}  // namespace
}  // namespace kiln
