#include "api/front_end.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "crypto/crypto.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

constexpr char kVersion[] = "2016-11-15";

Status Ec2Fail(std::string code, std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code(std::move(code));
}

// A 1-based list index as EC2 writes it: a positive decimal without leading zeros.
bool IsIndex(std::string_view s) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Whether `name` matches `pattern`, segment by segment; an "N" segment is an index.
bool MatchesPattern(std::string_view pattern, std::string_view name) {
  while (true) {
    const size_t pd = pattern.find('.');
    const size_t nd = name.find('.');
    const std::string_view ps = pattern.substr(0, pd);
    const std::string_view ns = name.substr(0, nd);
    if (ps == "N" ? !IsIndex(ns) : ps != ns) return false;
    if (pd == std::string_view::npos || nd == std::string_view::npos) {
      return pd == std::string_view::npos && nd == std::string_view::npos;
    }
    pattern.remove_prefix(pd + 1);
    name.remove_prefix(nd + 1);
  }
}

// Parameters the front end itself reads; actions do not declare them.
bool FrontEndParameter(std::string_view name) {
  return name == "Action" || name == "Version" || name == "DryRun" || name.starts_with("X-Amz-");
}

// EC2's HTTP status for an error code (front_end.h).
int HttpStatusFor(std::string_view code) {
  if (code == "DryRunOperation") return 412;
  if (code == "InternalError" || code == "InternalFailure" || code.starts_with("Insufficient")) {
    return 500;
  }
  if (code == "Unavailable" || code == "ServiceUnavailable" || code == "RequestLimitExceeded") {
    return 503;
  }
  return SigV4HttpStatus(code);  // the auth codes; 400 for every other client code
}

struct Outcome {
  int status = 200;
  std::string code;  // "" on success
  std::string body;
};

Outcome ErrorOutcome(int status, std::string code, std::string_view message,
                     std::string_view request_id) {
  Outcome o;
  o.status = status;
  o.body = Ec2ErrorXml(code, message, request_id);
  o.code = std::move(code);
  return o;
}

Outcome FromStatus(const Status& s, std::string_view request_id) {
  if (const std::optional<std::string>& code = s.ec2_code()) {
    return ErrorOutcome(HttpStatusFor(*code), *code, s.message(), request_id);
  }
  switch (s.code()) {
    case Code::kInvalidArgument:
    case Code::kNotFound:
      return ErrorOutcome(400, "InvalidParameterValue", s.message(), request_id);
    case Code::kFailedPrecondition:
      return ErrorOutcome(400, "IncorrectState", s.message(), request_id);
    case Code::kUnavailable:
      return ErrorOutcome(503, "Unavailable", "The service is unavailable; try again", request_id);
    default:
      // The message may name host paths or internals: logged here, not sent.
      spdlog::error("request {}: {}", request_id, s.ToString());
      return ErrorOutcome(
          500, "InternalError",
          "An internal error has occurred (request " + std::string(request_id) + ")", request_id);
  }
}

// POST carries the parameters in its form body, a presigned POST its X-Amz-* in the query string
// too; GET carries everything in the query string.
Result<QueryParams> ParseParams(const HttpRequest& request) {
  if (request.method == "GET") return QueryParams::Parse(request.query);
  if (request.query.empty()) return QueryParams::Parse(request.body);
  if (request.body.empty()) return QueryParams::Parse(request.query);
  return QueryParams::Parse(request.body + "&" + request.query);
}

Status CheckDeclared(const Action& action, const QueryParams& params) {
  for (const std::string& p : params.names()) {
    if (FrontEndParameter(p)) continue;
    bool known = false;
    for (const std::string& pattern : action.parameters) {
      if (MatchesPattern(pattern, p)) {
        known = true;
        break;
      }
    }
    if (!known) return Ec2Fail("UnknownParameter", "The parameter " + p + " is not recognized");
  }
  return Status::Ok();
}

// The action a request names, once Action and Version are checked.
Result<const Action*> FindAction(const std::map<std::string, Action, std::less<>>& actions,
                                 const QueryParams& params) {
  std::optional<std::string> name = params.Get("Action");
  if (!name) return Ec2Fail("MissingAction", "The request must contain the parameter Action");
  auto it = actions.find(*name);
  if (it == actions.end()) {
    return Ec2Fail("InvalidAction", "The action " + *name + " is not valid for this web service.");
  }
  std::optional<std::string> version = params.Get("Version");
  if (!version)
    return Ec2Fail("MissingParameter", "The request must contain the parameter Version");
  if (*version != kVersion) {
    return Ec2Fail("InvalidAction",
                   "The action " + *name + " is not valid for version " + *version + ".");
  }
  return &it->second;
}

// True when DryRun=true; an error for a value that is not a boolean.
Result<bool> DryRun(const QueryParams& params) {
  std::optional<std::string> dry = params.Get("DryRun");
  if (!dry || *dry == "false") return false;
  if (*dry == "true") return true;
  return Ec2Fail("InvalidParameterValue", "Value (" + *dry + ") for parameter DryRun is invalid.");
}

// What the request log line names.
struct LogFields {
  std::string action = "-";
  std::string account = "-";
};

