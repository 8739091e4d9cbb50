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
// WebSocket (RFC 6455): with an UpgradeHandler, a GET carrying `Upgrade: websocket` goes to it
// instead of the handler. It answers with a refusal (an HttpResponse sent as plain HTTP, then
// the connection closes) or accepts with a WebSocketSession: the server completes the
// handshake and runs the session on a thread of its own, with a blocking WebSocket to talk
// through. Without an UpgradeHandler, such requests go to the handler like any other.
//
// Thread-safety: the handler and the upgrade handler are called concurrently from the server's
// threads; they must not block for long (EC2's long work runs as jobs, not inside a request).
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

struct WebSocketMessage {
  bool text = false;  // a text frame (UTF-8); otherwise binary
  std::string data;
};

// One accepted WebSocket connection, as its session sees it. Frames are whole messages.
//
// Thread-safety: Read is called from one thread at a time (the session's); Write and Close may
// be called from any threads, also while a Read blocks: they are sent in call order.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Blocks for the next message. Aborted once the connection is over: the peer closed it (or
  // answered our close), it dropped, or the server is shutting down.
  virtual Result<WebSocketMessage> Read() = 0;
  // Sends one message; returns once it is written. Aborted when the connection is over or
  // closing.
  virtual Status Write(std::string_view data, bool text) = 0;
  // Sends a close frame with `code` (1000: normal) after the writes before it, and returns once
  // the closing handshake is over (or failed, or timed out). Later writes fail. Idempotent.
  virtual void Close(uint16_t code = 1000, std::string_view reason = "") = 0;
  // The close code the peer sent (0 if none yet).
  virtual uint16_t peer_close_code() const = 0;
};

// Runs on its own thread for the lifetime of the connection; returning ends it (with a close
// 1000 if the session did not close it). It must return once Read fails: Shutdown waits for it.
using WebSocketSession = std::function<void(WebSocket&)>;

// The upgrade handler's answer: `session` set accepts; otherwise `refusal` is sent.
struct UpgradeDecision {
  HttpResponse refusal;
  WebSocketSession session;
};
using UpgradeHandler = std::function<UpgradeDecision(const HttpRequest&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an address to bind (IPv4 or IPv6)
  uint16_t port = 8787;            // 0 picks a free port (see HttpServer::port)
  int threads = 4;
  uint32_t max_header_bytes = 16 << 10;
  uint64_t max_body_bytes = 8 << 20;
  uint64_t max_websocket_message_bytes = 1 << 20;  // a bigger message ends the connection (1009)
  // A WebSocket peer silent this long is sent a ping; one silent for twice as long is cut.
  int websocket_idle_timeout_ms = 60000;
  int request_timeout_ms = 30000;  // to receive a request's body once its headers are in
  int idle_timeout_ms = 60000;     // to receive a request's headers
  std::string server_name = "kiln";
};

class HttpServer {
 public:
  // Binds and starts serving. InvalidArgument for a bad address; FailedPrecondition if the
  // address is in use or cannot be bound.
  // `upgrade` may be null (no WebSocket support).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler,
                                                   UpgradeHandler upgrade = nullptr);
  // Shutdown(0).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;  // the bound port
  // Stops accepting; requests under way finish and get their responses (with
  // "Connection: close"), idle connections close at once, WebSocket connections are sent a
  // close (1001, going away); after `grace_ms` whatever is left is cut, and the Read and Write
  // of WebSocket sessions still running fail. Returns when the threads have stopped and every
  // WebSocket session has returned. Idempotent.
  void Shutdown(int grace_ms);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
