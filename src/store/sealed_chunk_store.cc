#include "store/sealed_chunk_store.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "store/chunk_frame.h"
#include "store/content_chunk_store.h"

namespace kiln {
namespace {

constexpr size_t kSealOverhead = kGcmNonceSize + kGcmTagSize;

// Associated data: the chunk id, then the lineage id. Binding the id stops a frame from being
// served under another id (a file moved or copied in the backend); binding the lineage stops a
// frame from opening in another lineage even if both ever held the same key.
using ChunkAd = std::array<uint8_t, 32 + 16>;
ChunkAd AssociatedData(const LineageKeys& keys, const ChunkId& id) {
  ChunkAd ad;
  std::copy(id.bytes.begin(), id.bytes.end(), ad.begin());
  std::copy(keys.lineage.begin(), keys.lineage.end(), ad.begin() + 32);
  return ad;
}

ChunkId KeyedId(const LineageKeys& keys, ByteView plaintext) {
  return ChunkId{HmacSha256(keys.id_key, plaintext)};
}

// OpenSealedChunkFrame without the chunk name on errors. Decrypts inside `frame`, so a Get
// allocates no more than an unsealed one: a fresh 512 KiB buffer costs page faults worth about a
// third of the AES-GCM work itself (measured, glibc malloc).
Result<Bytes> Open(const LineageKeys& keys, const ChunkId& id, Bytes& frame) {
  ASSIGN_OR_RETURN(ChunkFrameHeader header, ParseChunkFrameHeader(frame, kChunkFlagSealed));
  // An unsealed frame under an encrypted lineage's id was put there by someone else: its
  // contents are unauthenticated, so they are never returned.
  if ((header.flags & kChunkFlagSealed) == 0) return CorruptionError("frame is not sealed");
  ASSIGN_OR_RETURN(ByteView payload, ChunkFramePayload(frame, header));
  // The header itself is not authenticated. It need not be: a changed codec or size either fails
  // to decode or decodes to other bytes, which the id check below rejects.
  MutableByteView sealed = MutableByteView(frame).last(payload.size());
  ASSIGN_OR_RETURN(MutableByteView compressed,
                   AesGcmOpenInPlace(keys.seal_key, sealed, AssociatedData(keys, id)));
  ASSIGN_OR_RETURN(Bytes plaintext,
                   DecompressChunkPayload(header.codec, compressed, header.plaintext_size));
  if (KeyedId(keys, plaintext) != id) return CorruptionError("content does not match its id");
  return plaintext;
}

}  // namespace

Result<Bytes> SealChunkFrame(const LineageKeys& keys, const ChunkId& id, ByteView plaintext,
                             int zstd_level) {
  // Compressed bytes go to a per-thread buffer that keeps its capacity, so a Put allocates only
  // the frame, as an unsealed Put does.
  thread_local Bytes compressed;
  compressed.clear();
  ChunkFrameHeader header;
  header.codec = CompressChunkPayload(plaintext, zstd_level, compressed);
  header.flags = kChunkFlagSealed;
  header.plaintext_size = static_cast<uint32_t>(plaintext.size());
  header.payload_size = static_cast<uint32_t>(compressed.size() + kSealOverhead);
  Bytes frame;
  frame.reserve(kFrameHeaderSize + header.payload_size);
  frame.resize(kFrameHeaderSize);
  WriteChunkFrameHeader(header, frame.data());
  // Sealed straight into the frame: no copy of the ciphertext.
  RETURN_IF_ERROR(AesGcmSealTo(keys.seal_key, compressed, AssociatedData(keys, id), frame));
  return frame;
}

Result<Bytes> OpenSealedChunkFrame(const LineageKeys& keys, const ChunkId& id, Bytes frame) {
  Result<Bytes> plaintext = Open(keys, id, frame);
  if (!plaintext.ok()) return plaintext.status().Annotate("chunk " + id.ToHex());
  return plaintext;
}

SealedChunkStore::SealedChunkStore(ChunkBackend& backend, const LineageKeys& keys,
                                   SealedChunkStoreOptions options)
    : backend_(backend), keys_(keys), options_(options) {}

SealedChunkStore::~SealedChunkStore() { explicit_bzero(&keys_, sizeof keys_); }

ChunkId SealedChunkStore::IdFor(ByteView plaintext) const { return KeyedId(keys_, plaintext); }

Result<PutResult> SealedChunkStore::Put(ByteView plaintext) {
  RETURN_IF_ERROR(CheckChunkPlaintextSize(plaintext));
  return PutWithId(IdFor(plaintext), plaintext);
}

Result<PutResult> SealedChunkStore::PutWithId(const ChunkId& id, ByteView plaintext) {
  RETURN_IF_ERROR(CheckChunkPlaintextSize(plaintext));
#ifndef NDEBUG
  if (IdFor(plaintext) != id) return InternalError("PutWithId: id " + id.ToHex() + " is wrong");
#endif
  // Look before compressing and sealing, as ContentChunkStore does: most puts are hits.
  ASSIGN_OR_RETURN(bool present, backend_.Has(id));
  if (present) return PutResult{id, false, 0};
  ASSIGN_OR_RETURN(Bytes frame, SealChunkFrame(keys_, id, plaintext, options_.zstd_level));
  RETURN_IF_ERROR(backend_.Put(id, frame));
  return PutResult{id, true, frame.size()};
}

Result<Bytes> SealedChunkStore::Get(const ChunkId& id) {
  ASSIGN_OR_RETURN(Bytes frame, backend_.Get(id));
  return OpenSealedChunkFrame(keys_, id, std::move(frame));
}

Result<bool> SealedChunkStore::Has(const ChunkId& id) { return backend_.Has(id); }

Status SealedChunkStore::Delete(const ChunkId& id) { return backend_.Delete(id); }

Status SealedChunkStore::List(const std::function<void(const ChunkId&)>& fn) {
  return backend_.List([&fn](const ChunkId& id, uint64_t) { fn(id); });
}

Result<StoreStats> SealedChunkStore::Stats() { return ChunkBackendStats(backend_); }

}  // namespace kiln
