// HttpServer: kilnd's HTTP/1.1 front end (Boost.Beast over Asio, as Ceph's RGW serves S3):
// keep-alive, requests bounded in header and body size, per-request and idle timeouts, many
// concurrent connections on a few threads, and a graceful shutdown that lets requests under
// way finish. It knows nothing of EC2: a handler turns each whole request into a response.
//
// Errors it answers itself, without calling the handler: 400 for a request Beast cannot parse,
// 431 for headers over `max_header_bytes`, 413 for a body over `max_body_bytes`, 405 for any
// method but GET and POST (the Query API's two). After any of these the connection is closed.
// A client whose request headers do not arrive within `idle_timeout_ms` (between requests on a
// kept-alive connection too), or whose body takes longer than `request_timeout_ms`, is
// disconnected. A handler that throws gets a 500.
//
// Thread-safety: the handler is called concurrently from the server's threads; it must not
// block for long (EC2's long work runs as jobs, not inside a request).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kiln {

struct HttpRequest {
  std::string method;                                        // "GET" or "POST"
  std::string target;                                        // as sent: "/path?query"
  std::string path;                                          // before '?', not decoded
  std::string query;                                         // after '?', not decoded ("" if none)
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;
  std::string remote;  // "address:port" of the client

  // The first header named `name` (case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/xml;charset=UTF-8";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/Length
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an address to bind (IPv4 or IPv6)
  uint16_t port = 8787;            // 0 picks a free port (see HttpServer::port)
  int threads = 4;
  uint32_t max_header_bytes = 16 << 10;
  uint64_t max_body_bytes = 8 << 20;
  int request_timeout_ms = 30000;  // to receive a request's body once its headers are in
  int idle_timeout_ms = 60000;     // to receive a request's headers
  std::string server_name = "kiln";
};

class HttpServer {
 public:
  // Binds and starts serving. InvalidArgument for a bad address; FailedPrecondition if the
  // address is in use or cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler);
  // Shutdown(0).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;  // the bound port
  // Stops accepting; requests under way finish and get their responses (with
  // "Connection: close"), idle connections close at once; after `grace_ms` whatever is left
  // is cut. Returns when the threads have stopped. Idempotent.
  void Shutdown(int grace_ms);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
