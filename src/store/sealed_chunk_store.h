// SealedChunkStore: the ChunkStore of ONE encrypted lineage (a volume, its snapshots and the
// volumes made from them), over a ChunkBackend it shares with every other lineage and with the
// unencrypted ContentChunkStore.
//
// Ids: IdFor = HMAC-SHA-256(keys.id_key, plaintext). Equal plaintext deduplicates within the
// lineage and never across lineages or with unencrypted data (other keys, unrelated ids), and an
// id reveals nothing about the plaintext to whoever lacks the key.
//
// Frames: the plaintext is compressed first (zstd, or raw when that is not smaller), then sealed
// with AES-256-GCM under keys.seal_key, with the 32-byte chunk id followed by the 16-byte lineage
// id as associated data, so a frame opens only under its own id and lineage. The frame header
// (shared with ContentChunkStore, flag bit 0 set) is not encrypted: it reveals the plaintext and
// compressed sizes. Layout: docs/formats/chunk-store.md.
//
// Reading: Get returns data only if the frame is sealed, authenticates under this lineage's key
// and id, decompresses, and hashes back to the id. Anything else (a damaged or moved frame, a
// frame of another lineage or an unsealed one) is Corruption naming the chunk, never data.
//
// Backend-wide operations: Has, Delete, List and Stats act on the whole backend, as the ids carry
// no lineage: List and Stats see every lineage's chunks and the unencrypted ones. Garbage
// collection must therefore take liveness from all manifests that share the backend.
//
// Thread-safety: as ChunkStore; cipher and compression contexts are per thread.
#pragma once

#include "store/chunk_backend.h"
#include "store/chunk_store.h"
#include "store/lineage_keys.h"

namespace kiln {

struct SealedChunkStoreOptions {
  int zstd_level = 1;  // as ContentChunkStoreOptions: compression happens before sealing
};

class SealedChunkStore : public ChunkStore {
 public:
  // `backend` must outlive the store. The store keeps a copy of `keys` and wipes it when
  // destroyed.
  SealedChunkStore(ChunkBackend& backend, const LineageKeys& keys,
                   SealedChunkStoreOptions options = {});
  ~SealedChunkStore() override;
  SealedChunkStore(const SealedChunkStore&) = delete;
  SealedChunkStore& operator=(const SealedChunkStore&) = delete;

  const LineageId& lineage() const { return keys_.lineage; }

  ChunkId IdFor(ByteView plaintext) const override;
  Result<PutResult> Put(ByteView plaintext) override;
  Result<PutResult> PutWithId(const ChunkId& id, ByteView plaintext) override;
  Result<Bytes> Get(const ChunkId& id) override;
  Result<bool> Has(const ChunkId& id) override;
  Status Delete(const ChunkId& id) override;
  Status List(const std::function<void(const ChunkId&)>& fn) override;
  Result<StoreStats> Stats() override;

 private:
  ChunkBackend& backend_;
  LineageKeys keys_;
  const SealedChunkStoreOptions options_;
};

// Sealed frame encoding, exposed for tests and fuzz targets.
// Seal: header (flags = sealed) + AES-GCM(compressed plaintext) for chunk `id` of `keys.lineage`.
// Errors only if the cipher fails (Internal).
Result<Bytes> SealChunkFrame(const LineageKeys& keys, const ChunkId& id, ByteView plaintext,
                             int zstd_level);
// Open: validates the header (sealed), authenticates, decompresses and checks the plaintext's
// id. Corruption naming the chunk on any mismatch; never reads out of bounds on hostile input.
// Takes the frame by value because it decrypts inside it (Get moves its buffer in).
Result<Bytes> OpenSealedChunkFrame(const LineageKeys& keys, const ChunkId& id, Bytes frame);

}  // namespace kiln
