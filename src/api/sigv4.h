// VerifySigV4: AWS Signature Version 4 verification of an EC2 Query API request, in the
// Authorization header form (dated by X-Amz-Date) or the presigned query form (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature in the
// URL's query string), against the secret of the access key named in the credential.
//
// The canonical request follows AWS's spec: the path URI-encoded ("/" for EC2), the query's
// parameters decoded, re-encoded and sorted (X-Amz-Signature left out when presigned), the
// signed headers lower-cased with trimmed values (inner runs of spaces made one, repeated
// headers joined by ','), and the payload hash: SHA-256 of the body (an X-Amz-Content-SHA256
// header must equal it). UNSIGNED-PAYLOAD is accepted only for an empty body (botocore's
// presigner signs with it): an EC2 request's body is its action and is always signed.
// SignedHeaders must include host. Dating is by X-Amz-Date only (no SDK on this machine signs
// with a Date header). X-Amz-Security-Token is not interpreted: kiln issues no temporary
// credentials, so a token is just another (signed, if the client signed it) header. The credential
// scope is date/region/service/aws4_request: its date must be X-Amz-Date's, its service the
// expected one (options.service: "ec2", "kms" for KMS); any region is accepted and returned (the
// CLI signs with its configured region even against --endpoint-url).
//
// Time: a header-signed request must be dated within max_skew_seconds (15 minutes) of `now`,
// either way; a presigned one is valid from its date until date + X-Amz-Expires (1..604800 s),
// and not when dated more than the skew in the future. Boundaries are included.
//
// Errors carry EC2's code (SigV4HttpStatus gives the HTTP status):
//   MissingAuthenticationToken (401)  neither an Authorization header nor X-Amz-Algorithm
//   IncompleteSignature (400)  a malformed Authorization header or presigned parameter, another
//                              algorithm, a bad date, a scope for another service or date,
//                              host not signed, a signed header missing, both forms at once,
//                              two Authorization headers
//   AuthFailure (401)          the access key is unknown
//   SignatureDoesNotMatch (403)  the signature (64 lower-case hex digits) is not the one
//                              computed, or X-Amz-Content-SHA256 does not match the body
//   RequestExpired (400)       outside the time window
//
// Thread-safety: a pure function; `secrets` is called from the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/uri.h"  // UriEncode, the canonical form's encoding

namespace kiln {

// A request as received. Views and the headers pointer must outlive the call.
struct SigV4Request {
  std::string_view method;  // "GET", "POST"
  std::string_view path;    // before '?', not decoded
  std::string_view query;   // after '?', not decoded ("" if none)
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;  // names as sent
  std::string_view body;
};

struct SigV4Options {
  std::string service = "ec2";
  int64_t max_skew_seconds = 15 * 60;
};

// The secret of an access key id, or nullopt when there is no such key.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

struct SigV4Identity {
  std::string access_key_id;
  std::string region;  // from the credential scope
  bool presigned = false;
};

// `now`: seconds since the Unix epoch.
Result<SigV4Identity> VerifySigV4(const SigV4Request& request, int64_t now,
                                  const SecretLookup& secrets, const SigV4Options& options = {});

// "20261126T123456Z" -> seconds since the Unix epoch; nullopt unless exactly that form and a
// real date and time.
std::optional<int64_t> ParseAmzDate(std::string_view amz_date);

// The HTTP status EC2 answers with for an error code VerifySigV4 returns (400 otherwise).
int SigV4HttpStatus(std::string_view ec2_code);

}  // namespace kiln
