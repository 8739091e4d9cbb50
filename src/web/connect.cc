#include "web/connect.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/query.h"
#include "api/sigv4.h"
#include "web/web_util.h"

namespace kiln {
namespace {

constexpr std::string_view kPrefix = "/kiln/v1/instances/";
constexpr std::string_view kSuffix = "/connect";
constexpr int kMaxDimension = 1000;

UpgradeDecision Refuse(int status, std::string_view code, std::string_view message) {
  UpgradeDecision d;
  d.refusal = JsonError(status, code, message);
  return d;
}

bool WellFormedInstanceId(std::string_view id) {
  if (!id.starts_with("i-") || (id.size() != 2 + 8 && id.size() != 2 + 17)) return false;
  for (char c : id.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// rows or cols from the query: `fallback` when absent, nullopt when not 1..1000.
std::optional<uint16_t> Dimension(const QueryParams& q, const char* name, uint16_t fallback) {
  std::optional<std::string> v = q.Get(name);
  if (!v) return fallback;
  if (v->empty() || v->size() > 4) return std::nullopt;
  int n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > kMaxDimension) return std::nullopt;
  return static_cast<uint16_t>(n);
}

// Why the account may not connect to the instance (its record or the lookup's error), or
// nullopt when it may.
std::optional<UpgradeDecision> InstanceRefusal(const Result<Instance>& inst, const std::string& id,
                                               const std::string& account_id) {
  const std::string not_found = "The instance ID '" + id + "' does not exist";
  if (!inst.ok() && inst.status().code() == Code::kNotFound) {
    return Refuse(404, "InvalidInstanceID.NotFound", not_found);
  }
  if (!inst.ok()) {
    spdlog::error("connect to {}: {}", id, inst.status().ToString());
    return Refuse(500, "InternalError", "cannot look up the instance");
  }
  if (inst->owner_id != account_id) return Refuse(404, "InvalidInstanceID.NotFound", not_found);
  if (inst->state != InstanceState::kRunning) {
    return Refuse(409, "IncorrectInstanceState",
                  "The instance '" + id + "' is not in the running state (it is " +
                      std::string(ToString(inst->state)) + ")");
  }
  return std::nullopt;
}

class ExecTerminalImpl : public Terminal {
 public:
  explicit ExecTerminalImpl(std::unique_ptr<ExecProcess> p) : p_(std::move(p)) {}
  int fd() const override { return p_->stdout_fd(); }
  // ExecProcess is used from one thread at a time: the session's two threads take turns.
  Status Resize(uint16_t rows, uint16_t cols) override {
    std::lock_guard lock(mu_);
    return p_->Resize(rows, cols);
  }
  Result<int> Wait(int timeout_ms) override {
    std::lock_guard lock(mu_);
    return p_->Wait(timeout_ms);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<ExecProcess> p_;
};

// Writes all of `data` to the non-blocking terminal; false once it cannot take more (the
// shell is gone) or the output side finished.
bool WriteAll(int fd, std::string_view data, const std::atomic<bool>& output_done) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    if (output_done) return false;
    pollfd p = {fd, POLLOUT, 0};
    poll(&p, 1, 200);  // the shell reads its input slowly; look again, and at output_done
  }
  return true;
}

// The shell's output to the client until the shell ends (then the exit frame and the close)
// or `stop_fd` becomes readable (the client went: no exit frame).
void PumpOutput(WebSocket& ws, Terminal& terminal, int stop_fd) {
  const int fd = terminal.fd();
  char buf[16384];
  bool drained = false;  // the shell ended: send what is left, then stop
  while (true) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    const int n = poll(p, 2, drained ? 0 : 250);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || p[1].revents != 0) return;
    if (n == 0) {
      // Nothing to read. A process the shell left behind may hold the terminal open after the
      // shell ended, so the end of the output alone does not say the shell is over.
      if (drained || terminal.Wait(0).ok()) break;
      continue;
    }
    if (p[0].revents == 0) continue;
    const ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) {
      if (!ws.Write(std::string_view(buf, static_cast<size_t>(r)), /*text=*/false).ok()) return;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    break;  // EIO: every holder of the terminal's other side closed it; the shell has ended
  }
  // The shell ends within moments of its terminal closing.
  Result<int> code = terminal.Wait(10000);
  const nlohmann::json exit = {{"type", "exit"}, {"code", code.ok() ? *code : -1}};
  if (ws.Write(exit.dump(), /*text=*/true).ok()) ws.Close(1000, "");
}

}  // namespace

std::unique_ptr<Terminal> ExecTerminal(std::unique_ptr<ExecProcess> process) {
  return std::make_unique<ExecTerminalImpl>(std::move(process));
}

void HandleControlText(const std::string& text, Terminal& terminal) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  // Not j.value("type", ""): it throws when "type" is not a string, and an exception here would
  // end kilnd (the session thread's output pump is still joinable).
  auto type = j.find("type");
  if (type == j.end() || !type->is_string() || type->get_ref<const std::string&>() != "resize") {
    return;
  }
  auto dim = [&](const char* name) -> int {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_integer()) return 0;
    const int64_t v = it->get<int64_t>();
    return v >= 1 && v <= kMaxDimension ? static_cast<int>(v) : 0;
  };
  const int rows = dim("rows"), cols = dim("cols");
  if (rows > 0 && cols > 0) {
    terminal.Resize(static_cast<uint16_t>(rows), static_cast<uint16_t>(cols)).IgnoreError();
  }
}

