#include "cli/connect.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cerrno>
#include <climits>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/uri.h"
#include "cli/http_client.h"
#include "cli/sigv4_signer.h"

namespace kiln::cli {
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

namespace {

// Raw mode on stdin for the session; the original settings come back at destruction.
class RawTerminal {
 public:
  RawTerminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    struct termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  struct termios saved_ = {};
  bool active_ = false;
};

std::pair<int, int> TerminalSize() {
  struct winsize ws = {};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    return {ws.ws_row, ws.ws_col};
  }
  return {24, 80};
}

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stdout gone: nothing left to show it to
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// One session: the WebSocket, a queue of frames to send, and what the server said at the end.
class Session {
 public:
  Session(net::io_context& ioc, websocket::stream<beast::tcp_stream>& ws)
      : ioc_(ioc), ws_(ws), signals_(ioc, SIGWINCH, SIGTERM, SIGHUP) {}

  void Start() {
    ws_.binary(true);
    Read();
    WatchSignals();
  }

  // From the stdin thread, through net::post.
  void Input(std::string bytes) { Send(false, std::move(bytes)); }
  void InputEnded(bool last_was_newline) {
    // End of file for the shell's tty: ^D at the start of a line (twice after a partial one).
    Send(false, last_was_newline ? "\x04" : "\x04\x04");
  }

  std::optional<int> exit_code() const { return exit_code_; }
  const std::string& failure() const { return failure_; }

 private:
  void Send(bool text, std::string payload) {
    if (closed_) return;
    queue_.emplace_back(text, std::move(payload));
    if (queue_.size() == 1) WriteNext();
  }

  void WriteNext() {
    ws_.text(queue_.front().first);
    ws_.async_write(net::buffer(queue_.front().second), [this](beast::error_code ec, size_t) {
      if (ec) return Stop(ec);
      queue_.pop_front();
      if (!queue_.empty()) WriteNext();
    });
  }

  void Read() {
    ws_.async_read(buffer_, [this](beast::error_code ec, size_t) {
      if (ec) return Stop(ec);
      const std::string data = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      if (ws_.got_text()) {
        OnControl(data);
      } else {
        WriteAll(STDOUT_FILENO, data.data(), data.size());
      }
      Read();
    });
  }

  void OnControl(const std::string& text) {
    if (const std::optional<int> code = ParseExitFrame(text)) exit_code_ = code;
  }

  void WatchSignals() {
    signals_.async_wait([this](beast::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGWINCH) {
        const auto [rows, cols] = TerminalSize();
        Send(true, nlohmann::json{{"type", "resize"}, {"rows", rows}, {"cols", cols}}.dump());
        WatchSignals();
        return;
      }
      failure_ = "interrupted by signal " + std::to_string(signo);
      closed_ = true;
      ws_.async_close(websocket::close_code::normal, [this](beast::error_code) { ioc_.stop(); });
    });
  }

  void Stop(beast::error_code ec) {
    if (ec != websocket::error::closed && !exit_code_ && failure_.empty()) {
      failure_ = ec.message();
    }
    closed_ = true;
    ioc_.stop();
  }

  net::io_context& ioc_;
  websocket::stream<beast::tcp_stream>& ws_;
  net::signal_set signals_;
  beast::flat_buffer buffer_;
  std::deque<std::pair<bool, std::string>> queue_;
  std::optional<int> exit_code_;
  std::string failure_;
  bool closed_ = false;
};

// Reads stdin until EOF on its own thread (a blocking read works for every kind of stdin) and
// hands the bytes to the session's thread. Detached: it may stay blocked in read() after the
// session, so it shares ownership of the io_context; handlers it posts after the session ended
// are never run (the context is stopped), only destroyed.
void PumpStdin(std::shared_ptr<net::io_context> ioc_owner, Session& session) {
  std::thread([ioc_owner, &session] {
    net::io_context& ioc = *ioc_owner;
    char buf[4096];
    bool last_newline = true;
    while (true) {
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        net::post(ioc, [&session, last_newline] { session.InputEnded(last_newline); });
        return;
      }
      last_newline = buf[n - 1] == '\n';
      net::post(ioc, [&session, s = std::string(buf, static_cast<size_t>(n))]() mutable {
        session.Input(std::move(s));
      });
    }
  }).detach();
}

