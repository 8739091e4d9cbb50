#include "kms/lineage_key_file.h"

#include <algorithm>

#include "crypto/sha256.h"
#include "kms/byte_reader.h"
#include "kms/kms_names.h"

namespace kiln {
namespace {

constexpr char kMagic[4] = {'K', 'L', 'N', 'L'};
constexpr size_t kFixedSize = 4 + 4 + 16 + kKeyIdLength + 4;  // magic..blob_len
constexpr size_t kTrailerSize = 32;

Status Bad(const std::string& what) { return CorruptionError(what); }

}  // namespace

Bytes EncodeLineageKey(const LineageId& lineage, const WrappedDataKey& wrapped) {
  Bytes out(kMagic, kMagic + 4);
  AppendU32(out, kLineageKeyVersion);
  out.insert(out.end(), lineage.begin(), lineage.end());
  AppendString(out, wrapped.master_key_id);
  AppendU32(out, static_cast<uint32_t>(wrapped.blob.size()));
  out.insert(out.end(), wrapped.blob.begin(), wrapped.blob.end());
  const Digest256 sum = Sha256(out);
  out.insert(out.end(), sum.begin(), sum.end());
  return out;
}

Result<WrappedDataKey> ParseLineageKey(ByteView file, const LineageId& expected_lineage) {
  if (file.size() < kFixedSize + kTrailerSize) return Bad("too short");
  if (!std::equal(kMagic, kMagic + 4, file.begin())) return Bad("bad magic");
  const uint32_t version = GetU32(file.data() + 4);
  if (version != kLineageKeyVersion) {
    return Bad("unsupported version " + std::to_string(version) + " (this build reads " +
               std::to_string(kLineageKeyVersion) + ")");
  }
  const ByteView body = file.first(file.size() - kTrailerSize);
  const Digest256 sum = Sha256(body);
  if (!std::equal(sum.begin(), sum.end(), file.begin() + body.size())) {
    return Bad("checksum mismatch (damaged or truncated)");
  }
  ByteReader r(body.subspan(8));
  LineageId lineage;
  WrappedDataKey wrapped;
  uint32_t blob_len;
  if (!r.ReadArray(lineage) || !r.ReadString(kKeyIdLength, wrapped.master_key_id) ||
      !r.ReadU32(blob_len) || blob_len == 0 || blob_len > kMaxWrappedBlobSize ||
      !r.ReadBytes(blob_len, wrapped.blob) || !r.done()) {
    return Bad("bad length");
  }
  if (lineage != expected_lineage) return Bad("holds the key of another lineage");
  if (!IsKeyIdFormat(wrapped.master_key_id)) return Bad("master key id is not a UUID");
  return wrapped;
}

}  // namespace kiln
