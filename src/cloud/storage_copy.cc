// Storage::CopySnapshot (declared in storage.h): the storage half of CopySnapshot and CopyImage.
#include <openssl/crypto.h>

#include "cloud/storage.h"
#include "store/block_map.h"

namespace kiln {

Status Storage::CopySnapshot(const std::string& source_id, const std::string& new_id, bool encrypt,
                             const std::string& kms_key_ref, const std::string& account,
                             std::function<void(uint64_t done, uint64_t total)> progress) {
  ASSIGN_OR_RETURN(BlockMap source, snapshots_->Load(source_id));
  if (!encrypt) {
    if (source.encrypted()) {
      return FailedPreconditionError("snapshot " + source_id +
                                     " is encrypted; its copy cannot be unencrypted");
    }
    // The same map under a new id: every chunk shared, nothing read.
    return snapshots_->Copy(source_id, new_id).status();
  }
  ASSIGN_OR_RETURN(KeyMetadata key, kms_->DescribeKey(account, kms_key_ref));
  ASSIGN_OR_RETURN(bool sealed, SealedBy(source_id, key.key_id));
  if (sealed) return snapshots_->Copy(source_id, new_id).status();
  // Re-sealing into a new lineage under the key: an unencrypted source becomes encrypted, an
  // encrypted one moves to the new key (its blocks are opened with the old lineage's keys).
  ASSIGN_OR_RETURN(LineageKeys keys, keyring_->NewLineage(account, key.arn));
  CopyOptions options;
  options.encrypt_to = &keys;
  if (progress) {
    options.progress = [&progress](uint64_t done, uint64_t total) {
      progress(done, total);
      return true;
    };
  }
  Result<BlockMap> copy = snapshots_->Copy(source_id, new_id, options);
  OPENSSL_cleanse(&keys, sizeof(keys));
  return copy.status();
}

}  // namespace kiln
