// LineageKeyring: where the storage layers get an encrypted lineage's working keys and the
// chunk store that seals under them. KmsKeyring (kms_keyring.h) is kiln's implementation, over
// the key service; tests may supply their own.
//
// Thread-safety: implementations are safe to call concurrently.
#pragma once

#include "base/status.h"
#include "store/block_map.h"
#include "store/chunk_store.h"
#include "store/lineage_keys.h"

namespace kiln {

class LineageKeyring {
 public:
  virtual ~LineageKeyring() = default;
  // The working keys of encrypted lineage `lineage`: NotFound if it has no data key; the key
  // service's error if its master key is missing or does not open it. Callers wipe the copy
  // (OPENSSL_cleanse) when done.
  virtual Result<LineageKeys> Keys(const LineageId& lineage) = 0;
  // The sealed chunk store of `lineage`, valid as long as the keyring. Errors as Keys.
  virtual Result<ChunkStore*> Store(const LineageId& lineage) = 0;
};

}  // namespace kiln
