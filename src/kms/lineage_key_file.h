// The file that keeps one lineage's wrapped data key: <dir>/lineages/<32 hex>.key
// (docs/formats/key-service.md). Internal to src/kms: KeyService reads and writes it.
//
// Parse returns Corruption for any damage (naming what is wrong, never field bytes), or when
// the file is for another lineage than its name says.
#pragma once

#include "base/bytes.h"
#include "base/status.h"
#include "kms/key_types.h"

namespace kiln {

inline constexpr uint32_t kLineageKeyVersion = 1;
inline constexpr size_t kMaxWrappedBlobSize = 4096;

Bytes EncodeLineageKey(const LineageId& lineage, const WrappedDataKey& wrapped);
Result<WrappedDataKey> ParseLineageKey(ByteView file, const LineageId& expected_lineage);

}  // namespace kiln
