// ConnectEndpoint: every refusal before the upgrade (credentials, Origin, SigV4, owner, state,
// bad sizes), and whole sessions over a real HttpServer with Beast's WebSocket client, driving a
// shell on a host pseudo-terminal (the same pump as an instance's shell through Runtime::Exec):
// a command's output, a resize seen by `stty size`, the exit frame and close, a shell that
// leaves a process holding its terminal, and a client that goes away (the shell is killed).
#include "web/connect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/sigv4_testing.h"
#include "web/web_util.h"

namespace kiln {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;

constexpr char kOwner[] = "123456789012";
constexpr char kOther[] = "210987654321";
constexpr char kRunning[] = "i-0123456789abcdef0";
constexpr char kStopped[] = "i-0123456789abcdef1";
constexpr char kOthers[] = "i-0123456789abcdef2";
constexpr int64_t kNow = 1795000000;

// /bin/sh on a host pseudo-terminal.
class HostShell : public Terminal {
 public:
  HostShell(uint16_t rows, uint16_t cols, std::atomic<int>* destroyed) : destroyed_(destroyed) {
    winsize ws = {rows, cols, 0, 0};
    pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
    if (pid_ == 0) {  // only async-signal-safe calls in the child of a threaded process
      char* const env[] = {const_cast<char*>("PS1=$ "), const_cast<char*>("PATH=/usr/bin:/bin"),
                           nullptr};
      execle("/bin/sh", "sh", static_cast<char*>(nullptr), env);
      _exit(127);
    }
  }
  ~HostShell() override {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
    ++*destroyed_;
  }
  int fd() const override { return fd_; }
  Status Resize(uint16_t rows, uint16_t cols) override {
    winsize ws = {rows, cols, 0, 0};
    return ioctl(fd_, TIOCSWINSZ, &ws) == 0 ? Status::Ok() : IoError("TIOCSWINSZ");
  }
  Result<int> Wait(int timeout_ms) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!reaped_) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        code_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return DeadlineExceededError("running");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a child has no fd to poll
    }
    return code_;
  }
  bool ok() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
  int code_ = -1;
  std::atomic<int>* destroyed_;
};

Instance MakeInstance(const std::string& id, const std::string& owner, InstanceState state) {
  Instance i;
  i.instance_id = id;
  i.owner_id = owner;
  i.state = state;
  return i;
}

class ConnectTest : public ::testing::Test {
 protected:
  ConnectTest() : sessions_(clock_), endpoint_(Options()) {
    auto s = sessions_.Create(kOwner, "AKIAIOSFODNN7EXAMPLE");
    EXPECT_TRUE(s.ok());
    cookie_ = s->id;
  }

  ConnectOptions Options() {
    ConnectOptions o;
    o.sessions = &sessions_;
    o.keys = [](std::string_view key) -> std::optional<KeyInfo> {
      if (key == sigv4_testing::Credentials().access_key_id) {
        return KeyInfo{sigv4_testing::Credentials().secret_access_key, kOwner};
      }
      return std::nullopt;
    };
    o.now = [] { return kNow; };
    o.instance = [](const std::string& id) -> Result<Instance> {
      if (id == kRunning) return MakeInstance(id, kOwner, InstanceState::kRunning);
      if (id == kStopped) return MakeInstance(id, kOwner, InstanceState::kStopped);
      if (id == kOthers) return MakeInstance(id, kOther, InstanceState::kRunning);
      return NotFoundError("no instance " + id);
    };
    o.exec = [this](const std::string& id,
                    const ExecOptions& e) -> Result<std::unique_ptr<Terminal>> {
      last_exec_ = e;
      ++execs_;
      if (exec_fails_) return *exec_fails_;
      auto shell = std::make_unique<HostShell>(e.rows, e.cols, &destroyed_);
      if (!shell->ok()) return IoError("forkpty");
      return std::unique_ptr<Terminal>(std::move(shell));
    };
    return o;
  }

