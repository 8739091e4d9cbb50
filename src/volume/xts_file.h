// XtsFile: a File whose bytes rest on disk encrypted with AES-256-XTS per 4 KiB sector, as
// dm-crypt's aes-xts-plain64 does; an encrypted volume's local data files are wrapped in it so
// no plaintext of the volume (lazily fetched blocks included) rests on disk.
//
// Sector n of the underlying file is encrypted with tweak `first_sector + n`, so the segments
// of one volume never reuse a tweak under the same key. A sector whose plaintext is all zeros
// is stored as a hole (zeros on disk), and a sector that reads as all zeros on disk is
// plaintext zeros: holes stay holes (thin provisioning, trim), at the cost of revealing which
// sectors are zero, as any sparse encrypted device does. The chance that a real ciphertext
// sector is all zeros is 2^-32768.
//
// The file's size is always a whole number of sectors (Truncate rounds up), so it may be up to
// 4095 bytes longer than asked; the bytes past the asked size read as zeros.
//
// With SectorTags (an encrypted volume always has them), every sector read is checked against
// its tag before it is decrypted, and every write updates the tags inside a write scope that
// keeps them crash-consistent; Sync syncs both (sector_tags.h). A failed check is Corruption,
// never data.
//
// Thread-safety: as File, except that writes to the same 4 KiB sector must not run
// concurrently (a partial-sector write is read-modify-write). The volume guarantees this: its
// writes to a block hold the block's lock and sectors never straddle blocks.
#pragma once

#include <atomic>
#include <memory>

#include "crypto/crypto.h"
#include "env/file_system.h"
#include "volume/sector_tags.h"

namespace kiln {

inline constexpr uint64_t kXtsSectorSize = 4096;

class XtsFile : public File {
 public:
  // `tags` may be null (no integrity checks: for tests of the cipher layer alone).
  // `logical_size` is the size last asked of Truncate (the file itself is rounded up to whole
  // sectors): bytes past it are padding, so a write that reaches it need not read the rest of
  // its last sector (which, with tags, may never have been written).
  XtsFile(std::unique_ptr<File> inner, const XtsKey& key, uint64_t first_sector,
          std::unique_ptr<SectorTags> tags = nullptr, uint64_t logical_size = 0)
      : inner_(std::move(inner)),
        key_(key),
        first_sector_(first_sector),
        tags_(std::move(tags)),
        logical_size_(logical_size) {}
  ~XtsFile() override;

  Result<size_t> ReadAt(uint64_t offset, MutableByteView out) override;
  Status WriteAt(uint64_t offset, ByteView data) override;
  Status PunchHole(uint64_t offset, uint64_t len) override;
  Status Sync() override;
  // Sizes round up to whole sectors: a sector's ciphertext is only whole or useless.
  Status Truncate(uint64_t size) override;
  Result<uint64_t> Size() override { return inner_->Size(); }

  // After an unclean shutdown: brings the tags of sectors written before the crash up to date
  // (SectorTags::Recover). A no-op without tags.
  Status Recover() { return tags_ ? tags_->Recover(*inner_) : Status::Ok(); }

 private:
  // Reads and decrypts whole sectors [first, first + count) into `out`.
  Status ReadSectors(uint64_t first, MutableByteView out);
  Status ReadTaggedSectors(uint64_t first, MutableByteView out);   // tags_ set
  Status WriteSectors(uint64_t first, MutableByteView plaintext);  // encrypts in place

  std::unique_ptr<File> inner_;
  XtsKey key_;
  const uint64_t first_sector_;
  std::unique_ptr<SectorTags> tags_;
  std::atomic<uint64_t> logical_size_;
};

}  // namespace kiln
