// libFuzzer target: BlockMap::Parse on arbitrary bytes must return a map or Corruption, never
// crash; a map it accepts serializes back to exactly the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "store/block_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kiln::ByteView input(data, size);
  kiln::Result<kiln::BlockMap> map = kiln::BlockMap::Parse(input);
  if (map.ok()) {
    const kiln::Bytes out = map->Serialize();
    if (out.size() != size || !std::equal(out.begin(), out.end(), data)) std::abort();
  } else if (map.status().code() != kiln::Code::kCorruption) {
    std::abort();
  }
  return 0;
}
