// LineageKeys: the working keys of one encrypted volume lineage (a volume, its snapshots and
// every volume made from them), all derived with HKDF-SHA-256 from the lineage's 32-byte data
// key (which the key service keeps only wrapped by a master key):
//   id_key   "kiln chunk id"   -> chunk ids: HMAC-SHA-256(id_key, plaintext)
//   seal_key "kiln chunk seal" -> chunk sealing: AES-256-GCM
//   xts_key  "kiln volume xts" -> a volume's local data file: AES-256-XTS per 4 KiB sector
//   sector_mac_key "kiln volume sector mac" -> the integrity tags of those sectors
//   check_key "kiln key check" -> a key check value that tells a wrong data key at once
// so one data key never serves two purposes.
#pragma once

#include "crypto/crypto.h"
#include "store/block_map.h"

namespace kiln {

struct LineageKeys {
  LineageId lineage{};
  Key256 id_key{};
  Key256 seal_key{};
  XtsKey xts_key{};
  Key256 sector_mac_key{};
  Key256 check_key{};

  // Derives every working key of `lineage` from its data key.
  static Result<LineageKeys> Derive(const LineageId& lineage, const Key256& data_key);
};

}  // namespace kiln
