// ByteReader: bounds-checked sequential reads for parsing the key service's small files.
// Internal to src/kms. Every Read* returns false instead of reading past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "base/bytes.h"

namespace kiln {

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }

  bool ReadU8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool ReadU16(uint16_t& v) {
    if (remaining() < 2) return false;
    std::memcpy(&v, data_.data() + pos_, 2);
    pos_ += 2;
    return true;
  }
  bool ReadU32(uint32_t& v) {
    if (remaining() < 4) return false;
    v = GetU32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool ReadU64(uint64_t& v) {
    if (remaining() < 8) return false;
    v = GetU64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool ReadString(size_t n, std::string& out) {
    if (remaining() < n) return false;
    out.assign(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  template <size_t N>
  bool ReadArray(std::array<uint8_t, N>& out) {
    if (remaining() < N) return false;
    std::memcpy(out.data(), data_.data() + pos_, N);
    pos_ += N;
    return true;
  }
  bool ReadBytes(size_t n, Bytes& out) {
    if (remaining() < n) return false;
    out.assign(data_.begin() + pos_, data_.begin() + pos_ + n);
    pos_ += n;
    return true;
  }

 private:
  ByteView data_;
  size_t pos_ = 0;
};

inline void AppendU16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
inline void AppendString(Bytes& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace kiln
