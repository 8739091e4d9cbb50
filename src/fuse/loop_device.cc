#include "fuse/loop_device.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Opens a free loop device. LOOP_CTL_GET_FREE can race another process that takes the same
// number before we configure it (EBUSY then), so callers retry.
Result<std::pair<int, int>> OpenFreeDevice() {
  const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (control < 0) {
    return FailedPreconditionError(Errno("loop devices unavailable: /dev/loop-control"));
  }
  const int number = ::ioctl(control, LOOP_CTL_GET_FREE);
  const int saved = errno;
  ::close(control);
  if (number < 0) {
    errno = saved;
    return FailedPreconditionError(Errno("LOOP_CTL_GET_FREE"));
  }
  const std::string path = "/dev/loop" + std::to_string(number);
  // devtmpfs creates the node when the device is added; it is there when the ioctl returns.
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return IoError(Errno("open " + path));
  return std::make_pair(fd, number);
}

}  // namespace

Result<std::unique_ptr<LoopDevice>> LoopDevice::Attach(const std::string& file,
                                                       LoopOptions options) {
  const int backing = ::open(file.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (backing < 0) {
    if (errno == ENOENT) return NotFoundError("no file " + file + " to attach");
    return IoError(Errno("open " + file));
  }
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto device = OpenFreeDevice();
    if (!device.ok()) {
      ::close(backing);
      return device.status();
    }
    auto [fd, number] = *device;
    loop_config config{};
    config.fd = static_cast<__u32>(backing);
    config.block_size = options.block_size;
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (options.read_only ? LO_FLAGS_READ_ONLY : 0) |
                           (options.direct_io ? LO_FLAGS_DIRECT_IO : 0);
    std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), file.c_str(), LO_NAME_SIZE - 1);
    int rc = ::ioctl(fd, LOOP_CONFIGURE, &config);
    if (rc != 0 && errno == EINVAL && options.direct_io) {
      // The backing file refused direct I/O (alignment or no O_DIRECT support): go buffered.
      config.info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
      rc = ::ioctl(fd, LOOP_CONFIGURE, &config);
    }
    if (rc != 0) {
      const int saved = errno;
      ::close(fd);
      if (saved == EBUSY) continue;  // someone else took this device first
      ::close(backing);
      errno = saved;
      return IoError(Errno("LOOP_CONFIGURE /dev/loop" + std::to_string(number) + " on " + file));
    }
    ::close(backing);  // the device holds its own reference
    loop_info64 info{};
    const bool direct =
        ::ioctl(fd, LOOP_GET_STATUS64, &info) == 0 && (info.lo_flags & LO_FLAGS_DIRECT_IO) != 0;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const Status s = IoError(Errno("fstat /dev/loop" + std::to_string(number)));
      ::close(fd);
      return s;
    }
    return std::unique_ptr<LoopDevice>(
        new LoopDevice(fd, number, "/dev/loop" + std::to_string(number), direct, st.st_rdev));
  }
  ::close(backing);
  return IoError("no free loop device after 16 attempts");
}

LoopDevice::~LoopDevice() { Detach().IgnoreError(); }

unsigned LoopDevice::device_major() const { return ::major(rdev_); }
unsigned LoopDevice::device_minor() const { return ::minor(rdev_); }

Status LoopDevice::RefreshCapacity() {
  if (fd_ < 0) return FailedPreconditionError(path_ + " is detached");
  if (::ioctl(fd_, LOOP_SET_CAPACITY, 0) != 0) return IoError(Errno("LOOP_SET_CAPACITY " + path_));
  return Status::Ok();
}

Status LoopDevice::Detach() {
  if (fd_ < 0) return Status::Ok();
  // With autoclear the kernel unbinds when the last opener closes; LOOP_CLR_FD asks for it now
  // (it only marks the device for autoclear if it is still open elsewhere, e.g. mounted).
  Status s;
  if (::ioctl(fd_, LOOP_CLR_FD) != 0 && errno != ENXIO) s = IoError(Errno("LOOP_CLR_FD " + path_));
  ::close(fd_);
  fd_ = -1;
  return s;
}

}  // namespace kiln
