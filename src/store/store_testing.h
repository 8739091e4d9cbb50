// Test-only helpers for the store tests: per-test temporary directories, replayable seeds and
// test data. Not part of kiln_store.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "base/bytes.h"
#include "env/env_testing.h"

namespace kiln::store_testing {

using env_testing::TempDir;

// The seed of a randomized test: KILN_SEED if set (to replay a failure), else a fresh one.
// Tests print it with SCOPED_TRACE so a failure names it.
inline uint64_t TestSeed() {
  if (const char* env = ::getenv("KILN_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

enum class DataKind { kRandom, kCompressible, kZero };

// `size` bytes of the given kind. Compressible data is text-like: words from a small
// vocabulary, so zstd shrinks it well but not to nothing.
inline Bytes MakeData(size_t size, DataKind kind, uint64_t seed) {
  Bytes b(size);
  std::mt19937_64 rng(seed);
  if (kind == DataKind::kRandom) {
    for (auto& x : b) x = static_cast<uint8_t>(rng());
  } else if (kind == DataKind::kCompressible) {
    static constexpr const char* kWords[] = {"block ", "chunk ", "kiln ", "snapshot ", "volume ",
                                             "image ", "\n",     "0x1f ", "lineage ",  "zstd "};
    size_t i = 0;
    while (i < size) {
      for (const char* w = kWords[rng() % 10]; *w != '\0' && i < size; ++w) b[i++] = *w;
      if (rng() % 8 == 0 && i < size) b[i++] = static_cast<uint8_t>(rng());
    }
  }
  return b;
}

}  // namespace kiln::store_testing
