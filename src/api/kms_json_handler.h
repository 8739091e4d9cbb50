// KmsJsonHandler: AWS KMS's JSON API on kilnd's listener, over kiln's KeyService:
//
//   POST / with X-Amz-Target: TrentService.<Operation> (FrontEnd routes such requests here)
//     -> VerifySigV4 with service "kms" (credential scope .../<region>/kms/aws4_request)
//     -> ParseKmsRequest (kms_json.h) -> KeyService, in the caller's account
//     -> 200 with the JSON body (Content-Type application/x-amz-json-1.1), or KMS's error body
//        {"__type": ..., "message": ...}
//
// Authentication errors are answered as AWS's JSON services do, all HTTP 400:
//   no signature                   MissingAuthenticationTokenException
//   unknown access key             UnrecognizedClientException
//   wrong signature or expired     InvalidSignatureException
//   malformed signature, wrong service scope   IncompleteSignatureException
// A key service error keeps its KMS code (NotFoundException, AlreadyExistsException,
// ValidationException, NotAuthorizedException: HTTP 400); one without a code maps by kind
// (InvalidArgument -> ValidationException, NotFound -> NotFoundException); anything else is
// KMSInternalException (500), its message logged and not sent.
//
// Paging (ListKeys, ListAliases): entries in the key service's order (key id, alias name);
// NextMarker is the last entry returned, and a Marker resumes after it, so pages stay correct
// while keys are added. A Marker that is not one of ours is InvalidMarkerException.
//
// Every response carries x-amzn-RequestId; every request is logged in one line (spdlog, info).
//
// Thread-safety: Handle may be called from many threads at once (KeyService is thread-safe).
// The KeyService must outlive the handler.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "api/front_end.h"
#include "api/kms_json.h"
#include "http/http_server.h"
#include "kms/key_service.h"

namespace kiln {

struct KmsJsonOptions {
  KeyLookup keys;
  // Seconds since the Unix epoch (SigV4's clock-skew rule). Defaults to the system clock.
  std::function<int64_t()> now;
};

// Runs one parsed request for `account`; the response body, or a Status with KMS's code.
Result<std::string> RunKmsRequest(KeyService& kms, const std::string& account,
                                  const KmsRequest& request);

class KmsJsonHandler {
 public:
  KmsJsonHandler(KeyService& kms, KmsJsonOptions options);

  HttpResponse Handle(const HttpRequest& request) const;

 private:
  KeyService& kms_;
  KmsJsonOptions options_;
};

}  // namespace kiln
