// KeyService: kiln's local key management service. It keeps master keys (KMS keys, with AWS
// KMS's ids, ARNs, aliases and metadata) per account, and wraps the per-lineage data keys that
// encrypt volumes and snapshots, so a data key is only ever stored sealed by a master key.
//
// Storage (docs/formats/key-service.md), all under the directory given to Open, which is made
// owner-only (0700):
//   master-keys             every master key with its 32 bytes of material, and every alias:
//                           one checksummed file, 0600 from its creation, replaced atomically
//                           and durably (WriteFileAtomicPrivate) on every change.
//   lineages/<32 hex>.key   one lineage's wrapped data key (0600, atomic, durable).
// Master key material is never written anywhere else, never logged and never put in a Status
// message; messages name keys by id.
//
// This class is the seam to a real KMS: a remote implementation keeps these methods and turns
// WrapNewDataKey into GenerateDataKey (or Encrypt) and UnwrapDataKey into Decrypt.
//
// Accounts: every account-facing call takes the caller's 12-digit account id and sees only that
// account's keys and aliases; another account's key is NotFound, as in KMS. Errors carry KMS's
// error code (Status::ec2_code): ValidationException, NotFoundException,
// AlreadyExistsException, NotAuthorizedException. Corruption and IoError carry none (the API
// layer answers KMSInternalException).
//
// A call that returns OK has made its change durable. A call that fails may or may not have
// (a crash between the rename and the directory sync): a failed CreateKey's key can appear
// after a restart, never half of it.
//
// One KeyService per directory at a time (Open removes temp files a crashed writer left).
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "kms/key_set.h"
#include "kms/key_types.h"
#include "kms/kms_names.h"

namespace kiln {

class KeyService {
 public:
  // Opens the key service kept in `dir` (created, with parents, if missing) for `region`
  // (us-east-1 by default; it makes the ARNs). Loads and checks the master-keys file: Corruption
  // if it is damaged (no key is then usable: never a partial set), FailedPrecondition if group
  // or others may access it or if it belongs to another region. `fs` and `clock` must outlive
  // the service; `clock` gives the keys' creation dates.
  static Result<std::unique_ptr<KeyService>> Open(FileSystem& fs, Clock& clock, std::string dir,
                                                  std::string region = std::string(kDefaultRegion));

  KeyService(const KeyService&) = delete;
  KeyService& operator=(const KeyService&) = delete;

  const std::string& region() const { return region_; }
  const std::string& dir() const { return dir_; }

  // --- KMS key operations ---

  // KMS CreateKey: a new customer-managed symmetric key (Enabled, ENCRYPT_DECRYPT,
  // SYMMETRIC_DEFAULT) with fresh random material. ValidationException for a bad account or a
  // description over 8192 characters.
  Result<KeyMetadata> CreateKey(const std::string& account, const std::string& description);

  // KMS DescribeKey. `key_ref` is a key id, key ARN, alias name or alias ARN of `account`.
  // NotFoundException if it names nothing the account has. As in KMS, naming the predefined
  // alias alias/aws/ebs before the account's default EBS key exists creates that key.
  Result<KeyMetadata> DescribeKey(const std::string& account, const std::string& key_ref);

  // KMS ListKeys: the account's keys, sorted by key id.
  Result<std::vector<KeyListEntry>> ListKeys(const std::string& account);

  // KMS CreateAlias: `alias_name` ("alias/" + 1..250 of [a-zA-Z0-9/_-]) names `target_key`
  // (a key id or key ARN of `account`; an alias is a ValidationException). NotAuthorizedException
  // for the reserved alias/aws/ prefix or an AWS-managed target; AlreadyExistsException if the
  // account has the alias; NotFoundException if the key does not exist.
  Status CreateAlias(const std::string& account, const std::string& alias_name,
                     const std::string& target_key);

  // KMS ListAliases: the account's aliases sorted by name, only those of `key` (a key id or key
  // ARN) when given. Like KMS it lists alias/aws/ebs without a target while the account's
  // default EBS key does not exist yet (unless `key` is given).
  Result<std::vector<AliasEntry>> ListAliases(const std::string& account,
                                              const std::optional<std::string>& key = std::nullopt);

  // The account's default EBS key (alias/aws/ebs, KeyManager AWS), created on first use.
  Result<KeyMetadata> DefaultEbsKey(const std::string& account);

  // --- Data keys of lineages ---

  // A fresh random data key for `lineage`, and the same key wrapped by the master key `key_ref`
  // names in `account` (any form DescribeKey accepts): AES-256-GCM under the master key with
  // associated data "kiln-lineage-v1" || master key id || lineage, so the blob opens only for
  // this lineage and this master key.
  Result<NewDataKey> WrapNewDataKey(const std::string& account, const std::string& key_ref,
                                    const LineageId& lineage);

  // The data key `wrapped` holds, for `lineage`. NotFoundException if its master key is not in
  // this service; Corruption (InvalidCiphertextException) if the blob does not open: damaged,
  // made for another lineage, or sealed by another master key. Messages name the key id and the
  // lineage, never key bytes. Not bound to an account: callers are kiln's storage layers.
  Result<Key256> UnwrapDataKey(const WrappedDataKey& wrapped, const LineageId& lineage);

  // Keeps `wrapped` as the data key of `lineage`, durably, after checking that it unwraps for
  // this lineage (InvalidArgument if not). Storing the same key again is OK; a different one
  // for a lineage that has a key is AlreadyExists. A damaged existing file is Corruption and
  // stays as it is.
  Status StoreLineageKey(const LineageId& lineage, const WrappedDataKey& wrapped);

  // The wrapped data key stored for `lineage`: NotFound if none, Corruption if the file is
  // damaged.
  Result<WrappedDataKey> LoadLineageKey(const LineageId& lineage);

 private:
  KeyService(FileSystem& fs, Clock& clock, std::string dir, std::string region, KeySet keys);

  std::string KeysPath() const;
  std::string LineagePath(const LineageId& lineage) const;
  KeyMetadata MetadataOf(const MasterKey& key) const;
  Status ReadLineageKey(const LineageId& lineage, WrappedDataKey& out);

  // The key `key_ref` names in `account`. With `create_predefined`, alias/aws/ebs creates the
  // default EBS key if missing (KMS does this for DescribeKey and cryptographic calls). All
  // *Locked methods require mu_.
  Result<const MasterKey*> ResolveLocked(const std::string& account, const std::string& key_ref,
                                         bool create_predefined);
  // A key id or key ARN only (CreateAlias's and ListAliases's parameter).
  Result<const MasterKey*> ResolveKeyIdLocked(const std::string& account, const std::string& ref);
  Result<const MasterKey*> EnsureDefaultEbsKeyLocked(const std::string& account);
  Result<MasterKey> NewMasterKey(const std::string& account, std::string description,
                                 KeyManager manager);
  // Writes `next` as the new master-keys file and adopts it; on failure keys_ stays as it was.
  Status CommitLocked(KeySet next);

  FileSystem& fs_;
  Clock& clock_;
  const std::string dir_;
  const std::string region_;

  std::mutex mu_;  // guards keys_ and serializes writes of the master-keys file
  KeySet keys_;
  std::mutex lineage_mu_;  // serializes StoreLineageKey's check-then-write
};

}  // namespace kiln
