#include "volume/xts_file.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace kiln {

XtsFile::~XtsFile() { OPENSSL_cleanse(key_.data(), key_.size()); }

Status XtsFile::Sync() {
  if (!tags_) return inner_->Sync();
  return tags_->Sync([this] { return inner_->Sync(); });
}

Status XtsFile::Truncate(uint64_t size) {
  const uint64_t sectors = (size + kXtsSectorSize - 1) / kXtsSectorSize;
  RETURN_IF_ERROR(inner_->Truncate(sectors * kXtsSectorSize));
  if (tags_) tags_->Resize(sectors * kXtsSectorSize);
  logical_size_.store(size);
  return Status::Ok();
}

Status XtsFile::ReadSectors(uint64_t first, MutableByteView out) {
  if (tags_) return ReadTaggedSectors(first, out);
  ASSIGN_OR_RETURN(size_t n, inner_->ReadAt(first * kXtsSectorSize, out));
  std::fill(out.begin() + n, out.end(), 0);  // past the end of the file: a hole
  for (uint64_t i = 0; i < out.size() / kXtsSectorSize; ++i) {
    MutableByteView sector = out.subspan(i * kXtsSectorSize, kXtsSectorSize);
    if (IsAllZero(sector)) continue;  // a hole: plaintext zeros
    RETURN_IF_ERROR(AesXtsDecrypt(key_, first_sector_ + first + i, sector));
  }
  return Status::Ok();
}

Status XtsFile::ReadTaggedSectors(uint64_t first, MutableByteView out) {
  // Tags first: a zero tag says the sector is zeros, so holes (free space, trimmed blocks) are
  // not read at all; the rest is read in runs, each sector checked before it is decrypted.
  const uint64_t count = out.size() / kXtsSectorSize;
  ASSIGN_OR_RETURN(Bytes tags, tags_->Load(first, count));
  auto tag = [&](uint64_t i) { return tags.data() + i * SectorTags::kTagSize; };
  uint64_t i = 0;
  while (i < count) {
    const bool zero = tags_->IsZeroTag(first + i, tag(i));
    uint64_t j = i + 1;
    while (j < count && tags_->IsZeroTag(first + j, tag(j)) == zero) ++j;
    MutableByteView run = out.subspan(i * kXtsSectorSize, (j - i) * kXtsSectorSize);
    if (zero) {
      std::fill(run.begin(), run.end(), 0);
    } else {
      ASSIGN_OR_RETURN(size_t n, inner_->ReadAt((first + i) * kXtsSectorSize, run));
      std::fill(run.begin() + n, run.end(), 0);  // past the end: fails its tag below
      for (uint64_t k = i; k < j; ++k) {
        MutableByteView sector = out.subspan(k * kXtsSectorSize, kXtsSectorSize);
        RETURN_IF_ERROR(tags_->CheckSector(first + k, tag(k), sector));
        RETURN_IF_ERROR(AesXtsDecrypt(key_, first_sector_ + first + k, sector));
      }
    }
    i = j;
  }
  return Status::Ok();
}

Status XtsFile::WriteSectors(uint64_t first, MutableByteView plaintext) {
  // Runs of zero sectors become holes, the rest ciphertext; one write per run.
  const uint64_t count = plaintext.size() / kXtsSectorSize;
  SectorTags::WriteScope scope;
  if (tags_) {
    ASSIGN_OR_RETURN(scope, tags_->BeginWrite(first, count));
  }
  uint64_t i = 0;
  while (i < count) {
    const bool zero = IsAllZero(plaintext.subspan(i * kXtsSectorSize, kXtsSectorSize));
    uint64_t j = i + 1;
    while (j < count && IsAllZero(plaintext.subspan(j * kXtsSectorSize, kXtsSectorSize)) == zero) {
      ++j;
    }
    MutableByteView run = plaintext.subspan(i * kXtsSectorSize, (j - i) * kXtsSectorSize);
    const uint64_t offset = (first + i) * kXtsSectorSize;
    if (zero) {
      // A hole punched past the end does not extend the file; a write must.
      ASSIGN_OR_RETURN(uint64_t size, inner_->Size());
      if (offset + run.size() > size) RETURN_IF_ERROR(inner_->Truncate(offset + run.size()));
      RETURN_IF_ERROR(inner_->PunchHole(
          offset, std::min<uint64_t>(run.size(), size > offset ? size - offset : 0)));
    } else {
      for (uint64_t k = i; k < j; ++k) {
        RETURN_IF_ERROR(AesXtsEncrypt(key_, first_sector_ + first + k,
                                      plaintext.subspan(k * kXtsSectorSize, kXtsSectorSize)));
      }
      RETURN_IF_ERROR(inner_->WriteAt(offset, run));
    }
    i = j;
  }
  // Zero sectors are still zeros in `plaintext`, so they get zero tags.
  return tags_ ? tags_->Store(first, plaintext) : Status::Ok();
}

