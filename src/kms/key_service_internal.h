// Small helpers shared by key_service.cc and data_keys.cc. Internal to src/kms.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"

namespace kiln {

inline constexpr char kMasterKeysFile[] = "master-keys";
inline constexpr char kLineagesDir[] = "lineages";
// WriteFileAtomic's temp files are "<name>.tmp-<n>".
inline constexpr char kTempMarker[] = ".tmp-";

// Overwrites a buffer that held key material before it is freed. volatile keeps the compiler
// from dropping stores to memory that is about to die.
inline void WipeBytes(MutableByteView b) {
  volatile uint8_t* p = b.data();
  for (size_t i = 0; i < b.size(); ++i) p[i] = 0;
}

// "0644"
inline std::string OctalMode(uint32_t mode) {
  std::string s;
  for (int shift = 9; shift >= 0; shift -= 3) s += static_cast<char>('0' + ((mode >> shift) & 7));
  return s;
}

}  // namespace kiln
