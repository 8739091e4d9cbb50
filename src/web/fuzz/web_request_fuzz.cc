// libFuzzer target: kilnd's web paths on arbitrary requests. The input becomes an HttpRequest
// (method, path and query, Cookie, X-Kiln-Csrf, Origin, Host, Content-Type, Authorization,
// Upgrade and a body) that goes through the real routers (MakeHttpRouter, MakeUpgradeRouter)
// to the real WebApi, ConnectEndpoint, ConsoleAssets and, for every other path, FrontEnd, with
// an in-memory SessionStore holding one live session (its cookie and CSRF token are among the
// fuzzed choices, so the authenticated paths are reached from an empty corpus) and a fixed key.
// An input may hold up to 8 requests to the same state, with the clock moved between them
// (0, 1 s, 61 s or 13 h), so sign-out, expiry and throttling are exercised too.
//
// Invariants, checked on every answer (any breach aborts):
//   - no exception escapes a handler (libFuzzer reports an uncaught one);
//   - the status is one the issue 7 contract names for that path;
//   - 2xx at /kiln/v1/ec2, GET /kiln/v1/session and 204 at logout only with the live session's
//     id in a Cookie header; /kiln/v1/ec2 and logout also only with the exact CSRF token;
//   - a sign-in 200 only for the right key and secret, with a 64-hex cookie of the contract's
//     form and a 64-hex csrfToken;
//   - the shell starts (the exec callback runs) only for the session's cookie with a matching
//     Origin (SigV4 cannot be forged here), for the caller's own running instance, with
//     `/bin/sh -l`, a tty and a size in 1..1000; an upgrade is accepted only then;
//   - every JSON error body parses, with string "code" and "message";
//   - every /console answer carries the CSP, nosniff and no-cache headers; a 200 there serves
//     exactly a loaded file;
//   - after a 204 sign-out or past the 12 h expiry, the old cookie gets no 2xx and no shell;
//   - a sign-in is throttled (429) only after 5 failures in a row from that address;
//   - everything else (the Query API at "/") is never 2xx, as nothing here is signed.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "ec2/xml_writer.h"
#include "web/connect.h"
#include "web/console_assets.h"
#include "web/session_store.h"
#include "web/web_api.h"
#include "web/web_routes.h"