Result<size_t> XtsFile::ReadAt(uint64_t offset, MutableByteView out) {
  if (out.empty()) return size_t{0};
  ASSIGN_OR_RETURN(uint64_t size, inner_->Size());
  if (offset >= size) return size_t{0};
  const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), size - offset));
  const uint64_t first = offset / kXtsSectorSize;
  const uint64_t last = (offset + want - 1) / kXtsSectorSize;
  if (offset % kXtsSectorSize == 0 && want % kXtsSectorSize == 0) {
    RETURN_IF_ERROR(ReadSectors(first, out.first(want)));  // aligned: decrypt in place
    return want;
  }
  Bytes buf((last - first + 1) * kXtsSectorSize);
  RETURN_IF_ERROR(ReadSectors(first, buf));
  std::copy_n(buf.begin() + (offset - first * kXtsSectorSize), want, out.begin());
  return want;
}

Status XtsFile::WriteAt(uint64_t offset, ByteView data) {
  if (data.empty()) return Status::Ok();
  const uint64_t first = offset / kXtsSectorSize;
  const uint64_t last = (offset + data.size() - 1) / kXtsSectorSize;
  Bytes buf((last - first + 1) * kXtsSectorSize);
  const bool head_partial = offset % kXtsSectorSize != 0;
  const bool tail_partial = (offset + data.size()) % kXtsSectorSize != 0;
  // Partial sectors at the edges keep the bytes around the write: read-modify-write.
  if (head_partial) {
    RETURN_IF_ERROR(ReadSectors(first, MutableByteView(buf).first(kXtsSectorSize)));
  }
  // Bytes past the logical size are padding: zeros, nothing to keep.
  const bool tail_is_padding = offset + data.size() >= logical_size_.load();
  if (tail_partial && !tail_is_padding && (last != first || !head_partial)) {
    RETURN_IF_ERROR(
        ReadSectors(last, MutableByteView(buf).subspan((last - first) * kXtsSectorSize)));
  }
  std::copy(data.begin(), data.end(), buf.begin() + (offset - first * kXtsSectorSize));
  return WriteSectors(first, buf);
}

Status XtsFile::PunchHole(uint64_t offset, uint64_t len) {
  if (len == 0) return Status::Ok();
  const uint64_t end = offset + len;
  const uint64_t inner_begin = (offset + kXtsSectorSize - 1) / kXtsSectorSize * kXtsSectorSize;
  const uint64_t inner_end = end / kXtsSectorSize * kXtsSectorSize;
  if (inner_begin >= inner_end) return WriteAt(offset, Bytes(len, 0));  // within one sector
  if (offset < inner_begin) RETURN_IF_ERROR(WriteAt(offset, Bytes(inner_begin - offset, 0)));
  {
    const uint64_t first = inner_begin / kXtsSectorSize;
    const uint64_t count = (inner_end - inner_begin) / kXtsSectorSize;
    SectorTags::WriteScope scope;
    if (tags_) {
      ASSIGN_OR_RETURN(scope, tags_->BeginWrite(first, count));
    }
    RETURN_IF_ERROR(inner_->PunchHole(inner_begin, inner_end - inner_begin));
    if (tags_) RETURN_IF_ERROR(tags_->StoreZero(first, count));
  }
  if (end > inner_end) RETURN_IF_ERROR(WriteAt(inner_end, Bytes(end - inner_end, 0)));
  return Status::Ok();
}

}  // namespace kiln
