#include "store/chunk_frame.h"

#include <zstd.h>

#include <cstring>
#include <memory>
#include <string>

namespace kiln {
namespace {

constexpr uint8_t kMagic[4] = {'K', 'L', 'N', 'C'};

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: creating a CCtx costs far more than compressing a small chunk, and a
// context cannot be shared between threads.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  return cctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  return dctx.get();
}

std::string Num(uint64_t v) { return std::to_string(v); }

}  // namespace

void WriteChunkFrameHeader(const ChunkFrameHeader& header, uint8_t* out) {
  std::memcpy(out, kMagic, 4);
  out[4] = kFrameVersion;
  out[5] = static_cast<uint8_t>(header.codec);
  out[6] = header.flags;
  out[7] = 0;  // reserved
  PutU32(out + 8, header.plaintext_size);
  PutU32(out + 12, header.payload_size);
}

Result<ChunkFrameHeader> ParseChunkFrameHeader(ByteView frame, uint8_t allowed_flags) {
  if (frame.size() < kFrameHeaderSize) {
    return CorruptionError("frame of " + Num(frame.size()) + " bytes is shorter than its header");
  }
  const uint8_t* p = frame.data();
  if (std::memcmp(p, kMagic, 4) != 0) return CorruptionError("frame has wrong magic");
  if (p[4] != kFrameVersion) return CorruptionError("frame has unknown version " + Num(p[4]));
  if (p[5] != static_cast<uint8_t>(ChunkCodec::kRaw) &&
      p[5] != static_cast<uint8_t>(ChunkCodec::kZstd)) {
    return CorruptionError("frame has unknown codec " + Num(p[5]));
  }
  if ((p[6] & ~allowed_flags) != 0) {
    return CorruptionError("frame has unexpected flags 0x" + HexEncode(ByteView(p + 6, 1)));
  }
  if (p[7] != 0) return CorruptionError("frame has nonzero reserved byte");
  ChunkFrameHeader h;
  h.codec = static_cast<ChunkCodec>(p[5]);
  h.flags = p[6];
  h.plaintext_size = GetU32(p + 8);
  h.payload_size = GetU32(p + 12);
  if (h.plaintext_size == 0 || h.plaintext_size > kMaxFramePlaintext) {
    return CorruptionError("frame has invalid plaintext size " + Num(h.plaintext_size));
  }
  return h;
}

Result<ByteView> ChunkFramePayload(ByteView frame, const ChunkFrameHeader& header) {
  if (frame.size() < kFrameHeaderSize) {
    return CorruptionError("frame of " + Num(frame.size()) + " bytes is shorter than its header");
  }
  const size_t present = frame.size() - kFrameHeaderSize;
  if (header.payload_size != present) {
    return CorruptionError("frame header says " + Num(header.payload_size) +
                           " payload bytes, frame has " + Num(present));
  }
  return frame.subspan(kFrameHeaderSize);
}

Status CheckChunkPlaintextSize(ByteView plaintext) {
  if (plaintext.empty() || plaintext.size() > kMaxFramePlaintext) {
    return InvalidArgumentError("chunk of " + Num(plaintext.size()) + " bytes; must be 1.." +
                                Num(kMaxFramePlaintext));
  }
  return Status::Ok();
}

ChunkCodec CompressChunkPayload(ByteView plaintext, int zstd_level, Bytes& out) {
  const size_t start = out.size();
  out.resize(start + plaintext.size());
  uint8_t* dst = out.data() + start;
  // Capacity one byte short of the plaintext: zstd fails with dstSize_tooSmall exactly when
  // compression would not pay, and then we keep the plaintext. Any other zstd failure (out of
  // memory) also falls back to raw, which is always a valid encoding.
  ZSTD_CCtx* cctx = ThreadCCtx();
  if (cctx != nullptr && plaintext.size() > 1) {
    size_t n = ZSTD_compressCCtx(cctx, dst, plaintext.size() - 1, plaintext.data(),
                                 plaintext.size(), zstd_level);
    if (!ZSTD_isError(n)) {
      out.resize(start + n);
      return ChunkCodec::kZstd;
    }
  }
  std::memcpy(dst, plaintext.data(), plaintext.size());
  return ChunkCodec::kRaw;
}

Result<Bytes> DecompressChunkPayload(ChunkCodec codec, ByteView payload, uint32_t plaintext_size) {
  if (codec == ChunkCodec::kRaw) {
    if (payload.size() != plaintext_size) {
      return CorruptionError("raw payload of " + Num(payload.size()) + " bytes, header says " +
                             Num(plaintext_size));
    }
    return Bytes(payload.begin(), payload.end());
  }
  if (codec != ChunkCodec::kZstd) return CorruptionError("unknown codec");
  // The declared content size must match before we allocate or decode anything.
  unsigned long long content = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) {
    return CorruptionError("zstd payload has no valid frame header");
  }
  if (content != plaintext_size) {
    return CorruptionError("zstd payload declares " + Num(content) + " bytes, header says " +
                           Num(plaintext_size));
  }
  ZSTD_DCtx* dctx = ThreadDCtx();
  if (dctx == nullptr) return InternalError("cannot allocate a zstd decompression context");
  Bytes out(plaintext_size);
  size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), payload.data(), payload.size());
  if (ZSTD_isError(n)) {
    return CorruptionError(std::string("zstd payload does not decode: ") + ZSTD_getErrorName(n));
  }
  if (n != plaintext_size) {
    return CorruptionError("zstd payload decodes to " + Num(n) + " bytes, header says " +
                           Num(plaintext_size));
  }
  return out;
}

}  // namespace kiln