// After authentication: the action, its parameters, DryRun and the handler.
Result<std::string> Dispatch(const QueryParams& params, const Caller& caller,
                             const std::map<std::string, Action, std::less<>>& actions,
                             const std::string& request_id) {
  ASSIGN_OR_RETURN(const Action* action, FindAction(actions, params));
  RETURN_IF_ERROR(CheckDeclared(*action, params));
  ASSIGN_OR_RETURN(bool dry_run, DryRun(params));
  if (dry_run && !action->checks_dry_run) return DryRunSucceeded();
  return action->handler(ActionRequest{caller, params, request_id, dry_run});
}

Result<std::string> Process(const HttpRequest& request, const FrontEndOptions& options,
                            const std::map<std::string, Action, std::less<>>& actions,
                            const std::string& request_id, LogFields& log) {
  ASSIGN_OR_RETURN(QueryParams params, ParseParams(request));
  log.action = params.Get("Action").value_or("-");

  SigV4Request sr{request.method, request.path, request.query, &request.headers, request.body};
  std::string account_id;
  ASSIGN_OR_RETURN(
      SigV4Identity id,
      VerifySigV4(sr, options.now(), [&](std::string_view key) -> std::optional<std::string> {
        std::optional<KeyInfo> info = options.keys(key);
        if (!info) return std::nullopt;
        account_id = info->account_id;
        return info->secret_access_key;
      }));
  log.account = account_id;
  return Dispatch(params, Caller{account_id, id.access_key_id, id.region}, actions, request_id);
}

// The answer to a request, with its log line.
HttpResponse Respond(Outcome out, const LogFields& log, const std::string& request_id,
                     std::chrono::steady_clock::time_point start) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("{} {} account={} status={} {} {:.1f}ms", request_id, log.action, log.account,
               out.status, out.code.empty() ? "OK" : out.code, ms);
  HttpResponse response;
  response.status = out.status;
  response.body = std::move(out.body);
  return response;
}

}  // namespace

std::string NewRequestId() {
  uint8_t b[16] = {};
  // RAND_bytes does not fail on a seeded Linux host; should it, a request id need not be secret,
  // so the time keeps ids distinct rather than failing the request.
  if (!RandomBytes(MutableByteView(b, sizeof b)).ok()) {
    const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    for (size_t i = 0; i < sizeof t; ++i) b[i] = static_cast<uint8_t>(t >> (8 * i));
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

void DefaultSigningOptions(KeyLookup& keys, std::function<int64_t()>& now) {
  if (!now) {
    now = [] {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    };
  }
  if (!keys) keys = [](std::string_view) { return std::optional<KeyInfo>(); };
}

FrontEnd::FrontEnd(FrontEndOptions options) : options_(std::move(options)) {
  DefaultSigningOptions(options_.keys, options_.now);
}

Status FrontEnd::Register(Action action) {
  if (action.name.empty() || !action.handler) {
    return InvalidArgumentError("an action needs a name and a handler");
  }
  for (const std::string& p : action.parameters) {
    if (p.empty() || p.front() == '.' || p.back() == '.' || p.find("..") != std::string::npos) {
      return InvalidArgumentError("malformed parameter pattern '" + p + "' of " + action.name);
    }
  }
  std::string name = action.name;
  if (!actions_.emplace(name, std::move(action)).second) {
    return InvalidArgumentError("action " + name + " registered twice");
  }
  return Status::Ok();
}

HttpResponse FrontEnd::Handle(const HttpRequest& request) const {
  if (options_.json_protocol && request.method == "POST" && request.path == "/" &&
      request.Header("X-Amz-Target")) {
    return options_.json_protocol(request);
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string request_id = NewRequestId();
  LogFields log;
  Outcome out;
  if (request.path != "/") {
    out = ErrorOutcome(404, "NotFound", "No EC2 API at path " + request.path, request_id);
  } else if (request.method != "GET" && request.method != "POST") {
    // HttpServer answers other methods itself; this keeps Handle whole on its own.
    out = ErrorOutcome(405, "InvalidAction", "Use POST or GET", request_id);
  } else {
    Result<std::string> body = Process(request, options_, actions_, request_id, log);
    out = body.ok() ? Outcome{200, "", std::move(*body)} : FromStatus(body.status(), request_id);
  }
  return Respond(std::move(out), log, request_id, start);
}

HttpResponse FrontEnd::HandleAs(const HttpRequest& request, const Caller& caller) const {
  const auto start = std::chrono::steady_clock::now();
  const std::string request_id = NewRequestId();
  LogFields log;
  log.account = caller.account_id;
  Result<std::string> body = [&]() -> Result<std::string> {
    ASSIGN_OR_RETURN(QueryParams params, ParseParams(request));
    log.action = params.Get("Action").value_or("-");
    return Dispatch(params, caller, actions_, request_id);
  }();
  Outcome out =
      body.ok() ? Outcome{200, "", std::move(*body)} : FromStatus(body.status(), request_id);
  return Respond(std::move(out), log, request_id, start);
}

HttpResponse Ec2ErrorResponse(int status, const std::string& code, std::string_view message,
                              std::string_view account_id) {
  const auto start = std::chrono::steady_clock::now();
  const std::string request_id = NewRequestId();
  LogFields log;
  if (!account_id.empty()) log.account = std::string(account_id);
  return Respond(ErrorOutcome(status, code, message, request_id), log, request_id, start);
}

Status DryRunSucceeded() {
  return FailedPreconditionError("Request would have succeeded, but DryRun flag is set.")
      .WithEc2Code("DryRunOperation");
}

}  // namespace kiln
