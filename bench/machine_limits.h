// The machine's limits for a full snapshot, measured in the same run on the benchmark's own
// data so the snapshot's throughput can be judged against what this hardware can do:
//   - single-core SHA-256 (src/crypto, OpenSSL) and single-core zstd level 1 compression
//     (libzstd, as the chunk store uses it), both over the image's non-zero 512 KiB blocks;
//   - sequential disk write: O_DIRECT, 1 MiB requests, fsync at the end, in the work dir.
// The limit: per core a block must be hashed then compressed, so one core moves
// 1/(1/sha + 1/zstd) bytes per second; `cores` cores move that many times more; the result is
// capped by the disk's sequential write.
//
// With `crypto`, also the per-byte costs of the encrypted path (issue 3), through kiln's own
// crypto (src/crypto/crypto.h, OpenSSL EVP) on the same data:
//   - AES-256-GCM seal of 512 KiB blocks (AesGcmSealTo, as chunks are sealed), one thread and
//     every hardware thread at once;
//   - AES-256-XTS of 4 KiB sectors (AesXtsEncrypt, as an encrypted volume's data file);
//   - HMAC-SHA-256 of 4 KiB sectors with their 8-byte number (HmacSha256, the sector tags) and
//     of 512 KiB blocks (the chunk ids of an encrypted lineage).
// An encrypted full snapshot does, per byte of non-zero data and on one core: the tag check
// and XTS decryption of the volume's sectors, the keyed chunk id, zstd, and AES-GCM of the
// compressed bytes; that gives the encrypted limit the same way as the unencrypted one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "env/file_system.h"

namespace kiln::bench {

struct CryptoLimits {
  double gcm_mbps = 0;      // AES-256-GCM seal, 512 KiB, one thread
  double gcm_all_mbps = 0;  // the same on `gcm_threads` threads at once, all together
  int gcm_threads = 0;
  double xts_mbps = 0;          // AES-256-XTS encrypt, 4 KiB sectors, one thread
  double hmac_sector_mbps = 0;  // HMAC-SHA-256 of sector number || 4 KiB, one thread
  double hmac_block_mbps = 0;   // HMAC-SHA-256 of 512 KiB, one thread
  // 1 / (1/hmac_sector + 1/xts + 1/hmac_block + 1/zstd1 + 1/(gcm x zstd1 ratio))
  double per_core_mbps = 0;
  double limit_mbps = 0;  // min(cores x per_core, disk_write)
  // Seconds of crypto per byte of a block fetched from an encrypted chunk (GCM open of the
  // compressed bytes, chunk id, XTS, sector tag) beyond an unencrypted fetch's SHA-256;
  // GCM open is taken to cost what seal does.
  double fetch_extra_sec_per_byte = 0;
  double fetch_sec_per_byte = 0;  // all of that crypto, the chunk id's HMAC included
};

struct MachineLimits {
  uint64_t sample_bytes = 0;  // non-zero image data the CPU figures were measured on
  double sha256_mbps = 0;     // one core
  double zstd1_mbps = 0;      // one core, input bytes per second
  double zstd1_ratio = 0;     // input / output on the sample
  uint64_t disk_write_bytes = 0;
  double disk_write_mbps = 0;
  std::string disk_write_method;  // O_DIRECT, or buffered where the file system has none
  int cores = 0;
  double per_core_mbps = 0;            // 1 / (1/sha256 + 1/zstd1)
  double limit_mbps = 0;               // min(cores * per_core, disk_write)
  std::optional<CryptoLimits> crypto;  // measured only when asked for
};

// `image` supplies the data (its first 256 MiB of non-zero blocks); the disk test writes
// `disk_bytes` to a temporary file in `work_dir` and removes it. `crypto` adds the encrypted
// path's figures (about 5 s more).
Result<MachineLimits> MeasureMachineLimits(FileSystem& fs, const std::string& image,
                                           const std::string& work_dir, uint64_t disk_bytes,
                                           int cores, bool crypto);

}  // namespace kiln::bench
