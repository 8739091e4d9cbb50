#include "cli/sigv4_signer.h"

#include <time.h>

#include <algorithm>
#include <cctype>

#include "base/bytes.h"
#include "base/uri.h"
#include "crypto/crypto.h"
#include "crypto/sha256.h"

namespace kiln::cli {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses inner runs of spaces, as the spec's canonical header values.
std::string TrimValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UriDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    pairs.emplace_back(UriEncode(UriDecode(pair.substr(0, eq))), UriEncode(UriDecode(value)));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

std::string SignedHeaderNames(const SigningRequest& request) {
  std::vector<std::string> names;
  for (const auto& [name, value] : request.headers) names.push_back(Lower(name));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ";") + n;
  return out;
}

}  // namespace

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UriEncode(k) + "=" + UriEncode(v);
  }
  return out;
}

std::string AmzDate(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalRequest(const SigningRequest& request) {
  // Repeated headers join their values with ',' in the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    const std::string n = Lower(name);
    auto it = std::find_if(headers.begin(), headers.end(), [&](auto& h) { return h.first == n; });
    if (it == headers.end()) {
      headers.emplace_back(n, TrimValue(value));
    } else {
      it->second += "," + TrimValue(value);
    }
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers;
  for (const auto& [n, v] : headers) canonical_headers += n + ":" + v + "\n";
  return request.method + "\n" + request.path + "\n" + CanonicalQuery(request.query) + "\n" +
         canonical_headers + "\n" + SignedHeaderNames(request) + "\n" +
         HexEncode(Sha256(AsBytes(request.payload)));
}

std::string Authorization(const SigningRequest& request, const AwsCredentials& credentials,
                          std::string_view region, std::string_view service,
                          std::string_view amz_date) {
  const std::string date(amz_date.substr(0, 8));
  const std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" +
                              HexEncode(Sha256(AsBytes(CanonicalRequest(request))));
  const std::string secret = "AWS4" + credentials.secret_access_key;
  Digest256 key = HmacSha256AnyKey(AsBytes(secret), AsBytes(date));
  for (std::string_view part : {region, service, std::string_view("aws4_request")}) {
    key = HmacSha256AnyKey(ByteView(key), AsBytes(part));
  }
  const std::string signature = HexEncode(HmacSha256AnyKey(ByteView(key), AsBytes(to_sign)));
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
         ", SignedHeaders=" + SignedHeaderNames(request) + ", Signature=" + signature;
}

HeaderList Sign(SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                std::string_view service, int64_t unix_seconds) {
  const std::string amz_date = AmzDate(unix_seconds);
  request.headers.emplace_back("X-Amz-Date", amz_date);
  return {{"X-Amz-Date", amz_date},
          {"Authorization", Authorization(request, credentials, region, service, amz_date)}};
}

}  // namespace kiln::cli
