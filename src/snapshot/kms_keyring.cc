#include "snapshot/kms_keyring.h"

#include <openssl/crypto.h>

namespace kiln {

KmsKeyring::KmsKeyring(KeyService& kms, ChunkBackend& backend, SealedChunkStoreOptions options)
    : kms_(kms), backend_(backend), options_(options) {}

Result<LineageKeys> KmsKeyring::NewLineage(const std::string& account, const std::string& key_ref) {
  LineageId lineage;
  RETURN_IF_ERROR(RandomBytes(lineage));
  ASSIGN_OR_RETURN(NewDataKey data_key, kms_.WrapNewDataKey(account, key_ref, lineage));
  Status stored = kms_.StoreLineageKey(lineage, data_key.wrapped);
  Result<LineageKeys> keys =
      stored.ok() ? LineageKeys::Derive(lineage, data_key.plaintext) : Result<LineageKeys>(stored);
  OPENSSL_cleanse(data_key.plaintext.data(), data_key.plaintext.size());
  return keys;
}

Result<LineageKeys> KmsKeyring::Keys(const LineageId& lineage) {
  auto wrapped = kms_.LoadLineageKey(lineage);
  if (!wrapped.ok()) {
    return wrapped.status().Annotate("keys of encrypted lineage " + HexEncode(lineage));
  }
  ASSIGN_OR_RETURN(Key256 data_key, kms_.UnwrapDataKey(*wrapped, lineage));
  Result<LineageKeys> keys = LineageKeys::Derive(lineage, data_key);
  OPENSSL_cleanse(data_key.data(), data_key.size());
  return keys;
}

Result<ChunkStore*> KmsKeyring::Store(const LineageId& lineage) {
  {
    std::lock_guard lock(mu_);
    auto it = stores_.find(lineage);
    if (it != stores_.end()) return it->second.get();
  }
  // Unwrapping is file I/O and crypto: done outside the lock; a racing caller's store wins.
  ASSIGN_OR_RETURN(LineageKeys keys, Keys(lineage));
  auto store = std::make_unique<SealedChunkStore>(backend_, keys, options_);
  OPENSSL_cleanse(&keys, sizeof(keys));
  std::lock_guard lock(mu_);
  auto [it, inserted] = stores_.try_emplace(lineage, std::move(store));
  return it->second.get();
}

}  // namespace kiln
