// WebApi: the web console's sign-in and its EC2 calls (docs: /work/notes' issue 7 contract).
//
//   POST /kiln/v1/session          {"accessKeyId", "secretAccessKey"} -> 200 session JSON and
//                                  the kiln_session cookie; 401 AuthFailure; 400 MalformedRequest;
//                                  429 Throttling after repeated failures from one address
//   GET  /kiln/v1/session          cookie -> 200 the same JSON; else 401 AuthFailure
//   POST /kiln/v1/session/logout   cookie + X-Kiln-Csrf -> 204, the cookie cleared
//   POST /kiln/v1/ec2              cookie + X-Kiln-Csrf -> the EC2 Query API (FrontEnd::HandleAs);
//                                  401 / 403 AuthFailure as EC2 error documents
//
// The session JSON: {"accountId", "accessKeyId", "accountName" (when known), "csrfToken",
// "expiresAt" ("2026-11-27T22:00:00Z")}. The cookie: HttpOnly, SameSite=Strict, Path=/,
// Max-Age 12 h (the store's expiry). Secrets are compared in constant time; an unknown key
// costs the same comparison as a known one.
//
// Thread-safety: Handle may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/front_end.h"
#include "env/clock.h"
#include "http/http_server.h"
#include "web/session_store.h"

namespace kiln {

struct WebApiOptions {
  KeyLookup keys;  // the access keys SigV4 knows
  // The account's name (its profile in DIR/credentials), "" when unknown. May be null.
  std::function<std::string(const std::string& account_id)> account_name;
  std::string region = "us-east-1";  // the Caller's region for /kiln/v1/ec2
  // Failed sign-ins from one address (its IP) before it is throttled, and the longest wait.
  int failures_before_throttle = 5;
  int max_throttle_seconds = 60;
};

class WebApi {
 public:
  // `sessions`, `front_end` and `clock` must outlive the WebApi.
  WebApi(WebApiOptions options, SessionStore& sessions, const FrontEnd& front_end, Clock& clock);

  // Whether `path` is one of WebApi's (the router sends it here).
  static bool Serves(std::string_view path);
  HttpResponse Handle(const HttpRequest& request);

  // The live session the request's cookie names, or nullopt.
  std::optional<WebSession> SessionOf(const HttpRequest& request) const;

 private:
  HttpResponse SignIn(const HttpRequest& request);
  HttpResponse WhoAmI(const HttpRequest& request) const;
  HttpResponse Logout(const HttpRequest& request);
  HttpResponse Ec2(const HttpRequest& request) const;
  std::string SessionJson(const WebSession& session) const;

  // Throttling of failed sign-ins, by remote IP.
  bool Throttled(const std::string& ip, int& retry_after);
  void Failed(const std::string& ip);
  void Succeeded(const std::string& ip);

  const WebApiOptions options_;
  SessionStore& sessions_;
  const FrontEnd& front_end_;
  Clock& clock_;

  struct Failures {
    int count = 0;
    uint64_t until_micros = 0;  // monotonic: refused until then
  };
  std::mutex throttle_mu_;
  std::map<std::string, Failures> failures_;  // guarded by throttle_mu_
};

}  // namespace kiln
