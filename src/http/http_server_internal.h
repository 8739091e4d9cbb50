// Inside HttpServer (not for other code): the server's state shared by its HTTP connections
// (http_server.cc) and its WebSocket connections (websocket_connection.cc).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/http_server.h"

namespace kiln {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace http_internal {

// A connection the server tracks so that Shutdown can close it.
class Connection {
 public:
  virtual ~Connection() = default;
  // Shutdown began: close now if nothing is under way, else once it is done. Any thread.
  virtual void CloseIfIdle() = 0;
  // The io_context has stopped (no handler runs again): fail whatever still waits on it.
  virtual void Abandon() {}
};

// Takes over an HTTP connection whose request `req` asked for a WebSocket: completes the
// handshake and runs `session` on a thread of its own. Called on the connection's strand.
void StartWebSocket(beast::tcp_stream stream, http::request<http::string_body> req,
                    WebSocketSession session, HttpServer::Impl& server);

}  // namespace http_internal

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, HttpHandler handler, UpgradeHandler upgrade)
      : options_(options),
        handler_(std::move(handler)),
        upgrade_(std::move(upgrade)),
        ioc_(options.threads) {}

  Status Bind();
  void Run();
  void Shutdown(int grace_ms);
  uint16_t port() const { return port_; }

  const HttpServerOptions& options() const { return options_; }
  const HttpHandler& handler() const { return handler_; }
  const UpgradeHandler& upgrade() const { return upgrade_; }
  bool stopping() const { return stopping_.load(); }
  // Connections register so that Shutdown can close them.
  using Registration = std::list<std::weak_ptr<http_internal::Connection>>::iterator;
  Registration Register(std::weak_ptr<http_internal::Connection> c);
  void Unregister(Registration it);
  // Runs `session` on a new thread that Shutdown waits for. False (and nothing runs) once
  // Shutdown has begun.
  bool SpawnSession(std::function<void()> session);

 private:
  void Accept();
  std::vector<std::shared_ptr<http_internal::Connection>> Live();

  const HttpServerOptions options_;
  const HttpHandler handler_;
  const UpgradeHandler upgrade_;
  // Before the io_context: connections it still holds unregister when it is destroyed.
  std::mutex mu_;
  std::condition_variable drained_;
  std::condition_variable sessions_done_;
  std::list<std::weak_ptr<http_internal::Connection>> sessions_;  // guarded by mu_
  int session_threads_ = 0;                                       // guarded by mu_
  bool stopped_ = false;                                          // guarded by mu_
  std::atomic<bool> stopping_{false};
  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace kiln
