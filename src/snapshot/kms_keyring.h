// KmsKeyring: the LineageKeyring over kiln's key service. An encrypted lineage's 32-byte data
// key is made by NewLineage, wrapped by a master key of the account's choosing and stored only
// wrapped (KeyService::StoreLineageKey, durable before NewLineage returns); Keys unwraps it and
// derives the working keys (LineageKeys::Derive). One SealedChunkStore per lineage is kept,
// over the backend every store shares, for the keyring's life.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "kms/key_service.h"
#include "snapshot/lineage_keyring.h"
#include "store/chunk_backend.h"
#include "store/sealed_chunk_store.h"

namespace kiln {

class KmsKeyring : public LineageKeyring {
 public:
  // `kms` and `backend` must outlive the keyring.
  KmsKeyring(KeyService& kms, ChunkBackend& backend, SealedChunkStoreOptions options = {});

  // A new encrypted lineage: a random lineage id and data key, the key wrapped by master key
  // `key_ref` (any form KeyService::DescribeKey accepts, e.g. alias/aws/ebs) of `account`.
  // Errors are the key service's (NotFoundException for an unknown key, ...). A crash before it
  // returns leaves at most an unused wrapped key.
  Result<LineageKeys> NewLineage(const std::string& account, const std::string& key_ref);

  Result<LineageKeys> Keys(const LineageId& lineage) override;
  Result<ChunkStore*> Store(const LineageId& lineage) override;

 private:
  KeyService& kms_;
  ChunkBackend& backend_;
  const SealedChunkStoreOptions options_;
  std::mutex mu_;
  std::map<LineageId, std::unique_ptr<SealedChunkStore>> stores_;  // guarded by mu_
};

}  // namespace kiln
