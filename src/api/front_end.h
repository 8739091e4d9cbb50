// FrontEnd: the EC2 Query API's request pipeline, as an HttpHandler for HttpServer:
//
//   HTTP request (POST form body, or GET query) at path "/"
//     -> QueryParams::Parse (MalformedQueryString)
//     -> VerifySigV4 against the key's secret (MissingAuthenticationToken, AuthFailure,
//        SignatureDoesNotMatch, IncompleteSignature, RequestExpired, with AWS's HTTP statuses)
//     -> Action: missing -> MissingAction; unknown -> InvalidAction;
//        Version missing -> MissingParameter; Version other than 2016-11-15 -> InvalidAction
//     -> parameter names checked against the action's declared list (UnknownParameter, naming
//        the first unknown one)
//     -> DryRun=true -> DryRunOperation (412); a DryRun value other than true/false ->
//        InvalidParameterValue
//     -> the handler -> 200 with its XML body, or EC2's error document.
//
// Errors and statuses: a Status carrying an EC2 code keeps it; codes ending in ".NotFound",
// ".Malformed", ".Duplicate", ".InUse", and every client code get HTTP 400, except the auth
// codes (SigV4HttpStatus) and DryRunOperation (412). A Status without an EC2 code maps by kind:
// InvalidArgument -> InvalidParameterValue (400), NotFound -> InvalidParameterValue (400),
// FailedPrecondition -> IncorrectState (400), Unavailable -> Unavailable (503), anything else
// -> InternalError (500, the message logged, not sent: it may name host paths).
//
// Every response carries a fresh request id (a UUID) in its body; every request is logged in one
// line (spdlog, info): action, account, status, code, milliseconds.
//
// Thread-safety: Register all actions before the server starts; Handle is then called from many
// threads at once. The lookups are called from those threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/action.h"
#include "api/sigv4.h"
#include "http/http_server.h"

namespace kiln {

// The secret and account of an access key; nullopt when there is no such key.
struct KeyInfo {
  std::string secret_access_key;
  std::string account_id;
};
using KeyLookup = std::function<std::optional<KeyInfo>(std::string_view access_key_id)>;

struct FrontEndOptions {
  KeyLookup keys;
  // Seconds since the Unix epoch (SigV4's clock-skew rule). Defaults to the system clock.
  std::function<int64_t()> now;
  // When set, a POST at "/" carrying an X-Amz-Target header (AWS's JSON protocol: KMS, see
  // kms_json_handler.h) goes to this handler, whole, instead of the Query pipeline; it answers
  // and logs such requests itself.
  HttpHandler json_protocol;
};

// A fresh request id: a random UUID v4 in lower-case hex.
std::string NewRequestId();

// The defaults of a signed front end's options (FrontEndOptions, KmsJsonOptions): an empty
// `now` becomes the system clock, an empty `keys` knows no key.
void DefaultSigningOptions(KeyLookup& keys, std::function<int64_t()>& now);

// An EC2 error document with a fresh request id and HTTP `status`, logged as Handle logs (for
// refusals made before the pipeline, e.g. a missing session cookie at /kiln/v1/ec2).
HttpResponse Ec2ErrorResponse(int status, const std::string& code, std::string_view message,
                              std::string_view account_id = "");

class FrontEnd {
 public:
  explicit FrontEnd(FrontEndOptions options);

  // Adds an action. InvalidArgument for a name registered twice or a malformed pattern.
  Status Register(Action action);

  HttpResponse Handle(const HttpRequest& request) const;

  // The same pipeline for a request already authenticated some other way (the web console's
  // session cookie, at /kiln/v1/ec2): the parameters (a POST's form body, a GET's query), then
  // everything after SigV4 above, as `caller`. The answers, errors, statuses and the log line
  // are Handle's. The path is not looked at, nor X-Amz-Target (no JSON protocol here).
  HttpResponse HandleAs(const HttpRequest& request, const Caller& caller) const;

 private:
  FrontEndOptions options_;
  std::map<std::string, Action, std::less<>> actions_;
};

}  // namespace kiln
