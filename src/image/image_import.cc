#include "image/image_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "env/subprocess.h"

namespace kiln {
namespace {

// A descriptor closed on every path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status Errno(const std::string& what, int err) {
  if (err == ENOENT) return NotFoundError(what + ": no such file");
  return IoError(what + ": " + std::strerror(err));
}

uint32_t Le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t{p[3]} << 24; }

// The data extents of `fd` in [0, size): SEEK_DATA/SEEK_HOLE, or one extent if unsupported.
std::vector<std::pair<uint64_t, uint64_t>> DataExtents(int fd, uint64_t size) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    const off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole remains
      return {{0, size}};         // no SEEK_DATA: read everything
    }
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = static_cast<off_t>(size);
    out.emplace_back(static_cast<uint64_t>(data), static_cast<uint64_t>(hole));
    pos = hole;
  }
  return out;
}

// Removes the scratch volume directory (flat) on every path.
void RemoveFlatDir(FileSystem& fs, const std::string& dir) {
  auto names = fs.ListDir(dir);
  if (names.ok()) {
    for (const auto& name : *names) fs.Remove(JoinPath(dir, name)).IgnoreError();
  }
  fs.RemoveDir(dir).IgnoreError();
}

// Copies the non-zero blocks of the image into `volume`.
Status CopyImage(int fd, uint64_t size, Volume& volume, const ImportOptions& options,
                 ImportResult& result) {
  const auto extents = DataExtents(fd, size);
  uint64_t total = 0;
  for (const auto& [b, e] : extents) total += e - b;
  Bytes block(kBlockSize);
  for (const auto& [begin, end] : extents) {
    // Whole volume blocks, so each is stored (or skipped as zero) once.
    for (uint64_t b = begin / kBlockSize * kBlockSize; b < end; b += kBlockSize) {
      const uint64_t len = std::min(kBlockSize, size - b);
      ssize_t n = ::pread(fd, block.data(), len, static_cast<off_t>(b));
      if (n < 0) return Errno("reading the image", errno);
      std::fill(block.begin() + n, block.begin() + len, 0);
      result.bytes_read += static_cast<uint64_t>(n);
      if (!IsAllZero(ByteView(block).first(len))) {
        RETURN_IF_ERROR(volume.Write(b, ByteView(block).first(len)));
      }
      if (options.progress) options.progress(std::min(result.bytes_read, total), total);
    }
  }
  return volume.Flush();
}

}  // namespace

Result<Ext4Info> ProbeExt4(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return Errno("image " + path, errno);
  uint8_t sb[1024];
  const ssize_t n = ::pread(f.fd, sb, sizeof sb, 1024);
  if (n != static_cast<ssize_t>(sizeof sb) || sb[56] != 0x53 || sb[57] != 0xEF) {
    return InvalidArgumentError("image " + path +
                                " holds no ext4 file system (no superblock at offset 1024)");
  }
  const uint32_t log_block = Le32(sb + 24);
  if (log_block > 6) {
    return InvalidArgumentError("image " + path + ": corrupt ext4 superblock (block size)");
  }
  Ext4Info info;
  info.block_size = 1024ULL << log_block;
  info.blocks = Le32(sb + 4);
  const uint32_t incompat = Le32(sb + 96);
  if (incompat & 0x80) info.blocks |= uint64_t{Le32(sb + 0x150)} << 32;  // 64bit feature
  if (info.blocks == 0) {
    return InvalidArgumentError("image " + path + ": corrupt ext4 superblock (no blocks)");
  }
  return info;
}

