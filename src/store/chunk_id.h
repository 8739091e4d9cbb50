// ChunkId: the 32-byte name of a chunk. For unencrypted data it is SHA-256 of the chunk's
// plaintext; for an encrypted lineage (later) a keyed hash. Either way it is opaque to every
// layer above the store: compare, hash, print, parse.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln {

struct ChunkId {
  std::array<uint8_t, 32> bytes{};

  std::string ToHex() const;
  static Result<ChunkId> FromHex(std::string_view hex);  // InvalidArgument unless 64 hex digits

  auto operator<=>(const ChunkId&) const = default;
  bool operator==(const ChunkId&) const = default;
};

struct ChunkIdHash {
  size_t operator()(const ChunkId& id) const {
    size_t h;  // the id is already a uniform hash: its first word is a fine bucket key
    std::memcpy(&h, id.bytes.data(), sizeof h);
    return h;
  }
};

}  // namespace kiln
