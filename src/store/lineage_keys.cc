#include "store/lineage_keys.h"

#include <algorithm>
#include <string_view>

namespace kiln {
namespace {

// The info strings are part of the on-disk contract: changing one makes every sealed chunk and
// encrypted sector of existing lineages unreadable.
constexpr std::string_view kIdInfo = "kiln chunk id";
constexpr std::string_view kSealInfo = "kiln chunk seal";
constexpr std::string_view kXtsInfo = "kiln volume xts";
constexpr std::string_view kSectorMacInfo = "kiln volume sector mac";
constexpr std::string_view kCheckInfo = "kiln key check";

}  // namespace

Result<LineageKeys> LineageKeys::Derive(const LineageId& lineage, const Key256& data_key) {
  LineageKeys keys;
  keys.lineage = lineage;
  // The lineage id as salt: two lineages that somehow shared a data key still get unrelated
  // working keys.
  RETURN_IF_ERROR(HkdfSha256(data_key, lineage, AsBytes(kIdInfo), keys.id_key));
  RETURN_IF_ERROR(HkdfSha256(data_key, lineage, AsBytes(kSealInfo), keys.seal_key));
  RETURN_IF_ERROR(HkdfSha256(data_key, lineage, AsBytes(kXtsInfo), keys.xts_key));
  RETURN_IF_ERROR(HkdfSha256(data_key, lineage, AsBytes(kSectorMacInfo), keys.sector_mac_key));
  RETURN_IF_ERROR(HkdfSha256(data_key, lineage, AsBytes(kCheckInfo), keys.check_key));
  // XTS refuses equal halves; for HKDF output that happens with probability 2^-256.
  if (std::equal(keys.xts_key.begin(), keys.xts_key.begin() + 32, keys.xts_key.begin() + 32)) {
    return InternalError("derived AES-XTS key has equal halves");
  }
  return keys;
}

}  // namespace kiln
