#include "env/sparse_content.h"

#include <algorithm>
#include <cstring>

namespace kiln {

size_t SparseContent::Read(uint64_t offset, MutableByteView out) const {
  if (offset >= size_) return 0;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
  if (n == 0) return 0;
  // Zero first, then copy only the stored pages: a read across a huge hole costs a memset.
  std::memset(out.data(), 0, n);
  const uint64_t end = offset + n;
  for (auto it = pages_.lower_bound(offset / kPageSize);
       it != pages_.end() && it->first * kPageSize < end; ++it) {
    const uint64_t page_start = it->first * kPageSize;
    const uint64_t from = std::max(offset, page_start);
    const uint64_t to = std::min(end, page_start + kPageSize);
    std::memcpy(out.data() + (from - offset), it->second->bytes + (from - page_start), to - from);
  }
  return n;
}

void SparseContent::Write(uint64_t offset, ByteView data, PageSet* touched) {
  if (data.empty()) return;  // like pwrite of 0 bytes: no growth
  uint64_t pos = offset;
  size_t done = 0;
  while (done < data.size()) {
    const uint64_t index = pos / kPageSize;
    const uint64_t in_page = pos % kPageSize;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kPageSize - in_page, data.size() - done));
    uint8_t* page = n == kPageSize ? WholePageForOverwrite(index) : MutablePage(index);
    std::memcpy(page + in_page, data.data() + done, n);
    if (touched != nullptr) touched->insert(index);
    pos += n;
    done += n;
  }
  size_ = std::max(size_, offset + data.size());
}

void SparseContent::PunchHole(uint64_t offset, uint64_t len, PageSet* touched) {
  if (len == 0) return;
  const uint64_t last_byte = offset + (len - 1);
  const uint64_t first = offset / kPageSize;
  const uint64_t last = last_byte / kPageSize;
  if (first == last) {
    ZeroInPage(first, offset % kPageSize, last_byte % kPageSize + 1, touched);
    return;
  }
  ZeroInPage(first, offset % kPageSize, kPageSize, touched);
  ZeroInPage(last, 0, last_byte % kPageSize + 1, touched);
  DropPages(first + 1, last, touched);
}

void SparseContent::Truncate(uint64_t size, PageSet* touched) {
  if (size < size_) {
    DropPages(size / kPageSize + (size % kPageSize != 0 ? 1 : 0), UINT64_MAX, touched);
    // Keep the invariant (zeros past the size) so a later growth reads zeros there.
    if (size % kPageSize != 0) ZeroInPage(size / kPageSize, size % kPageSize, kPageSize, touched);
  }
  size_ = size;
}

void SparseContent::CopyPageFrom(const SparseContent& from, uint64_t index) {
  auto it = from.pages_.find(index);
  if (it != from.pages_.end()) {
    pages_[index] = it->second;
  } else {
    pages_.erase(index);
  }
}

uint8_t* SparseContent::MutablePage(uint64_t index) {
  auto [it, inserted] = pages_.try_emplace(index);
  if (inserted) {
    it->second = std::make_shared<Page>();  // value-initialized: zeros
  } else if (it->second.use_count() > 1) {
    it->second = std::make_shared<Page>(*it->second);
  }
  return it->second->bytes;
}

uint8_t* SparseContent::WholePageForOverwrite(uint64_t index) {
  std::shared_ptr<Page>& page = pages_[index];
  // Neither zeroing nor copying: every byte is about to be written.
  if (page == nullptr || page.use_count() > 1) page = std::make_shared_for_overwrite<Page>();
  return page->bytes;
}

void SparseContent::ZeroInPage(uint64_t index, uint64_t begin, uint64_t end, PageSet* touched) {
  auto it = pages_.find(index);
  if (it == pages_.end()) return;
  if (touched != nullptr) touched->insert(index);
  if (begin == 0 && end == kPageSize) {
    pages_.erase(it);
    return;
  }
  std::memset(MutablePage(index) + begin, 0, end - begin);
}

void SparseContent::DropPages(uint64_t first, uint64_t last, PageSet* touched) {
  auto it = pages_.lower_bound(first);
  while (it != pages_.end() && it->first < last) {
    if (touched != nullptr) touched->insert(it->first);
    it = pages_.erase(it);
  }
}

}  // namespace kiln
