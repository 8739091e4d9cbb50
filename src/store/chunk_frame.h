// Chunk frames: the bytes a ChunkBackend stores for one chunk. A 16-byte header (magic "KLNC",
// version, codec, flags, plaintext and payload sizes) followed by the payload. Layout:
// docs/formats/chunk-store.md.
//
// The pieces are separate so that every store flavour shares one header and one codec:
// ContentChunkStore writes header + compressed payload with flags 0; SealedChunkStore writes
// header with kChunkFlagSealed + the compressed payload sealed with AES-GCM, and uses the same
// ParseChunkFrameHeader / ChunkFramePayload / CompressChunkPayload / DecompressChunkPayload
// around its cipher.
//
// Thread-safety: all functions are safe to call concurrently. Compression contexts are
// thread_local, created once per thread on first use.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"

namespace kiln {

inline constexpr size_t kFrameHeaderSize = 16;
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr uint32_t kMaxFramePlaintext = 512 * 1024;  // = kMaxChunkSize

enum class ChunkCodec : uint8_t { kRaw = 0, kZstd = 1 };

// Flag bits of the header. Unknown bits are Corruption for every reader.
inline constexpr uint8_t kChunkFlagSealed = 0x01;

struct ChunkFrameHeader {
  ChunkCodec codec = ChunkCodec::kRaw;
  uint8_t flags = 0;
  uint32_t plaintext_size = 0;  // bytes after decoding (1 .. kMaxFramePlaintext)
  uint32_t payload_size = 0;    // bytes that follow the header
};

// Writes the 16 header bytes to out[0..16).
void WriteChunkFrameHeader(const ChunkFrameHeader& header, uint8_t* out);

// Parses and validates the first 16 bytes of `frame`: size, magic, version, codec, flags
// (only bits in `allowed_flags` may be set), 1 <= plaintext_size <= kMaxFramePlaintext.
// Does not look at the payload. Corruption with a message naming the field on any mismatch.
Result<ChunkFrameHeader> ParseChunkFrameHeader(ByteView frame, uint8_t allowed_flags);

// The payload of `frame`, whose header `header` came from ParseChunkFrameHeader: Corruption
// unless exactly header.payload_size bytes follow the header.
Result<ByteView> ChunkFramePayload(ByteView frame, const ChunkFrameHeader& header);

// InvalidArgument unless 1 <= plaintext.size() <= kMaxFramePlaintext: what every store accepts
// as one chunk.
Status CheckChunkPlaintextSize(ByteView plaintext);

// Appends the compressed form of `plaintext` to `out` and returns its codec: zstd at
// `zstd_level` when that is strictly smaller than the plaintext, else the plaintext itself
// (kRaw). Never fails: raw is always a valid encoding.
ChunkCodec CompressChunkPayload(ByteView plaintext, int zstd_level, Bytes& out);

// Inverse of CompressChunkPayload: decodes `payload` to exactly `plaintext_size` bytes.
// Corruption if the payload is malformed or decodes to any other length. Never reads or
// writes out of bounds on hostile input.
Result<Bytes> DecompressChunkPayload(ChunkCodec codec, ByteView payload, uint32_t plaintext_size);

}  // namespace kiln