void RunTerminalSession(WebSocket& ws, Terminal& terminal) {
  const int fd = terminal.fd();
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);  // both pumps poll
  int stop[2];
  if (pipe2(stop, O_CLOEXEC | O_NONBLOCK) != 0) {
    ws.Close(1011, "cannot start the session");
    return;
  }
  std::atomic<bool> output_done{false};
  std::thread output([&] {
    PumpOutput(ws, terminal, stop[0]);
    output_done = true;
  });
  while (true) {
    Result<WebSocketMessage> m = ws.Read();
    if (!m.ok()) break;  // the client closed or went, or the exit frame's close completed
    if (m->text) {
      HandleControlText(m->data, terminal);
    } else if (!output_done) {
      WriteAll(fd, m->data, output_done);
    }
  }
  (void)!write(stop[1], "x", 1);
  output.join();
  close(stop[0]);
  close(stop[1]);
}

ConnectEndpoint::ConnectEndpoint(ConnectOptions options) : options_(std::move(options)) {
  std::function<int64_t()>& now = options_.now;
  DefaultSigningOptions(options_.keys, now);
}

std::optional<std::string> ConnectEndpoint::InstanceIdOf(std::string_view path) {
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return std::nullopt;
  if (path.size() <= kPrefix.size() + kSuffix.size()) return std::nullopt;
  std::string_view id = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  if (id.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(id);
}

HttpResponse ConnectEndpoint::WithoutUpgrade(const HttpRequest& request) {
  if (request.method != "GET") return JsonError(405, "MethodNotAllowed", "use GET with an upgrade");
  HttpResponse r = JsonError(426, "UpgradeRequired", "connect is a WebSocket endpoint");
  r.headers.emplace_back("Upgrade", "websocket");
  return r;
}

Result<std::string> ConnectEndpoint::Authenticate(const HttpRequest& request) const {
  auto fail = [](std::string message) {
    return FailedPreconditionError(std::move(message)).WithEc2Code("AuthFailure");
  };
  if (request.Header("Authorization")) {
    const SigV4Request sr{request.method, request.path, request.query, &request.headers, ""};
    std::string account_id;
    Result<SigV4Identity> id =
        VerifySigV4(sr, options_.now(), [&](std::string_view key) -> std::optional<std::string> {
          std::optional<KeyInfo> info = options_.keys(key);
          if (!info) return std::nullopt;
          account_id = info->account_id;
          return info->secret_access_key;
        });
    if (!id.ok()) {
      return fail(id.status().ec2_code().value_or("AuthFailure") + ": " + id.status().message());
    }
    return account_id;
  }
  std::optional<std::string> cookie = CookieValue(request, kSessionCookie);
  if (!cookie) return fail("no credentials: a session cookie or a SigV4 signature is needed");
  std::optional<WebSession> s = options_.sessions ? options_.sessions->Find(*cookie) : std::nullopt;
  if (!s) return fail("the session is not valid (signed out or expired)");
  if (!OriginMatchesHost(request)) {
    return InvalidArgumentError("the Origin header must name this host").WithEc2Code("AuthFailure");
  }
  return s->account_id;
}

UpgradeDecision ConnectEndpoint::Upgrade(const HttpRequest& request) const {
  const std::optional<std::string> id = InstanceIdOf(request.path);
  if (!id) return Refuse(404, "NotFound", "no such path: " + request.path);
  Result<std::string> account = Authenticate(request);
  if (!account.ok()) {
    // A missing or bad credential is 401; a good cookie from another site's page is 403.
    const int status = account.status().code() == Code::kInvalidArgument ? 403 : 401;
    return Refuse(status, "AuthFailure", account.status().message());
  }
  Result<QueryParams> q = QueryParams::Parse(request.query);
  if (!q.ok()) return Refuse(400, "InvalidParameterValue", "malformed query string");
  const std::optional<uint16_t> rows = Dimension(*q, "rows", 24);
  const std::optional<uint16_t> cols = Dimension(*q, "cols", 80);
  if (!rows || !cols) return Refuse(400, "InvalidParameterValue", "rows and cols must be 1..1000");
  if (!WellFormedInstanceId(*id)) {
    return Refuse(400, "InvalidInstanceID.Malformed", "Invalid id: \"" + *id + "\"");
  }
  if (std::optional<UpgradeDecision> no = InstanceRefusal(options_.instance(*id), *id, *account)) {
    return std::move(*no);
  }
  ExecOptions exec;
  exec.argv = {"/bin/sh", "-l"};
  exec.env = {"TERM=xterm-256color"};
  exec.tty = true;
  exec.rows = *rows;
  exec.cols = *cols;
  Result<std::unique_ptr<Terminal>> terminal = options_.exec(*id, exec);
  if (!terminal.ok()) {
    if (terminal.status().code() == Code::kFailedPrecondition) {
      return Refuse(409, "IncorrectInstanceState", "The instance '" + *id + "' is not running");
    }
    spdlog::error("connect to {}: {}", *id, terminal.status().ToString());
    return Refuse(500, "InternalError", "cannot start a shell in the instance");
  }
  std::shared_ptr<Terminal> shell(std::move(*terminal));
  UpgradeDecision d;
  d.session = [shell](WebSocket& ws) { RunTerminalSession(ws, *shell); };
  return d;
}

}  // namespace kiln