  HttpRequest Request(const std::string& instance, const std::string& query = "") {
    HttpRequest r;
    r.method = "GET";
    r.path = "/kiln/v1/instances/" + instance + "/connect";
    r.query = query;
    r.target = r.path + (query.empty() ? "" : "?" + query);
    r.headers = {{"Host", "127.0.0.1:8787"}};
    return r;
  }
  HttpRequest Browser(const std::string& instance, const std::string& query = "") {
    HttpRequest r = Request(instance, query);
    r.headers.emplace_back("Cookie", "kiln_session=" + cookie_);
    r.headers.emplace_back("Origin", "http://127.0.0.1:8787");
    return r;
  }
  static std::string Code(const UpgradeDecision& d) {
    return nlohmann::json::parse(d.refusal.body).value("code", "");
  }

  ManualClock clock_;
  SessionStore sessions_;
  ConnectEndpoint endpoint_;
  std::string cookie_;
  ExecOptions last_exec_;
  std::atomic<int> execs_{0};
  std::atomic<int> destroyed_{0};
  std::optional<Status> exec_fails_;
};

TEST_F(ConnectTest, RefusesWithoutGoodCredentials) {
  UpgradeDecision d = endpoint_.Upgrade(Request(kRunning));
  EXPECT_FALSE(d.session);
  EXPECT_EQ(d.refusal.status, 401);
  EXPECT_EQ(Code(d), "AuthFailure");
  EXPECT_EQ(d.refusal.content_type, "application/json");

  HttpRequest bad_cookie = Browser(kRunning);
  bad_cookie.headers[1].second = "kiln_session=" + std::string(64, 'a');
  EXPECT_EQ(endpoint_.Upgrade(bad_cookie).refusal.status, 401);

  HttpRequest no_origin = Request(kRunning);
  no_origin.headers.emplace_back("Cookie", "kiln_session=" + cookie_);
  d = endpoint_.Upgrade(no_origin);
  EXPECT_EQ(d.refusal.status, 403) << "a cookie without Origin";
  EXPECT_EQ(Code(d), "AuthFailure");
  HttpRequest evil = Browser(kRunning);
  evil.headers[2].second = "http://evil.example";
  EXPECT_EQ(endpoint_.Upgrade(evil).refusal.status, 403);

  HttpRequest wrong_secret = Request(kRunning);
  sigv4_testing::Credentials c;
  c.secret_access_key = "nope";
  sigv4_testing::Sign(wrong_secret, c, kNow);
  EXPECT_EQ(endpoint_.Upgrade(wrong_secret).refusal.status, 401);
  HttpRequest stale = Request(kRunning);
  sigv4_testing::Sign(stale, sigv4_testing::Credentials(), kNow - 3600);
  EXPECT_EQ(endpoint_.Upgrade(stale).refusal.status, 401);

  clock_.Advance(SessionStore::kDefaultTtlMicros);
  EXPECT_EQ(endpoint_.Upgrade(Browser(kRunning)).refusal.status, 401) << "expired session";
  EXPECT_EQ(execs_, 0);
}

TEST_F(ConnectTest, RefusesOtherAccountsUnknownAndStoppedInstances) {
  UpgradeDecision others = endpoint_.Upgrade(Browser(kOthers));
  UpgradeDecision unknown = endpoint_.Upgrade(Browser("i-0123456789abcdef9"));
  EXPECT_EQ(others.refusal.status, 404);
  EXPECT_EQ(Code(others), "InvalidInstanceID.NotFound");
  EXPECT_EQ(unknown.refusal.status, 404);
  EXPECT_EQ(Code(unknown), "InvalidInstanceID.NotFound");
  UpgradeDecision stopped = endpoint_.Upgrade(Browser(kStopped));
  EXPECT_EQ(stopped.refusal.status, 409);
  EXPECT_EQ(Code(stopped), "IncorrectInstanceState");
  EXPECT_EQ(endpoint_.Upgrade(Browser("i-XYZ")).refusal.status, 400);
  EXPECT_EQ(execs_, 0);
  exec_fails_ = FailedPreconditionError("init gone");
  EXPECT_EQ(endpoint_.Upgrade(Browser(kRunning)).refusal.status, 409) << "stopped meanwhile";
  exec_fails_ = IoError("/var/lib/kiln broke");
  UpgradeDecision broke = endpoint_.Upgrade(Browser(kRunning));
  EXPECT_EQ(broke.refusal.status, 500);
  EXPECT_THAT(broke.refusal.body, Not(HasSubstr("/var/lib")));
}

