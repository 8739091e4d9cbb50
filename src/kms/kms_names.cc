#include "kms/kms_names.h"

#include <array>
#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "crypto/crypto.h"

namespace kiln {

Status KmsValidationError(std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code("ValidationException");
}
Status KmsNotFoundError(std::string message) {
  return NotFoundError(std::move(message)).WithEc2Code("NotFoundException");
}
Status KmsAlreadyExistsError(std::string message) {
  return AlreadyExistsError(std::move(message)).WithEc2Code("AlreadyExistsException");
}
Status KmsNotAuthorizedError(std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code("NotAuthorizedException");
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
bool IsAliasChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '_' ||
         c == '-';
}

// Splits "a:b:c" on ':' into at most `max_parts` parts (the last keeps any further ':').
std::vector<std::string_view> SplitColons(std::string_view s, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t colon = s.find(':');
    if (colon == std::string_view::npos) break;
    parts.push_back(s.substr(0, colon));
    s.remove_prefix(colon + 1);
  }
  parts.push_back(s);
  return parts;
}

Status InvalidKeyId(std::string_view ref) {
  return KmsNotFoundError("Invalid keyId " + std::string(ref));
}

}  // namespace

bool IsValidAccountId(std::string_view account) {
  if (account.size() != kAccountIdLength) return false;
  for (char c : account) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

Status ValidateAccountId(std::string_view account) {
  if (IsValidAccountId(account)) return Status::Ok();
  return KmsValidationError("account id must be 12 digits");
}

bool IsValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 32 || !(region[0] >= 'a' && region[0] <= 'z')) {
    return false;
  }
  for (char c : region) {
    if (!(IsDigit(c) || (c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

Result<std::string> NewKeyId() {
  std::array<uint8_t, 16> b;
  RETURN_IF_ERROR(RandomBytes(b));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

bool IsKeyIdFormat(std::string_view s) {
  if (s.size() != kKeyIdLength) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here ? s[i] != '-' : !IsLowerHex(s[i])) return false;
  }
  return true;
}

std::string KeyArn(std::string_view region, std::string_view account, std::string_view key_id) {
  return "arn:aws:kms:" + std::string(region) + ":" + std::string(account) + ":key/" +
         std::string(key_id);
}

std::string AliasArn(std::string_view region, std::string_view account, std::string_view alias) {
  return "arn:aws:kms:" + std::string(region) + ":" + std::string(account) + ":" +
         std::string(alias);
}

bool IsValidAliasName(std::string_view name) {
  if (name.size() <= kAliasPrefix.size() || name.size() > kMaxAliasNameLength) return false;
  if (!name.starts_with(kAliasPrefix)) return false;
  for (char c : name) {
    if (!IsAliasChar(c)) return false;
  }
  return true;
}

Status ValidateNewAliasName(std::string_view name) {
  const std::string quoted = "'" + std::string(name.substr(0, kMaxAliasNameLength)) + "'";
  if (name.empty() || name.size() > kMaxAliasNameLength) {
    return KmsValidationError(
        "1 validation error detected: Value at 'aliasName' failed to "
        "satisfy constraint: Member must have length between 1 and 256");
  }
  for (char c : name) {
    if (!IsAliasChar(c)) {
      return KmsValidationError("alias name " + quoted +
                                " contains invalid characters: only [a-zA-Z0-9/_-] are allowed");
    }
  }
  if (!name.starts_with(kAliasPrefix) || name.size() == kAliasPrefix.size()) {
    return KmsValidationError("alias name " + quoted + " must begin with alias/ and a name");
  }
  if (name.starts_with(kAwsAliasPrefix)) {
    return KmsNotAuthorizedError("alias name " + quoted +
                                 " is reserved: alias/aws/ is for AWS managed keys");
  }
  return Status::Ok();
}

Status ValidateDescription(std::string_view description) {
  size_t chars = 0;
  for (char c : description) {
    // Count code points: every byte that is not a UTF-8 continuation byte (10xxxxxx).
    if ((static_cast<uint8_t>(c) & 0xc0) != 0x80) ++chars;
  }
  // The byte bound also holds for malformed UTF-8, whose stray continuation bytes count as none.
  if (chars <= kMaxDescriptionChars && description.size() <= 4 * kMaxDescriptionChars) {
    return Status::Ok();
  }
  return KmsValidationError(
      "1 validation error detected: Value at 'description' failed to "
      "satisfy constraint: Member must have length less than or equal to "
      "8192");
}

Result<KeyRef> ParseKeyRef(std::string_view ref) {
  if (ref.empty() || ref.size() > kMaxKeyRefLength) {
    return KmsValidationError(
        "1 validation error detected: Value at 'keyId' failed to satisfy "
        "constraint: Member must have length between 1 and 2048");
  }
  KeyRef out;
  std::string_view resource = ref;
  if (ref.starts_with("arn:")) {
    const std::vector<std::string_view> parts = SplitColons(ref, 6);
    if (parts.size() != 6 || parts[1] != "aws" || parts[2] != "kms" || parts[3].empty() ||
        parts[4].empty()) {
      return InvalidKeyId(ref);
    }
    out.region = std::string(parts[3]);
    out.account = std::string(parts[4]);
    resource = parts[5];
    if (resource.starts_with("key/")) {
      resource.remove_prefix(4);
      if (resource.starts_with(kAliasPrefix)) return InvalidKeyId(ref);
    } else if (!resource.starts_with(kAliasPrefix)) {
      return InvalidKeyId(ref);
    }
  }
  if (resource.starts_with(kAliasPrefix)) {
    if (!IsValidAliasName(resource)) return InvalidKeyId(ref);
    out.kind = KeyRef::Kind::kAlias;
    out.value = std::string(resource);
    return out;
  }
  std::string id(resource);
  for (char& c : id) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!IsKeyIdFormat(id)) return InvalidKeyId(ref);
  out.kind = KeyRef::Kind::kKeyId;
  out.value = std::move(id);
  return out;
}

}  // namespace kiln
