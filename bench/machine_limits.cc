#include "bench/machine_limits.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "crypto/crypto.h"
#include "crypto/sha256.h"
#include "store/block_map.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kMaxSample = 256ULL << 20;
constexpr uint64_t kMinCpuMicros = 1'000'000;  // each CPU figure runs for at least this long
constexpr size_t kDiskRequest = 1 << 20;
constexpr size_t kSector = 4096;
constexpr uint64_t kMaxXtsSample = 64ULL << 20;  // XTS works in place, on a copy this large

// The image's non-zero 512 KiB blocks, up to kMaxSample bytes, back to back.
Result<Bytes> LoadSample(FileSystem& fs, const std::string& image) {
  ASSIGN_OR_RETURN(auto file, fs.Open(image, OpenMode::kRead));
  ASSIGN_OR_RETURN(uint64_t size, file->Size());
  Bytes sample;
  Bytes block(kBlockSize);
  for (uint64_t off = 0; off < size && sample.size() < kMaxSample; off += kBlockSize) {
    ASSIGN_OR_RETURN(size_t n, file->ReadAt(off, block));
    ByteView got(block.data(), n);
    if (n == 0 || IsAllZero(got)) continue;
    sample.insert(sample.end(), got.begin(), got.end());
  }
  if (sample.empty()) return FailedPreconditionError(image + " holds no data");
  return sample;
}

// Runs `pass` (which processes `pass_bytes` once) until kMinCpuMicros have passed; returns
// input MB/s.
template <typename Pass>
double TimePasses(uint64_t pass_bytes, Pass pass) {
  Stopwatch watch(SystemClock());
  uint64_t bytes = 0;
  do {
    pass();
    bytes += pass_bytes;
  } while (watch.ElapsedMicros() < kMinCpuMicros);
  return Mbps(bytes, watch.ElapsedMicros());
}
template <typename Pass>
double TimePasses(const Bytes& sample, Pass pass) {
  return TimePasses(sample.size(), pass);
}

// Calls fn(offset, view) for each `piece`-byte piece of `data` (the last may be shorter).
template <typename Data, typename Fn>
void ForEachPiece(Data& data, size_t piece, Fn fn) {
  for (size_t off = 0; off < data.size(); off += piece) {
    fn(off, std::span(data.data() + off, std::min(piece, data.size() - off)));
  }
}

double MeasureSha256(const Bytes& sample) {
  volatile uint8_t sink = 0;  // keeps the digests observable
  return TimePasses(sample, [&] {
    for (size_t off = 0; off < sample.size(); off += kBlockSize) {
      size_t n = std::min<size_t>(kBlockSize, sample.size() - off);
      sink = sink ^ Sha256(ByteView(sample.data() + off, n))[0];
    }
  });
}

double MeasureZstd1(const Bytes& sample, double* ratio) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  Bytes out(ZSTD_compressBound(kBlockSize));
  uint64_t out_bytes = 0;
  double mbps = TimePasses(sample, [&] {
    out_bytes = 0;
    for (size_t off = 0; off < sample.size(); off += kBlockSize) {
      size_t n = std::min<size_t>(kBlockSize, sample.size() - off);
      size_t c = ZSTD_compressCCtx(ctx, out.data(), out.size(), sample.data() + off, n, 1);
      out_bytes += ZSTD_isError(c) ? n : c;
    }
  });
  ZSTD_freeCCtx(ctx);
  *ratio = out_bytes == 0 ? 0 : static_cast<double>(sample.size()) / static_cast<double>(out_bytes);
  return mbps;
}

// AES-256-GCM as a sealed chunk uses it: 512 KiB blocks, 48 bytes of associated data (chunk
// id and lineage), appended to a reused buffer. Passes over the sample until `watch` shows
// kMinCpuMicros; returns the bytes sealed, or the first error.
Result<uint64_t> SealUntil(const Bytes& sample, const Key256& key, const Stopwatch& watch) {
  const std::array<uint8_t, 48> ad{};
  Bytes out;
  out.reserve(kBlockSize + kGcmNonceSize + kGcmTagSize);
  Status status;
  uint64_t bytes = 0;
  do {
    ForEachPiece(sample, kBlockSize, [&](size_t, ByteView block) {
      out.clear();
      if (status.ok()) status = AesGcmSealTo(key, block, ad, out);
    });
    RETURN_IF_ERROR(status);
    bytes += sample.size();
  } while (watch.ElapsedMicros() < kMinCpuMicros);
  return bytes;
}

// The same on `threads` threads at once over the shared (read-only) sample: the total rate.
Result<double> MeasureGcm(const Bytes& sample, const Key256& key, int threads) {
  std::atomic<uint64_t> total{0};
  std::vector<Status> errors(static_cast<size_t>(threads));
  Stopwatch watch(SystemClock());
  auto worker = [&](size_t t) {
    Result<uint64_t> bytes = SealUntil(sample, key, watch);
    if (bytes.ok())
      total += *bytes;
    else
      errors[t] = bytes.status();
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < errors.size(); ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& t : pool) t.join();
  const uint64_t micros = watch.ElapsedMicros();
  for (const Status& e : errors) RETURN_IF_ERROR(e);
  return Mbps(total.load(), micros);
}

// AES-256-XTS encryption of 4 KiB sectors in place, as XtsFile writes them.
Result<double> MeasureXts(const Bytes& sample, const XtsKey& key) {
  Bytes work(sample.begin(), sample.begin() + std::min<uint64_t>(sample.size(), kMaxXtsSample));
  work.resize(work.size() / kSector * kSector);
  if (work.empty()) return FailedPreconditionError("sample smaller than a sector");
  Status status;
  double mbps = TimePasses(work.size(), [&] {
    ForEachPiece(work, kSector, [&](size_t off, MutableByteView sector) {
      if (status.ok()) status = AesXtsEncrypt(key, off / kSector, sector);
    });
  });
  RETURN_IF_ERROR(status);
  return mbps;
}