TEST_F(ConnectTest, RefusesBadSizes) {
  for (const char* q : {"rows=0", "cols=1001", "rows=abc", "rows=-1", "rows=1e3", "rows=%zz"}) {
    EXPECT_EQ(endpoint_.Upgrade(Browser(kRunning, q)).refusal.status, 400) << q;
  }
  EXPECT_EQ(execs_, 0);
}

TEST_F(ConnectTest, AcceptsACookieOrASignatureAndStartsALoginShell) {
  UpgradeDecision d = endpoint_.Upgrade(Browser(kRunning, "rows=30&cols=100"));
  ASSERT_TRUE(d.session) << d.refusal.body;
  EXPECT_EQ(last_exec_.argv, (std::vector<std::string>{"/bin/sh", "-l"}));
  EXPECT_TRUE(last_exec_.tty);
  EXPECT_EQ(last_exec_.rows, 30);
  EXPECT_EQ(last_exec_.cols, 100);
  EXPECT_THAT(last_exec_.env, ::testing::Contains("TERM=xterm-256color"));
  d = {};
  EXPECT_EQ(destroyed_, 1) << "a session never run still kills its shell";

  HttpRequest signed_get = Request(kRunning);
  sigv4_testing::Sign(signed_get, sigv4_testing::Credentials(), kNow);
  d = endpoint_.Upgrade(signed_get);
  ASSERT_TRUE(d.session) << d.refusal.body;
  EXPECT_EQ(last_exec_.rows, 24);
  EXPECT_EQ(last_exec_.cols, 80);
}

// A WebSocket client on a real server running the endpoint.
class Client {
 public:
  Client(uint16_t port, const std::string& target, const std::string& cookie) : ws_(ioc_) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    timeval tv = {20, 0};  // a read never hangs the test
    setsockopt(beast::get_lowest_layer(ws_).native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
               sizeof tv);
    ws_.set_option(websocket::stream_base::decorator([cookie](websocket::request_type& r) {
      r.set("Cookie", "kiln_session=" + cookie);
      r.set("Origin", "http://127.0.0.1:" + r[beast::http::field::host].to_string().substr(10));
    }));
    ws_.handshake("127.0.0.1:" + std::to_string(port), target, ec_);
  }
  bool ok() const { return !ec_; }
  void Type(const std::string& s) {
    ws_.binary(true);
    ws_.write(net::buffer(s));
  }
  void Control(const nlohmann::json& j) {
    ws_.text(true);
    ws_.write(net::buffer(j.dump()));
  }
  // Reads until the output shows `needle` (or the exit frame, or the end); returns the output.
  std::string ReadUntil(const std::string& needle) {
    while (output_.find(needle) == std::string::npos && !exit_code_ && !ec_) {
      beast::flat_buffer b;
      ws_.read(b, ec_);
      if (ec_) break;
      const std::string data = beast::buffers_to_string(b.data());
      if (ws_.got_text()) {
        auto j = nlohmann::json::parse(data);
        if (j["type"] == "exit") exit_code_ = j["code"].get<int>();
      } else {
        output_ += data;
      }
    }
    return output_;
  }
  // Reads (and keeps) everything until the connection ends.
  void ReadToEnd() {
    while (!ec_) {
      beast::flat_buffer b;
      ws_.read(b, ec_);
      if (!ec_ && ws_.got_text()) {
        auto j = nlohmann::json::parse(beast::buffers_to_string(b.data()));
        if (j["type"] == "exit") exit_code_ = j["code"].get<int>();
      }
    }
  }
  std::optional<int> exit_code() const { return exit_code_; }
  beast::error_code error() const { return ec_; }
  websocket::stream<tcp::socket>& ws() { return ws_; }

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  beast::error_code ec_;
  std::string output_;
  std::optional<int> exit_code_;
};

