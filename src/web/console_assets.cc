#include "web/console_assets.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln {
namespace {

constexpr uint64_t kMaxTotalBytes = 64ull << 20;
constexpr char kCsp[] =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'";

HttpResponse WithHeaders(HttpResponse r) {
  r.headers.emplace_back("Content-Security-Policy", kCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

HttpResponse Text(int status, std::string text) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(text);
  return WithHeaders(std::move(r));
}

}  // namespace

std::string ConsoleAssets::ContentTypeFor(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const size_t dot = name.rfind('.');
  const size_t slash = name.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    auto it = kTypes.find(name.substr(dot));
    if (it != kTypes.end()) return it->second;
  }
  return "application/octet-stream";
}

Result<std::unique_ptr<ConsoleAssets>> ConsoleAssets::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFoundError("no console directory " + dir);
  auto assets = std::make_unique<ConsoleAssets>();
  assets->loaded_ = true;
  uint64_t total = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return IoError("cannot list " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError("cannot list " + dir + ": " + ec.message());
    const fs::path& p = it->path();
    if (p.filename().string().starts_with(".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::ifstream in(p, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) return IoError("cannot read " + p.string());
    total += body.str().size();
    if (total > kMaxTotalBytes) return InvalidArgumentError("over 64 MiB of console assets");
    const std::string rel = fs::relative(p, dir, ec).generic_string();
    if (ec) return IoError("cannot place " + p.string() + ": " + ec.message());
    assets->files_[rel] = File{ContentTypeFor(rel), body.str()};
  }
  return assets;
}

bool ConsoleAssets::Serves(std::string_view path) {
  return path == "/console" || path.starts_with("/console/");
}

HttpResponse ConsoleAssets::Handle(const HttpRequest& request) const {
  if (request.method != "GET") return Text(405, "only GET\n");
  if (request.path == "/console") {
    HttpResponse r = Text(301, "moved to /console/\n");
    r.headers.emplace_back("Location", "/console/");
    return r;
  }
  if (!loaded_) return Text(404, "the web console's assets are not built; run make\n");
  std::string_view rel =
      std::string_view(request.path).substr(std::string_view("/console/").size());
  if (rel.empty()) rel = "index.html";
  auto it = files_.find(rel);
  if (it == files_.end()) return Text(404, "not found\n");
  HttpResponse r;
  r.content_type = it->second.content_type;
  r.body = it->second.body;
  return WithHeaders(std::move(r));
}

}  // namespace kiln
