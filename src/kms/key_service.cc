#include "kms/key_service.h"

#include <algorithm>
#include <utility>

#include "kms/key_service_internal.h"

namespace kiln {
namespace {

// The description KMS gives the default EBS key.
constexpr char kDefaultEbsDescription[] =
    "Default key that protects my EBS volumes when no other key is defined";

// Makes `path` owner-only unless it already is (a chmod is a durable metadata write).
Status EnsureOwnerOnly(FileSystem& fs, const std::string& path, uint32_t mode) {
  ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
  if (info.mode == mode) return Status::Ok();
  return fs.SetPermissions(path, mode);
}

// Temp files of writes a crash interrupted: never read, and they may hold key material.
Status RemoveTempFiles(FileSystem& fs, const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  for (const std::string& name : names) {
    if (name.find(kTempMarker) == std::string::npos) continue;
    Status s = fs.Remove(JoinPath(dir, name));
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  return Status::Ok();
}

Result<KeySet> LoadKeySet(FileSystem& fs, const std::string& path, const std::string& region) {
  Result<FileInfo> info = fs.Stat(path);
  if (info.status().code() == Code::kNotFound) {
    KeySet empty;
    empty.region = region;
    return empty;
  }
  RETURN_IF_ERROR(info.status());
  if ((info->mode & 077) != 0) {
    return FailedPreconditionError(path + " has mode " + OctalMode(info->mode) +
                                   ": it holds master keys and must be 0600 (owner only)");
  }
  ASSIGN_OR_RETURN(Bytes data, ReadFile(fs, path));
  Result<KeySet> set = ParseKeySet(data);
  WipeBytes(data);
  if (!set.ok()) return set.status().Annotate(path);
  if (set->region != region) {
    return FailedPreconditionError(path + " holds the keys of region " + set->region + ", not " +
                                   region);
  }
  return set;
}

}  // namespace

Result<std::unique_ptr<KeyService>> KeyService::Open(FileSystem& fs, Clock& clock, std::string dir,
                                                     std::string region) {
  if (!IsValidRegion(region)) return InvalidArgumentError("invalid region name: " + region);
  const std::string lineages = JoinPath(dir, kLineagesDir);
  RETURN_IF_ERROR(CreateDirs(fs, lineages));
  RETURN_IF_ERROR(EnsureOwnerOnly(fs, dir, 0700));
  RETURN_IF_ERROR(EnsureOwnerOnly(fs, lineages, 0700));
  RETURN_IF_ERROR(RemoveTempFiles(fs, dir));
  RETURN_IF_ERROR(RemoveTempFiles(fs, lineages));
  ASSIGN_OR_RETURN(KeySet keys, LoadKeySet(fs, JoinPath(dir, kMasterKeysFile), region));
  return std::unique_ptr<KeyService>(
      new KeyService(fs, clock, std::move(dir), std::move(region), std::move(keys)));
}

KeyService::KeyService(FileSystem& fs, Clock& clock, std::string dir, std::string region,
                       KeySet keys)
    : fs_(fs),
      clock_(clock),
      dir_(std::move(dir)),
      region_(std::move(region)),
      keys_(std::move(keys)) {}

std::string KeyService::KeysPath() const { return JoinPath(dir_, kMasterKeysFile); }

KeyMetadata KeyService::MetadataOf(const MasterKey& key) const {
  KeyMetadata m;
  m.account_id = key.account_id;
  m.key_id = key.key_id;
  m.arn = KeyArn(region_, key.account_id, key.key_id);
  m.creation_micros = key.creation_micros;
  m.description = key.description;
  m.state = key.state;
  m.key_manager = key.key_manager;
  return m;
}

Result<KeyMetadata> KeyService::CreateKey(const std::string& account,
                                          const std::string& description) {
  RETURN_IF_ERROR(ValidateAccountId(account));
  RETURN_IF_ERROR(ValidateDescription(description));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(MasterKey key, NewMasterKey(account, description, KeyManager::kCustomer));
  KeyMetadata metadata = MetadataOf(key);
  KeySet next = keys_;
  next.keys.emplace(key.key_id, std::move(key));
  RETURN_IF_ERROR(CommitLocked(std::move(next)));
  return metadata;
}

Result<KeyMetadata> KeyService::DescribeKey(const std::string& account,
                                            const std::string& key_ref) {
  RETURN_IF_ERROR(ValidateAccountId(account));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(const MasterKey* key, ResolveLocked(account, key_ref, true));
  return MetadataOf(*key);
}

Result<std::vector<KeyListEntry>> KeyService::ListKeys(const std::string& account) {
  RETURN_IF_ERROR(ValidateAccountId(account));
  std::lock_guard lock(mu_);
  std::vector<KeyListEntry> out;
  for (const auto& [id, key] : keys_.keys) {
    if (key.account_id == account) out.push_back({id, KeyArn(region_, account, id)});
  }
  return out;
}

Status KeyService::CreateAlias(const std::string& account, const std::string& alias_name,
                               const std::string& target_key) {
  RETURN_IF_ERROR(ValidateAccountId(account));
  RETURN_IF_ERROR(ValidateNewAliasName(alias_name));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(const MasterKey* key, ResolveKeyIdLocked(account, target_key));
  if (key->key_manager == KeyManager::kAws) {
    return KmsNotAuthorizedError("key " + key->key_id +
                                 " is an AWS managed key: it cannot be given an alias");
  }
  auto id = std::make_pair(account, alias_name);
  if (keys_.aliases.count(id) != 0) {
    return KmsAlreadyExistsError("An alias with the name " +
                                 AliasArn(region_, account, alias_name) + " already exists");
  }
  AliasRecord alias{account, alias_name, key->key_id, clock_.WallMicros()};
  KeySet next = keys_;
  next.aliases.emplace(std::move(id), std::move(alias));
  return CommitLocked(std::move(next));
}

Result<std::vector<AliasEntry>> KeyService::ListAliases(const std::string& account,
                                                        const std::optional<std::string>& key) {
  RETURN_IF_ERROR(ValidateAccountId(account));
  std::lock_guard lock(mu_);
  std::optional<std::string> key_id;
  if (key.has_value()) {
    ASSIGN_OR_RETURN(const MasterKey* k, ResolveKeyIdLocked(account, *key));
    key_id = k->key_id;
  }
  std::vector<AliasEntry> out;
  bool has_default_ebs = false;
  for (auto it = keys_.aliases.lower_bound({account, ""});
       it != keys_.aliases.end() && it->first.first == account; ++it) {
    const AliasRecord& a = it->second;
    has_default_ebs |= a.name == kDefaultEbsAlias;
    if (key_id.has_value() && a.target_key_id != *key_id) continue;
    out.push_back({a.name, AliasArn(region_, account, a.name), a.target_key_id, a.creation_micros});
  }
  if (!key_id.has_value() && !has_default_ebs) {
    // KMS lists predefined aliases before their key exists, without a target.
    AliasEntry placeholder{std::string(kDefaultEbsAlias),
                           AliasArn(region_, account, kDefaultEbsAlias), std::nullopt,
                           std::nullopt};
    auto pos = std::lower_bound(
        out.begin(), out.end(), placeholder,
        [](const AliasEntry& a, const AliasEntry& b) { return a.alias_name < b.alias_name; });
    out.insert(pos, std::move(placeholder));
  }
  return out;
}

Result<KeyMetadata> KeyService::DefaultEbsKey(const std::string& account) {
  RETURN_IF_ERROR(ValidateAccountId(account));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(const MasterKey* key, EnsureDefaultEbsKeyLocked(account));
  return MetadataOf(*key);
}

Result<const MasterKey*> KeyService::ResolveLocked(const std::string& account,
                                                   const std::string& key_ref,
                                                   bool create_predefined) {
  ASSIGN_OR_RETURN(KeyRef ref, ParseKeyRef(key_ref));
  const bool alias = ref.kind == KeyRef::Kind::kAlias;
  const bool foreign =
      ref.region.has_value() && (*ref.region != region_ || *ref.account != account);
  if (!alias) {
    auto it = keys_.keys.find(ref.value);
    if (foreign || it == keys_.keys.end() || it->second.account_id != account) {
      const std::string shown = ref.region ? key_ref : KeyArn(region_, account, ref.value);
      return KmsNotFoundError("Key '" + shown + "' does not exist");
    }
    return &it->second;
  }
  auto it = keys_.aliases.find({account, ref.value});
  if (!foreign && it != keys_.aliases.end()) return &keys_.keys.at(it->second.target_key_id);
  if (!foreign && create_predefined && ref.value == kDefaultEbsAlias) {
    return EnsureDefaultEbsKeyLocked(account);
  }
  const std::string shown = ref.region ? key_ref : AliasArn(region_, account, ref.value);
  return KmsNotFoundError("Alias " + shown + " is not found.");
}

Result<const MasterKey*> KeyService::ResolveKeyIdLocked(const std::string& account,
                                                        const std::string& ref) {
  ASSIGN_OR_RETURN(KeyRef parsed, ParseKeyRef(ref));
  if (parsed.kind == KeyRef::Kind::kAlias) {
    return KmsValidationError("Aliases must refer to keys. Not aliases");
  }
  return ResolveLocked(account, ref, false);
}

Result<const MasterKey*> KeyService::EnsureDefaultEbsKeyLocked(const std::string& account) {
  auto it = keys_.aliases.find({account, std::string(kDefaultEbsAlias)});
  if (it != keys_.aliases.end()) return &keys_.keys.at(it->second.target_key_id);
  ASSIGN_OR_RETURN(MasterKey key, NewMasterKey(account, kDefaultEbsDescription, KeyManager::kAws));
  const std::string id = key.key_id;
  AliasRecord alias{account, std::string(kDefaultEbsAlias), id, key.creation_micros};
  KeySet next = keys_;
  next.keys.emplace(id, std::move(key));
  next.aliases.emplace(std::make_pair(account, alias.name), std::move(alias));
  RETURN_IF_ERROR(CommitLocked(std::move(next)));
  return &keys_.keys.at(id);
}

Result<MasterKey> KeyService::NewMasterKey(const std::string& account, std::string description,
                                           KeyManager manager) {
  MasterKey key;
  ASSIGN_OR_RETURN(key.key_id, NewKeyId());
  if (keys_.keys.count(key.key_id) != 0) {
    return InternalError("random key id " + key.key_id + " collides with an existing key");
  }
  ASSIGN_OR_RETURN(key.material, RandomKey());
  key.account_id = account;
  key.description = std::move(description);
  key.creation_micros = clock_.WallMicros();
  key.key_manager = manager;
  key.state = KeyState::kEnabled;
  return key;
}

Status KeyService::CommitLocked(KeySet next) {
  Bytes data = EncodeKeySet(next);
  Status s = WriteFileAtomicPrivate(fs_, KeysPath(), data);
  WipeBytes(data);
  RETURN_IF_ERROR(s);
  keys_ = std::move(next);
  return Status::Ok();
}

}  // namespace kiln
