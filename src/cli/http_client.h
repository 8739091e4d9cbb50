// A small blocking HTTP/1.1 client over Boost.Beast for kilnd's plain-HTTP listener: one
// request per connection (kilnd's requests are few and local).
//
// Errors: Unavailable when the connection cannot be made or breaks (the message says which URL
// and why, e.g. "Connection refused"), DeadlineExceeded on timeout, InvalidArgument for a URL
// that is not http://host[:port][/path].
// Thread-safety: each call is independent.
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"
#include "cli/sigv4_signer.h"

namespace kiln::cli {

struct Url {
  std::string scheme;  // "http"
  std::string host;    // "127.0.0.1"
  std::string port;    // "8787" (80 when absent)
  std::string path;    // "" or "/prefix" (no trailing slash)
  // Host header value: host, plus :port unless it is the scheme's default.
  std::string HostHeader() const;
};

Result<Url> ParseUrl(std::string_view url);

struct HttpResponse {
  int status = 0;
  std::string body;
  HeaderList headers;
};

// Sends `method target` with `headers` (Host is added from the URL unless present) and `body`.
Result<HttpResponse> HttpRequestOnce(const Url& url, const std::string& method,
                                     const std::string& target, const HeaderList& headers,
                                     const std::string& body, std::chrono::seconds timeout);

}  // namespace kiln::cli
