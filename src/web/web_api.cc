#include "web/web_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crypto/crypto.h"
#include "web/web_util.h"

namespace kiln {
namespace {

constexpr std::string_view kSessionPath = "/kiln/v1/session";
constexpr std::string_view kLogoutPath = "/kiln/v1/session/logout";
constexpr std::string_view kEc2Path = "/kiln/v1/ec2";
constexpr size_t kMaxFailureEntries = 4096;

std::string SessionCookie(const std::string& id, uint64_t max_age_seconds) {
  return std::string(kSessionCookie) + "=" + id +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_seconds);
}

// "1.2.3.4:5678" -> "1.2.3.4"; "[::1]:80" or "::1:80" -> without the port.
std::string IpOf(const std::string& remote) {
  const size_t colon = remote.rfind(':');
  return colon == std::string::npos ? remote : remote.substr(0, colon);
}

bool IsJson(const HttpRequest& request) {
  const std::string_view type = request.Header("Content-Type").value_or("");
  return type.substr(0, type.find(';')) == "application/json";
}

// The body's two strings, or an error message.
std::optional<std::string> ParseSignIn(const HttpRequest& request, std::string& key,
                                       std::string& secret) {
  if (!IsJson(request)) return "Content-Type must be application/json";
  const nlohmann::json j = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return "the body is not a JSON object";
  auto field = [&](const char* name, std::string& out) -> bool {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return !out.empty() && out.size() <= 256;
  };
  if (!field("accessKeyId", key)) return "accessKeyId must be a non-empty string";
  if (!field("secretAccessKey", secret)) return "secretAccessKey must be a non-empty string";
  return std::nullopt;
}

}  // namespace

WebApi::WebApi(WebApiOptions options, SessionStore& sessions, const FrontEnd& front_end,
               Clock& clock)
    : options_(std::move(options)), sessions_(sessions), front_end_(front_end), clock_(clock) {}

bool WebApi::Serves(std::string_view path) {
  return path == kSessionPath || path == kLogoutPath || path == kEc2Path;
}

HttpResponse WebApi::Handle(const HttpRequest& request) {
  const std::string& m = request.method;
  if (request.path == kSessionPath) {
    if (m == "POST") return SignIn(request);
    if (m == "GET") return WhoAmI(request);
  } else if (request.path == kLogoutPath) {
    if (m == "POST") return Logout(request);
  } else if (request.path == kEc2Path) {
    if (m == "POST") return Ec2(request);
    return Ec2ErrorResponse(405, "InvalidAction", "Use POST at " + request.path);
  } else {
    return JsonError(404, "NotFound", "no such path: " + request.path);
  }
  return JsonError(405, "MethodNotAllowed", m + " is not allowed at " + request.path);
}

std::optional<WebSession> WebApi::SessionOf(const HttpRequest& request) const {
  std::optional<std::string> id = CookieValue(request, kSessionCookie);
  if (!id) return std::nullopt;
  return sessions_.Find(*id);
}

std::string WebApi::SessionJson(const WebSession& s) const {
  nlohmann::json j = {{"accountId", s.account_id},
                      {"accessKeyId", s.access_key_id},
                      {"csrfToken", s.csrf_token},
                      {"expiresAt", IsoSeconds(s.expires_micros)}};
  if (options_.account_name) {
    const std::string name = options_.account_name(s.account_id);
    if (!name.empty()) j["accountName"] = name;
  }
  return j.dump();
}

HttpResponse WebApi::SignIn(const HttpRequest& request) {
  const std::string ip = IpOf(request.remote);
  int retry_after = 0;
  if (Throttled(ip, retry_after)) {
    HttpResponse r = JsonError(429, "Throttling", "too many failed sign-ins; try again later");
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
  }
  std::string key, secret;
  if (std::optional<std::string> bad = ParseSignIn(request, key, secret)) {
    return JsonError(400, "MalformedRequest", *bad);
  }
  std::optional<KeyInfo> info = options_.keys ? options_.keys(key) : std::nullopt;
  // An unknown key is compared against a dummy so both failures take the same time.
  const std::string expected = info ? info->secret_access_key : std::string(40, '\0');
  if (!ConstantTimeEqual(AsBytes(expected), AsBytes(secret)) || !info) {
    Failed(ip);
    return JsonError(401, "AuthFailure", "the access key or secret is not valid");
  }
  Succeeded(ip);
  Result<NewWebSession> made = sessions_.Create(info->account_id, key);
  if (!made.ok()) {
    spdlog::error("sign-in: {}", made.status().ToString());
    return JsonError(500, "InternalError", "cannot create a session");
  }
  HttpResponse r = JsonResponse(200, SessionJson(made->session));
  const uint64_t now = clock_.WallMicros();
  // Rounded to the nearest second: the store dated the session a moment before `now`.
  const uint64_t max_age = made->session.expires_micros > now
                               ? (made->session.expires_micros - now + 500000) / 1000000
                               : 0;
  r.headers.emplace_back("Set-Cookie", SessionCookie(made->id, max_age));
  return r;
}

HttpResponse WebApi::WhoAmI(const HttpRequest& request) const {
  std::optional<WebSession> s = SessionOf(request);
  if (!s) return JsonError(401, "AuthFailure", "not signed in");
  return JsonResponse(200, SessionJson(*s));
}

HttpResponse WebApi::Logout(const HttpRequest& request) {
  std::optional<WebSession> s = SessionOf(request);
  if (!s) return JsonError(401, "AuthFailure", "not signed in");
  if (!SessionStore::CsrfMatches(*s, request.Header(kCsrfHeader).value_or(""))) {
    return JsonError(403, "AuthFailure", "missing or invalid CSRF token");
  }
  sessions_.Remove(*CookieValue(request, kSessionCookie));
  HttpResponse r;
  r.status = 204;
  r.content_type = "text/plain";
  r.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse WebApi::Ec2(const HttpRequest& request) const {
  std::optional<WebSession> s = SessionOf(request);
  if (!s) return Ec2ErrorResponse(401, "AuthFailure", "not signed in: no valid session cookie");
  if (!SessionStore::CsrfMatches(*s, request.Header(kCsrfHeader).value_or(""))) {
    return Ec2ErrorResponse(403, "AuthFailure", "missing or invalid CSRF token", s->account_id);
  }
  HttpResponse r =
      front_end_.HandleAs(request, Caller{s->account_id, s->access_key_id, options_.region});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

bool WebApi::Throttled(const std::string& ip, int& retry_after) {
  std::lock_guard lock(throttle_mu_);
  auto it = failures_.find(ip);
  if (it == failures_.end()) return false;
  const uint64_t now = clock_.NowMicros();
  if (now >= it->second.until_micros) return false;
  retry_after = static_cast<int>((it->second.until_micros - now + 999999) / 1000000);
  return true;
}

void WebApi::Failed(const std::string& ip) {
  std::lock_guard lock(throttle_mu_);
  if (failures_.size() >= kMaxFailureEntries && !failures_.count(ip)) failures_.clear();
  Failures& f = failures_[ip];
  ++f.count;
  const int over = f.count - options_.failures_before_throttle;
  if (over >= 0) {
    // 1 s, 2 s, 4 s, ... up to the cap: a person who mistyped waits little, a guesser a lot.
    const int seconds = std::min(options_.max_throttle_seconds, 1 << std::min(over, 16));
    f.until_micros = clock_.NowMicros() + static_cast<uint64_t>(seconds) * 1000000;
  }
}

void WebApi::Succeeded(const std::string& ip) {
  std::lock_guard lock(throttle_mu_);
  failures_.erase(ip);
}

}  // namespace kiln
