// ConsoleAssets: the web console's files (index.html, ES modules, CSS, the vendored xterm.js),
// read into memory once at start from the directory the build made, and served by exact path
// under /console/. Nothing touches the disk per request, so no request path can reach a file
// outside that set (no traversal through "..", "%2e%2e", symlinks or the like).
//
//   /console            -> 301 to /console/
//   /console/           -> index.html
//   /console/<relpath>  -> that file; 404 for anything else
//
// Every answer carries Content-Security-Policy (no inline scripts, nothing from other
// origins, no framing), X-Content-Type-Options: nosniff and Cache-Control: no-cache; the
// Content-Type follows the file's extension. Without a directory, /console/ answers 404 with
// a plain message saying the assets are not built.
//
// Thread-safety: after Load, Handle may be called from many threads at once.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "http/http_server.h"

namespace kiln {

class ConsoleAssets {
 public:
  // No assets: every path is 404 "not built".
  ConsoleAssets() = default;
  // Reads every regular file under `dir` (recursively; symlinks are not followed, hidden
  // files and directories are skipped). NotFound if `dir` is not a directory; IoError if a file
  // cannot be read; InvalidArgument if there are more than 64 MiB of files.
  static Result<std::unique_ptr<ConsoleAssets>> Load(const std::string& dir);

  // Whether `path` is /console or under /console/.
  static bool Serves(std::string_view path);
  HttpResponse Handle(const HttpRequest& request) const;

  size_t size() const { return files_.size(); }

  static std::string ContentTypeFor(std::string_view name);

 private:
  struct File {
    std::string content_type;
    std::string body;
  };
  bool loaded_ = false;
  std::map<std::string, File, std::less<>> files_;  // by path relative to the dir, "a/b.js"
};

}  // namespace kiln
