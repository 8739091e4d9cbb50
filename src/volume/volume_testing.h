// Test-only helpers for the volume tests: an in-memory chunk store that counts fetches and can
// damage a chunk, base snapshots built from reference content, replayable seeds. Not part of
// kiln_volume.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "base/bytes.h"
#include "crypto/sha256.h"
#include "env/file_system.h"
#include "store/block_map.h"
#include "store/chunk_store.h"
#include "volume/volume.h"

namespace kiln::volume_testing {

// The seed of a randomized test: KILN_SEED if set (to replay a failure), else a fresh one.
inline uint64_t TestSeed() {
  if (const char* env = ::getenv("KILN_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

// Chunks in a map; ids are SHA-256 of the plaintext; Get verifies like the real store.
class FakeChunkStore : public ChunkStore {
 public:
  ChunkId IdFor(ByteView plaintext) const override {
    ChunkId id;
    id.bytes = Sha256(plaintext);
    return id;
  }
  Result<PutResult> Put(ByteView plaintext) override {
    return PutWithId(IdFor(plaintext), plaintext);
  }
  Result<PutResult> PutWithId(const ChunkId& id, ByteView plaintext) override {
    std::lock_guard lock(mu_);
    auto [it, inserted] = chunks_.emplace(id, Bytes(plaintext.begin(), plaintext.end()));
    return PutResult{id, inserted, inserted ? plaintext.size() : 0};
  }
  Result<Bytes> Get(const ChunkId& id) override {
    gets_.fetch_add(1);
    std::lock_guard lock(mu_);
    auto it = chunks_.find(id);
    if (it == chunks_.end()) return NotFoundError("chunk " + id.ToHex());
    if (IdFor(it->second) != id) return CorruptionError("chunk " + id.ToHex() + ": hash mismatch");
    return it->second;
  }
  Result<bool> Has(const ChunkId& id) override {
    std::lock_guard lock(mu_);
    return chunks_.contains(id);
  }
  Status Delete(const ChunkId& id) override {
    std::lock_guard lock(mu_);
    chunks_.erase(id);
    return Status::Ok();
  }
  Status List(const std::function<void(const ChunkId&)>& fn) override {
    std::lock_guard lock(mu_);
    for (const auto& [id, data] : chunks_) fn(id);
    return Status::Ok();
  }
  Result<StoreStats> Stats() override {
    std::lock_guard lock(mu_);
    StoreStats s;
    for (const auto& [id, data] : chunks_) {
      ++s.chunks;
      s.stored_bytes += data.size();
      s.logical_bytes += data.size();
    }
    return s;
  }

  // Flips a byte of the stored chunk: Get then reports Corruption.
  void Corrupt(const ChunkId& id) {
    std::lock_guard lock(mu_);
    chunks_.at(id)[0] ^= 0x5a;
  }
  uint64_t gets() const { return gets_.load(); }

 private:
  std::mutex mu_;
  std::map<ChunkId, Bytes> chunks_;
  std::atomic<uint64_t> gets_{0};
};

// `n` bytes of random data.
inline Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Builds a snapshot whose content is `image` (its size is the volume size): every non-zero
// block is put in `store`, the map is written to `path`. Returns the map.
inline BlockMap MakeBase(FileSystem& fs, ChunkStore& store, const std::string& path,
                         const Bytes& image, const LineageId& lineage = {1, 2, 3}) {
  BlockMap map(image.size(), lineage, "");
  for (uint64_t b = 0; b < map.block_count(); ++b) {
    Bytes block(kBlockSize, 0);
    const uint64_t begin = b * kBlockSize;
    const uint64_t len = std::min<uint64_t>(kBlockSize, image.size() - begin);
    std::copy_n(image.begin() + begin, len, block.begin());
    if (IsAllZero(block)) continue;
    auto put = store.Put(block);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    map.Set(b, put->id);
  }
  Status s = map.WriteTo(fs, path);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return map;
}

// An image of `size` bytes whose blocks are random, or zero where `rng` says so (1 in 4).
inline Bytes MakeImage(std::mt19937_64& rng, uint64_t size) {
  Bytes image(size, 0);
  for (uint64_t begin = 0; begin < size; begin += kBlockSize) {
    if (rng() % 4 == 0) continue;
    const uint64_t len = std::min<uint64_t>(kBlockSize, size - begin);
    for (uint64_t i = 0; i < len; ++i) image[begin + i] = static_cast<uint8_t>(rng());
  }
  return image;
}

// The whole volume, read in one call.
inline Bytes ReadAll(Volume& v) {
  Bytes out(v.size());
  Status s = v.Read(0, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Records every block a capture delivers; fails the test on a second delivery of one block.
class RecordingSink : public CaptureSink {
 public:
  void OnBlockCaptured(uint64_t block, ByteView data) override {
    std::lock_guard lock(mu_);
    EXPECT_EQ(data.size(), kBlockSize);
    auto [it, inserted] = blocks_.emplace(block, Bytes(data.begin(), data.end()));
    EXPECT_TRUE(inserted) << "block " << block << " delivered twice";
  }
  std::map<uint64_t, Bytes> blocks() const {
    std::lock_guard lock(mu_);
    return blocks_;
  }

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, Bytes> blocks_;
};

}  // namespace kiln::volume_testing
