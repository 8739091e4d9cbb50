// VolumeMeta: the small file (volume.meta) that says what a volume directory holds. Written
// only whole, with WriteFileAtomic; format in docs/formats/volume.md. Internal to src/volume.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "store/block_map.h"

namespace kiln {

struct VolumeMeta {
  static constexpr uint32_t kVersion = 1;

  uint64_t size = 0;
  LineageId lineage{};
  // File name (in the volume directory) of the base map, a hard link "base-<generation>.map";
  // empty when the volume has no base.
  std::string base_file;
  // True only between a clean Close and the next Open: the dirty bitmap file is then exact.
  bool clean = false;
  // Bumped each time a capture commits a new base; names the base file.
  uint64_t generation = 0;
  // An encrypted volume: its data files are AES-XTS with sector tags under the lineage's keys.
  // key_check = HMAC-SHA-256(check_key, "kiln volume key check")[0..16) tells a wrong key at
  // Open without touching data.
  bool encrypted = false;
  std::array<uint8_t, 16> key_check{};

  bool operator==(const VolumeMeta&) const = default;

  Bytes Serialize() const;
  // Corruption for anything but a whole, intact meta of a supported version.
  static Result<VolumeMeta> Parse(ByteView bytes);
};

// "base-<generation>.map".
std::string BaseFileName(uint64_t generation);

}  // namespace kiln
