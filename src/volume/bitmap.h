// Bitmap: a fixed-size set of bits (one per volume block) that many threads may set, clear and
// test at once, persisted to a file a 4 KiB page at a time.
//
// File format (docs/formats/volume.md): FileBytes(size()) bytes, bit i in byte i / 8 at bit
// position i % 8 (least significant first). Nothing else: the volume's meta file says how many
// bits there are and whether the file is to be trusted.
//
// Persistence is incremental: the bitmap remembers which 4 KiB pages of the file changed since
// the last TakeChanges (or Load), so saving a 4 MiB map (16 TiB volume) after a few writes costs
// a few pages. Saving is split in two steps, TakeChanges then WriteChanges, so that a caller can
// make durable whatever the taken bits describe before the bits themselves are written (a
// volume syncs its data file in between: a present bit must never reach the disk before the
// data it covers).
//
// Thread-safety: Test, Set, Clear, Count, NextSet, SetBits, ClearAll, TakeChanges,
// MarkChanged and MarkAllChanged may be called concurrently. Resize, Load and moves must not race
// anything. A bit set before TakeChanges starts is in the pages it returns or marked changed
// again for the next call; a bit set concurrently with it is in one or the other.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "env/file_system.h"

namespace kiln {

class Bitmap {
 public:
  static constexpr uint64_t kPageBytes = 4096;

  Bitmap() = default;
  explicit Bitmap(uint64_t bits);  // all clear, no page marked changed
  Bitmap(Bitmap&& other) noexcept;
  Bitmap& operator=(Bitmap&& other) noexcept;

  // Bytes of the file that holds `bits` bits.
  static uint64_t FileBytes(uint64_t bits) { return (bits + 7) / 8; }

  uint64_t size() const { return bits_; }

  // i < size(); an index out of range is a caller bug (asserted).
  bool Test(uint64_t i) const;
  bool Set(uint64_t i);    // returns true if the bit was clear
  bool Clear(uint64_t i);  // returns true if the bit was set

  uint64_t Count() const;
  // The first set bit at or after `from`, or size() when there is none.
  uint64_t NextSet(uint64_t from) const;
  // Every set bit, ascending.
  std::vector<uint64_t> SetBits() const;
  // Clears every bit (marking the pages that had any as changed).
  void ClearAll();

  // Grows to `bits` bits; the new ones are clear. Shrinking is not supported (asserted).
  void Resize(uint64_t bits);

  // Reads a bitmap of `bits` bits from `file`. A file shorter than FileBytes(bits) is
  // Corruption; a longer one is accepted only when the excess is all zeros (what an interrupted
  // grow leaves), else Corruption. Bits past `bits` in the last byte are ignored. No page is
  // marked changed: the file and the bitmap agree.
  static Result<Bitmap> Load(File& file, uint64_t bits);

  // The content of the pages changed since the last TakeChanges, and the marks cleared.
  struct Page {
    uint64_t index;  // page number: file offset index * kPageBytes
    Bytes bytes;     // kPageBytes, or fewer for the last page
  };
  std::vector<Page> TakeChanges();
  // Writes `pages` into `file` (no Sync).
  static Status WriteChanges(File& file, const std::vector<Page>& pages);
  // Marks `pages` changed again: a save that failed after TakeChanges must call this so the
  // next save retries them.
  void MarkChanged(const std::vector<Page>& pages);
  // Marks every page changed (the file is not to be trusted; the next save rewrites it all).
  void MarkAllChanged();

 private:
  using Word = std::atomic<uint64_t>;
  static constexpr uint64_t kPageBits = kPageBytes * 8;

  void MarkPage(uint64_t page);
  uint64_t page_count() const { return (FileBytes(bits_) + kPageBytes - 1) / kPageBytes; }

  uint64_t bits_ = 0;
  uint64_t words_count_ = 0;
  std::unique_ptr<Word[]> words_;
  uint64_t changed_count_ = 0;       // words of changed_
  std::unique_ptr<Word[]> changed_;  // one bit per page of the file
};

}  // namespace kiln
