// KeyService's data keys: wrapping per lineage, and the lineage key files.
#include <cstring>
#include <string_view>

#include "kms/key_service.h"
#include "kms/key_service_internal.h"
#include "kms/lineage_key_file.h"

namespace kiln {
namespace {

constexpr std::string_view kWrapContext = "kiln-lineage-v1";

// Binding the master key id and the lineage into the tag makes a blob useless anywhere else:
// copied to another lineage's file, or relabelled with another key id, it fails to open.
Bytes WrapAssociatedData(const std::string& master_key_id, const LineageId& lineage) {
  // Sized once and filled with memcpy: GCC 12 misreads vector::insert here (-Warray-bounds).
  Bytes ad(kWrapContext.size() + master_key_id.size() + lineage.size());
  uint8_t* p = ad.data();
  std::memcpy(p, kWrapContext.data(), kWrapContext.size());
  p += kWrapContext.size();
  std::memcpy(p, master_key_id.data(), master_key_id.size());
  p += master_key_id.size();
  std::memcpy(p, lineage.data(), lineage.size());
  return ad;
}

std::string LineageName(const LineageId& lineage) { return "lineage " + HexEncode(lineage); }

}  // namespace

std::string KeyService::LineagePath(const LineageId& lineage) const {
  return JoinPath(JoinPath(dir_, kLineagesDir), HexEncode(lineage) + ".key");
}

Result<NewDataKey> KeyService::WrapNewDataKey(const std::string& account,
                                              const std::string& key_ref,
                                              const LineageId& lineage) {
  RETURN_IF_ERROR(ValidateAccountId(account));
  NewDataKey out;
  ASSIGN_OR_RETURN(out.plaintext, RandomKey());
  Key256 master;
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(const MasterKey* key, ResolveLocked(account, key_ref, true));
    master = key->material;
    out.wrapped.master_key_id = key->key_id;
  }
  Result<Bytes> blob =
      AesGcmSeal(master, out.plaintext, WrapAssociatedData(out.wrapped.master_key_id, lineage));
  WipeBytes(master);
  ASSIGN_OR_RETURN(out.wrapped.blob, std::move(blob));
  return out;
}

Result<Key256> KeyService::UnwrapDataKey(const WrappedDataKey& wrapped, const LineageId& lineage) {
  const std::string what = "the data key of " + LineageName(lineage);
  if (!IsKeyIdFormat(wrapped.master_key_id)) {
    return KmsNotFoundError(what + " names no valid master key id");
  }
  Key256 master;
  {
    std::lock_guard lock(mu_);
    auto it = keys_.keys.find(wrapped.master_key_id);
    if (it == keys_.keys.end()) {
      return KmsNotFoundError("master key " + wrapped.master_key_id + ", which wraps " + what +
                              ", is not in " + KeysPath());
    }
    master = it->second.material;
  }
  Result<Bytes> plain =
      AesGcmOpen(master, wrapped.blob, WrapAssociatedData(wrapped.master_key_id, lineage));
  WipeBytes(master);
  if (plain.status().code() == Code::kCorruption || (plain.ok() && plain->size() != 32)) {
    if (plain.ok()) WipeBytes(*plain);
    return CorruptionError(what + " does not unwrap under master key " + wrapped.master_key_id +
                           ": the wrapped key is damaged, belongs to another lineage, or was "
                           "sealed by another key")
        .WithEc2Code("InvalidCiphertextException");
  }
  if (!plain.ok()) return plain.status().Annotate("unwrapping " + what);
  Key256 key;
  std::copy(plain->begin(), plain->end(), key.begin());
  WipeBytes(*plain);
  return key;
}

Status KeyService::StoreLineageKey(const LineageId& lineage, const WrappedDataKey& wrapped) {
  Result<Key256> check = UnwrapDataKey(wrapped, lineage);
  if (!check.ok()) {
    return InvalidArgumentError("refusing to store a data key that does not unwrap: " +
                                check.status().message());
  }
  WipeBytes(*check);
  std::lock_guard lock(lineage_mu_);
  WrappedDataKey existing;
  Status s = ReadLineageKey(lineage, existing);
  if (s.ok()) {
    if (existing != wrapped) {
      return AlreadyExistsError(LineageName(lineage) +
                                " already has a data key, wrapped by "
                                "master key " +
                                existing.master_key_id);
    }
    // The same key again: perhaps a retry after a failed directory sync, so sync it now.
    return fs_.SyncDir(DirName(LineagePath(lineage)));
  }
  if (s.code() != Code::kNotFound) return s;
  return WriteFileAtomicPrivate(fs_, LineagePath(lineage), EncodeLineageKey(lineage, wrapped));
}

Result<WrappedDataKey> KeyService::LoadLineageKey(const LineageId& lineage) {
  WrappedDataKey out;
  RETURN_IF_ERROR(ReadLineageKey(lineage, out));
  return out;
}

Status KeyService::ReadLineageKey(const LineageId& lineage, WrappedDataKey& out) {
  const std::string path = LineagePath(lineage);
  Result<Bytes> data = ReadFile(fs_, path);
  if (data.status().code() == Code::kNotFound) {
    return NotFoundError("no data key is stored for " + LineageName(lineage));
  }
  RETURN_IF_ERROR(data.status());
  Result<WrappedDataKey> parsed = ParseLineageKey(*data, lineage);
  if (!parsed.ok()) return parsed.status().Annotate(path);
  out = std::move(parsed).value();
  return Status::Ok();
}

}  // namespace kiln
