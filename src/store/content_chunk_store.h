// ContentChunkStore: the unencrypted ChunkStore. Id = SHA-256(plaintext); frames are zstd
// compressed, or raw when compression does not make them smaller. Frame layout:
// docs/formats/chunk-store.md.
//
// Thread-safety: as ChunkStore; compression contexts are per thread.
#pragma once

#include <memory>

#include "store/chunk_backend.h"
#include "store/chunk_store.h"

namespace kiln {

inline constexpr size_t kMaxChunkSize = 512 * 1024;

struct ContentChunkStoreOptions {
  int zstd_level = 1;  // level 1: ~x2.8 on system files at 400+ MB/s per core (storage notes)
};

class ContentChunkStore : public ChunkStore {
 public:
  // `backend` must outlive the store.
  explicit ContentChunkStore(ChunkBackend& backend, ContentChunkStoreOptions options = {});

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
  const ContentChunkStoreOptions options_;
};

// Frame encoding, exposed for tests and fuzz targets.
// Encode: header + payload (zstd or raw, whichever is smaller).
Bytes EncodeChunkFrame(ByteView plaintext, int zstd_level);
// Decode: validates magic, version, codec and lengths; Corruption on any mismatch.
Result<Bytes> DecodeChunkFrame(ByteView frame);
// Plaintext length from a frame header (Stats), without decoding the payload.
Result<uint32_t> FramePlaintextSize(ByteView frame_header);
inline constexpr size_t kChunkFrameHeaderSize = 16;

// Counts every frame in `backend`, sealed or not, reading only headers: what Stats of any store
// over that backend reports. Corruption (naming the chunk) if a header is damaged.
Result<StoreStats> ChunkBackendStats(ChunkBackend& backend);

}  // namespace kiln
