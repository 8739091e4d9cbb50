// ChunkStore: content-addressed storage of blocks (chunks) of up to 512 KiB.
//
// What callers (volumes, snapshots) see. A chunk is named by a ChunkId computed from its
// plaintext by the store (IdFor); Put is idempotent: putting the same plaintext twice stores it
// once (deduplication). Get verifies the data against its id: a chunk whose stored bytes are
// damaged is a Corruption error, never data.
//
// How the bytes are kept (compression, later sealing under a lineage key) and where (a local
// directory now, an S3 bucket later) are hidden behind this interface: ContentChunkStore
// composes a codec with a ChunkBackend.
//
// Durability: when Put returns OK the chunk is durable (it survives a crash).
// Thread-safety: all methods may be called concurrently from any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "base/bytes.h"
#include "base/status.h"
#include "store/chunk_id.h"

namespace kiln {

struct PutResult {
  ChunkId id;
  bool stored = false;        // false: the chunk was already there (a dedup hit)
  uint64_t stored_bytes = 0;  // bytes written to the backend by this call (0 on a hit)
};

struct StoreStats {
  uint64_t chunks = 0;
  uint64_t stored_bytes = 0;   // bytes the backend holds (after compression, with headers)
  uint64_t logical_bytes = 0;  // sum of the chunks' plaintext sizes
};

class ChunkStore {
 public:
  virtual ~ChunkStore() = default;

  // The id `plaintext` would be stored under. Pure; no I/O.
  virtual ChunkId IdFor(ByteView plaintext) const = 0;

  // Stores `plaintext` (1 byte .. 512 KiB) unless a chunk with its id is already present.
  virtual Result<PutResult> Put(ByteView plaintext) = 0;
  // The same, for a caller that already computed `id == IdFor(plaintext)` (saves a hash in the
  // snapshot pipeline). Passing a wrong id is a caller bug; the store may check it in debug.
  virtual Result<PutResult> PutWithId(const ChunkId& id, ByteView plaintext) = 0;

  // The plaintext of chunk `id`. NotFound if absent; Corruption if the stored bytes do not
  // decode to data whose id is `id`.
  virtual Result<Bytes> Get(const ChunkId& id) = 0;
  virtual Result<bool> Has(const ChunkId& id) = 0;
  // Removes chunk `id`; OK if it was already absent. Only garbage collection calls this.
  virtual Status Delete(const ChunkId& id) = 0;
  // Calls `fn` once per stored chunk, in no particular order.
  virtual Status List(const std::function<void(const ChunkId&)>& fn) = 0;
  // Counts everything stored. Cost is proportional to the number of chunks.
  virtual Result<StoreStats> Stats() = 0;
};

}  // namespace kiln
