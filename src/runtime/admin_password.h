// The generated admin password, as EC2Launch's adminPasswordType "Random": an image asks for it
// in its launch settings (/etc/kiln/launch-settings, docs/launch-settings.md), and at the
// instance's first boot the runtime sets a fresh random password for the image's admin user,
// on the host, before the guest's init runs.
//
// How it is set: the root file system is mounted on the host for a moment (nosuid, nodev,
// noexec, at a mount point in the instance's host state directory); every path inside it is
// resolved with openat2's RESOLVE_IN_ROOT, so a symlink in the guest cannot reach the host's
// files; the admin user's /etc/shadow entry gets a SHA-512 crypt hash ("$6$", random salt) and
// the file is replaced atomically (written beside it, fsynced, renamed) keeping its mode and
// owner. The plaintext lives only in memory and goes to the caller.
//
// Errors: IoError when the file system cannot be mounted, read or written; InvalidArgument for
// a settings file that asks for a password for a user the image's /etc/shadow lacks, or one
// that is unreadable (not a regular file, larger than 64 KiB). Thread-safety: reentrant for
// different mount points.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln {

// What /etc/kiln/launch-settings says (lines "key=value"; '#' starts a comment line; unknown
// keys are ignored so newer images keep booting on older kilnd).
struct LaunchSettings {
  std::string admin_user = "root";  // admin_user: the account whose password is set
  bool random_password = false;     // admin_password=random (anything else: leave it alone)
};
// InvalidArgument for a malformed line or admin_user (POSIX portable user names only).
Result<LaunchSettings> ParseLaunchSettings(std::string_view text);

// `length` characters from an alphabet of letters, digits and "-_.!@%" (no quoting needed in a
// shell or a JSON string), uniformly from OpenSSL's CSPRNG.
Result<std::string> RandomPassword(size_t length = 20);
// SHA-512 crypt (glibc/libxcrypt "$6$") of `password` with a fresh random 16-character salt.
Result<std::string> Sha512CryptHash(const std::string& password);
// /etc/shadow text with `user`'s password field set to `hash` and its last change set to
// `days_since_epoch`; the other lines and fields kept byte for byte. NotFound without the user.
Result<std::string> SetShadowHash(std::string_view shadow, std::string_view user,
                                  std::string_view hash, long days_since_epoch);

struct AdminPassword {
  std::string user;
  std::string password;  // plaintext: never log it or store it
};

// Mounts the ext4 file system on `device` at `mount_dir` (made if missing), and if its launch
// settings ask, sets a random password for the admin user. Unmounts before returning (also on
// errors). nullopt when the image does not ask.
Result<std::optional<AdminPassword>> SetGeneratedAdminPassword(const std::string& device,
                                                               const std::string& mount_dir);

}  // namespace kiln
