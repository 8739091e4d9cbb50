// KeySet: everything the master-keys file holds (every account's master keys with their
// material, and every alias), and its on-disk encoding (docs/formats/key-service.md).
// Internal to src/kms: only KeyService reads and writes it.
//
// Parse accepts a file only if every check passes and otherwise returns Corruption naming what
// is wrong (never the bytes of a field, which might be key material), never a partial set.
//
// Thread-safety: values.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/crypto.h"
#include "kms/key_types.h"

namespace kiln {

inline constexpr uint32_t kKeySetVersion = 1;

struct MasterKey {
  std::string account_id;
  std::string key_id;
  std::string description;
  uint64_t creation_micros = 0;
  KeyManager key_manager = KeyManager::kCustomer;
  KeyState state = KeyState::kEnabled;
  Key256 material{};
  bool operator==(const MasterKey&) const = default;
};

struct AliasRecord {
  std::string account_id;
  std::string name;  // "alias/..."
  std::string target_key_id;
  uint64_t creation_micros = 0;
  bool operator==(const AliasRecord&) const = default;
};

struct KeySet {
  std::string region;
  std::map<std::string, MasterKey> keys;  // by key id (unique across accounts)
  std::map<std::pair<std::string, std::string>, AliasRecord> aliases;  // by (account, name)
  bool operator==(const KeySet&) const = default;
};

// The file's bytes. The set must be valid (as Parse checks it); KeyService only builds valid ones.
Bytes EncodeKeySet(const KeySet& set);
// Decodes and validates a whole file.
Result<KeySet> ParseKeySet(ByteView file);

}  // namespace kiln
