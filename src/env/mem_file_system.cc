#include "env/mem_file_system.h"

#include <utility>

#include "env/mem_fs_core.h"

namespace kiln {
namespace mem_fs_internal {
namespace {

class MemFile : public File {
 public:
  MemFile(std::shared_ptr<Core> core, std::shared_ptr<Inode> inode, std::string path, bool writable,
          uint64_t epoch)
      : core_(std::move(core)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        writable_(writable),
        epoch_(epoch) {}

  Result<size_t> ReadAt(uint64_t offset, MutableByteView out) override {
    RETURN_IF_ERROR(Begin(OpKind::kReading));
    RETURN_IF_ERROR(CheckRange(offset, 0));
    std::lock_guard lock(inode_->mu);
    RETURN_IF_ERROR(CheckAlive());
    return inode_->current.Read(offset, out);
  }

  Status WriteAt(uint64_t offset, ByteView data) override {
    RETURN_IF_ERROR(BeginWrite(offset, data.size()));
    if (data.empty()) return Status::Ok();
    Bytes copy(data.begin(), data.end());  // copied outside the lock
    std::lock_guard lock(inode_->mu);
    RETURN_IF_ERROR(CheckAlive());
    inode_->current.Write(offset, data, &inode_->dirty_pages);
    inode_->unsynced.push_back({UnsyncedOp::Kind::kWrite, offset, data.size(), std::move(copy)});
    return Status::Ok();
  }

  Status PunchHole(uint64_t offset, uint64_t len) override {
    RETURN_IF_ERROR(BeginWrite(offset, len));
    if (len == 0) return Status::Ok();
    std::lock_guard lock(inode_->mu);
    RETURN_IF_ERROR(CheckAlive());
    inode_->current.PunchHole(offset, len, &inode_->dirty_pages);
    inode_->unsynced.push_back({UnsyncedOp::Kind::kPunchHole, offset, len, {}});
    return Status::Ok();
  }

  Status Sync() override {
    RETURN_IF_ERROR(Begin(OpKind::kMutating));
    std::lock_guard lock(inode_->mu);
    RETURN_IF_ERROR(CheckAlive());
    Inode& inode = *inode_;
    for (uint64_t index : inode.dirty_pages) inode.durable.CopyPageFrom(inode.current, index);
    inode.durable.set_size(inode.current.size());
    SparseContent::PageSet().swap(inode.dirty_pages);  // also frees a big set's buckets
    inode.unsynced.clear();
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    RETURN_IF_ERROR(BeginWrite(size, 0));
    std::lock_guard lock(inode_->mu);
    RETURN_IF_ERROR(CheckAlive());
    TruncateLocked(*inode_, size);
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    RETURN_IF_ERROR(Begin(OpKind::kQuery));
    std::lock_guard lock(inode_->mu);
    RETURN_IF_ERROR(CheckAlive());
    return inode_->current.size();
  }

 private:
  Status CheckAlive() const {
    if (core_->epoch.load() != epoch_) {
      return IoError(path_ + ": file opened before a simulated crash");
    }
    return Status::Ok();
  }

  Status Begin(OpKind kind) {
    RETURN_IF_ERROR(CheckAlive());
    return core_->Begin(kind, path_);
  }

  Status BeginWrite(uint64_t offset, uint64_t len) {
    RETURN_IF_ERROR(Begin(OpKind::kMutating));
    if (!writable_) return IoError(path_ + ": not open for writing");
    return CheckRange(offset, len);
  }

  const std::shared_ptr<Core> core_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const bool writable_;
  const uint64_t epoch_;
};

}  // namespace
}  // namespace mem_fs_internal

using mem_fs_internal::Core;
using mem_fs_internal::Dir;
using mem_fs_internal::Entry;
using mem_fs_internal::EraseEntry;
using mem_fs_internal::FindDir;
using mem_fs_internal::FindEntry;
using mem_fs_internal::FindParent;
using mem_fs_internal::Inode;
using mem_fs_internal::MemFile;
using mem_fs_internal::NoEntryError;
using mem_fs_internal::OpKind;
using mem_fs_internal::ParsePath;
using mem_fs_internal::Path;
using mem_fs_internal::RevertToDurable;
using mem_fs_internal::SetEntry;
using mem_fs_internal::TruncateLocked;

MemFileSystem::MemFileSystem() : core_(std::make_shared<Core>()) {}
MemFileSystem::~MemFileSystem() = default;

Result<std::unique_ptr<File>> MemFileSystem::Open(const std::string& path, OpenMode mode) {
  const Path p = ParsePath(path);
  const bool creates = mode == OpenMode::kCreate || mode == OpenMode::kCreateExclusive ||
                       mode == OpenMode::kTruncate;
  RETURN_IF_ERROR(core_->Begin(creates ? OpKind::kMutating : OpKind::kReading, p.text));
  std::lock_guard lock(core_->mu);
  if (p.parts.empty()) return IoError(p.text + ": is a directory");
  ASSIGN_OR_RETURN(Dir * parent, FindParent(*core_, p));
  std::shared_ptr<Inode> inode;
  if (Entry* entry = FindEntry(parent, p.name())) {
    if (entry->dir != nullptr) return IoError(p.text + ": is a directory");
    if (mode == OpenMode::kCreateExclusive) return AlreadyExistsError(p.text + ": file exists");
    inode = entry->file;
    if (mode == OpenMode::kTruncate) {
      std::lock_guard inode_lock(inode->mu);
      TruncateLocked(*inode, 0);
    }
  } else {
    if (!creates) return NoEntryError(p);
    inode = std::make_shared<Inode>();
    SetEntry(parent, p.name(), Entry{inode, nullptr});
  }
  return std::unique_ptr<File>(
      new MemFile(core_, std::move(inode), p.text, mode != OpenMode::kRead, core_->epoch.load()));
}

Status MemFileSystem::CreateDir(const std::string& path) {
  const Path p = ParsePath(path);
  RETURN_IF_ERROR(core_->Begin(OpKind::kMutating, p.text));
  std::lock_guard lock(core_->mu);
  if (p.parts.empty()) return AlreadyExistsError(p.text + ": exists");
  ASSIGN_OR_RETURN(Dir * parent, FindParent(*core_, p));
  if (FindEntry(parent, p.name()) != nullptr) return AlreadyExistsError(p.text + ": exists");
  SetEntry(parent, p.name(), Entry{nullptr, std::make_shared<Dir>()});
  return Status::Ok();
}

Status MemFileSystem::RemoveDir(const std::string& path) {
  const Path p = ParsePath(path);
  RETURN_IF_ERROR(core_->Begin(OpKind::kMutating, p.text));
  std::lock_guard lock(core_->mu);
  if (p.parts.empty()) return IoError(p.text + ": cannot remove the root");
  ASSIGN_OR_RETURN(Dir * parent, FindParent(*core_, p));
  Entry* entry = FindEntry(parent, p.name());
  if (entry == nullptr) return NoEntryError(p);
  if (entry->dir == nullptr) return IoError(p.text + ": not a directory");
  if (!entry->dir->current.empty()) return IoError(p.text + ": directory not empty");
  EraseEntry(parent, p.name());
  return Status::Ok();
}

Status MemFileSystem::SyncDir(const std::string& path) {
  const Path p = ParsePath(path);
  RETURN_IF_ERROR(core_->Begin(OpKind::kMutating, p.text));
  std::lock_guard lock(core_->mu);
  ASSIGN_OR_RETURN(Dir * dir, FindDir(*core_, p, p.parts.size()));
  for (const std::string& name : dir->dirty_names) {
    auto it = dir->current.find(name);
    if (it != dir->current.end()) {
      dir->durable[name] = it->second;
    } else {
      dir->durable.erase(name);
    }
  }
  dir->dirty_names.clear();
  return Status::Ok();
}

Result<std::vector<std::string>> MemFileSystem::ListDir(const std::string& path) {
  const Path p = ParsePath(path);
  RETURN_IF_ERROR(core_->Begin(OpKind::kReading, p.text));
  std::lock_guard lock(core_->mu);
  ASSIGN_OR_RETURN(Dir * dir, FindDir(*core_, p, p.parts.size()));
  std::vector<std::string> names;
  names.reserve(dir->current.size());
  for (const auto& [name, entry] : dir->current) names.push_back(name);
  return names;
}

Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  const Path f = ParsePath(from);
  const Path t = ParsePath(to);
  RETURN_IF_ERROR(core_->Begin(OpKind::kMutating, f.text, t.text));
  std::lock_guard lock(core_->mu);
  if (f.parts.empty() || t.parts.empty()) return IoError("rename of the root");
  ASSIGN_OR_RETURN(Dir * from_dir, FindParent(*core_, f));
  Entry* source = FindEntry(from_dir, f.name());
  if (source == nullptr) return NoEntryError(f);
  ASSIGN_OR_RETURN(Dir * to_dir, FindParent(*core_, t));
  const Entry moving = *source;
  if (const Entry* target = FindEntry(to_dir, t.name())) {
    if (*target == moving) return Status::Ok();  // the same file: POSIX does nothing
    if (moving.file != nullptr && target->dir != nullptr)
      return IoError(t.text + ": is a directory");
    if (moving.dir != nullptr && target->file != nullptr)
      return IoError(t.text + ": not a directory");
    if (target->dir != nullptr && !target->dir->current.empty()) {
      return IoError(t.text + ": directory not empty");
    }
  }
  if (moving.dir != nullptr && t.parts.size() > f.parts.size() &&
      std::equal(f.parts.begin(), f.parts.end(), t.parts.begin())) {
    return IoError("cannot move " + f.text + " into itself (" + t.text + ")");  // EINVAL
  }
  EraseEntry(from_dir, f.name());
  SetEntry(to_dir, t.name(), moving);
  return Status::Ok();
}

Status MemFileSystem::Link(const std::string& from, const std::string& to) {
  const Path f = ParsePath(from);
  const Path t = ParsePath(to);
  RETURN_IF_ERROR(core_->Begin(OpKind::kMutating, f.text, t.text));
  std::lock_guard lock(core_->mu);
  if (f.parts.empty()) return IoError("hard link to a directory: " + f.text);
  if (t.parts.empty()) return AlreadyExistsError(t.text + ": exists");
  ASSIGN_OR_RETURN(Dir * from_dir, FindParent(*core_, f));
  const Entry* source = FindEntry(from_dir, f.name());
  if (source == nullptr) return NoEntryError(f);
  if (source->dir != nullptr) return IoError("hard link to a directory: " + f.text);
  ASSIGN_OR_RETURN(Dir * to_dir, FindParent(*core_, t));
  if (FindEntry(to_dir, t.name()) != nullptr) return AlreadyExistsError(t.text + ": exists");
  SetEntry(to_dir, t.name(), *source);
  return Status::Ok();
}

Status MemFileSystem::Remove(const std::string& path) {
  const Path p = ParsePath(path);
  RETURN_IF_ERROR(core_->Begin(OpKind::kMutating, p.text));
  std::lock_guard lock(core_->mu);
  if (p.parts.empty()) return IoError(p.text + ": is a directory");
  ASSIGN_OR_RETURN(Dir * parent, FindParent(*core_, p));
  const Entry* entry = FindEntry(parent, p.name());
  if (entry == nullptr) return NoEntryError(p);
  if (entry->dir != nullptr) return IoError(p.text + ": is a directory");
  EraseEntry(parent, p.name());
  return Status::Ok();
}

Result<FileInfo> MemFileSystem::Stat(const std::string& path) {
  const Path p = ParsePath(path);
  RETURN_IF_ERROR(core_->Begin(OpKind::kQuery, p.text));
  std::lock_guard lock(core_->mu);
  FileInfo info;
  if (p.parts.empty()) {
    info.is_dir = true;
    info.mode = core_->root->mode;
    return info;
  }
  ASSIGN_OR_RETURN(Dir * parent, FindParent(*core_, p));
  const Entry* entry = FindEntry(parent, p.name());
  if (entry == nullptr) return NoEntryError(p);
  if (entry->dir != nullptr) {
    info.is_dir = true;
    info.mode = entry->dir->mode;
    return info;
  }
  std::lock_guard inode_lock(entry->file->mu);
  info.size = entry->file->current.size();
  info.allocated_bytes = entry->file->current.allocated_bytes();
  info.mode = entry->file->mode;
  return info;
}

Status MemFileSystem::SetPermissions(const std::string& path, uint32_t mode) {
  const Path p = ParsePath(path);
  RETURN_IF_ERROR(core_->Begin(OpKind::kMutating, p.text));
  std::lock_guard lock(core_->mu);
  mode &= 07777;
  if (p.parts.empty()) {
    core_->root->mode = mode;
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Dir * parent, FindParent(*core_, p));
  Entry* entry = FindEntry(parent, p.name());
  if (entry == nullptr) return NoEntryError(p);
  if (entry->dir != nullptr) {
    entry->dir->mode = mode;
    return Status::Ok();
  }
  std::lock_guard inode_lock(entry->file->mu);
  entry->file->mode = mode;
  return Status::Ok();
}

Result<uint64_t> MemFileSystem::FreeBytes(const std::string& path) {
  RETURN_IF_ERROR(Stat(path).status());
  return core_->free_bytes.load();
}

void MemFileSystem::Crash(CrashMode mode, uint64_t seed) {
  std::lock_guard lock(core_->mu);
  core_->epoch.fetch_add(1);  // kills every open File
  RevertToDurable(*core_, mode, seed);
  core_->crash_at.store(-1);
  core_->crashed.store(false);
}

void MemFileSystem::SetCrashAfter(int64_t n) {
  core_->crash_at.store(n < 0 ? -1 : core_->ops.load() + n);
}

bool MemFileSystem::crashed() const { return core_->crashed.load(); }

int64_t MemFileSystem::mutating_ops() const { return core_->ops.load(); }

void MemFileSystem::FailNext(std::string path_substring, Status error, int count) {
  if (error.ok() || count < 1) return;
  std::lock_guard lock(core_->fail_mu);
  core_->fail_rules.push_back({std::move(path_substring), std::move(error), count});
  core_->has_fail_rules.store(true);
}

void MemFileSystem::set_free_bytes(uint64_t bytes) { core_->free_bytes.store(bytes); }

}  // namespace kiln
