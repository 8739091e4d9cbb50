// The HTTP front end with a real client over loopback: keep-alive, limits, malformed input,
// timeouts, concurrency and a graceful shutdown that finishes requests under way.
#include "http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

namespace kiln {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Echoes what it saw, so a test can check the request reached the handler whole.
HttpResponse Echo(const HttpRequest& r) {
  HttpResponse res;
  res.content_type = "text/plain";
  res.body = r.method + " " + r.path + " ?" + r.query + " [" + r.body +
             "] x=" + std::string(r.Header("X-Test").value_or("-"));
  res.headers.push_back({"x-amzn-RequestId", "abc"});
  return res;
}

class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  http::response<http::string_body> Send(http::verb verb, const std::string& target,
                                         const std::string& body = "", bool keep_alive = true) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "localhost");
    req.set("X-Test", "yes");
    req.body() = body;
    req.keep_alive(keep_alive);
    req.prepare_payload();
    http::write(socket_, req);
    return Read();
  }
  http::response<http::string_body> Read() {
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    return res;
  }
  void Raw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }
  // True once the server closed the connection (read returns end of stream).
  bool Closed() {
    char c;
    beast::error_code ec;
    socket_.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::unique_ptr<HttpServer> Serve(HttpServerOptions options = {}, HttpHandler h = Echo) {
  options.port = 0;
  auto s = HttpServer::Start(options, std::move(h));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = Serve();
  Client c(server->port());
  for (int i = 0; i < 20; ++i) {
    auto res = c.Send(http::verb::post, "/?Action=X", "n=" + std::to_string(i));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "POST / ?Action=X [n=" + std::to_string(i) + "] x=yes");
    EXPECT_EQ(res[http::field::content_type], "text/plain");
    EXPECT_EQ(res["x-amzn-RequestId"], "abc");
    EXPECT_TRUE(res.keep_alive());
  }
  auto res = c.Send(http::verb::get, "/path?a=1&b=2");
  EXPECT_EQ(res.body(), "GET /path ?a=1&b=2 [] x=yes");
  res = c.Send(http::verb::get, "/", "", /*keep_alive=*/false);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.Closed());
}

TEST(HttpServerTest, LimitsAndBadRequestsAreAnsweredAndTheConnectionClosed) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  options.max_header_bytes = 2048;
  auto server = Serve(options);
  {
    Client c(server->port());
    EXPECT_EQ(c.Send(http::verb::post, "/", std::string(1025, 'a')).result_int(), 413);
    EXPECT_TRUE(c.Closed());
  }
  {
    Client c(server->port());
    EXPECT_EQ(c.Send(http::verb::post, "/", std::string(1024, 'a')).result_int(), 200)
        << "exactly the limit is fine";
  }
  {
    Client c(server->port());
    EXPECT_EQ(c.Send(http::verb::get, "/" + std::string(4096, 'p')).result_int(), 431);
    EXPECT_TRUE(c.Closed());
  }
  {
    Client c(server->port());
    EXPECT_EQ(c.Send(http::verb::put, "/").result_int(), 405);
    EXPECT_TRUE(c.Closed());
  }
  for (const std::string& bad :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n")}) {
    Client c(server->port());
    c.Raw(bad);
    auto res = c.Read();
    EXPECT_EQ(res.result_int(), 400) << bad;
    EXPECT_TRUE(c.Closed()) << bad;
  }
  // The server still serves after all that.
  Client c(server->port());
  EXPECT_EQ(c.Send(http::verb::get, "/").result_int(), 200);
}

TEST(HttpServerTest, SlowOrSilentClientsAreDisconnected) {
  HttpServerOptions options;
  options.idle_timeout_ms = 200;
  options.request_timeout_ms = 200;
  auto server = Serve(options);
  Client silent(server->port());
  EXPECT_TRUE(silent.Closed()) << "no request within the idle timeout";
  Client slow(server->port());
  slow.Raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part");
  EXPECT_TRUE(slow.Closed()) << "the body did not arrive in time";
}

TEST(HttpServerTest, AThrowingHandlerIsA500AndTheServerGoesOn) {
  auto server = Serve({}, [](const HttpRequest& r) -> HttpResponse {
    if (r.path == "/throw") throw std::runtime_error("boom");
    return Echo(r);
  });
  Client c(server->port());
  auto res = c.Send(http::verb::get, "/throw");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_NE(res.body().find("boom"), std::string::npos);
  EXPECT_EQ(c.Send(http::verb::get, "/").result_int(), 200);
}

TEST(HttpServerTest, ManyConcurrentClients) {
  HttpServerOptions options;
  options.threads = 2;
  auto server = Serve(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 32; ++t) {
    clients.emplace_back([&, t] {
      Client c(server->port());
      for (int i = 0; i < 25; ++i) {
        const std::string body = std::to_string(t) + "." + std::to_string(i);
        auto res = c.Send(http::verb::post, "/", body);
        if (res.result_int() == 200 && res.body() == "POST / ? [" + body + "] x=yes") ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 32 * 25);
}

TEST(HttpServerTest, ShutdownFinishesRequestsUnderWayAndRefusesNewOnes) {
  std::atomic<bool> in_handler{false};
  auto server = Serve({}, [&](const HttpRequest& r) {
    in_handler = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return Echo(r);
  });
  const uint16_t port = server->port();
  Client idle(port);
  Client busy(port);
  std::thread sender([&] {
    auto res = busy.Send(http::verb::post, "/", "slow");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "POST / ? [slow] x=yes");
    EXPECT_FALSE(res.keep_alive()) << "the last response says the connection closes";
  });
  while (!in_handler) std::this_thread::yield();
  server->Shutdown(5000);
  sender.join();
  EXPECT_TRUE(idle.Closed());
  EXPECT_THROW(Client late(port), boost::system::system_error) << "no longer listening";
}

TEST(HttpServerTest, BadAddressesAreClearErrors) {
  HttpServerOptions options;
  options.host = "not-an-address";
  EXPECT_EQ(HttpServer::Start(options, Echo).status().code(), Code::kInvalidArgument);
  auto first = Serve();
  options.host = "127.0.0.1";
  options.port = first->port();
  EXPECT_EQ(HttpServer::Start(options, Echo).status().code(), Code::kFailedPrecondition)
      << "port in use";
  EXPECT_EQ(HttpServer::Start({}, nullptr).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kiln
