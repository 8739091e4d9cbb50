// The values the key service hands out: key metadata as AWS KMS's DescribeKey shapes it, alias
// and key list entries, and wrapped data keys. Plain structs; copy freely.
//
// Nothing here ever holds master key material. NewDataKey holds a plaintext data key, which the
// caller uses at once and never stores (it stores NewDataKey::wrapped instead).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "crypto/crypto.h"

namespace kiln {

// The 16 bytes shared by every volume and snapshot of one lineage; the same type as
// store/block_map.h's LineageId (the key service does not depend on the store).
using LineageId = std::array<uint8_t, 16>;

// KMS KeyManager: who manages the key. The default EBS key (alias/aws/ebs) is AWS-managed.
enum class KeyManager : uint8_t { kCustomer = 0, kAws = 1 };
const char* KeyManagerName(KeyManager manager);  // "CUSTOMER", "AWS"

// KMS KeyState. Only Enabled exists so far (no Disable or ScheduleKeyDeletion yet).
enum class KeyState : uint8_t { kEnabled = 0 };
const char* KeyStateName(KeyState state);  // "Enabled"

// Every key of this version is a symmetric AES-256 key made by the service itself.
inline constexpr char kKeyUsageEncryptDecrypt[] = "ENCRYPT_DECRYPT";
inline constexpr char kKeySpecSymmetricDefault[] = "SYMMETRIC_DEFAULT";
inline constexpr char kOriginAwsKms[] = "AWS_KMS";
inline constexpr char kEncryptionAlgorithmSymmetricDefault[] = "SYMMETRIC_DEFAULT";

// KMS KeyMetadata (the fields that vary; KeyUsage, KeySpec, Origin and EncryptionAlgorithms are
// the constants above).
struct KeyMetadata {
  std::string account_id;        // AWSAccountId: 12 digits
  std::string key_id;            // KeyId: a UUID v4, lower-case
  std::string arn;               // Arn: arn:aws:kms:<region>:<account>:key/<key id>
  uint64_t creation_micros = 0;  // CreationDate: wall clock, microseconds since the epoch
  std::string description;       // Description: up to 8192 characters
  KeyState state = KeyState::kEnabled;
  KeyManager key_manager = KeyManager::kCustomer;

  bool enabled() const { return state == KeyState::kEnabled; }  // KMS Enabled
  bool operator==(const KeyMetadata&) const = default;
};

// KMS KeyListEntry.
struct KeyListEntry {
  std::string key_id;
  std::string key_arn;
  bool operator==(const KeyListEntry&) const = default;
};

// KMS AliasListEntry. A predefined AWS alias whose key does not exist yet (alias/aws/ebs before
// the account's first use of it) has no target and no dates, as in KMS.
struct AliasEntry {
  std::string alias_name;  // "alias/..."
  std::string alias_arn;   // arn:aws:kms:<region>:<account>:alias/...
  std::optional<std::string> target_key_id;
  std::optional<uint64_t> creation_micros;  // CreationDate and LastUpdatedDate (no updates yet)
  bool operator==(const AliasEntry&) const = default;
};

// A data key as stored: sealed by a master key, bound to one lineage. `blob` is opaque to
// callers (nonce || ciphertext || tag today; a real KMS's CiphertextBlob later).
struct WrappedDataKey {
  std::string master_key_id;
  Bytes blob;
  bool operator==(const WrappedDataKey&) const = default;
};

// What WrapNewDataKey returns: the data key in plaintext for immediate use, and wrapped for
// storage (StoreLineageKey).
struct NewDataKey {
  Key256 plaintext{};
  WrappedDataKey wrapped;
};

}  // namespace kiln
