// Identifiers and names of the key service, checked and spelled as AWS KMS does: account ids,
// regions, key ids (UUID v4), ARNs, alias names, descriptions, and the four forms of a key
// reference (key id, key ARN, alias name, alias ARN). Also the Status helpers that carry KMS's
// error codes ("NotFoundException", ...) for the API layer to put on the wire.
//
// Thread-safety: free functions without state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln {

inline constexpr std::string_view kDefaultRegion = "us-east-1";
inline constexpr std::string_view kAliasPrefix = "alias/";
// Reserved for AWS-managed keys: a user's CreateAlias with this prefix is NotAuthorized.
inline constexpr std::string_view kAwsAliasPrefix = "alias/aws/";
inline constexpr std::string_view kDefaultEbsAlias = "alias/aws/ebs";
inline constexpr size_t kMaxAliasNameLength = 256;
inline constexpr size_t kMaxDescriptionChars = 8192;
inline constexpr size_t kMaxKeyRefLength = 2048;  // KMS KeyIdType
inline constexpr size_t kKeyIdLength = 36;        // 8-4-4-4-12
inline constexpr size_t kAccountIdLength = 12;

// Statuses with the KMS error code set (Status::ec2_code carries it).
Status KmsValidationError(std::string message);     // InvalidArgument, ValidationException
Status KmsNotFoundError(std::string message);       // NotFound, NotFoundException
Status KmsAlreadyExistsError(std::string message);  // AlreadyExists, AlreadyExistsException
Status KmsNotAuthorizedError(std::string message);  // InvalidArgument, NotAuthorizedException

// 12 decimal digits.
bool IsValidAccountId(std::string_view account);
// OK, or a ValidationException naming the problem.
Status ValidateAccountId(std::string_view account);
// 1..32 of [a-z0-9-], starting with a letter ("us-east-1").
bool IsValidRegion(std::string_view region);

// A fresh random key id: a UUID v4 in lower-case hex ("1234abcd-12ab-4cde-9f01-1234567890ab").
// Internal if the random source fails.
Result<std::string> NewKeyId();
// True for the 8-4-4-4-12 lower-case hex form (any UUID version).
bool IsKeyIdFormat(std::string_view s);

std::string KeyArn(std::string_view region, std::string_view account, std::string_view key_id);
std::string AliasArn(std::string_view region, std::string_view account, std::string_view alias);

// KMS's alias name rules: "alias/" followed by 1..250 of [a-zA-Z0-9/_-] (at most 256 in all).
bool IsValidAliasName(std::string_view name);
// CreateAlias's checks: ValidationException for a malformed name, NotAuthorizedException for
// the reserved "alias/aws/" prefix.
Status ValidateNewAliasName(std::string_view name);

// CreateKey's Description: at most 8192 characters (UTF-8 code points), so at most 32 KiB.
Status ValidateDescription(std::string_view description);

// A parsed key reference. For the ARN forms `region` and `account` are the ARN's; the caller
// checks them against its own (a key of another account or region is NotFound).
struct KeyRef {
  enum class Kind { kKeyId, kAlias };
  Kind kind = Kind::kKeyId;
  std::string value;  // the key id (lower-cased) or the alias name ("alias/...")
  std::optional<std::string> region;
  std::optional<std::string> account;
};

// Parses a key id, key ARN (arn:aws:kms:<region>:<account>:key/<id>), alias name (alias/...) or
// alias ARN (arn:aws:kms:<region>:<account>:alias/...). Empty or longer than 2048 characters:
// ValidationException; anything else that is none of the four: NotFoundException
// ("Invalid keyId ..."), as KMS answers.
Result<KeyRef> ParseKeyRef(std::string_view ref);

}  // namespace kiln
