// libFuzzer target: DecodeChunkFrame on arbitrary bytes must return data or an error, never
// crash or read out of bounds; whatever it returns re-encodes to a frame that decodes the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "store/content_chunk_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::Result<kiln::Bytes> plaintext = kiln::DecodeChunkFrame(kiln::ByteView(data, size));
  if (plaintext.ok()) {
    kiln::Result<kiln::Bytes> again =
        kiln::DecodeChunkFrame(kiln::EncodeChunkFrame(*plaintext, /*zstd_level=*/1));
    if (!again.ok() || *again != *plaintext) std::abort();
  }
  return 0;
}