// HMAC-SHA-256 of `piece`-byte pieces; with `numbered`, of le64(sector number) || piece, as
// sector tags are made.
double MeasureHmac(const Bytes& sample, const Key256& key, size_t piece, bool numbered) {
  volatile uint8_t sink = 0;
  return TimePasses(sample, [&] {
    ForEachPiece(sample, piece, [&](size_t off, ByteView data) {
      uint8_t number[8];
      for (int i = 0; i < 8; ++i) number[i] = static_cast<uint8_t>((off / piece) >> (8 * i));
      Digest256 mac = numbered ? HmacSha256(key, ByteView(number, 8), data) : HmacSha256(key, data);
      sink = sink ^ mac[0];
    });
  });
}

Result<CryptoLimits> MeasureCrypto(const Bytes& sample, const MachineLimits& m) {
  CryptoLimits c;
  ASSIGN_OR_RETURN(Key256 key, RandomKey());
  XtsKey xts;
  RETURN_IF_ERROR(RandomBytes(xts));
  ASSIGN_OR_RETURN(c.gcm_mbps, MeasureGcm(sample, key, 1));
  c.gcm_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ASSIGN_OR_RETURN(c.gcm_all_mbps, MeasureGcm(sample, key, c.gcm_threads));
  ASSIGN_OR_RETURN(c.xts_mbps, MeasureXts(sample, xts));
  c.hmac_sector_mbps = MeasureHmac(sample, key, kSector, /*numbered=*/true);
  c.hmac_block_mbps = MeasureHmac(sample, key, kBlockSize, /*numbered=*/false);
  // Seconds per byte, in MB/s units: 1/x is microseconds per byte.
  const double gcm_per_plain = 1.0 / (c.gcm_mbps * m.zstd1_ratio);  // GCM sees compressed bytes
  const double volume_side = 1.0 / c.hmac_sector_mbps + 1.0 / c.xts_mbps;
  c.per_core_mbps =
      1.0 / (volume_side + 1.0 / c.hmac_block_mbps + 1.0 / m.zstd1_mbps + gcm_per_plain);
  c.limit_mbps = std::min(m.cores * c.per_core_mbps, m.disk_write_mbps);
  c.fetch_sec_per_byte = (gcm_per_plain + 1.0 / c.hmac_block_mbps + volume_side) / 1e6;
  c.fetch_extra_sec_per_byte = c.fetch_sec_per_byte - 1.0 / m.sha256_mbps / 1e6;
  return c;
}

// O_DIRECT is outside FileSystem's contract (it needs aligned buffers and bypasses the page
// cache on purpose), so the disk figure talks to the OS directly. The buffer holds image data,
// not zeros, so no layer can shortcut it.
// File systems without O_DIRECT (tmpfs) get buffered writes and the fsync, said in `method`.
Result<double> MeasureDiskWrite(const std::string& path, uint64_t bytes, const Bytes& sample,
                                std::string* method) {
  void* raw = nullptr;
  if (::posix_memalign(&raw, 4096, kDiskRequest) != 0) return InternalError("posix_memalign");
  std::unique_ptr<void, decltype(&std::free)> buf(raw, &std::free);
  std::copy_n(sample.data(), std::min<size_t>(kDiskRequest, sample.size()),
              static_cast<uint8_t*>(raw));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  *method = "O_DIRECT 1 MiB + fsync";
  if (fd < 0 && errno == EINVAL) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    *method = "buffered 1 MiB + fsync (no O_DIRECT here)";
  }
  if (fd < 0) return ErrnoError("open " + path, errno);
  Stopwatch watch(SystemClock());
  Status status;
  for (uint64_t off = 0; off < bytes && status.ok(); off += kDiskRequest) {
    ssize_t n = ::pwrite(fd, raw, kDiskRequest, static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(kDiskRequest))
      status = ErrnoError("pwrite " + path, n < 0 ? errno : EIO);
  }
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync " + path, errno);
  uint64_t micros = watch.ElapsedMicros();
  ::close(fd);
  ::unlink(path.c_str());
  RETURN_IF_ERROR(status);
  return Mbps(bytes, micros);
}

}  // namespace

Result<MachineLimits> MeasureMachineLimits(FileSystem& fs, const std::string& image,
                                           const std::string& work_dir, uint64_t disk_bytes,
                                           int cores, bool crypto) {
  MachineLimits m;
  ASSIGN_OR_RETURN(Bytes sample, LoadSample(fs, image));
  m.sample_bytes = sample.size();
  m.sha256_mbps = MeasureSha256(sample);
  m.zstd1_mbps = MeasureZstd1(sample, &m.zstd1_ratio);
  m.disk_write_bytes = disk_bytes / kDiskRequest * kDiskRequest;
  ASSIGN_OR_RETURN(m.disk_write_mbps,
                   MeasureDiskWrite(JoinPath(work_dir, "disk-write-test.tmp"), m.disk_write_bytes,
                                    sample, &m.disk_write_method));
  m.cores = cores;
  m.per_core_mbps = 1.0 / (1.0 / m.sha256_mbps + 1.0 / m.zstd1_mbps);
  m.limit_mbps = std::min(cores * m.per_core_mbps, m.disk_write_mbps);
  if (crypto) {
    ASSIGN_OR_RETURN(m.crypto, MeasureCrypto(sample, m));
  }
  return m;
}

}  // namespace kiln::bench
