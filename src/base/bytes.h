// Byte buffers, views, hex and little-endian helpers shared by the on-disk formats.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
using MutableByteView = std::span<uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsString(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Lower-case hex of `b`.
std::string HexEncode(ByteView b);
// Decodes lower- or upper-case hex; InvalidArgument on odd length or a non-hex digit.
Result<Bytes> HexDecode(std::string_view hex);

// True when every byte of `b` is zero. Fast (word at a time); used to skip zero blocks.
bool IsAllZero(ByteView b);

inline void PutU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }  // x86_64: little-endian
inline void PutU64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint32_t GetU32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t GetU64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "on-disk formats assume little-endian");

inline void AppendU32(Bytes& out, uint32_t v) { uint8_t b[4]; PutU32(b, v); out.insert(out.end(), b, b + 4); }
inline void AppendU64(Bytes& out, uint64_t v) { uint8_t b[8]; PutU64(b, v); out.insert(out.end(), b, b + 8); }

}  // namespace kiln
