#include "store/content_chunk_store.h"

#include <string>
#include <utility>
#include <vector>

#include "crypto/sha256.h"
#include "store/chunk_frame.h"

namespace kiln {

static_assert(kChunkFrameHeaderSize == kFrameHeaderSize);
static_assert(kMaxChunkSize == kMaxFramePlaintext);

Bytes EncodeChunkFrame(ByteView plaintext, int zstd_level) {
  Bytes frame;
  frame.reserve(kFrameHeaderSize + plaintext.size());
  frame.resize(kFrameHeaderSize);
  ChunkFrameHeader header;
  header.codec = CompressChunkPayload(plaintext, zstd_level, frame);
  header.plaintext_size = static_cast<uint32_t>(plaintext.size());
  header.payload_size = static_cast<uint32_t>(frame.size() - kFrameHeaderSize);
  WriteChunkFrameHeader(header, frame.data());
  return frame;
}

Result<Bytes> DecodeChunkFrame(ByteView frame) {
  // Flags must be 0: a sealed frame is not readable without its key, so it is not ours.
  ASSIGN_OR_RETURN(ChunkFrameHeader header, ParseChunkFrameHeader(frame, /*allowed_flags=*/0));
  ASSIGN_OR_RETURN(ByteView payload, ChunkFramePayload(frame, header));
  return DecompressChunkPayload(header.codec, payload, header.plaintext_size);
}

Result<uint32_t> FramePlaintextSize(ByteView frame_header) {
  ASSIGN_OR_RETURN(ChunkFrameHeader header,
                   ParseChunkFrameHeader(frame_header, /*allowed_flags=*/kChunkFlagSealed));
  return header.plaintext_size;
}

Result<StoreStats> ChunkBackendStats(ChunkBackend& backend) {
  std::vector<std::pair<ChunkId, uint64_t>> chunks;
  RETURN_IF_ERROR(
      backend.List([&chunks](const ChunkId& id, uint64_t size) { chunks.emplace_back(id, size); }));
  StoreStats stats;
  for (const auto& [id, size] : chunks) {
    Result<Bytes> header = backend.GetPrefix(id, kChunkFrameHeaderSize);
    if (!header.ok() && header.status().code() == Code::kNotFound) continue;  // deleted by GC
    if (!header.ok()) return header.status();
    Result<uint32_t> plaintext_size = FramePlaintextSize(*header);
    if (!plaintext_size.ok()) return plaintext_size.status().Annotate("chunk " + id.ToHex());
    stats.chunks++;
    stats.stored_bytes += size;
    stats.logical_bytes += *plaintext_size;
  }
  return stats;
}

ContentChunkStore::ContentChunkStore(ChunkBackend& backend, ContentChunkStoreOptions options)
    : backend_(backend), options_(options) {}

ChunkId ContentChunkStore::IdFor(ByteView plaintext) const { return ChunkId{Sha256(plaintext)}; }

Result<PutResult> ContentChunkStore::Put(ByteView plaintext) {
  RETURN_IF_ERROR(CheckChunkPlaintextSize(plaintext));
  return PutWithId(IdFor(plaintext), plaintext);
}

Result<PutResult> ContentChunkStore::PutWithId(const ChunkId& id, ByteView plaintext) {
  RETURN_IF_ERROR(CheckChunkPlaintextSize(plaintext));
#ifndef NDEBUG
  if (IdFor(plaintext) != id) return InternalError("PutWithId: id " + id.ToHex() + " is wrong");
#endif
  // Most puts of a derived image are hits (storage notes: 80% of uploads have no new chunk), so
  // look before compressing.
  ASSIGN_OR_RETURN(bool present, backend_.Has(id));
  if (present) return PutResult{id, false, 0};
  Bytes frame = EncodeChunkFrame(plaintext, options_.zstd_level);
  RETURN_IF_ERROR(backend_.Put(id, frame));
  return PutResult{id, true, frame.size()};
}

Result<Bytes> ContentChunkStore::Get(const ChunkId& id) {
  ASSIGN_OR_RETURN(Bytes frame, backend_.Get(id));
  Result<Bytes> plaintext = DecodeChunkFrame(frame);
  if (!plaintext.ok()) return plaintext.status().Annotate("chunk " + id.ToHex());
  if (IdFor(*plaintext) != id) {
    return CorruptionError("chunk " + id.ToHex() + ": content does not match its id");
  }
  return plaintext;
}

Result<bool> ContentChunkStore::Has(const ChunkId& id) { return backend_.Has(id); }

Status ContentChunkStore::Delete(const ChunkId& id) { return backend_.Delete(id); }

Status ContentChunkStore::List(const std::function<void(const ChunkId&)>& fn) {
  return backend_.List([&fn](const ChunkId& id, uint64_t) { fn(id); });
}

Result<StoreStats> ContentChunkStore::Stats() { return ChunkBackendStats(backend_); }

}  // namespace kiln
