// SigV4Signer: AWS Signature Version 4 for the requests the `kiln` client sends (the EC2 Query
// API and the connect WebSocket upgrade), in the Authorization header form.
//
// It follows AWS's spec as botocore does: the canonical request is the method, the path as sent
// (already URI-encoded: "/" for EC2), the query's parameters decoded, re-encoded and sorted, the
// given headers lower-cased with trimmed values and sorted, the signed header names, and the
// SHA-256 of the payload. The credential scope is date/region/service/aws4_request.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::cli {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SigningRequest {
  std::string method;   // "GET", "POST"
  std::string path;     // as sent, e.g. "/" or "/kiln/v1/instances/i-1/connect"
  std::string query;    // after '?', as sent ("" if none)
  HeaderList headers;   // every header to sign; must include Host and X-Amz-Date
  std::string payload;  // the body ("" for GET)
};

// name=value&... of `params` in AWS's encoding, in the given order (a form body or a query).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& params);

// "20150830T123600Z" for seconds since the Unix epoch.
std::string AmzDate(int64_t unix_seconds);

// The canonical request (exposed for tests and debugging).
std::string CanonicalRequest(const SigningRequest& request);

// The value of the Authorization header for `request`, dated by its X-Amz-Date header's value
// `amz_date` (which the caller put in request.headers).
std::string Authorization(const SigningRequest& request, const AwsCredentials& credentials,
                          std::string_view region, std::string_view service,
                          std::string_view amz_date);

// Adds X-Amz-Date (now) to request.headers and returns the headers to send besides those already
// in request.headers: X-Amz-Date and Authorization.
HeaderList Sign(SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                std::string_view service, int64_t unix_seconds);

}  // namespace kiln::cli
