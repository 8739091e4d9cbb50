#include "volume/sector_tags.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "base/bytes.h"

namespace kiln {
namespace {

constexpr uint64_t kSectorsPerRegion = SectorTags::kRegionBytes / SectorTags::kSectorSize;

uint64_t RegionCount(uint64_t data_bytes) {
  return std::max<uint64_t>(1,
                            (data_bytes + SectorTags::kRegionBytes - 1) / SectorTags::kRegionBytes);
}

// Recover reads and re-tags this many bytes at a time.
constexpr uint64_t kRecoverPiece = 1 << 20;

}  // namespace

SectorTags::WriteScope& SectorTags::WriteScope::operator=(WriteScope&& other) noexcept {
  if (this != &other) {
    End();
    tags_ = std::exchange(other.tags_, nullptr);
    first_region_ = other.first_region_;
    last_region_ = other.last_region_;
  }
  return *this;
}

void SectorTags::WriteScope::End() {
  if (tags_ != nullptr) std::exchange(tags_, nullptr)->EndWrite(first_region_, last_region_);
}

SectorTags::SectorTags(std::unique_ptr<File> tags, std::unique_ptr<File> intent,
                       const Key256& mac_key, uint64_t first_sector, uint64_t data_bytes)
    : tags_(std::move(tags)),
      intent_(std::move(intent)),
      mac_key_(mac_key),
      first_sector_(first_sector) {
  Resize(data_bytes);
}

SectorTags::~SectorTags() { OPENSSL_cleanse(mac_key_.data(), mac_key_.size()); }

Result<std::unique_ptr<SectorTags>> SectorTags::Open(FileSystem& fs, const std::string& tags_path,
                                                     const std::string& intent_path, OpenMode mode,
                                                     uint64_t data_bytes, const Key256& mac_key,
                                                     uint64_t first_sector) {
  ASSIGN_OR_RETURN(auto tags, fs.Open(tags_path, mode));
  ASSIGN_OR_RETURN(auto intent, fs.Open(intent_path, mode));
  std::unique_ptr<SectorTags> out(
      new SectorTags(std::move(tags), std::move(intent), mac_key, first_sector, data_bytes));
  if (mode != OpenMode::kReadWrite) {
    RETURN_IF_ERROR(out->tags_->Sync());
    RETURN_IF_ERROR(out->intent_->Sync());
  }
  RETURN_IF_ERROR(out->LoadIntent());
  return out;
}

void SectorTags::Resize(uint64_t data_bytes) {
  const uint64_t count = RegionCount(data_bytes);
  auto regions = std::make_unique<Region[]>(count);
  for (uint64_t r = 0; r < std::min(count, regions_count_); ++r) {
    regions[r].intent.store(regions_[r].intent.load());
    regions[r].last_write_end.store(regions_[r].last_write_end.load());
  }
  regions_ = std::move(regions);
  regions_count_ = count;
}

Status SectorTags::LoadIntent() {
  // One byte per region, 0 or 1. Each byte is written whole, so after a crash every byte is
  // its old or its new value, and both are valid states: no checksum is needed. A byte past
  // the end of the file (never set) is 0; an unknown value counts as set (re-tagging is safe).
  Bytes bits(regions_count_);
  ASSIGN_OR_RETURN(size_t n, intent_->ReadAt(0, bits));
  for (uint64_t r = 0; r < n; ++r) regions_[r].intent.store(bits[r] != 0);
  return Status::Ok();
}

uint64_t SectorTags::regions_with_intent() const {
  uint64_t n = 0;
  for (uint64_t r = 0; r < regions_count_; ++r) n += regions_[r].intent.load() ? 1 : 0;
  return n;
}

Status SectorTags::PersistIntentLocked(uint64_t also_set) {
  Bytes bits(regions_count_);
  for (uint64_t r = 0; r < regions_count_; ++r) {
    bits[r] = (regions_[r].intent.load() || r == also_set) ? 1 : 0;
  }
  RETURN_IF_ERROR(intent_->WriteAt(0, bits));
  return intent_->Sync();
}

Result<SectorTags::WriteScope> SectorTags::BeginWrite(uint64_t first, uint64_t count) {
  WriteScope scope;
  if (count == 0) return scope;
  const uint64_t first_region = first / kSectorsPerRegion;
  const uint64_t last_region = (first + count - 1) / kSectorsPerRegion;
  if (last_region >= regions_count_) {
    return InvalidArgumentError("sector " + std::to_string(first + count - 1) +
                                " is past the end of the data file");
  }
  for (uint64_t r = first_region; r <= last_region; ++r) {
    // Announce the writer before looking at the intent: Sync clears an intent and then looks
    // for writers (both sequentially consistent), so one of the two always sees the other.
    regions_[r].writers.fetch_add(1);
    scope.tags_ = this;
    scope.first_region_ = first_region;
    scope.last_region_ = r;
    if (regions_[r].intent.load()) continue;
    std::lock_guard lock(mu_);
    if (regions_[r].intent.load()) continue;
    // The bit is set in memory only once it is durable, so a writer that sees it set may write.
    RETURN_IF_ERROR(PersistIntentLocked(r));
    regions_[r].intent.store(true);
  }
  return scope;
}

void SectorTags::EndWrite(uint64_t first_region, uint64_t last_region) {
  const uint64_t gen = sync_gen_.load();
  for (uint64_t r = first_region; r <= last_region; ++r) {
    uint64_t seen = regions_[r].last_write_end.load();
    while (seen < gen && !regions_[r].last_write_end.compare_exchange_weak(seen, gen)) {
    }
    regions_[r].writers.fetch_sub(1);
  }
}

Status SectorTags::Sync(const std::function<Status()>& sync_data) {
  // Writes that end from now on record a generation >= gen and keep their region's intent: the
  // data syncs below may not include them.
  const uint64_t gen = sync_gen_.fetch_add(1) + 1;
  RETURN_IF_ERROR(sync_data());
  RETURN_IF_ERROR(tags_->Sync());
  std::lock_guard lock(mu_);
  bool changed = false;
  for (uint64_t r = 0; r < regions_count_; ++r) {
    if (!regions_[r].intent.load()) continue;
    regions_[r].intent.store(false);
    if (regions_[r].writers.load() > 0 || regions_[r].last_write_end.load() >= gen) {
      regions_[r].intent.store(true);  // written during this Sync: its data may not be durable
    } else {
      changed = true;
    }
  }
  // If this write fails the file keeps bits that memory has cleared: more re-tagging after a
  // crash, never less.
  return changed ? PersistIntentLocked(regions_count_) : Status::Ok();
}

void SectorTags::TagOf(uint64_t index, ByteView sector, uint8_t* out) const {
  if (IsAllZero(sector)) return ZeroTagOf(index, out);
  uint8_t number[8];
  const uint64_t n = first_sector_ + index;
  for (int i = 0; i < 8; ++i) number[i] = static_cast<uint8_t>(n >> (8 * i));
  const Digest256 mac = HmacSha256(mac_key_, ByteView(number, 8), sector);
  std::memcpy(out, mac.data(), kTagSize);
}

void SectorTags::ZeroTagOf(uint64_t index, uint8_t* out) const {
  // Domain-separated from data tags by length: a data tag covers 8 + 4096 bytes, this 8 + 16.
  static constexpr std::string_view kZero = "kiln zero sector";
  uint8_t number[8];
  const uint64_t n = first_sector_ + index;
  for (int i = 0; i < 8; ++i) number[i] = static_cast<uint8_t>(n >> (8 * i));
  const Digest256 mac = HmacSha256(mac_key_, ByteView(number, 8), AsBytes(kZero));
  std::memcpy(out, mac.data(), kTagSize);
}

Result<Bytes> SectorTags::Load(uint64_t first, uint64_t count) {
  Bytes stored(count * kTagSize);
  ASSIGN_OR_RETURN(size_t n, tags_->ReadAt(first * kTagSize, stored));
  std::fill(stored.begin() + n, stored.end(), 0);  // past the end: never written
  return stored;
}

bool SectorTags::IsZeroTag(uint64_t index, const uint8_t* tag) const {
  uint8_t want[kTagSize];
  ZeroTagOf(index, want);
  return CRYPTO_memcmp(want, tag, kTagSize) == 0;
}

Status SectorTags::CheckSector(uint64_t index, const uint8_t* tag, ByteView ciphertext) const {
  uint8_t want[kTagSize];
  TagOf(index, ciphertext, want);
  if (CRYPTO_memcmp(want, tag, kTagSize) == 0) return Status::Ok();
  static constexpr uint8_t kNever[kTagSize] = {};
  const bool never = std::memcmp(tag, kNever, kTagSize) == 0;
  return CorruptionError("encrypted sector " + std::to_string(first_sector_ + index) +
                         (never ? " has no integrity tag (never written, or its tag was erased)"
                                : " fails its integrity check (tampered or damaged)"));
}

Status SectorTags::Store(uint64_t first, ByteView ciphertext) {
  const uint64_t count = ciphertext.size() / kSectorSize;
  Bytes tags(count * kTagSize);
  for (uint64_t i = 0; i < count; ++i) {
    TagOf(first + i, ciphertext.subspan(i * kSectorSize, kSectorSize), tags.data() + i * kTagSize);
  }
  return tags_->WriteAt(first * kTagSize, tags);
}

Status SectorTags::StoreZero(uint64_t first, uint64_t count) {
  Bytes tags(count * kTagSize);
  for (uint64_t i = 0; i < count; ++i) ZeroTagOf(first + i, tags.data() + i * kTagSize);
  return tags_->WriteAt(first * kTagSize, tags);
}

Status SectorTags::Recover(File& data) {
  if (regions_with_intent() == 0) return Status::Ok();
  Bytes buf(kRecoverPiece);
  for (uint64_t r = 0; r < regions_count_; ++r) {
    if (!regions_[r].intent.load()) continue;
    for (uint64_t off = 0; off < kRegionBytes; off += kRecoverPiece) {
      const uint64_t first = r * kSectorsPerRegion + off / kSectorSize;
      ASSIGN_OR_RETURN(size_t n, data.ReadAt(first * kSectorSize, buf));
      if (n == 0) break;
      // A torn sector at the end of the file counts as its whole zero-padded sector.
      const uint64_t whole = (n + kSectorSize - 1) / kSectorSize * kSectorSize;
      std::fill(buf.begin() + n, buf.begin() + whole, 0);
      RETURN_IF_ERROR(Store(first, ByteView(buf).first(whole)));
    }
  }
  RETURN_IF_ERROR(tags_->Sync());
  std::lock_guard lock(mu_);
  for (uint64_t r = 0; r < regions_count_; ++r) regions_[r].intent.store(false);
  return PersistIntentLocked(regions_count_);
}

}  // namespace kiln
