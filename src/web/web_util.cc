#include "web/web_util.h"

#include <strings.h>

#include <ctime>
#include <nlohmann/json.hpp>

namespace kiln {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<std::string> CookieValue(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (!IEquals(header, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
      std::string_view v = Trim(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
  }
  return std::nullopt;
}

bool OriginMatchesHost(const HttpRequest& request) {
  const std::optional<std::string_view> origin = request.Header("Origin");
  const std::optional<std::string_view> host = request.Header("Host");
  if (!origin || !host || host->empty()) return false;
  const std::string h(Trim(*host));
  const std::string_view o = Trim(*origin);
  return IEquals(o, "http://" + h) || IEquals(o, "https://" + h);
}

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = std::move(body);
  return r;
}

HttpResponse JsonError(int status, std::string_view code, std::string_view message) {
  nlohmann::json j = {{"code", std::string(code)}, {"message", std::string(message)}};
  // Messages quote request bytes (a path, an instance id) that need not be UTF-8; the default
  // dump() throws on those, so invalid bytes become U+FFFD instead.
  return JsonResponse(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string IsoSeconds(uint64_t wall_micros) {
  const time_t t = static_cast<time_t>(wall_micros / 1000000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

}  // namespace kiln
