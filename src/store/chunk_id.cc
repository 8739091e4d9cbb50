#include "store/chunk_id.h"

#include "base/bytes.h"

namespace kiln {

std::string ChunkId::ToHex() const { return HexEncode(bytes); }

Result<ChunkId> ChunkId::FromHex(std::string_view hex) {
  if (hex.size() != 64) {
    return InvalidArgumentError("chunk id must be 64 hex digits, got " +
                                std::to_string(hex.size()) + " characters");
  }
  ASSIGN_OR_RETURN(Bytes raw, HexDecode(hex));
  ChunkId id;
  std::memcpy(id.bytes.data(), raw.data(), id.bytes.size());
  return id;
}

}  // namespace kiln