class ConnectSessionTest : public ConnectTest {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.port = 0;
    auto s = HttpServer::Start(
        o, [](const HttpRequest&) { return HttpResponse{}; },
        [this](const HttpRequest& r) { return endpoint_.Upgrade(r); });
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  std::string Target(const std::string& query = "") {
    return std::string("/kiln/v1/instances/") + kRunning + "/connect" + query;
  }
  bool WaitDestroyed(int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (destroyed_ < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ConnectSessionTest, RunsCommandsResizesAndSendsTheExitFrame) {
  Client c(server_->port(), Target("?rows=20&cols=70"), cookie_);
  ASSERT_TRUE(c.ok()) << c.error().message();
  c.Type("echo hi-$((6*7))\n");
  EXPECT_THAT(c.ReadUntil("hi-42"), HasSubstr("hi-42"));
  c.Type("stty size\n");
  EXPECT_THAT(c.ReadUntil("20 70"), HasSubstr("20 70"));
  c.Control({{"type", "resize"}, {"rows", 33}, {"cols", 111}});
  c.Control({{"type", "resize"}, {"rows", 0}, {"cols", 5}});  // ignored
  c.Control({{"type", "bogus"}});                             // ignored
  c.ws().text(true);
  c.ws().write(net::buffer(std::string("not json")));  // ignored
  c.Type("stty size\n");
  EXPECT_THAT(c.ReadUntil("33 111"), HasSubstr("33 111"));
  c.Type("exit 3\n");
  c.ReadToEnd();
  EXPECT_EQ(c.exit_code(), 3);
  EXPECT_EQ(c.error(), websocket::error::closed);
  EXPECT_EQ(c.ws().reason().code, websocket::close_code::normal);
  EXPECT_TRUE(WaitDestroyed(1));
}

TEST_F(ConnectSessionTest, ExitFrameComesEvenWhenAProcessKeepsTheTerminal) {
  Client c(server_->port(), Target(), cookie_);
  ASSERT_TRUE(c.ok());
  c.Type("sleep 3 &\n");
  c.Type("exit 0\n");
  c.ReadToEnd();
  EXPECT_EQ(c.exit_code(), 0);
  EXPECT_EQ(c.ws().reason().code, websocket::close_code::normal);
}

TEST_F(ConnectSessionTest, ClientCloseKillsTheShell) {
  Client c(server_->port(), Target(), cookie_);
  ASSERT_TRUE(c.ok());
  c.Type("echo ready-$((1+1))\n");
  c.ReadUntil("ready-2");
  c.ws().close(websocket::close_code::normal);
  EXPECT_TRUE(WaitDestroyed(1));
  EXPECT_FALSE(c.exit_code());
}

TEST_F(ConnectSessionTest, ShutdownEndsSessions) {
  Client c(server_->port(), Target(), cookie_);
  ASSERT_TRUE(c.ok());
  c.Type("echo up-$((2+2))\n");
  c.ReadUntil("up-4");
  server_->Shutdown(1000);
  EXPECT_EQ(destroyed_, 1) << "Shutdown waited for the session and its shell";
}

// A terminal that records resizes (HandleControlText's only effect).
class RecordingTerminal : public Terminal {
 public:
  int fd() const override { return -1; }
  Status Resize(uint16_t rows, uint16_t cols) override {
    sizes.emplace_back(rows, cols);
    return Status::Ok();
  }
  Result<int> Wait(int) override { return 0; }
  std::vector<std::pair<uint16_t, uint16_t>> sizes;
};

// Found by connect_control_fuzz: a "type" that is not a string threw inside the session
// thread, which ended kilnd (std::terminate).
TEST(HandleControlTextTest, ResizesOnlyForAWellFormedMessageAndNeverThrows) {
  RecordingTerminal t;
  for (const char* bad :
       {R"({"type":1})", R"({"type":null,"rows":5,"cols":5})",
        R"({"type":["resize"],"rows":5,"cols":5})", R"({"type":"resize","rows":"5","cols":5})",
        R"({"type":"resize","rows":0,"cols":5})", R"({"type":"resize","rows":5,"cols":1001})",
        R"({"type":"resize","rows":5.5,"cols":5})", R"({"type":"resize"})", "[1,2]", "not json", "",
        "\xa3HH01\xfb"}) {
    HandleControlText(bad, t);
  }
  EXPECT_TRUE(t.sizes.empty());
  HandleControlText(R"({"type":"resize","rows":40,"cols":120})", t);
  ASSERT_EQ(t.sizes.size(), 1u);
  EXPECT_EQ(t.sizes[0], std::make_pair(uint16_t{40}, uint16_t{120}));
}

}  // namespace
}  // namespace kiln
