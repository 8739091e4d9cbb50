#include "api/kms_json_handler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "api/sigv4.h"

namespace kiln {
namespace {

Status KmsFail(const char* type, std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code(type);
}

// The page of `items` (sorted by `key`) after `marker`, at most `limit` long; `next` is set
// when more follow.
template <typename T, typename KeyOf>
std::vector<T> Page(std::vector<T> items, KeyOf key, int limit,
                    const std::optional<std::string>& marker, std::optional<std::string>& next) {
  auto first = items.begin();
  if (marker) {
    first = std::upper_bound(items.begin(), items.end(), *marker,
                             [&](const std::string& m, const T& item) { return m < key(item); });
  }
  const size_t left = static_cast<size_t>(items.end() - first);
  auto last = first + static_cast<std::ptrdiff_t>(std::min(left, static_cast<size_t>(limit)));
  std::vector<T> page(std::make_move_iterator(first), std::make_move_iterator(last));
  next.reset();
  if (last != items.end() && !page.empty()) next = key(page.back());
  return page;
}

Result<std::string> ListKeys(KeyService& kms, const std::string& account, const KmsListKeys& r) {
  // Our markers are key ids; anything else was not made by us.
  if (r.marker && !IsKeyIdFormat(*r.marker)) {
    return KmsFail("InvalidMarkerException", "Invalid marker");
  }
  ASSIGN_OR_RETURN(std::vector<KeyListEntry> keys, kms.ListKeys(account));
  std::optional<std::string> next;
  const std::vector<KeyListEntry> page = Page(
      std::move(keys), [](const KeyListEntry& k) { return k.key_id; }, r.limit, r.marker, next);
  return ListKeysResponseJson(page, next);
}

Result<std::string> ListAliases(KeyService& kms, const std::string& account,
                                const KmsListAliases& r) {
  if (r.marker && !IsValidAliasName(*r.marker)) {
    return KmsFail("InvalidMarkerException", "Invalid marker");
  }
  ASSIGN_OR_RETURN(std::vector<AliasEntry> aliases, kms.ListAliases(account, r.key_id));
  std::optional<std::string> next;
  const std::vector<AliasEntry> page = Page(
      std::move(aliases), [](const AliasEntry& a) { return a.alias_name; }, r.limit, r.marker,
      next);
  return ListAliasesResponseJson(page, next);
}

// KMS's answer to a SigV4 failure (kms_json_handler.h).
const char* AuthErrorType(std::string_view ec2_code) {
  if (ec2_code == "MissingAuthenticationToken") return "MissingAuthenticationTokenException";
  if (ec2_code == "AuthFailure") return "UnrecognizedClientException";
  if (ec2_code == "SignatureDoesNotMatch" || ec2_code == "RequestExpired") {
    return "InvalidSignatureException";
  }
  return "IncompleteSignatureException";
}

struct Outcome {
  int status = 200;
  std::string type;  // "" on success
  std::string body;
};

Outcome ErrorOutcome(const Status& s, const std::string& request_id) {
  std::string type;
  if (s.ec2_code()) {
    type = *s.ec2_code();
  } else if (s.code() == Code::kInvalidArgument) {
    type = "ValidationException";
  } else if (s.code() == Code::kNotFound) {
    type = "NotFoundException";
  }
  if (type.empty() || type == "KMSInternalException") {
    // The message may name host paths: logged here, not sent.
    spdlog::error("request {}: {}", request_id, s.ToString());
    return {500, "KMSInternalException",
            KmsErrorJson("KMSInternalException",
                         "An internal error has occurred (request " + request_id + ")")};
  }
  return {400, type, KmsErrorJson(type, s.message())};
}

struct LogFields {
  std::string operation = "-";
  std::string account = "-";
};

Result<std::string> Process(const HttpRequest& request, KeyService& kms,
                            const KmsJsonOptions& options, LogFields& log) {
  SigV4Request sr{request.method, request.path, request.query, &request.headers, request.body};
  std::string account;
  SigV4Options sigv4;
  sigv4.service = "kms";
  Result<SigV4Identity> id = VerifySigV4(
      sr, options.now(),
      [&](std::string_view key) -> std::optional<std::string> {
        std::optional<KeyInfo> info = options.keys(key);
        if (!info) return std::nullopt;
        account = info->account_id;
        return info->secret_access_key;
      },
      sigv4);
  if (!id.ok()) {
    return KmsFail(AuthErrorType(id.status().ec2_code().value_or("")), id.status().message());
  }
  log.account = account;
  ASSIGN_OR_RETURN(KmsRequest parsed,
                   ParseKmsRequest(request.Header("X-Amz-Target").value_or(""), request.body));
  log.operation = KmsOperationName(parsed);
  return RunKmsRequest(kms, account, parsed);
}

}  // namespace

Result<std::string> RunKmsRequest(KeyService& kms, const std::string& account,
                                  const KmsRequest& request) {
  if (const auto* r = std::get_if<KmsCreateKey>(&request)) {
    ASSIGN_OR_RETURN(KeyMetadata key, kms.CreateKey(account, r->description));
    return KeyMetadataResponseJson(key);
  }
  if (const auto* r = std::get_if<KmsDescribeKey>(&request)) {
    ASSIGN_OR_RETURN(KeyMetadata key, kms.DescribeKey(account, r->key_id));
    return KeyMetadataResponseJson(key);
  }
  if (const auto* r = std::get_if<KmsListKeys>(&request)) return ListKeys(kms, account, *r);
  if (const auto* r = std::get_if<KmsCreateAlias>(&request)) {
    RETURN_IF_ERROR(kms.CreateAlias(account, r->alias_name, r->target_key_id));
    return std::string();  // KMS answers CreateAlias with an empty body
  }
  return ListAliases(kms, account, std::get<KmsListAliases>(request));
}

KmsJsonHandler::KmsJsonHandler(KeyService& kms, KmsJsonOptions options)
    : kms_(kms), options_(std::move(options)) {
  DefaultSigningOptions(options_.keys, options_.now);
}

HttpResponse KmsJsonHandler::Handle(const HttpRequest& request) const {
  const auto start = std::chrono::steady_clock::now();
  const std::string request_id = NewRequestId();
  LogFields log;
  Result<std::string> body = Process(request, kms_, options_, log);
  Outcome out =
      body.ok() ? Outcome{200, "", std::move(*body)} : ErrorOutcome(body.status(), request_id);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("{} kms:{} account={} status={} {} {:.1f}ms", request_id, log.operation, log.account,
               out.status, out.type.empty() ? "OK" : out.type, ms);
  HttpResponse response;
  response.status = out.status;
  response.content_type = std::string(kKmsContentType);
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  response.body = std::move(out.body);
  return response;
}

}  // namespace kiln
