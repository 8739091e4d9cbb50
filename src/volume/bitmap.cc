#include "volume/bitmap.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <string>

namespace kiln {
namespace {

uint64_t WordsFor(uint64_t bits) { return (bits + 63) / 64; }

std::unique_ptr<std::atomic<uint64_t>[]> ZeroWords(uint64_t n) {
  // Value-initialised: every word starts at zero.
  return std::unique_ptr<std::atomic<uint64_t>[]>(new std::atomic<uint64_t>[n]());
}

}  // namespace

Bitmap::Bitmap(uint64_t bits)
    : bits_(bits),
      words_count_(WordsFor(bits)),
      words_(ZeroWords(words_count_)),
      changed_count_(WordsFor(page_count())),
      changed_(ZeroWords(changed_count_)) {}

Bitmap::Bitmap(Bitmap&& other) noexcept { *this = std::move(other); }

Bitmap& Bitmap::operator=(Bitmap&& other) noexcept {
  bits_ = std::exchange(other.bits_, 0);
  words_count_ = std::exchange(other.words_count_, 0);
  words_ = std::move(other.words_);
  changed_count_ = std::exchange(other.changed_count_, 0);
  changed_ = std::move(other.changed_);
  return *this;
}

bool Bitmap::Test(uint64_t i) const {
  assert(i < bits_);
  return (words_[i / 64].load(std::memory_order_acquire) >> (i % 64)) & 1;
}

bool Bitmap::Set(uint64_t i) {
  assert(i < bits_);
  const uint64_t mask = 1ULL << (i % 64);
  Word& word = words_[i / 64];
  // A plain load first: setting an already set bit (every write marks its block dirty) then
  // costs no cache-line ownership.
  if (word.load(std::memory_order_acquire) & mask) return false;
  // The bit first, then the page mark: TakeChanges clears the mark before it reads the bits,
  // so a bit it misses always leaves its page marked for the next save.
  if (word.fetch_or(mask) & mask) return false;
  MarkPage(i / kPageBits);
  return true;
}

bool Bitmap::Clear(uint64_t i) {
  assert(i < bits_);
  const uint64_t mask = 1ULL << (i % 64);
  if (!(words_[i / 64].fetch_and(~mask) & mask)) return false;
  MarkPage(i / kPageBits);
  return true;
}

void Bitmap::MarkPage(uint64_t page) { changed_[page / 64].fetch_or(1ULL << (page % 64)); }

uint64_t Bitmap::Count() const {
  uint64_t n = 0;
  for (uint64_t w = 0; w < words_count_; ++w) n += std::popcount(words_[w].load());
  return n;
}

uint64_t Bitmap::NextSet(uint64_t from) const {
  if (from >= bits_) return bits_;
  uint64_t w = from / 64;
  uint64_t word = words_[w].load() & (~0ULL << (from % 64));
  while (word == 0) {
    if (++w == words_count_) return bits_;
    word = words_[w].load();
  }
  const uint64_t i = w * 64 + std::countr_zero(word);
  return i < bits_ ? i : bits_;
}

std::vector<uint64_t> Bitmap::SetBits() const {
  std::vector<uint64_t> out;
  for (uint64_t i = NextSet(0); i < bits_; i = NextSet(i + 1)) out.push_back(i);
  return out;
}

void Bitmap::ClearAll() {
  for (uint64_t w = 0; w < words_count_; ++w) {
    if (words_[w].exchange(0) != 0) MarkPage(w * 64 / kPageBits);
  }
}

void Bitmap::Resize(uint64_t bits) {
  assert(bits >= bits_);
  Bitmap bigger(bits);
  for (uint64_t w = 0; w < words_count_; ++w) bigger.words_[w].store(words_[w].load());
  for (uint64_t w = 0; w < changed_count_; ++w) bigger.changed_[w].store(changed_[w].load());
  *this = std::move(bigger);
}

Result<Bitmap> Bitmap::Load(File& file, uint64_t bits) {
  const uint64_t want = FileBytes(bits);
  ASSIGN_OR_RETURN(uint64_t have, file.Size());
  if (have < want) {
    return CorruptionError("bitmap file is " + std::to_string(have) + " bytes, expected " +
                           std::to_string(want) + " for " + std::to_string(bits) + " blocks");
  }
  Bytes raw(have);
  RETURN_IF_ERROR(ReadExactly(file, 0, raw));
  if (!IsAllZero(ByteView(raw).subspan(want))) {
    return CorruptionError("bitmap file is " + std::to_string(have) + " bytes, expected " +
                           std::to_string(want) + ", and the excess is not zero");
  }
  Bitmap map(bits);
  for (uint64_t w = 0; w < map.words_count_; ++w) {
    uint64_t word = 0;
    const uint64_t begin = w * 8;
    std::memcpy(&word, raw.data() + begin, std::min<uint64_t>(8, want - begin));
    map.words_[w].store(word);
  }
  if (bits % 64 != 0 && map.words_count_ > 0) {
    map.words_[map.words_count_ - 1].fetch_and((1ULL << (bits % 64)) - 1);
  }
  return map;
}

std::vector<Bitmap::Page> Bitmap::TakeChanges() {
  std::vector<Page> pages;
  const uint64_t file_bytes = FileBytes(bits_);
  for (uint64_t cw = 0; cw < changed_count_; ++cw) {
    uint64_t marks = changed_[cw].exchange(0);
    while (marks != 0) {
      const uint64_t page = cw * 64 + std::countr_zero(marks);
      marks &= marks - 1;
      const uint64_t begin = page * kPageBytes;
      const uint64_t len = std::min(kPageBytes, file_bytes - begin);
      Page p{page, Bytes(len)};
      for (uint64_t off = 0; off < len; off += 8) {
        const uint64_t word = words_[(begin + off) / 8].load();
        std::memcpy(p.bytes.data() + off, &word, std::min<uint64_t>(8, len - off));
      }
      pages.push_back(std::move(p));
    }
  }
  return pages;
}

Status Bitmap::WriteChanges(File& file, const std::vector<Page>& pages) {
  for (const Page& page : pages) {
    RETURN_IF_ERROR(file.WriteAt(page.index * kPageBytes, page.bytes));
  }
  return Status::Ok();
}

void Bitmap::MarkChanged(const std::vector<Page>& pages) {
  for (const Page& page : pages) MarkPage(page.index);
}

void Bitmap::MarkAllChanged() {
  const uint64_t pages = page_count();
  for (uint64_t p = 0; p < pages; ++p) MarkPage(p);
}

}  // namespace kiln
