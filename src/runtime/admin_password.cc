#include "runtime/admin_password.h"

#include <crypt.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <memory>

#include "base/bytes.h"
#include "crypto/crypto.h"

namespace kiln {
namespace {

constexpr std::string_view kPasswordAlphabet =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!@%";
constexpr std::string_view kSaltAlphabet =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kMaxFileBytes = 64 * 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ValidUserName(std::string_view u) {
  if (u.empty() || u.size() > 32 || u[0] == '-') return false;
  for (char c : u) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

// `n` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias).
Result<std::string> RandomString(std::string_view alphabet, size_t n) {
  const size_t limit = 256 - 256 % alphabet.size();
  std::string out;
  uint8_t buf[64];
  while (out.size() < n) {
    RETURN_IF_ERROR(RandomBytes(MutableByteView(buf, sizeof buf)));
    for (uint8_t b : buf) {
      if (b < limit && out.size() < n) out += alphabet[b % alphabet.size()];
    }
  }
  return out;
}

// openat2 with RESOLVE_IN_ROOT: `path` is resolved as if `root_fd` were "/", symlinks included.
int OpenInRoot(int root_fd, const std::string& path, int flags, mode_t mode = 0) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
}

// The whole of a small regular file, or nullopt when it does not exist.
Result<std::optional<std::string>> ReadSmallFile(int root_fd, const std::string& path,
                                                 struct stat* st_out = nullptr) {
  const int fd = OpenInRoot(root_fd, path, O_RDONLY | O_NOFOLLOW);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) return std::optional<std::string>();
  if (fd < 0) return ErrnoError("opening the guest's " + path, errno);
  struct stat st {};
  std::string text;
  Status s;
  if (fstat(fd, &st) != 0) {
    s = ErrnoError("stat of the guest's " + path, errno);
  } else if (!S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(kMaxFileBytes)) {
    s = InvalidArgumentError("the guest's " + path + " is not a regular file under 64 KiB");
  } else {
    text.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (s.ok() && done < text.size()) {
      const ssize_t n = read(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) s = ErrnoError("reading the guest's " + path, n < 0 ? errno : EIO);
      if (n > 0) done += static_cast<size_t>(n);
    }
  }
  close(fd);
  if (!s.ok()) return s;
  if (st_out != nullptr) *st_out = st;
  return std::optional<std::string>(std::move(text));
}

// Replaces the guest's /etc/shadow with `text`, keeping its mode and owner: written beside
// it, fsynced, renamed over it, the directory fsynced.
Status ReplaceShadow(int root_fd, const std::string& text, const struct stat& old) {
  const int etc = OpenInRoot(root_fd, "/etc", O_RDONLY | O_DIRECTORY);
  if (etc < 0) return ErrnoError("opening the guest's /etc", errno);
  const char* tmp = "shadow.kiln-new";
  unlinkat(etc, tmp, 0);
  const int fd =
      openat(etc, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, old.st_mode & 07777);
  Status s;
  if (fd < 0) {
    s = ErrnoError("writing the guest's /etc/shadow", errno);
  } else {
    const bool ok =
        fchown(fd, old.st_uid, old.st_gid) == 0 && fchmod(fd, old.st_mode & 07777) == 0 &&
        write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
    if (!ok) s = ErrnoError("writing the guest's /etc/shadow", errno);
    close(fd);
    if (s.ok() && renameat(etc, tmp, etc, "shadow") != 0) {
      s = ErrnoError("replacing the guest's /etc/shadow", errno);
    }
    if (!s.ok()) unlinkat(etc, tmp, 0);
  }
  if (s.ok()) fsync(etc);
  close(etc);
  return s;
}

// The work on the mounted file system at `root`.
Result<std::optional<AdminPassword>> SetOnMounted(const std::string& root) {
  const int root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return ErrnoError("opening " + root, errno);
  auto work = [&]() -> Result<std::optional<AdminPassword>> {
    ASSIGN_OR_RETURN(std::optional<std::string> text,
                     ReadSmallFile(root_fd, "/etc/kiln/launch-settings"));
    if (!text) return std::optional<AdminPassword>();
    ASSIGN_OR_RETURN(LaunchSettings settings, ParseLaunchSettings(*text));
    if (!settings.random_password) return std::optional<AdminPassword>();
    struct stat st {};
    ASSIGN_OR_RETURN(std::optional<std::string> shadow, ReadSmallFile(root_fd, "/etc/shadow", &st));
    if (!shadow)
      return InvalidArgumentError(
          "the launch settings ask for a password, and the image has no /etc/shadow");
    ASSIGN_OR_RETURN(std::string password, RandomPassword());
    ASSIGN_OR_RETURN(std::string hash, Sha512CryptHash(password));
    const long days = static_cast<long>(time(nullptr) / 86400);
    Result<std::string> updated = SetShadowHash(*shadow, settings.admin_user, hash, days);
    if (!updated.ok()) {
      return InvalidArgumentError("the launch settings ask for a password for " +
                                  settings.admin_user + ", who has no /etc/shadow entry");
    }
    RETURN_IF_ERROR(ReplaceShadow(root_fd, *updated, st));
    return std::optional<AdminPassword>(AdminPassword{settings.admin_user, std::move(password)});
  };
  auto result = work();
  close(root_fd);
  return result;
}

}  // namespace