Result<ImportResult> ImportRawImage(FileSystem& fs, SnapshotStore& snaps, ChunkStore& store,
                                    const std::string& path, const std::string& id,
                                    const ImportOptions& options) {
  ASSIGN_OR_RETURN(Ext4Info ext4, ProbeExt4(path));
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return Errno("image " + path, errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return Errno("image " + path, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0 || size > kMaxVolumeSize) {
    return InvalidArgumentError("image " + path + " is " + std::to_string(size) +
                                " bytes; an image is 1 byte .. 16 TiB");
  }
  if (ext4.bytes() > size) {
    return InvalidArgumentError("image " + path + ": its ext4 file system (" +
                                std::to_string(ext4.bytes()) + " bytes) is larger than the file");
  }
  if (snaps.Load(id).ok()) return AlreadyExistsError("snapshot " + id + " exists");
  if ((options.keys == nullptr) != (options.sealed_store == nullptr)) {
    return InvalidArgumentError("an encrypted import needs both keys and a sealed store");
  }

  const std::string dir = JoinPath(options.scratch_dir, "import-" + id);
  RETURN_IF_ERROR(CreateDirs(fs, options.scratch_dir));
  ChunkStore& target = options.sealed_store ? *options.sealed_store : store;
  ASSIGN_OR_RETURN(auto volume, Volume::Create(fs, target, dir, size, {}, options.keys));
  ImportResult result;
  result.volume_size = size;
  Status s = CopyImage(f.fd, size, *volume, options, result);
  if (s.ok()) {
    auto job = snaps.Start(*volume, id);
    s = job.status();
    if (s.ok()) {
      auto info = (*job)->Run();
      s = info.status();
      if (s.ok()) result.blocks_stored = info->mapped_blocks;
    }
  }
  if (s.ok()) s = volume->Close();
  volume.reset();
  RemoveFlatDir(fs, dir);
  if (!s.ok()) return s.Annotate("importing " + path);
  return result;
}

Result<ImportResult> ImportRootfs(FileSystem& fs, SnapshotStore& snaps, ChunkStore& store,
                                  const std::string& source, uint64_t size, const std::string& id,
                                  const ImportOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(source, ec)) return NotFoundError("no root file system " + source);
  if (size == 0 || size > kMaxVolumeSize) {
    return InvalidArgumentError("root file system size " + std::to_string(size) +
                                " is not in 1 byte .. 16 TiB");
  }
  RETURN_IF_ERROR(CreateDirs(fs, options.scratch_dir));
  const std::string image = JoinPath(options.scratch_dir, "rootfs-" + id + ".ext4");
  auto cleanup = [&] { std::filesystem::remove(image, ec); };
  {
    Fd f{::open(image.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (f.fd < 0) return Errno("scratch image " + image, errno);
    if (::ftruncate(f.fd, static_cast<off_t>(size)) != 0) {
      const Status s = Errno("scratch image " + image, errno);
      cleanup();
      return s;
    }
  }
  // mke2fs -d takes a directory (Debian's is built without tarball support): a tarball is
  // unpacked into the scratch directory first, as root so owners and modes are kept; GNU tar
  // detects the compression.
  std::string tree = source;
  const std::string unpacked = JoinPath(options.scratch_dir, "rootfs-" + id + ".d");
  auto cleanup_tree = [&] { std::filesystem::remove_all(unpacked, ec); };
  if (!std::filesystem::is_directory(source, ec)) {
    std::filesystem::create_directories(unpacked, ec);
    auto unpack = RunChecked({"tar", "--numeric-owner", "-C", unpacked, "-xf", source});
    if (!unpack.ok()) {
      cleanup_tree();
      cleanup();
      return InvalidArgumentError("cannot unpack " + source +
                                  " as a tarball: " + unpack.status().message());
    }
    tree = unpacked;
  }
  auto made = RunChecked({"mke2fs", "-q", "-F", "-t", "ext4", "-d", tree, image});
  cleanup_tree();
  if (!made.ok()) {
    cleanup();
    return InvalidArgumentError("cannot make an ext4 file system from " + source + ": " +
                                made.status().message());
  }
  auto result = ImportRawImage(fs, snaps, store, image, id, options);
  cleanup();
  return result;
}

}  // namespace kiln
