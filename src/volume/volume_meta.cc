#include "volume/volume_meta.h"

#include <algorithm>
#include <cstring>

#include "crypto/sha256.h"

namespace kiln {
namespace {

constexpr char kMagic[4] = {'K', 'L', 'N', 'V'};
constexpr uint32_t kFlagClean = 1;
constexpr uint32_t kFlagEncrypted = 2;
constexpr size_t kKeyCheckBytes = 16;
constexpr size_t kMaxBaseName = 255;
// magic, version, flags, size, generation, lineage, base name length.
constexpr size_t kFixedBytes = 4 + 4 + 4 + 8 + 8 + 16 + 4;
constexpr size_t kTrailerBytes = 32;

bool ValidBaseName(const std::string& name) {
  return name.size() <= kMaxBaseName && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

}  // namespace

std::string BaseFileName(uint64_t generation) {
  return "base-" + std::to_string(generation) + ".map";
}

Bytes VolumeMeta::Serialize() const {
  Bytes out(kMagic, kMagic + 4);
  AppendU32(out, kVersion);
  AppendU32(out, (clean ? kFlagClean : 0) | (encrypted ? kFlagEncrypted : 0));
  AppendU64(out, size);
  AppendU64(out, generation);
  out.insert(out.end(), lineage.begin(), lineage.end());
  AppendU32(out, static_cast<uint32_t>(base_file.size()));
  out.insert(out.end(), base_file.begin(), base_file.end());
  if (encrypted) out.insert(out.end(), key_check.begin(), key_check.end());
  const Digest256 digest = Sha256(out);
  out.insert(out.end(), digest.begin(), digest.end());
  return out;
}

Result<VolumeMeta> VolumeMeta::Parse(ByteView bytes) {
  if (bytes.size() < kFixedBytes + kTrailerBytes) {
    return CorruptionError("volume.meta is truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return CorruptionError("volume.meta has a bad magic (not a kiln volume)");
  }
  const ByteView body = bytes.first(bytes.size() - kTrailerBytes);
  const Digest256 digest = Sha256(body);
  if (!std::equal(digest.begin(), digest.end(), bytes.end() - kTrailerBytes)) {
    return CorruptionError("volume.meta checksum mismatch");
  }
  const uint8_t* p = bytes.data() + 4;
  const uint32_t version = GetU32(p);
  if (version != kVersion) {
    return CorruptionError("volume.meta has unsupported version " + std::to_string(version));
  }
  const uint32_t flags = GetU32(p + 4);
  if ((flags & ~(kFlagClean | kFlagEncrypted)) != 0) {
    return CorruptionError("volume.meta has unknown flags " + std::to_string(flags));
  }
  VolumeMeta meta;
  meta.clean = (flags & kFlagClean) != 0;
  meta.encrypted = (flags & kFlagEncrypted) != 0;
  meta.size = GetU64(p + 8);
  meta.generation = GetU64(p + 16);
  std::memcpy(meta.lineage.data(), p + 24, 16);
  const uint32_t name_len = GetU32(p + 40);
  const size_t check_len = meta.encrypted ? kKeyCheckBytes : 0;
  if (kFixedBytes + uint64_t{name_len} + check_len != body.size()) {
    return CorruptionError("volume.meta base name length " + std::to_string(name_len) +
                           " does not match its size");
  }
  meta.base_file.assign(reinterpret_cast<const char*>(body.data()) + kFixedBytes, name_len);
  if (meta.encrypted) {
    std::memcpy(meta.key_check.data(), body.data() + kFixedBytes + name_len, kKeyCheckBytes);
  }
  if (!ValidBaseName(meta.base_file)) {
    return CorruptionError("volume.meta names an invalid base file");
  }
  if (meta.size == 0 || meta.size > kMaxVolumeSize) {
    return CorruptionError("volume.meta has an invalid size " + std::to_string(meta.size));
  }
  return meta;
}

}  // namespace kiln
