// WebSocket upgrades on HttpServer with Beast's own client over loopback: refusals as HTTP,
// messages both ways (text and binary), closes from either side, oversized messages, plain HTTP
// beside it, and a Shutdown that closes sessions and waits for their threads.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "http/http_server.h"

namespace kiln {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

HttpResponse Hello(const HttpRequest& r) {
  HttpResponse res;
  res.content_type = "text/plain";
  res.body = "plain " + r.path;
  return res;
}

// Echoes every message with its type until the peer closes; counts sessions that ended.
struct EchoServer {
  std::atomic<int> ended{0};
  std::atomic<int> running{0};
  std::string last_path;

  UpgradeDecision Decide(const HttpRequest& r) {
    UpgradeDecision d;
    if (r.path == "/refuse") {
      d.refusal.status = 403;
      d.refusal.content_type = "application/json";
      d.refusal.body = R"({"code":"AuthFailure"})";
      return d;
    }
    last_path = r.target;
    d.session = [this, path = r.path](WebSocket& ws) {
      ++running;
      if (path == "/bye") {
        EXPECT_TRUE(ws.Write("bye", /*text=*/true).ok());
        --running;
        ++ended;
        return;  // the server closes with 1000
      }
      while (true) {
        Result<WebSocketMessage> m = ws.Read();
        if (!m.ok()) {
          EXPECT_EQ(m.status().code(), Code::kAborted);
          break;
        }
        if (!ws.Write(m->data, m->text).ok()) break;
      }
      --running;
      ++ended;
    };
    return d;
  }
};

std::unique_ptr<HttpServer> Serve(EchoServer& echo, HttpServerOptions options = {}) {
  options.port = 0;
  auto s =
      HttpServer::Start(options, Hello, [&echo](const HttpRequest& r) { return echo.Decide(r); });
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

class WsClient {
 public:
  explicit WsClient(uint16_t port) : ws_(ioc_) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  beast::error_code Handshake(const std::string& target) {
    beast::error_code ec;
    ws_.handshake("localhost", target, ec);
    return ec;
  }
  void Send(const std::string& data, bool text) {
    ws_.text(text);
    ws_.write(net::buffer(data));
  }
  // The next message (and whether it was text), or the error that ended the connection.
  std::pair<std::string, bool> Receive(beast::error_code& ec) {
    beast::flat_buffer buffer;
    ws_.read(buffer, ec);
    return {beast::buffers_to_string(buffer.data()), ws_.got_text()};
  }
  websocket::stream<tcp::socket>& ws() { return ws_; }

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
};

bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(WebSocketTest, EchoesTextAndBinaryAndEndsTheSessionWhenTheClientCloses) {
  EchoServer echo;
  auto server = Serve(echo);
  WsClient c(server->port());
  ASSERT_FALSE(c.Handshake("/echo?rows=3"));
  EXPECT_EQ(echo.last_path, "/echo?rows=3");
  c.Send("hello", /*text=*/true);
  beast::error_code ec;
  auto [text, is_text] = c.Receive(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(text, "hello");
  EXPECT_TRUE(is_text);
  const std::string binary("\x00\xff\x1b[A", 6);
  c.Send(binary, /*text=*/false);
  auto [bytes, bytes_text] = c.Receive(ec);
  EXPECT_EQ(bytes, binary);
  EXPECT_FALSE(bytes_text);
  for (int i = 0; i < 200; ++i) c.Send(std::to_string(i), true);  // beyond the read-ahead
  for (int i = 0; i < 200; ++i) EXPECT_EQ(c.Receive(ec).first, std::to_string(i));
  c.ws().close(websocket::close_code::normal);
  EXPECT_TRUE(WaitFor([&] { return echo.ended == 1; }));
}

// Writes a WebSocket upgrade request by hand.
void WriteUpgrade(tcp::socket& socket, const std::string& target) {
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  http::write(socket, req);
}

// An upgrade request written by hand, answered as plain HTTP.
http::response<http::string_body> RawUpgrade(uint16_t port, const std::string& target) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  WriteUpgrade(socket, target);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res;
}

TEST(WebSocketTest, RefusalIsPlainHttp) {
  EchoServer echo;
  auto server = Serve(echo);
  WsClient c(server->port());
  EXPECT_EQ(c.Handshake("/refuse"), websocket::error::upgrade_declined);
  auto res = RawUpgrade(server->port(), "/refuse");
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res.body(), R"({"code":"AuthFailure"})");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(echo.running, 0);
  EXPECT_EQ(RawUpgrade(server->port(), "/echo").result_int(), 101);
}

TEST(WebSocketTest, ServerClosesWith1000WhenTheSessionReturns) {
  EchoServer echo;
  auto server = Serve(echo);
  WsClient c(server->port());
  ASSERT_FALSE(c.Handshake("/bye"));
  beast::error_code ec;
  EXPECT_EQ(c.Receive(ec).first, "bye");
  c.Receive(ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(c.ws().reason().code, websocket::close_code::normal);
}

TEST(WebSocketTest, OversizedMessageEndsTheConnection) {
  EchoServer echo;
  HttpServerOptions options;
  options.max_websocket_message_bytes = 1024;
  auto server = Serve(echo, options);
  WsClient c(server->port());
  ASSERT_FALSE(c.Handshake("/echo"));
  c.Send(std::string(1024, 'a'), false);
  beast::error_code ec;
  EXPECT_EQ(c.Receive(ec).first.size(), 1024u) << "exactly the limit is fine";
  c.Send(std::string(1025, 'a'), false);
  c.Receive(ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(c.ws().reason().code, websocket::close_code::too_big);
  EXPECT_TRUE(WaitFor([&] { return echo.ended == 1; }));
}

TEST(WebSocketTest, WithoutAnUpgradeHandlerTheRequestIsPlainHttp) {
  auto s = HttpServer::Start(HttpServerOptions{.port = 0}, Hello);
  ASSERT_TRUE(s.ok());
  WsClient c((*s)->port());
  EXPECT_EQ(c.Handshake("/x"), websocket::error::upgrade_declined);
  EXPECT_EQ(RawUpgrade((*s)->port(), "/x").body(), "plain /x");
}

TEST(WebSocketTest, PlainHttpStillWorksBesideSessions) {
  EchoServer echo;
  auto server = Serve(echo);
  WsClient ws(server->port());
  ASSERT_FALSE(ws.Handshake("/echo"));
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
  http::request<http::string_body> req{http::verb::get, "/page", 11};
  req.set(http::field::host, "localhost");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  EXPECT_EQ(res.body(), "plain /page");
}

TEST(WebSocketTest, ShutdownClosesSessionsAndWaitsForThem) {
  EchoServer echo;
  auto server = Serve(echo);
  WsClient a(server->port());
  WsClient b(server->port());
  ASSERT_FALSE(a.Handshake("/echo"));
  ASSERT_FALSE(b.Handshake("/echo"));
  ASSERT_TRUE(WaitFor([&] { return echo.running == 2; }));
  // a answers the close (its read sees it); b never reads again, so its close is cut.
  std::thread reader([&] {
    beast::error_code ec;
    a.Receive(ec);
    EXPECT_EQ(ec, websocket::error::closed);
    EXPECT_EQ(a.ws().reason().code, websocket::close_code::going_away);
  });
  server->Shutdown(500);
  EXPECT_EQ(echo.ended, 2) << "Shutdown returns once every session has returned";
  reader.join();
}

// Shutdown while the handshake's answer may still be under way (the client reads only its
// first bytes; a long Server header makes the write take longer): the close Shutdown queues must
// wait for the handshake's write, not start a second one beside it (Beast allows one at a time;
// its debug build asserts). The window is a race, so the test tries several times; before the
// fix it hit in about 7 of 10 tries under ASan.
TEST(WebSocketTest, ShutdownDuringTheHandshakeWaitsForItsWrite) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    EchoServer echo;
    HttpServerOptions options;
    options.server_name = std::string(65000, 's');  // Beast allows a field up to 64 KiB
    auto server = Serve(echo, options);
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.open(tcp::v4());
    socket.set_option(net::socket_base::receive_buffer_size(1024));
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
    WriteUpgrade(socket, "/echo");
    std::array<char, 16> head{};
    net::read(socket, net::buffer(head));
    ASSERT_EQ(std::string(head.data(), 12), "HTTP/1.1 101");
    server->Shutdown(50);
    EXPECT_LE(echo.running, 0) << "no session runs after Shutdown returns";
    // Shutdown cut the connection: reading the rest ends in an error (or the server's close
    // frame and then the end), not a hang.
    beast::error_code ec;
    std::vector<char> rest(1 << 20);
    while (!ec) socket.read_some(net::buffer(rest), ec);
    EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  }
}

}  // namespace
}  // namespace kiln
