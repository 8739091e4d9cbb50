#include "env/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace kiln {
namespace {

// off_t is signed: larger offsets would wrap to negative ones. Checked here so the error is
// InvalidArgument (the caller's input), as MemFileSystem reports it, not a vague EINVAL.
Status CheckRange(const std::string& path, uint64_t offset, uint64_t len) {
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  if (offset > kMax || len > kMax - offset) {
    return InvalidArgumentError(path + ": offset " + std::to_string(offset) + " + length " +
                                std::to_string(len) + " is past the largest file size");
  }
  return Status::Ok();
}

class PosixFile : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  Result<size_t> ReadAt(uint64_t offset, MutableByteView out) override {
    RETURN_IF_ERROR(CheckRange(path_, offset, 0));
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, offset + done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("pread " + path_, errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status WriteAt(uint64_t offset, ByteView data) override {
    RETURN_IF_ERROR(CheckRange(path_, offset, data.size()));
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, offset + done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("pwrite " + path_, errno);
      }
      // pwrite may not return 0 for a non-empty buffer; looping on it would never end.
      if (n == 0) return IoError("pwrite " + path_ + ": wrote nothing");
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status PunchHole(uint64_t offset, uint64_t len) override {
    RETURN_IF_ERROR(CheckRange(path_, offset, len));
    if (len == 0) return Status::Ok();
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(len)) != 0) {
      return ErrnoError("punch hole " + path_, errno);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoError("fdatasync " + path_, errno);
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    RETURN_IF_ERROR(CheckRange(path_, size, 0));
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return ErrnoError("ftruncate " + path_, errno);
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError("fstat " + path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  int fd() const override { return fd_; }

 private:
  const int fd_;
  const std::string path_;
};

// EISDIR if `fd` is a directory, errno if fstat fails, else 0.
int DirectoryErrno(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno;
  return S_ISDIR(st.st_mode) ? EISDIR : 0;
}

}  // namespace

Result<std::unique_ptr<File>> PosixFileSystem::Open(const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kRead:
      flags |= O_RDONLY;
      break;
    case OpenMode::kReadWrite:
      flags |= O_RDWR;
      break;
    case OpenMode::kCreate:
      flags |= O_RDWR | O_CREAT;
      break;
    case OpenMode::kCreateExclusive:
      flags |= O_RDWR | O_CREAT | O_EXCL;
      break;
    case OpenMode::kTruncate:
      flags |= O_RDWR | O_CREAT | O_TRUNC;
      break;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError("open " + path, errno);
  if (mode == OpenMode::kRead) {
    // open(O_RDONLY) accepts a directory (the write modes fail with EISDIR); reject it here so
    // every mode agrees, and MemFileSystem too.
    if (int err = DirectoryErrno(fd); err != 0) {
      ::close(fd);
      return ErrnoError("open " + path, err);
    }
  }
  return std::unique_ptr<File>(new PosixFile(fd, path));
}

Status PosixFileSystem::CreateDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return ErrnoError("mkdir " + path, errno);
  return Status::Ok();
}

Status PosixFileSystem::RemoveDir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0) return ErrnoError("rmdir " + path, errno);
  return Status::Ok();
}

Status PosixFileSystem::SyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open dir " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync dir " + path, err);
  return Status::Ok();
}

Result<std::vector<std::string>> PosixFileSystem::ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return ErrnoError("opendir " + path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoError("readdir " + path, err);
  return names;
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return ErrnoError("rename " + from + " -> " + to, errno);
  return Status::Ok();
}

Status PosixFileSystem::Link(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) != 0) return ErrnoError("link " + from + " -> " + to, errno);
  return Status::Ok();
}

Status PosixFileSystem::Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoError("unlink " + path, errno);
  return Status::Ok();
}

Result<FileInfo> PosixFileSystem::Stat(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat " + path, errno);
  FileInfo info;
  info.size = static_cast<uint64_t>(st.st_size);
  info.is_dir = S_ISDIR(st.st_mode);
  info.allocated_bytes = static_cast<uint64_t>(st.st_blocks) * 512;
  info.mode = static_cast<uint32_t>(st.st_mode) & 07777;
  return info;
}

Result<uint64_t> PosixFileSystem::FreeBytes(const std::string& path) {
  struct statvfs sv;
  if (::statvfs(path.c_str(), &sv) != 0) return ErrnoError("statvfs " + path, errno);
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

Status PosixFileSystem::SetPermissions(const std::string& path, uint32_t mode) {
  // Through a descriptor: fsync makes the new mode durable (the fdatasync of File::Sync need
  // not), and fchmod changes the very file that is synced.
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError("open " + path, errno);
  int rc = ::fchmod(fd, static_cast<mode_t>(mode & 07777));
  const char* what = "chmod ";
  if (rc == 0) {
    rc = ::fsync(fd);
    what = "fsync ";
  }
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError(what + path, err);
  return Status::Ok();
}

}  // namespace kiln
