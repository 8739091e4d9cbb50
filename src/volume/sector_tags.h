// SectorTags: integrity tags for the sectors of one encrypted data file (XtsFile), as
// dm-integrity keeps them beside dm-crypt: AES-XTS hides the data but does not authenticate it,
// so a flipped, zeroed or moved ciphertext sector would otherwise decrypt to garbage that is
// returned as data.
//
// Tags. Sector n (of the volume: the data file's first sector plus its index) has the tag
// HMAC-SHA-256(sector_mac_key, le64(n) || ciphertext)[0..16), kept at offset 16 * index of the
// tag file. A sector whose plaintext is zeros is a hole in the data file, and its tag is the
// zero tag HMAC-SHA-256(sector_mac_key, le64(n) || "kiln zero sector")[0..16): authenticated
// too, so zeroing a sector's data and tag together is detected. A tag of 16 zero bytes is a
// sector never written (the volume never reads one: every sector of a local block is written
// when the block becomes local) or an erased tag: Corruption. XtsFile reads the tags first,
// skips the data of zero sectors, and never decrypts a sector whose tag fails.
//
// Crash consistency (dm-integrity's bitmap mode). A sector's data and its tag are two writes
// that a crash can separate before a flush. So before the first write into a 64 MiB region
// since the last Sync, the region's bit in the intent file is set durably; Sync makes data and
// tags durable and then clears the bits of regions with no write since it began. After a crash,
// Recover re-tags every sector of each region whose bit is set, from what the data file holds
// (each sector reads as its old or new content, as a disk's unflushed writes may), and clears
// the bits. Regions without a bit were quiet since their last flush, so every tag there is
// exact and tampering is detected. What is not detected: tampering inside a region that was
// being written at the moment of the crash, before Recover runs (dm-integrity has the same
// window in bitmap mode).
//
// Thread-safety: Check, Store, Clear and BeginWrite may run concurrently (on different
// sectors); Sync may run beside them; Recover and Resize need exclusive use.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "crypto/crypto.h"
#include "env/file_system.h"

namespace kiln {

class SectorTags {
 public:
  static constexpr uint64_t kSectorSize = 4096;
  static constexpr uint64_t kTagSize = 16;
  static constexpr uint64_t kRegionBytes = 64ULL << 20;

  // Opens (with `mode`, creating for kCreate/kCreateExclusive) the tag file `tags_path` and the
  // intent file `intent_path` of a data file of `data_bytes` bytes whose first sector is
  // `first_sector`, and loads the intents. Created files are synced (the caller syncs the
  // directory).
  static Result<std::unique_ptr<SectorTags>> Open(FileSystem& fs, const std::string& tags_path,
                                                  const std::string& intent_path, OpenMode mode,
                                                  uint64_t data_bytes, const Key256& mac_key,
                                                  uint64_t first_sector);
  ~SectorTags();

  // Held while sectors of the regions it covers are being written (data or tags); from
  // BeginWrite, which has made the regions' intent durable.
  class WriteScope {
   public:
    WriteScope() = default;
    WriteScope(WriteScope&& other) noexcept { *this = std::move(other); }
    WriteScope& operator=(WriteScope&& other) noexcept;
    ~WriteScope() { End(); }

   private:
    friend class SectorTags;
    void End();
    SectorTags* tags_ = nullptr;
    uint64_t first_region_ = 0, last_region_ = 0;
  };
  // Before writing sectors [first, first + count) (indexes in the data file): records the write
  // intent of their regions durably if it is not already.
  Result<WriteScope> BeginWrite(uint64_t first, uint64_t count);

  // The stored tags of sectors [first, first + count), 16 bytes each (zeros past the end).
  Result<Bytes> Load(uint64_t first, uint64_t count);
  // True if `tag` (of sector index `index`) is the zero tag: the sector is plaintext zeros.
  bool IsZeroTag(uint64_t index, const uint8_t* tag) const;
  // Corruption naming the sector unless `tag` authenticates `ciphertext` as sector `index`.
  Status CheckSector(uint64_t index, const uint8_t* tag, ByteView ciphertext) const;
  // Writes the tags of `ciphertext` (whole sectors from index `first`); all-zero sectors are
  // holes and get the zero tag. Inside a WriteScope.
  Status Store(uint64_t first, ByteView ciphertext);
  // Zero tags for [first, first + count) (the sectors became holes). Inside a WriteScope.
  Status StoreZero(uint64_t first, uint64_t count);

  // Makes data and tags durable (`sync_data` syncs the data file) and then clears the intent of
  // every region not written since this call began.
  Status Sync(const std::function<Status()>& sync_data);

  // After an unclean shutdown: re-tags every sector of each region with intent from `data`
  // (the raw ciphertext file), durably, then clears the intents. A no-op when none is set.
  Status Recover(File& data);

  // The data file grew (or shrank) to `data_bytes`.
  void Resize(uint64_t data_bytes);

  uint64_t regions_with_intent() const;

 private:
  SectorTags(std::unique_ptr<File> tags, std::unique_ptr<File> intent, const Key256& mac_key,
             uint64_t first_sector, uint64_t data_bytes);
  void TagOf(uint64_t index, ByteView sector, uint8_t* out) const;
  void ZeroTagOf(uint64_t index, uint8_t* out) const;
  Status LoadIntent();
  Status PersistIntentLocked(uint64_t also_set);  // requires mu_; writes bits_ (+ also_set)
  void EndWrite(uint64_t first_region, uint64_t last_region);

  struct Region {
    std::atomic<bool> intent{false};  // durable in the intent file
    std::atomic<uint32_t> writers{0};
    std::atomic<uint64_t> last_write_end{0};  // sync_gen_ when its latest write ended
  };

  std::unique_ptr<File> tags_;
  std::unique_ptr<File> intent_;
  Key256 mac_key_;
  const uint64_t first_sector_;
  uint64_t regions_count_ = 0;
  std::unique_ptr<Region[]> regions_;
  std::atomic<uint64_t> sync_gen_{1};
  std::mutex mu_;  // intent file writes
};

}  // namespace kiln
