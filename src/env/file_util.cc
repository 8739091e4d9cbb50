#include <atomic>
#include <optional>

#include "env/file_system.h"

namespace kiln {

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string s(a);
  if (s.back() != '/') s += '/';
  s += b;
  return s;
}

namespace {
// `path` without trailing slashes, except that a path of only slashes stays "/".
std::string_view StripTrailingSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}
}  // namespace

// Both follow POSIX dirname(3)/basename(3): trailing slashes do not count ("a/b/" -> "a", "b"),
// and neither do repeated slashes at the split ("a//b" -> "a").
std::string DirName(std::string_view path) {
  path = StripTrailingSlashes(path);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  while (slash > 0 && path[slash - 1] == '/') --slash;
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  path = StripTrailingSlashes(path);
  if (path == "/") return "/";
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool Exists(FileSystem& fs, const std::string& path) { return fs.Stat(path).ok(); }

Status CreateDirs(FileSystem& fs, const std::string& path) {
  if (path.empty() || path == "/" || path == ".") return Status::Ok();
  auto info = fs.Stat(path);
  if (info.ok()) {
    return info->is_dir ? Status::Ok()
                        : AlreadyExistsError(path + " exists and is not a directory");
  }
  const std::string parent = DirName(path);
  RETURN_IF_ERROR(CreateDirs(fs, parent));
  Status s = fs.CreateDir(path);
  if (!s.ok() && s.code() != Code::kAlreadyExists) return s;
  return fs.SyncDir(parent);
}

Result<Bytes> ReadFile(FileSystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, fs.Open(path, OpenMode::kRead));
  ASSIGN_OR_RETURN(uint64_t size, file->Size());
  Bytes data(size);
  ASSIGN_OR_RETURN(size_t n, file->ReadAt(0, data));
  data.resize(n);
  return data;
}

namespace {
// Temp file, [permissions,] write, Sync, Rename, SyncDir. `mode` is applied while the temp file
// is still empty, so the data never sits under looser permissions.
Status WriteAtomic(FileSystem& fs, const std::string& path, ByteView data,
                   std::optional<uint32_t> mode) {
  // A per-process counter keeps concurrent writers of the same path off each other's temp file.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(counter.fetch_add(1));
  {
    ASSIGN_OR_RETURN(auto file, fs.Open(tmp, OpenMode::kTruncate));
    Status s = mode.has_value() ? fs.SetPermissions(tmp, *mode) : Status::Ok();
    if (s.ok()) s = file->WriteAt(0, data);
    if (s.ok()) s = file->Sync();
    if (!s.ok()) {
      fs.Remove(tmp).IgnoreError();
      return s;
    }
  }
  Status s = fs.Rename(tmp, path);
  if (!s.ok()) {
    fs.Remove(tmp).IgnoreError();
    return s;
  }
  return fs.SyncDir(DirName(path));
}
}  // namespace

Status WriteFileAtomic(FileSystem& fs, const std::string& path, ByteView data) {
  return WriteAtomic(fs, path, data, std::nullopt);
}

Status WriteFileAtomicPrivate(FileSystem& fs, const std::string& path, ByteView data) {
  return WriteAtomic(fs, path, data, 0600);
}

Status ReadExactly(File& f, uint64_t offset, MutableByteView out) {
  ASSIGN_OR_RETURN(size_t n, f.ReadAt(offset, out));
  if (n != out.size()) {
    return CorruptionError("short read: wanted " + std::to_string(out.size()) + " bytes at " +
                           std::to_string(offset) + ", file has " + std::to_string(n));
  }
  return Status::Ok();
}

}  // namespace kiln
