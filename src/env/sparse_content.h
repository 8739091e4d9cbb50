// SparseContent: the bytes of one in-memory file (MemFileSystem's inodes), stored as 4 KiB pages
// in an ordered map. Missing pages read as zeros, so a file of any size costs only the pages
// written to it.
//
// Pages are shared copy-on-write: copying a SparseContent copies page pointers, never bytes, and
// writing to a page that another copy shares clones that one page first. MemFileSystem uses this
// to keep a file's current and durable contents side by side cheaply.
//
// Invariant: bytes of a stored page past size() are zero, so growing a file exposes zeros.
//
// Thread-safety: none. A content and every copy sharing its pages must be used under one lock
// (copy-on-write decides by the pages' reference counts).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_set>

#include "base/bytes.h"

namespace kiln {

class SparseContent {
 public:
  static constexpr uint64_t kPageSize = 4096;
  // Indexes of pages a mutation changed (added, modified or dropped).
  using PageSet = std::unordered_set<uint64_t>;

  uint64_t size() const { return size_; }
  uint64_t allocated_bytes() const { return pages_.size() * kPageSize; }

  // Copies min(out.size(), size() - offset) bytes at `offset` into `out`; returns how many.
  size_t Read(uint64_t offset, MutableByteView out) const;
  // Writes `data` at `offset`, growing the size if needed. The caller keeps offset + size within
  // uint64_t. Each mutation adds the pages it changed to `touched` when it is not null.
  void Write(uint64_t offset, ByteView data, PageSet* touched);
  // Zeros [offset, offset + len), dropping whole pages; the size is unchanged.
  void PunchHole(uint64_t offset, uint64_t len, PageSet* touched);
  // Sets the size; shrinking drops the pages past it and zeros the tail of the last one.
  void Truncate(uint64_t size, PageSet* touched);

  // Makes page `index` of this content the same as in `from` (shared, or absent).
  void CopyPageFrom(const SparseContent& from, uint64_t index);
  void set_size(uint64_t size) { size_ = size; }

 private:
  struct Page {
    uint8_t bytes[kPageSize];
  };

  // The page at `index` ready for writing: created zeroed, or cloned if shared.
  uint8_t* MutablePage(uint64_t index);
  // The page at `index`, unshared, with unspecified bytes: for a write of the whole page.
  uint8_t* WholePageForOverwrite(uint64_t index);
  // Zeros [begin, end) of the page at `index`, if it is stored; `begin` < `end` <= kPageSize.
  void ZeroInPage(uint64_t index, uint64_t begin, uint64_t end, PageSet* touched);
  // Drops stored pages with index in [first, last).
  void DropPages(uint64_t first, uint64_t last, PageSet* touched);

  std::map<uint64_t, std::shared_ptr<Page>> pages_;
  uint64_t size_ = 0;
};

}  // namespace kiln