namespace kiln {
namespace {

constexpr char kAccount[] = "123456789012";
constexpr char kOtherAccount[] = "210987654321";
constexpr char kKey[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kHost[] = "127.0.0.1:8787";
constexpr char kOwnRunning[] = "i-0123456789abcdef0";
constexpr char kOtherRunning[] = "i-0fedcba987654321f";
constexpr char kOwnStopped[] = "i-01234567";
constexpr int64_t kNow = 1795694400;

void Check(bool ok) {
  if (!ok) std::abort();
}

class FakeTerminal : public Terminal {
 public:
  int fd() const override { return -1; }
  Status Resize(uint16_t, uint16_t) override { return Status::Ok(); }
  Result<int> Wait(int) override { return 0; }
};

// The console's files, written once to a temporary directory and loaded as kilnd loads them.
const ConsoleAssets& LoadedAssets() {
  static const ConsoleAssets* assets = [] {
    char dir[] = "/tmp/kiln_web_fuzz_XXXXXX";
    Check(mkdtemp(dir) != nullptr);
    const std::string d = dir;
    Check(mkdir((d + "/js").c_str(), 0755) == 0);
    std::ofstream(d + "/index.html") << "<!doctype html><title>kiln</title>";
    std::ofstream(d + "/js/main.js") << "export {};";
    std::ofstream(d + "/.hidden") << "secret";
    auto loaded = ConsoleAssets::Load(d);
    Check(loaded.ok() && (*loaded)->size() == 2);
    unlink((d + "/index.html").c_str());
    unlink((d + "/js/main.js").c_str());
    unlink((d + "/.hidden").c_str());
    rmdir((d + "/js").c_str());
    rmdir(d.c_str());
    return loaded->release();
  }();
  return *assets;
}

KeyLookup Keys() {
  return [](std::string_view id) -> std::optional<KeyInfo> {
    if (id != kKey) return std::nullopt;
    return KeyInfo{kSecret, kAccount};
  };
}

Result<Instance> LookUpInstance(const std::string& id) {
  Instance inst;
  inst.instance_id = id;
  inst.owner_id = kAccount;
  inst.state = InstanceState::kRunning;
  if (id == kOtherRunning) {
    inst.owner_id = kOtherAccount;
  } else if (id == kOwnStopped) {
    inst.state = InstanceState::kStopped;
  } else if (id != kOwnRunning) {
    return NotFoundError("no instance " + id);
  }
  return inst;
}

// One of a few shapes, or fuzzed text.
std::string Pick(FuzzedDataProvider& in, std::initializer_list<std::string> shapes) {
  const size_t i = in.ConsumeIntegralInRange<size_t>(0, shapes.size());
  if (i < shapes.size()) return *(shapes.begin() + i);
  return in.ConsumeRandomLengthString(64);
}

struct Built {
  HttpRequest request;
  bool upgrade = false;
};

Built BuildRequest(FuzzedDataProvider& in, const std::string& id, const std::string& csrf) {
  Built b;
  HttpRequest& r = b.request;
  r.method = Pick(in, {"GET", "POST"});
  // Early in the input: the upgrade paths are the deepest, they should be cheap to reach.
  b.upgrade = r.method == "GET" && in.ConsumeBool();
  const std::string fuzz_id = in.ConsumeRandomLengthString(24);
  r.path = Pick(in, {"/kiln/v1/session", "/kiln/v1/session/logout", "/kiln/v1/ec2",
                     std::string("/kiln/v1/instances/") + kOwnRunning + "/connect",
                     std::string("/kiln/v1/instances/") + kOtherRunning + "/connect",
                     std::string("/kiln/v1/instances/") + kOwnStopped + "/connect",
                     "/kiln/v1/instances/" + fuzz_id + "/connect", "/console", "/console/",
                     "/console/js/main.js", "/console/" + fuzz_id, "/kiln/v1/" + fuzz_id, "/"});
  r.query = Pick(
      in, {"", "rows=40&cols=120",
           "rows=" + in.ConsumeRandomLengthString(6) + "&cols=" + in.ConsumeRandomLengthString(6)});
  r.target = r.query.empty() ? r.path : r.path + "?" + r.query;
  r.remote = Pick(in, {"127.0.0.1:5000", "[::1]:5000"});
  const std::string cookie =
      Pick(in, {"", "kiln_session=" + id, "theme=dark; kiln_session=" + id + "; other=1",
                "kiln_session=\"" + id + "\"", "kiln_session=" + in.ConsumeRandomLengthString(70),
                in.ConsumeRandomLengthString(16) + "kiln_session=" + id});
  if (!cookie.empty()) r.headers.emplace_back("Cookie", cookie);
  if (in.ConsumeBool()) r.headers.emplace_back("Cookie", in.ConsumeRandomLengthString(80));
  const std::string token = Pick(in, {"", csrf, csrf.substr(1)});
  if (!token.empty()) r.headers.emplace_back("X-Kiln-Csrf", token);
  const std::string host = Pick(in, {kHost, ""});
  if (!host.empty()) r.headers.emplace_back("Host", host);
  const std::string origin =
      Pick(in, {"", std::string("http://") + kHost, std::string("HTTPS://") + kHost,
                "http://evil.example", " http://" + host + " "});
  if (!origin.empty()) r.headers.emplace_back("Origin", origin);
  const std::string type = Pick(in, {"", "application/json", "application/json; charset=utf-8",
                                     "application/x-www-form-urlencoded"});
  if (!type.empty()) r.headers.emplace_back("Content-Type", type);
  if (in.ConsumeBool()) r.headers.emplace_back("Authorization", in.ConsumeRandomLengthString(200));
  if (b.upgrade) r.headers.emplace_back("Upgrade", "websocket");
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      r.body = nlohmann::json{{"accessKeyId", kKey}, {"secretAccessKey", kSecret}}.dump();
      break;
    case 1:
      r.body = "{\"accessKeyId\":\"" + in.ConsumeRandomLengthString(30) +
               "\",\"secretAccessKey\":\"" + in.ConsumeRandomLengthString(50) + "\"}";
      break;
    case 2:
      r.body = "Action=DescribeThings&Version=2016-11-15&" + in.ConsumeRandomLengthString(60);
      break;
    default:
      break;
  }
  r.body += in.ConsumeRandomLengthString(512);
  return b;
}

// Independent readings of the request, for the invariants.
bool AnyHeaderHas(const HttpRequest& r, std::string_view name, std::string_view needle) {
  for (const auto& [n, v] : r.headers) {
    if (strcasecmp(n.c_str(), std::string(name).c_str()) == 0 &&
        v.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}
bool FirstHeaderIs(const HttpRequest& r, std::string_view name, std::string_view value) {
  std::optional<std::string_view> v = r.Header(name);
  return v && *v == value;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}
std::string_view TrimBlanks(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}
// The first Origin names the first Host, over http or https (case and blanks aside).
bool OriginNamesHost(const HttpRequest& r) {
  std::optional<std::string_view> origin = r.Header("Origin");
  std::optional<std::string_view> host = r.Header("Host");
  if (!origin || !host || TrimBlanks(*host).empty()) return false;
  const std::string o = Lower(TrimBlanks(*origin)), h = Lower(TrimBlanks(*host));
  return o == "http://" + h || o == "https://" + h;
}

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

void CheckJsonError(const HttpResponse& r) {
  if (r.status < 400 || r.content_type != "application/json") return;
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  Check(j.is_object() && j.contains("code") && j["code"].is_string() && j.contains("message") &&
        j["message"].is_string());
}

void CheckSignIn(const HttpRequest& q, const HttpResponse& r) {
  Check(std::set<int>{200, 400, 401, 429}.count(r.status) == 1);
  if (r.status != 200) return;
  const nlohmann::json sent = nlohmann::json::parse(q.body, nullptr, false);
  Check(sent.is_object() && sent.value("accessKeyId", nlohmann::json()) == kKey &&
        sent.value("secretAccessKey", nlohmann::json()) == kSecret);
  const std::string cookie = HeaderOf(r, "Set-Cookie");
  const std::string prefix = "kiln_session=";
  const std::string suffix = "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200";
  Check(cookie.size() == prefix.size() + 64 + suffix.size() && cookie.starts_with(prefix) &&
        IsHex64(std::string_view(cookie).substr(prefix.size(), 64)) && cookie.ends_with(suffix));
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  Check(j.is_object() && j.value("accountId", "") == kAccount && IsHex64(j.value("csrfToken", "")));
}

void CheckConsole(const HttpRequest& q, const HttpResponse& r, bool loaded) {
  Check(std::set<int>{200, 301, 404, 405}.count(r.status) == 1);
  Check(HeaderOf(r, "Content-Security-Policy").find("script-src 'self'") != std::string::npos &&
        HeaderOf(r, "X-Content-Type-Options") == "nosniff" &&
        HeaderOf(r, "Cache-Control") == "no-cache");
  if (r.status == 301) Check(q.path == "/console" && HeaderOf(r, "Location") == "/console/");
  if (r.status == 200) {
    Check(loaded && q.method == "GET");
    Check((q.path == "/console/" || q.path == "/console/index.html")
              ? r.body == "<!doctype html><title>kiln</title>"
              : q.path == "/console/js/main.js" && r.body == "export {};");
  }
}

// Runs requests one after another against the same kilnd, up to kMaxRequests per input, so
// sign-out, expiry and throttling are reached too.
constexpr int kMaxRequests = 8;

// What a correct server may accept, read from the request and the history without the code
// under test.
struct Facts {
  bool upgrade = false;
  bool has_session = false;  // the live session's id in a Cookie, not signed out, not expired
  bool has_csrf = false;     // X-Kiln-Csrf is exactly its token
  bool origin_ok = false;
  bool own_running = false;  // the connect path of the caller's running instance
  bool exec_ran = false;
};

void CheckAnswer(const HttpRequest& q, const HttpResponse& r, const Facts& f, bool loaded) {
  CheckJsonError(r);
  const std::string& p = q.path;
  if (p == "/kiln/v1/session" && q.method == "POST") {
    CheckSignIn(q, r);
  } else if (p == "/kiln/v1/session") {
    Check(r.status == 405 || r.status == 401 || (r.status == 200 && f.has_session));
  } else if (p == "/kiln/v1/session/logout") {
    Check(std::set<int>{204, 401, 403, 405}.count(r.status) == 1);
    if (r.status == 204) Check(f.has_session && f.has_csrf && q.method == "POST");
  } else if (p == "/kiln/v1/ec2") {
    Check(std::set<int>{200, 400, 401, 403, 405, 412}.count(r.status) == 1);
    if (r.status < 300) Check(f.has_session && f.has_csrf && q.method == "POST");
  } else if (ConnectEndpoint::InstanceIdOf(p)) {
    const std::set<int> statuses =
        f.upgrade ? std::set<int>{400, 401, 403, 404, 409} : std::set<int>{405, 426};
    Check(statuses.count(r.status) == 1);
  } else if (ConsoleAssets::Serves(p)) {
    CheckConsole(q, r, loaded);
  } else if (p.starts_with("/kiln/v1/")) {
    Check(r.status == 404 || r.status == 405);
  } else {
    Check(r.status >= 400 && r.status < 500);
  }
}

}  // namespace
}  // namespace kiln

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // FrontEnd logs every request
  kiln::LoadedAssets();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;
  FuzzedDataProvider in(data, size);
  // Fresh state per input: throttling and sign-outs must not leak from one input to the next.
  ManualClock clock;
  SessionStore sessions(clock, SessionStore::kDefaultTtlMicros, 16);
  Result<NewWebSession> live = sessions.Create(kAccount, kKey);
  Check(live.ok());
  FrontEnd front_end(
      FrontEndOptions{.keys = Keys(), .now = [] { return kNow; }, .json_protocol = {}});
  Check(front_end
            .Register(Action{"DescribeThings",
                             {"Name"},
                             [](const ActionRequest& r) {
                               XmlWriter w("DescribeThingsResponse", r.request_id);
                               w.Field("thing", "x");
                               return Result<std::string>(std::move(w).Finish());
                             }})
            .ok());
  WebApiOptions api_options;
  api_options.keys = Keys();
  api_options.account_name = [](const std::string&) { return "default"; };
  WebApi api(api_options, sessions, front_end, clock);
  const bool loaded = in.ConsumeBool();
  const ConsoleAssets unloaded;
  const ConsoleAssets& assets = loaded ? LoadedAssets() : unloaded;

