#include "bench/test_data.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <system_error>
#include <vector>

#include "bench/bench_util.h"
#include "env/subprocess.h"

namespace kiln::bench {
namespace {

constexpr const char* kSourceRoot = "/usr";
constexpr double kFillFraction = 0.55;  // of the image size, counted in 4 KiB blocks
constexpr uint64_t kSelectionSeed = 1;

struct SourceFile {
  std::string path;  // relative to "/"
  uint64_t size;
};

// Every regular, non-empty, readable file under /usr, sorted by path. std::filesystem rather
// than FileSystem because the walk needs lstat (the host's /usr has symlink loops such as
// /usr/bin/X11 -> .) and touches only the host's files, never kiln's.
std::vector<SourceFile> ListSourceFiles() {
  namespace fsys = std::filesystem;
  std::vector<SourceFile> files;
  std::error_code ec;
  fsys::recursive_directory_iterator it(kSourceRoot,
                                        fsys::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fsys::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code stat_ec;
    if (!it->is_regular_file(stat_ec) || it->is_symlink(stat_ec)) continue;
    uint64_t size = it->file_size(stat_ec);
    if (stat_ec || size == 0) continue;
    if (::access(it->path().c_str(), R_OK) != 0) continue;
    files.push_back({it->path().string().substr(1), size});
  }
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  return files;
}

struct Selection {
  std::vector<std::string> paths;
  uint64_t bytes = 0;
};

// A pseudo-random (fixed seed) sample of /usr's files up to `budget` bytes counted in 4 KiB
// blocks, so the mix of kinds follows /usr's own. Files over budget/16 are left out so one huge
// library cannot make a small image mostly one file.
Selection SelectFiles(std::vector<SourceFile> files, uint64_t budget) {
  std::mt19937_64 rng(kSelectionSeed);
  std::shuffle(files.begin(), files.end(), rng);
  Selection sel;
  uint64_t used = 0;
  for (const auto& f : files) {
    if (f.size > budget / 16) continue;
    uint64_t blocks = (f.size + 4095) / 4096 * 4096;
    if (used + blocks > budget) continue;
    used += blocks;
    sel.bytes += f.size;
    sel.paths.push_back(f.path);
    if (used + 4096 > budget) break;
  }
  return sel;
}

Status WriteText(FileSystem& fs, const std::string& path, const std::string& text) {
  return WriteFileAtomic(fs, path, AsBytes(text));
}

Result<std::string> MakeImage(FileSystem& fs, const std::string& work_dir, uint64_t size,
                              const std::string& image) {
  const std::string stage = JoinPath(work_dir, "image-staging");
  const std::string list = JoinPath(work_dir, "image-files.txt");
  RETURN_IF_ERROR(RemoveTree(fs, stage));
  RETURN_IF_ERROR(CreateDirs(fs, stage));

  const uint64_t budget = static_cast<uint64_t>(static_cast<double>(size) * kFillFraction);
  std::vector<SourceFile> all = ListSourceFiles();
  if (all.empty()) return FailedPreconditionError("no readable files under /usr");
  const size_t candidates = all.size();
  Selection sel = SelectFiles(std::move(all), budget);
  std::string names;
  for (const auto& p : sel.paths) names += p + "\n";
  RETURN_IF_ERROR(WriteText(fs, list, names));

  // Copy the chosen files, keeping their paths, modes and times (tar | tar).
  ASSIGN_OR_RETURN(
      std::string out,
      RunChecked({"sh", "-c", "tar -C / -cf - --no-recursion -T \"$1\" | tar -C \"$2\" -xf -", "sh",
                  list, stage}));
  ASSIGN_OR_RETURN(CommandResult mke2fs_version, RunCommand({"mke2fs", "-V"}));
  ASSIGN_OR_RETURN(out, RunChecked({"mke2fs", "-F", "-q", "-t", "ext4", "-d", stage, image,
                                    std::to_string(size / 1024) + "k"}));
  RETURN_IF_ERROR(RemoveTree(fs, stage));
  RETURN_IF_ERROR(fs.Remove(list));

  std::string version = mke2fs_version.output.substr(0, mke2fs_version.output.find('\n'));
  return "ext4 image of " + FormatBytes(size) + " made by `mke2fs -F -q -t ext4 -d <dir> image " +
         std::to_string(size / 1024) + "k` (" + version + ") from " +
         std::to_string(sel.paths.size()) + " files (" + FormatBytes(sel.bytes) +
         ") picked pseudo-randomly (seed " + std::to_string(kSelectionSeed) + ") among " +
         std::to_string(candidates) + " regular files of /usr, up to " +
         std::to_string(static_cast<int>(kFillFraction * 100)) + "% of the size, none over " +
         FormatBytes(budget / 16);
}

}  // namespace

std::string TestImagePath(const std::string& work_dir, uint64_t size) {
  return JoinPath(work_dir, "image-" + std::to_string(size) + ".ext4");
}

Result<TestImage> PrepareTestImage(FileSystem& fs, const std::string& work_dir, uint64_t size) {
  if (size % (1 << 20) != 0 || size < (32 << 20)) {
    return InvalidArgumentError("image size must be a multiple of 1 MiB, at least 32 MiB");
  }
  TestImage img;
  img.path = TestImagePath(work_dir, size);
  img.size = size;
  const std::string info_path = img.path + ".info";
  auto info = ReadFile(fs, info_path);
  auto stat = fs.Stat(img.path);
  if (info.ok() && stat.ok() && stat->size == size) {
    img.reused = true;
    img.description = std::string(AsString(*info));
    return img;
  }
  if (stat.ok()) RETURN_IF_ERROR(fs.Remove(img.path));
  ASSIGN_OR_RETURN(img.description, MakeImage(fs, work_dir, size, img.path));
  auto made = fs.Stat(img.path);
  if (!made.ok() || made->size != size) {
    return InternalError("mke2fs left " + img.path + " without the expected size");
  }
  {  // the sidecar says the image is whole: make the image durable first
    ASSIGN_OR_RETURN(auto file, fs.Open(img.path, OpenMode::kReadWrite));
    RETURN_IF_ERROR(file->Sync());
  }
  RETURN_IF_ERROR(WriteText(fs, info_path, img.description));
  return img;
}

}  // namespace kiln::bench
