#include "kms/key_set.h"

#include <algorithm>

#include "crypto/sha256.h"
#include "kms/byte_reader.h"
#include "kms/kms_names.h"

namespace kiln {
namespace {

constexpr char kMagic[4] = {'K', 'L', 'N', 'K'};
constexpr size_t kHeaderSize = 4 + 4 + 4 + 4 + 4 + 1;  // magic..region_len
constexpr size_t kTrailerSize = 32;
// The smallest records, so counts can be checked against the file size before allocating.
constexpr size_t kMinKeyRecord = kKeyIdLength + kAccountIdLength + 8 + 1 + 1 + 2 + 32;
constexpr size_t kMinAliasRecord = kAccountIdLength + 2 + 1 + kKeyIdLength + 8;
// 8192 code points of UTF-8 take at most 4 bytes each.
constexpr size_t kMaxDescriptionBytes = 4 * kMaxDescriptionChars;

Status Bad(const std::string& what) { return CorruptionError(what); }

void AppendKey(Bytes& out, const MasterKey& key) {
  AppendString(out, key.key_id);
  AppendString(out, key.account_id);
  AppendU64(out, key.creation_micros);
  out.push_back(static_cast<uint8_t>(key.key_manager));
  out.push_back(static_cast<uint8_t>(key.state));
  AppendU16(out, static_cast<uint16_t>(key.description.size()));
  AppendString(out, key.description);
  out.insert(out.end(), key.material.begin(), key.material.end());
}

void AppendAlias(Bytes& out, const AliasRecord& alias) {
  AppendString(out, alias.account_id);
  AppendU16(out, static_cast<uint16_t>(alias.name.size()));
  AppendString(out, alias.name);
  AppendString(out, alias.target_key_id);
  AppendU64(out, alias.creation_micros);
}

// Messages name the record by index and the field by name; never its bytes.
Result<MasterKey> ReadKey(ByteReader& r, uint32_t index) {
  const std::string where = "key record " + std::to_string(index) + ": ";
  MasterKey key;
  uint8_t manager, state;
  uint16_t desc_len;
  if (!r.ReadString(kKeyIdLength, key.key_id) || !r.ReadString(kAccountIdLength, key.account_id) ||
      !r.ReadU64(key.creation_micros) || !r.ReadU8(manager) || !r.ReadU8(state) ||
      !r.ReadU16(desc_len) || !r.ReadString(desc_len, key.description) ||
      !r.ReadArray(key.material)) {
    return Bad(where + "truncated");
  }
  if (!IsKeyIdFormat(key.key_id)) return Bad(where + "key id is not a UUID");
  if (!IsValidAccountId(key.account_id)) return Bad(where + "account id is not 12 digits");
  if (manager > static_cast<uint8_t>(KeyManager::kAws)) return Bad(where + "unknown key manager");
  if (state != static_cast<uint8_t>(KeyState::kEnabled)) return Bad(where + "unknown key state");
  if (desc_len > kMaxDescriptionBytes || !ValidateDescription(key.description).ok()) {
    return Bad(where + "description too long");
  }
  key.key_manager = static_cast<KeyManager>(manager);
  key.state = static_cast<KeyState>(state);
  return key;
}

Result<AliasRecord> ReadAlias(ByteReader& r, uint32_t index) {
  const std::string where = "alias record " + std::to_string(index) + ": ";
  AliasRecord alias;
  uint16_t name_len;
  if (!r.ReadString(kAccountIdLength, alias.account_id) || !r.ReadU16(name_len) ||
      !r.ReadString(name_len, alias.name) || !r.ReadString(kKeyIdLength, alias.target_key_id) ||
      !r.ReadU64(alias.creation_micros)) {
    return Bad(where + "truncated");
  }
  if (!IsValidAccountId(alias.account_id)) return Bad(where + "account id is not 12 digits");
  if (!IsValidAliasName(alias.name)) return Bad(where + "invalid alias name");
  if (!IsKeyIdFormat(alias.target_key_id)) return Bad(where + "target key id is not a UUID");
  return alias;
}

// Cross-record rules: an alias names a key of its own account; alias/aws/ names are only the
// default EBS alias, on an AWS-managed key, and every AWS-managed key is its account's.
Status CheckReferences(const KeySet& set) {
  for (const auto& [id, alias] : set.aliases) {
    auto key = set.keys.find(alias.target_key_id);
    if (key == set.keys.end() || key->second.account_id != alias.account_id) {
      return Bad("an alias names a key its account does not have");
    }
    const bool aws_alias = alias.name.starts_with(kAwsAliasPrefix);
    if (aws_alias && alias.name != kDefaultEbsAlias) return Bad("unknown AWS alias");
    if (aws_alias != (key->second.key_manager == KeyManager::kAws)) {
      return Bad("an alias and its key disagree on who manages the key");
    }
  }
  for (const auto& [id, key] : set.keys) {
    if (key.key_manager != KeyManager::kAws) continue;
    auto alias = set.aliases.find({key.account_id, std::string(kDefaultEbsAlias)});
    if (alias == set.aliases.end() || alias->second.target_key_id != id) {
      return Bad("an AWS managed key without its alias");
    }
  }
  return Status::Ok();
}

}  // namespace

Bytes EncodeKeySet(const KeySet& set) {
  Bytes out(kMagic, kMagic + 4);
  AppendU32(out, kKeySetVersion);
  AppendU32(out, 0);  // flags
  AppendU32(out, static_cast<uint32_t>(set.keys.size()));
  AppendU32(out, static_cast<uint32_t>(set.aliases.size()));
  out.push_back(static_cast<uint8_t>(set.region.size()));
  AppendString(out, set.region);
  for (const auto& [id, key] : set.keys) AppendKey(out, key);
  for (const auto& [id, alias] : set.aliases) AppendAlias(out, alias);
  const Digest256 sum = Sha256(out);
  out.insert(out.end(), sum.begin(), sum.end());
  return out;
}

Result<KeySet> ParseKeySet(ByteView file) {
  if (file.size() < kHeaderSize + 1 + kTrailerSize) return Bad("too short");  // region >= 1
  if (!std::equal(kMagic, kMagic + 4, file.begin())) return Bad("bad magic");
  const uint32_t version = GetU32(file.data() + 4);
  if (version != kKeySetVersion) {
    return Bad("unsupported version " + std::to_string(version) + " (this build reads " +
               std::to_string(kKeySetVersion) + ")");
  }
  const ByteView body = file.first(file.size() - kTrailerSize);
  const Digest256 sum = Sha256(body);
  if (!std::equal(sum.begin(), sum.end(), file.begin() + body.size())) {
    return Bad("checksum mismatch (damaged or truncated)");
  }
  ByteReader r(body.subspan(8));
  uint32_t flags, key_count, alias_count;
  uint8_t region_len;
  KeySet set;
  if (!r.ReadU32(flags) || !r.ReadU32(key_count) || !r.ReadU32(alias_count) ||
      !r.ReadU8(region_len) || !r.ReadString(region_len, set.region)) {
    return Bad("truncated header");
  }
  if (flags != 0) return Bad("unknown flags");
  if (!IsValidRegion(set.region)) return Bad("invalid region");
  if (uint64_t{key_count} * kMinKeyRecord + uint64_t{alias_count} * kMinAliasRecord >
      r.remaining()) {
    return Bad("record counts exceed the file size");
  }
  for (uint32_t i = 0; i < key_count; ++i) {
    ASSIGN_OR_RETURN(MasterKey key, ReadKey(r, i));
    std::string id = key.key_id;
    if (!set.keys.emplace(std::move(id), std::move(key)).second) return Bad("duplicate key id");
  }
  for (uint32_t i = 0; i < alias_count; ++i) {
    ASSIGN_OR_RETURN(AliasRecord alias, ReadAlias(r, i));
    auto id = std::make_pair(alias.account_id, alias.name);
    if (!set.aliases.emplace(std::move(id), std::move(alias)).second) {
      return Bad("duplicate alias");
    }
  }
  if (!r.done()) return Bad("trailing bytes after the records");
  RETURN_IF_ERROR(CheckReferences(set));
  return set;
}

}  // namespace kiln