Result<LaunchSettings> ParseLaunchSettings(std::string_view text) {
  LaunchSettings out;
  int line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("launch settings line " + std::to_string(line_no) +
                                  ": expected key=value");
    }
    const std::string_view key = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (key == "admin_user") {
      if (!ValidUserName(value)) {
        return InvalidArgumentError("launch settings: bad admin_user '" + std::string(value) + "'");
      }
      out.admin_user = std::string(value);
    } else if (key == "admin_password") {
      out.random_password = value == "random";
    }
  }
  return out;
}

Result<std::string> RandomPassword(size_t length) {
  return RandomString(kPasswordAlphabet, length);
}

Result<std::string> Sha512CryptHash(const std::string& password) {
  ASSIGN_OR_RETURN(std::string salt, RandomString(kSaltAlphabet, 16));
  const std::string setting = "$6$" + salt + "$";
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the stack
  const char* h = crypt_r(password.c_str(), setting.c_str(), data.get());
  // libxcrypt returns a string starting with '*' on failure.
  if (h == nullptr || h[0] != '$') return InternalError("crypt(3) failed for SHA-512");
  std::string hash(h);
  explicit_bzero(data.get(), sizeof(crypt_data));
  return hash;
}

Result<std::string> SetShadowHash(std::string_view shadow, std::string_view user,
                                  std::string_view hash, long days_since_epoch) {
  std::string out;
  bool found = false;
  size_t pos = 0;
  while (pos < shadow.size()) {
    size_t nl = shadow.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? shadow.size() : nl;
    std::string_view line = shadow.substr(pos, end - pos);
    const size_t c1 = line.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (!found && c1 != std::string_view::npos && line.substr(0, c1) == user) {
      found = true;
      out.append(line.substr(0, c1 + 1)).append(hash).append(":");
      out += std::to_string(days_since_epoch);
      if (c2 != std::string_view::npos) {
        const size_t c3 = line.find(':', c2 + 1);
        if (c3 != std::string_view::npos) out.append(line.substr(c3));
      }
    } else {
      out.append(line);
    }
    if (nl != std::string_view::npos) out += '\n';
    pos = end + 1;
  }
  if (!found) return NotFoundError("no /etc/shadow entry for " + std::string(user));
  return out;
}

Result<std::optional<AdminPassword>> SetGeneratedAdminPassword(const std::string& device,
                                                               const std::string& mount_dir) {
  std::error_code ec;
  std::filesystem::create_directories(mount_dir, ec);
  if (ec) return IoError("making " + mount_dir + ": " + ec.message());
  umount2(mount_dir.c_str(), MNT_DETACH);  // a mount a crash left here
  if (mount(device.c_str(), mount_dir.c_str(), "ext4", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
      0) {
    return ErrnoError("mounting the root file system to set its admin password", errno);
  }
  auto result = SetOnMounted(mount_dir);
  if (umount2(mount_dir.c_str(), 0) != 0) {
    const Status s = ErrnoError("unmounting " + mount_dir, errno);
    umount2(mount_dir.c_str(), MNT_DETACH);
    if (result.ok()) return s;
  }
  return result;
}

}  // namespace kiln
