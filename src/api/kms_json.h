// The AWS KMS JSON protocol (awsJson1_1, target prefix TrentService) as kiln speaks it: a
// request's X-Amz-Target and JSON body become a typed request, and key service results become
// KMS's JSON response bodies. Pure functions: no I/O, no key service (kms_json_handler.h runs
// the requests).
//
// Operations: CreateKey, DescribeKey, ListKeys, CreateAlias, ListAliases, with the members and
// constraints of botocore's model (data/kms/2014-11-01/service-2.json). Members the model does
// not know are ignored, as AWS's JSON services do.
//
// Errors carry KMS's error type in Status::ec2_code (the response's "__type"):
//   UnknownOperationException   the target is not TrentService.<one of the operations>
//   SerializationException      the body is not a JSON object (malformed, not UTF-8, nested
//                               deeper than kMaxJsonDepth) or a member has the wrong JSON type
//   ValidationException         a required member is missing, or a Limit or Marker breaks the
//                               model's constraints ("1 validation error detected: ...")
//   UnsupportedOperationException  CreateKey asks for a key kiln does not make: any key usage,
//                               key spec or origin but the symmetric default, a custom key
//                               store, an XKS key, a multi-Region key, or tags
// Constraints of key ids, alias names and descriptions are the key service's to check.
//
// Thread-safety: functions without state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "kms/key_types.h"

namespace kiln {

inline constexpr std::string_view kKmsTargetPrefix = "TrentService.";
inline constexpr std::string_view kKmsContentType = "application/x-amz-json-1.1";
inline constexpr int kMaxJsonDepth = 32;
// KMS's defaults when a List call has no Limit.
inline constexpr int kListKeysDefaultLimit = 100;
inline constexpr int kListAliasesDefaultLimit = 50;

struct KmsCreateKey {
  std::string description;  // Policy is accepted and not enforced: kiln has no key policies
};
struct KmsDescribeKey {
  std::string key_id;  // any of the four forms of a key reference
};
struct KmsListKeys {
  int limit = kListKeysDefaultLimit;  // 1..1000
  std::optional<std::string> marker;  // a NextMarker of an earlier ListKeys
};
struct KmsCreateAlias {
  std::string alias_name;
  std::string target_key_id;
};
struct KmsListAliases {
  std::optional<std::string> key_id;
  int limit = kListAliasesDefaultLimit;
  std::optional<std::string> marker;
};

using KmsRequest =
    std::variant<KmsCreateKey, KmsDescribeKey, KmsListKeys, KmsCreateAlias, KmsListAliases>;

// The operation's name ("CreateKey"), for logs.
const char* KmsOperationName(const KmsRequest& request);

// Parses a request from its X-Amz-Target header value and body. An empty body reads as {}.
Result<KmsRequest> ParseKmsRequest(std::string_view target, std::string_view body);

// Response bodies, in KMS's shapes. Dates are epoch seconds as JSON numbers.
std::string KeyMetadataResponseJson(const KeyMetadata& key);  // {"KeyMetadata": {...}}
// `next_marker` set: Truncated true and NextMarker; otherwise Truncated false.
std::string ListKeysResponseJson(const std::vector<KeyListEntry>& keys,
                                 const std::optional<std::string>& next_marker);
std::string ListAliasesResponseJson(const std::vector<AliasEntry>& aliases,
                                    const std::optional<std::string>& next_marker);

// KMS's error body: {"__type": TYPE, "message": MESSAGE}.
std::string KmsErrorJson(std::string_view type, std::string_view message);

}  // namespace kiln
