#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kiln::cli {
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string Url::HostHeader() const {
  if (port == "80" && scheme == "http") return host;
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

Result<Url> ParseUrl(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgumentError("bad endpoint URL '" + std::string(text) + "': " + why);
  };
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos) return bad("expected http://HOST[:PORT]");
  Url url;
  url.scheme = std::string(text.substr(0, colon));
  if (url.scheme == "https") return bad("https endpoints are not supported yet; kilnd serves http");
  if (url.scheme != "http") return bad("the scheme must be http");
  std::string_view rest = text.substr(colon + 3);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) url.path = std::string(rest.substr(slash));
  while (!url.path.empty() && url.path.back() == '/') url.path.pop_back();
  if (authority.empty()) return bad("no host");
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed [");
    url.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    if (!authority.empty() && authority.front() != ':') return bad("junk after ]");
    url.port = authority.empty() ? "80" : std::string(authority.substr(1));
  } else {
    const size_t c = authority.rfind(':');
    url.host = std::string(authority.substr(0, c));
    url.port = c == std::string_view::npos ? "80" : std::string(authority.substr(c + 1));
  }
  if (url.host.empty()) return bad("no host");
  if (url.port.empty() || url.port.find_first_not_of("0123456789") != std::string::npos ||
      url.port.size() > 5) {
    return bad("bad port");
  }
  return url;
}

Result<HttpResponse> HttpRequestOnce(const Url& url, const std::string& method,
                                     const std::string& target, const HeaderList& headers,
                                     const std::string& body, std::chrono::seconds timeout) {
  const std::string where = url.scheme + "://" + url.HostHeader();
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return Status(Code::kUnavailable, "cannot resolve " + where + ": " + ec.message());
  stream.expires_after(timeout);
  stream.connect(endpoints, ec);
  if (ec) return Status(Code::kUnavailable, "cannot connect to " + where + ": " + ec.message());
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    has_host = has_host || beast::iequals(name, "host");
    req.set(name, value);
  }
  if (!has_host) req.set(http::field::host, url.HostHeader());
  req.set(http::field::user_agent, "kiln-cli/0.7");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return Status(Code::kUnavailable, "sending to " + where + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  http::read(stream, buffer, parser, ec);
  if (ec == beast::error::timeout) {
    return DeadlineExceededError("no answer from " + where + " within " +
                                 std::to_string(timeout.count()) + " s");
  }
  if (ec) return Status(Code::kUnavailable, "reading the answer of " + where + ": " + ec.message());
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  for (const auto& field : parser.get()) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

}  // namespace kiln::cli