  Facts f;
  ConnectOptions connect_options;
  connect_options.sessions = &sessions;
  connect_options.keys = Keys();
  connect_options.now = [] { return kNow; };
  connect_options.instance = LookUpInstance;
  connect_options.exec = [&f](const std::string& id,
                              const ExecOptions& e) -> Result<std::unique_ptr<Terminal>> {
    Check(!f.exec_ran && f.upgrade && f.has_session && f.origin_ok && f.own_running &&
          id == kOwnRunning);
    Check(e.tty && e.argv == std::vector<std::string>{"/bin/sh", "-l"} && e.rows >= 1 &&
          e.rows <= 1000 && e.cols >= 1 && e.cols <= 1000);
    f.exec_ran = true;
    return std::unique_ptr<Terminal>(std::make_unique<FakeTerminal>());
  };
  ConnectEndpoint connect(connect_options);
  WebRoutes routes{&api, &assets, &connect,
                   [&](const HttpRequest& r) { return front_end.Handle(r); }};
  const HttpHandler http = MakeHttpRouter(routes);
  const UpgradeHandler upgrade = MakeUpgradeRouter(routes);

  bool signed_out = false;
  uint64_t elapsed = 0;
  std::map<std::string, int> failed_sign_ins;  // by remote, since its last good sign-in
  // One request unless the input asks for more: an empty corpus then explores single requests
  // as deeply as it can, and longer inputs add the history (sign-out, expiry, throttling).
  const int requests = in.ConsumeIntegralInRange(1, kMaxRequests);
  for (int i = 0; i < requests; ++i) {
    if (i > 0) {
      static constexpr uint64_t kSteps[] = {0, 1000000, 61000000, 13ull * 3600 * 1000000};
      const uint64_t step = in.PickValueInArray(kSteps);
      clock.Advance(step);
      elapsed += step;
    }
    Built b = BuildRequest(in, live->id, live->session.csrf_token);
    const HttpRequest& q = b.request;
    f = Facts{};
    f.upgrade = b.upgrade;
    f.has_session = AnyHeaderHas(q, "Cookie", live->id) && !signed_out &&
                    elapsed < SessionStore::kDefaultTtlMicros;
    f.has_csrf = FirstHeaderIs(q, "X-Kiln-Csrf", live->session.csrf_token);
    f.origin_ok = OriginNamesHost(q);
    f.own_running = q.path == std::string("/kiln/v1/instances/") + kOwnRunning + "/connect";

    HttpResponse r;
    if (b.upgrade) {
      UpgradeDecision d = upgrade(q);
      Check(static_cast<bool>(d.session) == f.exec_ran);
      if (d.session) continue;
      r = std::move(d.refusal);
    } else {
      r = http(q);
    }
    Check(!f.exec_ran);
    CheckAnswer(q, r, f, loaded);
    if (q.path == "/kiln/v1/session/logout" && r.status == 204) signed_out = true;
    if (q.path == "/kiln/v1/session" && q.method == "POST") {
      const std::string ip = q.remote.substr(0, q.remote.rfind(':'));
      if (r.status == 401) ++failed_sign_ins[ip];
      if (r.status == 200) failed_sign_ins.erase(ip);
      // Throttled only after failures_before_throttle (5) failures in a row.
      if (r.status == 429) Check(failed_sign_ins[ip] >= 5);
    }
  }
  return 0;
}
