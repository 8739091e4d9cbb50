#include "http/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>

#include "http/http_server_internal.h"

namespace kiln {

using http_internal::Connection;

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, beast::string_view(name.data(), name.size()))) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

namespace {

// One connection: read a request, answer it, repeat while kept alive. All its work runs on its
// own strand, so a close from Shutdown never races a read or a write.
class Session : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), strand_(stream_.get_executor()), server_(server) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string() + ":" + std::to_string(peer.port());
  }
  ~Session() override { server_.Unregister(registration_); }

  void Start() {
    registration_ = server_.Register(weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }
  // From Shutdown: an idle connection closes now; a busy one after its response.
  void CloseIfIdle() override {
    net::post(strand_, [self = shared_from_this()] {
      if (!self->busy_ && !self->upgraded_) self->Close();
    });
  }
  void Close() {
    if (upgraded_) return;  // the stream belongs to the WebSocket connection now
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void ReadHeader() {
    if (server_.stopping()) return Close();
    parser_.emplace();
    parser_->header_limit(server_.options().max_header_bytes);
    parser_->body_limit(server_.options().max_body_bytes);
    stream_.expires_after(std::chrono::milliseconds(server_.options().idle_timeout_ms));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnError(ec);
    busy_ = true;
    const http::verb verb = parser_->get().method();
    if (verb != http::verb::get && verb != http::verb::post) {
      return Reply(Plain(405, "method not allowed\n"), /*keep_alive=*/false);
    }
    stream_.expires_after(std::chrono::milliseconds(server_.options().request_timeout_ms));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnError(beast::error_code ec) {
    busy_ = true;
    if (ec == http::error::body_limit) return Reply(Plain(413, "request body too large\n"), false);
    if (ec == http::error::header_limit) {
      return Reply(Plain(431, "request headers too large\n"), false);
    }
    if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Reply(Plain(400, "malformed HTTP request\n"), false);
    }
    Close();  // the client went away, or timed out
  }

  void OnRequest(beast::error_code ec) {
    if (ec) return OnError(ec);
    const auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    for (const auto& field : req) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = req.body();
    request.remote = remote_;
    if (server_.upgrade() && beast::websocket::is_upgrade(req)) return Upgrade(request);
    HttpResponse response;
    try {
      response = server_.handler()(request);
    } catch (const std::exception& e) {
      response = Plain(500, std::string("internal error: ") + e.what() + "\n");
    } catch (...) {
      response = Plain(500, "internal error\n");
    }
    Reply(std::move(response), req.keep_alive());
  }

  // The upgrade handler refuses (an HTTP answer, then the connection closes: a WebSocket client
  // does not reuse it) or accepts: the stream moves to a WebSocket connection.
  void Upgrade(const HttpRequest& request) {
    UpgradeDecision decision;
    try {
      decision = server_.upgrade()(request);
    } catch (const std::exception& e) {
      return Reply(Plain(500, std::string("internal error: ") + e.what() + "\n"), false);
    } catch (...) {
      return Reply(Plain(500, "internal error\n"), false);
    }
    if (!decision.session) return Reply(std::move(decision.refusal), false);
    if (server_.stopping()) return Reply(Plain(503, "shutting down\n"), false);
    upgraded_ = true;
    http_internal::StartWebSocket(std::move(stream_), parser_->release(),
                                  std::move(decision.session), server_);
  }

  static HttpResponse Plain(int status, std::string text) {
    HttpResponse r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = std::move(text);
    return r;
  }

  void Reply(HttpResponse response, bool keep_alive) {
    keep_alive = keep_alive && !server_.stopping();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    res->set(http::field::server, server_.options().server_name);
    res->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(server_.options().request_timeout_ms));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        self->busy_ = false;
                        if (ec || !keep_alive) return self->Close();
                        self->ReadHeader();
                      });
  }

  beast::tcp_stream stream_;
  const net::any_io_executor strand_;  // stream_'s, kept: the stream moves away on an upgrade
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  bool busy_ = false;      // on the strand: a request is being read, handled or answered
  bool upgraded_ = false;  // on the strand: the stream went to a WebSocket connection
  std::list<std::weak_ptr<Connection>>::iterator registration_;
};

}  // namespace

std::list<std::weak_ptr<Connection>>::iterator HttpServer::Impl::Register(
    std::weak_ptr<Connection> s) {
  std::lock_guard lock(mu_);
  return sessions_.insert(sessions_.end(), std::move(s));
}

void HttpServer::Impl::Unregister(std::list<std::weak_ptr<Connection>>::iterator it) {
  std::lock_guard lock(mu_);
  sessions_.erase(it);
  if (sessions_.empty()) drained_.notify_all();
}

Status HttpServer::Impl::Bind() {
  beast::error_code ec;
  const auto address = net::ip::make_address(options_.host, ec);
  if (ec) return InvalidArgumentError("bad listen address '" + options_.host + "'");
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return FailedPreconditionError("cannot listen on " + options_.host + ":" +
                                   std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping_) return;  // closed by Shutdown
    if (!ec) {
      // A response may leave in more than one segment (headers, then body): without
      // TCP_NODELAY, Nagle holds the second until the client ACKs the first, which a client
      // delays by up to 40 ms. That capped a keep-alive connection at ~15 requests/s.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), *this)->Start();
    }
    Accept();  // a failed accept (out of descriptors, a reset) does not stop the server
  });
}

void HttpServer::Impl::Run() {
  Accept();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
}

bool HttpServer::Impl::SpawnSession(std::function<void()> session) {
  std::lock_guard lock(mu_);
  if (stopped_) return false;
  ++session_threads_;
  // Detached, counted: Shutdown waits for the count to reach zero. `session` (and what it
  // holds) is released before the count drops, so nothing of it outlives Shutdown.
  std::thread([this, session = std::move(session)]() mutable {
    session();
    session = nullptr;
    std::lock_guard done(mu_);
    if (--session_threads_ == 0) sessions_done_.notify_all();
  }).detach();
  return true;
}

std::vector<std::shared_ptr<Connection>> HttpServer::Impl::Live() {
  std::vector<std::shared_ptr<Connection>> live;
  std::lock_guard lock(mu_);
  for (auto& weak : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

void HttpServer::Impl::Shutdown(int grace_ms) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  std::vector<std::shared_ptr<Connection>> live = Live();
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  for (auto& s : live) s->CloseIfIdle();
  live.clear();
  {
    std::unique_lock lock(mu_);
    drained_.wait_for(lock, std::chrono::milliseconds(grace_ms),
                      [this] { return sessions_.empty(); });
  }
  ioc_.stop();  // cuts what is left
  for (auto& t : threads_) t.join();
  threads_.clear();
  // WebSocket sessions still running: their reads and writes fail from now on.
  live = Live();
  for (auto& s : live) s->Abandon();
  live.clear();
  std::unique_lock lock(mu_);
  sessions_done_.wait(lock, [this] { return session_threads_ == 0; });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpHandler handler, UpgradeHandler upgrade) {
  if (!handler) return InvalidArgumentError("no handler");
  auto impl = std::make_unique<Impl>(options, std::move(handler), std::move(upgrade));
  RETURN_IF_ERROR(impl->Bind());
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(0); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Shutdown(int grace_ms) { impl_->Shutdown(grace_ms); }

}  // namespace kiln