// Boost 1.74's handshake drops the answer when the upgrade is declined, so the refusal (which
// comes before any upgrade, and so has no effect) is asked for again as plain HTTP.
Status Refusal(const Url& url, const std::string& target, const HeaderList& auth) {
  HeaderList headers = auth;
  headers.insert(headers.end(), {{"Connection", "Upgrade"},
                                 {"Upgrade", "websocket"},
                                 {"Sec-WebSocket-Version", "13"},
                                 {"Sec-WebSocket-Key", "a2lsbi1jbGktcmVmdXNhbA=="}});
  Result<HttpResponse> answer =
      HttpRequestOnce(url, "GET", target, headers, "", std::chrono::seconds(30));
  if (!answer.ok()) return answer.status();
  if (answer->status == 101) {
    return Status(Code::kUnavailable,
                  "the server declined the WebSocket upgrade, then accepted "
                  "it: try again");
  }
  return ConnectRefusal(answer->status, answer->body);
}

}  // namespace

std::optional<int> ParseExitFrame(std::string_view text) {
  // The server's text: no value() or get<>() that throws on a field of another type, and no
  // code that does not fit an int.
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto type = j.find("type");
  const auto code = j.find("code");
  if (type == j.end() || *type != "exit" || code == j.end()) return std::nullopt;
  if (code->is_number_unsigned()) {
    const uint64_t v = code->get<uint64_t>();
    if (v > static_cast<uint64_t>(INT_MAX)) return std::nullopt;
    return static_cast<int>(v);
  }
  if (!code->is_number_integer()) return std::nullopt;
  const int64_t v = code->get<int64_t>();
  if (v < INT_MIN || v > INT_MAX) return std::nullopt;
  return static_cast<int>(v);
}

Status ConnectRefusal(int http_status, const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("code") && j["code"].is_string() &&
      !j["code"].get<std::string>().empty()) {
    const std::string message = j.contains("message") && j["message"].is_string()
                                    ? j["message"].get<std::string>()
                                    : std::string("(no message)");
    return Status(http_status >= 500 ? Code::kUnavailable : Code::kInvalidArgument, message)
        .WithEc2Code(j["code"].get<std::string>());
  }
  if (http_status == 401 || http_status == 403) {
    return Status(Code::kInvalidArgument,
                  "the server refused the credentials (HTTP " + std::to_string(http_status) + ")")
        .WithEc2Code("AuthFailure");
  }
  // A kilnd without the endpoint answers 404, or the Query API's answer to a GET.
  return UnimplementedError("the server has no connect endpoint (HTTP " +
                            std::to_string(http_status) + "): is it a kilnd new enough?");
}

Result<int> Connect(Context& ctx, const std::string& instance_id) {
  if (ctx.config == nullptr) return InternalError("connect needs an endpoint");
  ASSIGN_OR_RETURN(const Url url, ParseUrl(ctx.config->endpoint));
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  const auto [rows, cols] = TerminalSize();
  SigningRequest req;
  req.method = "GET";
  req.path = url.path + "/kiln/v1/instances/" + UriEncode(instance_id) + "/connect";
  req.query = "rows=" + std::to_string(rows) + "&cols=" + std::to_string(cols);
  req.headers = {{"Host", url.HostHeader()}};
  const HeaderList auth =
      Sign(req, ctx.config->credentials, ctx.config->region, "ec2", ::time(nullptr));

  auto ioc_owner = std::make_shared<net::io_context>();
  net::io_context& ioc = *ioc_owner;
  websocket::stream<beast::tcp_stream> ws(ioc);
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(url.host, url.port, ec);
  const std::string where = "http://" + url.HostHeader();
  if (ec) return Status(Code::kUnavailable, "cannot resolve " + where + ": " + ec.message());
  beast::get_lowest_layer(ws).connect(endpoints, ec);
  if (ec) return Status(Code::kUnavailable, "cannot connect to " + where + ": " + ec.message());
  ws.set_option(websocket::stream_base::decorator([&auth](websocket::request_type& r) {
    for (const auto& [name, value] : auth) r.set(name, value);
    r.set(beast::http::field::user_agent, "kiln-cli/0.7");
  }));
  ws.handshake(url.HostHeader(), req.path + "?" + req.query, ec);
  if (ec == websocket::error::upgrade_declined) {
    return Refusal(url, req.path + "?" + req.query, auth);
  }
  if (ec) {
    return Status(Code::kUnavailable, "WebSocket handshake with " + where + ": " + ec.message());
  }
  std::fflush(ctx.out);
  Session session(ioc, ws);
  std::optional<RawTerminal> raw;
  if (tty) raw.emplace();
  session.Start();
  PumpStdin(ioc_owner, session);
  ioc.run();
  raw.reset();
  if (session.exit_code()) return *session.exit_code();
  return Status(Code::kUnavailable,
                "the session ended without an exit status" +
                    (session.failure().empty() ? std::string() : ": " + session.failure()));
}

}  // namespace kiln::cli
