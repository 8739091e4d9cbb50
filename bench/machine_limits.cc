#include "bench/machine_limits.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "bench/bench_util.h"
#include "crypto/sha256.h"
#include "store/block_map.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kMaxSample = 256ULL << 20;
constexpr uint64_t kMinCpuMicros = 1'000'000;  // each CPU figure runs for at least this long
constexpr size_t kDiskRequest = 1 << 20;

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

// Runs `pass` (which processes every block of `sample` once) until kMinCpuMicros have passed;
// returns input MB/s.
template <typename Pass>
double TimePasses(const Bytes& sample, Pass pass) {
  Stopwatch watch(SystemClock());
  uint64_t bytes = 0;
  do {
    pass();
    bytes += sample.size();
  } while (watch.ElapsedMicros() < kMinCpuMicros);
  return Mbps(bytes, watch.ElapsedMicros());
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
                                           int cores) {
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
  return m;
}

}  // namespace kiln::bench
