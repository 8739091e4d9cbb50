// Small pieces the web endpoints share: cookies, the Origin rule, JSON answers and the time
// format the console reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_server.h"

namespace kiln {

inline constexpr char kSessionCookie[] = "kiln_session";
inline constexpr char kCsrfHeader[] = "X-Kiln-Csrf";

// The value of cookie `name` in the request's Cookie headers (all of them; the first match),
// or nullopt.
std::optional<std::string> CookieValue(const HttpRequest& request, std::string_view name);

// Whether the request's Origin header is present and names the Host it was sent to, over http
// or https ("http://127.0.0.1:8787" for Host "127.0.0.1:8787"): what stops another site's page
// from using the browser's cookie on a WebSocket (which has no same-origin policy).
bool OriginMatchesHost(const HttpRequest& request);

// A JSON answer (Content-Type application/json, Cache-Control no-store).
HttpResponse JsonResponse(int status, std::string body);
// {"code": code, "message": message}
HttpResponse JsonError(int status, std::string_view code, std::string_view message);

// "2026-11-27T22:00:00Z" for a wall-clock time in microseconds since the Unix epoch.
std::string IsoSeconds(uint64_t wall_micros);

}  // namespace kiln
