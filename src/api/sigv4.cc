#include "api/sigv4.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "api/query.h"
#include "base/bytes.h"
#include "crypto/crypto.h"
#include "crypto/sha256.h"

namespace kiln {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr int64_t kMaxPresignSeconds = 7 * 24 * 3600;

Status Err(std::string_view code, const std::string& message) {
  const bool auth = code == "AuthFailure" || code == "MissingAuthenticationToken" ||
                    code == "SignatureDoesNotMatch";
  return (auth ? FailedPreconditionError(message) : InvalidArgumentError(message))
      .WithEc2Code(std::string(code));
}

Status Incomplete(const std::string& message) { return Err("IncompleteSignature", message); }

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string HexOf(ByteView b) { return HexEncode(b); }

// Parsed authorization: from the header or the presigned query.
struct Auth {
  std::string access_key, date, region, service, signed_headers, signature, amz_date;
  int64_t expires = -1;  // presigned only
  bool presigned = false;
};

Status ParseCredential(std::string_view credential, Auth& a) {
  std::vector<std::string> parts;
  size_t at = 0;
  for (;;) {
    const size_t slash = credential.find('/', at);
    parts.emplace_back(credential.substr(at, slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (parts.size() != 5 || parts[4] != "aws4_request") {
    return Incomplete("Credential must be <key>/<date>/<region>/<service>/aws4_request");
  }
  for (const auto& p : parts) {
    if (p.empty()) return Incomplete("Credential has an empty part");
  }
  a.access_key = parts[0];
  a.date = parts[1];
  a.region = parts[2];
  a.service = parts[3];
  return Status::Ok();
}

// "AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=.."
Status ParseAuthorization(std::string_view header, Auth& a) {
  header = Trim(header);
  if (!header.starts_with(kAlgorithm) ||
      (header.size() > kAlgorithm.size() && header[kAlgorithm.size()] != ' ')) {
    return Incomplete("unsupported signature algorithm (only AWS4-HMAC-SHA256)");
  }
  std::map<std::string, std::string> fields;
  std::string_view rest = header.substr(kAlgorithm.size());
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return Incomplete("Authorization component without '='");
    if (!fields.emplace(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1))).second) {
      return Incomplete("Authorization component repeated");
    }
  }
  for (const char* name : {"Credential", "SignedHeaders", "Signature"}) {
    if (fields.count(name) == 0) {
      return Incomplete(std::string("Authorization header requires '") + name + "'");
    }
  }
  RETURN_IF_ERROR(ParseCredential(fields["Credential"], a));
  a.signed_headers = fields["SignedHeaders"];
  a.signature = fields["Signature"];
  return Status::Ok();
}

Status ParsePresigned(const QueryParams& q, Auth& a) {
  if (q.Get("X-Amz-Algorithm") != std::string(kAlgorithm)) {
    return Incomplete("unsupported X-Amz-Algorithm (only AWS4-HMAC-SHA256)");
  }
  for (const char* name : {"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                           "X-Amz-Signature", "X-Amz-Expires"}) {
    if (!q.Get(name)) return Incomplete(std::string("presigned request lacks ") + name);
  }
  RETURN_IF_ERROR(ParseCredential(*q.Get("X-Amz-Credential"), a));
  a.signed_headers = *q.Get("X-Amz-SignedHeaders");
  a.signature = *q.Get("X-Amz-Signature");
  a.amz_date = *q.Get("X-Amz-Date");
  const std::string expires = *q.Get("X-Amz-Expires");
  if (expires.empty() || expires.size() > 7 ||
      !std::all_of(expires.begin(), expires.end(), ::isdigit)) {
    return Incomplete("X-Amz-Expires must be a number of seconds");
  }
  a.expires = std::stoll(expires);
  if (a.expires < 1 || a.expires > kMaxPresignSeconds) {
    return Incomplete("X-Amz-Expires must be between 1 and 604800 seconds");
  }
  a.presigned = true;
  return Status::Ok();
}

// "name:value\n" for each signed header (values of repeated headers joined by ',').
Result<std::string> CanonicalHeaders(const SigV4Request& r, std::string_view signed_headers) {
  std::string out;
  bool host = false;
  std::string previous;
  size_t at = 0;
  while (at <= signed_headers.size()) {
    size_t end = signed_headers.find(';', at);
    if (end == std::string_view::npos) end = signed_headers.size();
    const std::string name(signed_headers.substr(at, end - at));
    at = end + 1;
    if (name.empty() || name != Lower(name) || (!previous.empty() && name <= previous)) {
      return Incomplete("SignedHeaders must be lower-case names, sorted, without repeats");
    }
    previous = name;
    host = host || name == "host";
    std::string value;
    bool found = false;
    for (const auto& [n, v] : *r.headers) {
      if (Lower(n) != name) continue;
      std::string collapsed;
      for (char c : Trim(v)) {
        if ((c == ' ' || c == '\t') && !collapsed.empty() && collapsed.back() == ' ') continue;
        collapsed += (c == '\t') ? ' ' : c;
      }
      value += (found ? "," : "") + collapsed;
      found = true;
    }
    if (!found) return Incomplete("signed header '" + name + "' is not in the request");
    out += name + ":" + value + "\n";
  }
  if (!host) return Incomplete("the host header must be signed");
  return out;
}

// The query's parameters decoded, re-encoded by AWS's rules and sorted.
Result<std::string> CanonicalQuery(std::string_view query, bool presigned) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t at = 0;
  while (at <= query.size()) {
    size_t end = query.find('&', at);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(at, end - at);
    at = end + 1;
    if (pair.empty()) continue;
    // QueryParams decodes one pair at a time here: repeated names are legal in a URL.
    const size_t eq = pair.find('=');
    auto decoded = QueryParams::Parse(
        std::string(pair.substr(0, eq)) + "=" +
        std::string(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    if (!decoded.ok() || decoded->size() != 1) {
      return Incomplete("the query string is not well encoded");
    }
    const std::string name = decoded->names().front();
    if (presigned && name == "X-Amz-Signature") continue;
    pairs.emplace_back(UriEncode(name, false), UriEncode(decoded->Get(name).value_or(""), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

Digest256 Hmac(ByteView key, std::string_view data) { return HmacSha256AnyKey(key, AsBytes(data)); }

std::string Signature(std::string_view secret, const Auth& a, std::string_view amz_date,
                      std::string_view canonical_request) {
  const std::string scope = a.date + "/" + a.region + "/" + a.service + "/aws4_request";
  const std::string to_sign = std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
                              scope + "\n" + HexOf(Sha256(AsBytes(canonical_request)));
  const std::string k_secret = "AWS4" + std::string(secret);
  const Digest256 k_date = Hmac(AsBytes(k_secret), a.date);
  const Digest256 k_region = Hmac(k_date, a.region);
  const Digest256 k_service = Hmac(k_region, a.service);
  const Digest256 k_signing = Hmac(k_service, "aws4_request");
  return HexOf(Hmac(k_signing, to_sign));
}

}  // namespace

std::optional<int64_t> ParseAmzDate(std::string_view t) {
  if (t.size() != 16 || t[8] != 'T' || t[15] != 'Z') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14}) {
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
  }
  const auto num = [&](size_t at, size_t len) { return std::stoi(std::string(t.substr(at, len))); };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  const std::tm given = tm;
  const time_t secs = timegm(&tm);
  if (tm.tm_mday != given.tm_mday) return std::nullopt;  // 31 February and such
  return static_cast<int64_t>(secs);
}

int SigV4HttpStatus(std::string_view code) {
  if (code == "AuthFailure" || code == "MissingAuthenticationToken") return 401;
  if (code == "SignatureDoesNotMatch") return 403;
  return 400;
}

Result<SigV4Identity> VerifySigV4(const SigV4Request& r, int64_t now, const SecretLookup& secrets,
                                  const SigV4Options& options) {
  static const std::vector<std::pair<std::string, std::string>> kNoHeaders;
  SigV4Request req = r;
  if (req.headers == nullptr) req.headers = &kNoHeaders;
  Auth a;
  std::optional<std::string> authorization;
  for (const auto& [n, v] : *req.headers) {
    if (Lower(n) != "authorization") continue;
    if (authorization) return Incomplete("more than one Authorization header");
    authorization = v;
  }
  auto q = QueryParams::Parse(req.query);
  const bool presigned_form = q.ok() && q->Has("X-Amz-Algorithm");
  if (authorization && presigned_form) {
    return Incomplete("a request is signed in the header or in the query, not both");
  }
  if (authorization) {
    RETURN_IF_ERROR(ParseAuthorization(*authorization, a));
    for (const auto& [n, v] : *req.headers) {
      if (Lower(n) == "x-amz-date") a.amz_date = std::string(Trim(v));
    }
    if (a.amz_date.empty()) return Incomplete("the request lacks an X-Amz-Date header");
  } else if (presigned_form) {
    RETURN_IF_ERROR(ParsePresigned(*q, a));
  } else {
    return Err("MissingAuthenticationToken",
               "the request must be signed with AWS Signature Version 4");
  }
  if (a.service != options.service) {
    return Incomplete("the credential scope's service is '" + a.service + "', not '" +
                      options.service + "'");
  }
  const auto signed_at = ParseAmzDate(a.amz_date);
  if (!signed_at) return Incomplete("X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z'");
  if (a.amz_date.substr(0, 8) != a.date) {
    return Incomplete("the credential scope's date is not X-Amz-Date's");
  }
  if (a.signature.size() != 64 || !std::all_of(a.signature.begin(), a.signature.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return Err("SignatureDoesNotMatch", "the signature must be 64 lower-case hex digits");
  }
  if (*signed_at > now + options.max_skew_seconds ||
      (!a.presigned && *signed_at < now - options.max_skew_seconds)) {
    return Err("RequestExpired", "the request was signed at " + a.amz_date +
                                     ", more than 15 minutes from the server's time");
  }
  if (a.presigned && now > *signed_at + a.expires) {
    return Err("RequestExpired", "the presigned request expired");
  }
  ASSIGN_OR_RETURN(std::string headers, CanonicalHeaders(req, a.signed_headers));
  ASSIGN_OR_RETURN(std::string query, CanonicalQuery(req.query, a.presigned));
  const std::string body_hash = HexOf(Sha256(AsBytes(req.body)));
  std::vector<std::string> payload_hashes = {body_hash};
  for (const auto& [n, v] : *req.headers) {
    if (Lower(n) != "x-amz-content-sha256") continue;
    if (v == kUnsignedPayload && req.body.empty()) {
      payload_hashes = {std::string(kUnsignedPayload)};
    } else if (Lower(v) != body_hash) {
      return Err("SignatureDoesNotMatch", "X-Amz-Content-SHA256 does not match the body");
    }
  }
  // An EC2 request's body is its action: it is never left unsigned.
  if (a.presigned && req.body.empty()) payload_hashes.push_back(std::string(kUnsignedPayload));
  const std::optional<std::string> secret = secrets(a.access_key);
  if (!secret) {
    return Err("AuthFailure", "AWS was not able to validate the provided access credentials");
  }
  const std::string path = req.path.empty() ? "/" : UriEncode(req.path, true);
  bool match = false;
  for (const std::string& payload : payload_hashes) {
    const std::string canonical = std::string(req.method) + "\n" + path + "\n" + query + "\n" +
                                  headers + "\n" + a.signed_headers + "\n" + payload;
    match |= ConstantTimeEqual(AsBytes(Signature(*secret, a, a.amz_date, canonical)),
                               AsBytes(a.signature));
  }
  if (!match) {
    return Err("SignatureDoesNotMatch",
               "the request signature we calculated does not match the signature you provided");
  }
  return SigV4Identity{a.access_key, a.region, a.presigned};
}

}  // namespace kiln
