// libFuzzer target: opening a sealed chunk frame (header parse, AES-GCM open, decompression, id
// check) with a fixed lineage key must return data or Corruption, never crash or read out of
// bounds. Random bytes almost never pass the GCM tag, so inputs whose first byte is odd take a
// second path that gets past it: the rest is sealed as a real chunk, then the fuzzer's bytes
// overwrite its unauthenticated header, so decompression runs on authentic payloads under a
// hostile codec and size. Either way the result is Corruption or exactly the sealed data.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "store/chunk_frame.h"
#include "store/sealed_chunk_store.h"

namespace {

const kiln::LineageKeys& FixedKeys() {
  static const kiln::LineageKeys keys = [] {
    kiln::LineageId lineage;
    lineage.fill(0x5a);
    kiln::Key256 data_key;
    data_key.fill(0x42);
    kiln::Result<kiln::LineageKeys> k = kiln::LineageKeys::Derive(lineage, data_key);
    if (!k.ok()) std::abort();
    return *k;
  }();
  return keys;
}

void ExpectCorruptionOr(const kiln::Result<kiln::Bytes>& got, const kiln::Bytes* allowed) {
  if (got.ok()) {
    if (allowed == nullptr || *got != *allowed) std::abort();
  } else if (got.status().code() != kiln::Code::kCorruption) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kiln::LineageKeys& keys = FixedKeys();
  if (size == 0) return 0;
  const kiln::ByteView rest(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    kiln::ChunkId id;
    id.bytes.fill(0x11);
    ExpectCorruptionOr(kiln::OpenSealedChunkFrame(keys, id, kiln::Bytes(rest.begin(), rest.end())),
                       nullptr);
    return 0;
  }
  // Odd: rest = 16 header bytes to impose, then the plaintext.
  if (rest.size() <= kiln::kFrameHeaderSize) return 0;
  const kiln::ByteView header = rest.first(kiln::kFrameHeaderSize);
  const kiln::Bytes plaintext(
      rest.begin() + kiln::kFrameHeaderSize,
      rest.begin() + std::min(rest.size(), kiln::kFrameHeaderSize + kiln::kMaxFramePlaintext));
  const kiln::ChunkId id{kiln::HmacSha256(keys.id_key, plaintext)};
  kiln::Result<kiln::Bytes> frame = kiln::SealChunkFrame(keys, id, plaintext, 1);
  if (!frame.ok()) std::abort();
  ExpectCorruptionOr(kiln::OpenSealedChunkFrame(keys, id, *frame), &plaintext);
  std::copy(header.begin(), header.end(), frame->begin());
  ExpectCorruptionOr(kiln::OpenSealedChunkFrame(keys, id, *frame), &plaintext);
  return 0;
}
