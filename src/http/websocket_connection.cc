// A WebSocket connection: Beast's asynchronous websocket::stream on the connection's strand,
// behind the blocking WebSocket interface a session thread uses. A read loop fills an inbox
// (paused while it is full, so a fast client cannot grow it without bound); writes and the close
// go through one queue, which starts only once the handshake's answer is written, so that Beast
// never sees two writes at once and a close never overtakes a write.
#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>

#include "http/http_server_internal.h"

namespace kiln::http_internal {
namespace {

namespace websocket = beast::websocket;

constexpr size_t kMaxInbox = 64;  // messages read ahead of the session

class WsConnection : public Connection,
                     public WebSocket,
                     public std::enable_shared_from_this<WsConnection> {
 public:
  WsConnection(beast::tcp_stream stream, HttpServer::Impl& server, WebSocketSession session)
      : ws_(std::move(stream)),
        strand_(ws_.get_executor()),
        server_(server),
        session_(std::move(session)) {}
  ~WsConnection() override { server_.Unregister(registration_); }

  void Start(http::request<http::string_body> req) {
    registration_ = server_.Register(weak_from_this());
    auto r = std::make_shared<http::request<http::string_body>>(std::move(req));
    net::dispatch(strand_, [self = shared_from_this(), r] { self->Accept(*r); });
  }

  // --- WebSocket ------------------------------------------------------------------------------

  Result<WebSocketMessage> Read() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !inbox_.empty() || read_done_; });
    if (inbox_.empty()) return AbortedError("websocket closed: " + read_error_);
    WebSocketMessage message = std::move(inbox_.front());
    inbox_.pop_front();
    if (read_paused_ && inbox_.size() < kMaxInbox / 2) {
      read_paused_ = false;
      net::post(strand_, [self = shared_from_this()] { self->ReadMore(); });
    }
    return message;
  }

  Status Write(std::string_view data, bool text) override {
    auto item = std::make_shared<Outgoing>();
    item->text = text;
    item->data = std::string(data);
    return Submit(std::move(item), /*wait=*/true);
  }

  void Close(uint16_t code, std::string_view reason) override {
    Submit(CloseItem(code, reason), /*wait=*/true).IgnoreError();
  }

  uint16_t peer_close_code() const override { return peer_close_code_.load(); }

  // --- Connection -----------------------------------------------------------------------------

  void CloseIfIdle() override {
    Submit(CloseItem(websocket::close_code::going_away, "server shutting down"), false)
        .IgnoreError();
  }

  // No handler runs any more, so the socket can be closed from here: the client sees the
  // connection end instead of waiting on it until the server is destroyed.
  void Abandon() override {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    std::lock_guard lock(mu_);
    if (!read_done_) {
      read_done_ = true;
      read_error_ = "the server shut down";
    }
    EndWrites("the server shut down");
    cv_.notify_all();
  }

 private:
  // A message or the close, queued for the strand.
  struct Outgoing {
    bool close = false;
    bool text = false;
    std::string data;
    websocket::close_reason reason;
    bool done = false;  // guarded by mu_
    Status status;      // guarded by mu_
  };

  static std::shared_ptr<Outgoing> CloseItem(uint16_t code, std::string_view reason) {
    auto item = std::make_shared<Outgoing>();
    item->close = true;
    item->reason.code = code;
    item->reason.reason.assign(reason.data(),
                               std::min(reason.size(), item->reason.reason.max_size()));
    return item;
  }

  void Finish(Outgoing& item, Status status) {
    item.done = true;
    item.status = std::move(status);
  }

  // With mu_ held: nothing more can be sent; what waits in the queue fails with `why`.
  void EndWrites(const std::string& why) {
    dead_ = true;
    for (auto& item : outbox_) Finish(*item, AbortedError(why));
    outbox_.clear();
    writing_ = false;
  }

  void Accept(const http::request<http::string_body>& req) {
    const HttpServerOptions& options = server_.options();
    beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts from here on
    auto timeout = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeout.idle_timeout = std::chrono::milliseconds(2 * options.websocket_idle_timeout_ms);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator(
        [name = options.server_name](websocket::response_type& res) {
          res.set(http::field::server, name);
        }));
    ws_.read_message_max(options.max_websocket_message_bytes);
    ws_.async_accept(req,
                     [self = shared_from_this()](beast::error_code ec) { self->OnAccept(ec); });
  }

  void OnAccept(beast::error_code ec) {
    if (ec) {  // the handshake failed: the session never runs, and nothing queued is sent
      {
        std::lock_guard lock(mu_);
        EndWrites("websocket handshake failed");
      }
      return OnRead(ec);
    }
    ReadMore();
    WriteNext();  // what was queued during the handshake (a close from Shutdown), if anything
    const bool spawned = server_.SpawnSession([self = shared_from_this()] { self->RunSession(); });
    if (!spawned) CloseIfIdle();
  }

  // On the session's thread: the session, then a close if it left the connection open. The
  // session's state (a shell, say) is released here, before the thread ends.
  void RunSession() {
    WebSocketSession session = std::move(session_);
    try {
      session(*this);
    } catch (...) {
      // A session must not throw; if one does, the connection still closes cleanly.
    }
    session = nullptr;
    Submit(CloseItem(websocket::close_code::normal, ""), /*wait=*/false).IgnoreError();
  }

  void ReadMore() {
    ws_.async_read(read_buffer_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    std::unique_lock lock(mu_);
    if (ec) {
      read_done_ = true;
      read_error_ = ec.message();
      peer_close_code_ = static_cast<uint16_t>(ws_.reason().code);
      cv_.notify_all();
      return;
    }
    inbox_.push_back({ws_.got_text(), beast::buffers_to_string(read_buffer_.data())});
    read_buffer_.consume(read_buffer_.size());
    cv_.notify_all();
    if (inbox_.size() >= kMaxInbox) {
      read_paused_ = true;
      return;
    }
    lock.unlock();
    ReadMore();
  }

  Status Submit(std::shared_ptr<Outgoing> item, bool wait) {
    std::unique_lock lock(mu_);
    if (item->close && close_queued_) return Status::Ok();
    if (dead_ || close_queued_) return AbortedError("websocket closed");
    if (item->close) close_queued_ = true;
    outbox_.push_back(item);
    if (!writing_) {
      writing_ = true;
      net::post(strand_, [self = shared_from_this()] { self->WriteNext(); });
    }
    if (!wait) return Status::Ok();
    cv_.wait(lock, [&] { return item->done; });
    return item->status;
  }

  void WriteNext() {
    std::shared_ptr<Outgoing> item;
    {
      std::lock_guard lock(mu_);
      if (outbox_.empty()) {
        writing_ = false;
        return;
      }
      item = outbox_.front();
    }
    auto done = [self = shared_from_this()](beast::error_code ec, size_t = 0) {
      self->OnWritten(ec);
    };
    if (item->close) {
      ws_.async_close(item->reason, done);
    } else {
      ws_.text(item->text);
      ws_.async_write(net::buffer(item->data), done);
    }
  }

  void OnWritten(beast::error_code ec) {
    {
      std::lock_guard lock(mu_);
      if (outbox_.empty()) return;  // abandoned meanwhile
      Finish(*outbox_.front(), ec ? AbortedError("websocket write: " + ec.message()) : Status());
      outbox_.pop_front();
      if (ec) EndWrites("websocket closed");  // the connection is over: nothing more is sent
      cv_.notify_all();
      if (ec) return;
    }
    WriteNext();
  }

  websocket::stream<beast::tcp_stream> ws_;
  const net::any_io_executor strand_;
  HttpServer::Impl& server_;
  HttpServer::Impl::Registration registration_;
  WebSocketSession session_;        // moved to the session's thread when it starts
  beast::flat_buffer read_buffer_;  // on the strand
  std::atomic<uint16_t> peer_close_code_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WebSocketMessage> inbox_;            // guarded by mu_
  bool read_done_ = false;                        // guarded by mu_
  bool read_paused_ = false;                      // guarded by mu_
  std::string read_error_;                        // guarded by mu_
  std::deque<std::shared_ptr<Outgoing>> outbox_;  // guarded by mu_; the front is being sent
  // Guarded by mu_: a write is under way or scheduled. True from the start: the handshake's
  // answer is a write, and Beast allows one at a time, so a close that Shutdown queues meanwhile
  // waits for OnAccept.
  bool writing_ = true;
  bool close_queued_ = false;                     // guarded by mu_
  bool dead_ = false;                             // guarded by mu_: nothing more can be sent
};

}  // namespace

void StartWebSocket(beast::tcp_stream stream, http::request<http::string_body> req,
                    WebSocketSession session, HttpServer::Impl& server) {
  std::make_shared<WsConnection>(std::move(stream), server, std::move(session))
      ->Start(std::move(req));
}

}  // namespace kiln::http_internal
