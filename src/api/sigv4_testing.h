// Test-only: a SigV4 signer for requests to kiln's EC2 front end, so tests can make requests
// VerifySigV4 accepts (and then spoil them). It follows AWS's spec as botocore does; sigv4_test's
// botocore-made vectors are what prove the verifier, this only has to agree with it.
// Not part of kiln_api's interface: include it from tests only.
#pragma once

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "crypto/sha256.h"
#include "http/http_server.h"

namespace kiln::sigv4_testing {

struct Credentials {
  std::string access_key_id = "AKIAIOSFODNN7EXAMPLE";
  std::string secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  std::string region = "us-east-1";
  std::string service = "ec2";
};

using Params = std::vector<std::pair<std::string, std::string>>;

// name=value&... with AWS's encoding (as botocore sends forms and presigned queries).
inline std::string FormEncode(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UriEncode(k) + "=" + UriEncode(v);
  }
  return out;
}

inline std::string UriDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The query's parameters decoded, re-encoded and sorted; `skip` left out.
inline std::string CanonicalQuery(std::string_view query, std::string_view skip = "") {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string k = UriDecode(pair.substr(0, eq));
    std::string v = eq == std::string_view::npos ? "" : UriDecode(pair.substr(eq + 1));
    if (k != skip) pairs.emplace_back(UriEncode(k), UriEncode(v));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

inline std::string AmzDate(int64_t now) {
  const time_t t = static_cast<time_t>(now);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[17];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Lower-cased names and trimmed values of every header but Authorization, sorted.
inline std::vector<std::pair<std::string, std::string>> SignableHeaders(const HttpRequest& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : r.headers) {
    std::string n = Lower(name);
    if (n == "authorization") continue;
    const size_t b = value.find_first_not_of(' ');
    const size_t e = value.find_last_not_of(' ');
    out.emplace_back(n, b == std::string::npos ? "" : value.substr(b, e - b + 1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The hex signature of a canonical request.
inline std::string Signature(const Credentials& c, const std::string& amz_date,
                             const std::string& canonical_request) {
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + c.region + "/" + c.service + "/aws4_request";
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
                              HexEncode(Sha256(AsBytes(canonical_request)));
  const std::string secret = "AWS4" + c.secret_access_key;
  Digest256 k = HmacSha256AnyKey(AsBytes(secret), AsBytes(date));
  for (std::string_view part : {std::string_view(c.region), std::string_view(c.service),
                                std::string_view("aws4_request")}) {
    k = HmacSha256AnyKey(ByteView(k), AsBytes(part));
  }
  return HexEncode(HmacSha256AnyKey(ByteView(k), AsBytes(to_sign)));
}

inline std::string CanonicalRequest(const HttpRequest& r, std::string_view skip_query,
                                    std::string* signed_headers, const std::string& payload) {
  std::string headers;
  signed_headers->clear();
  for (const auto& [n, v] : SignableHeaders(r)) {
    headers += n + ":" + v + "\n";
    *signed_headers += (signed_headers->empty() ? "" : ";") + n;
  }
  return r.method + "\n" + r.path + "\n" + CanonicalQuery(r.query, skip_query) + "\n" + headers +
         "\n" + *signed_headers + "\n" + payload;
}

// Adds Host (if missing), X-Amz-Date and an Authorization header signing every header.
inline void Sign(HttpRequest& r, const Credentials& c, int64_t now) {
  if (!r.Header("Host")) r.headers.emplace_back("Host", "127.0.0.1:8787");
  const std::string amz_date = AmzDate(now);
  r.headers.emplace_back("X-Amz-Date", amz_date);
  std::string signed_headers;
  const std::string canonical =
      CanonicalRequest(r, "", &signed_headers, HexEncode(Sha256(AsBytes(r.body))));
  r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" +
                                              amz_date.substr(0, 8) + "/" + c.region + "/" +
                                              c.service +
                                              "/aws4_request, SignedHeaders=" + signed_headers +
                                              ", Signature=" + Signature(c, amz_date, canonical));
}

// Appends the presigned X-Amz-* parameters to r.query, signing only Host (added if missing) and
// the body's hash (UNSIGNED-PAYLOAD when there is no body, as botocore's presigner).
inline void Presign(HttpRequest& r, const Credentials& c, int64_t now, int expires_seconds) {
  if (!r.Header("Host")) r.headers.emplace_back("Host", "127.0.0.1:8787");
  const std::string amz_date = AmzDate(now);
  const std::string credential = c.access_key_id + "/" + amz_date.substr(0, 8) + "/" + c.region +
                                 "/" + c.service + "/aws4_request";
  const Params extra = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                        {"X-Amz-Credential", credential},
                        {"X-Amz-Date", amz_date},
                        {"X-Amz-Expires", std::to_string(expires_seconds)},
                        {"X-Amz-SignedHeaders", "host"}};
  r.query += (r.query.empty() ? "" : "&") + FormEncode(extra);
  HttpRequest host_only = r;
  host_only.headers = {{"host", std::string(*r.Header("Host"))}};
  std::string signed_headers;
  const std::string payload =
      r.body.empty() ? "UNSIGNED-PAYLOAD" : HexEncode(Sha256(AsBytes(r.body)));
  const std::string canonical = CanonicalRequest(host_only, "", &signed_headers, payload);
  r.query += "&X-Amz-Signature=" + Signature(c, amz_date, canonical);
}

}  // namespace kiln::sigv4_testing
