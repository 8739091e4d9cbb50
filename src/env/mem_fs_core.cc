#include "env/mem_fs_core.h"

#include <random>
#include <unordered_set>
#include <utility>

namespace kiln {
namespace mem_fs_internal {

namespace {
Status CrashedError() { return IoError("simulated crash"); }
}  // namespace

Status Core::Begin(OpKind kind, std::string_view path, std::string_view path2) {
  if (crashed.load()) return CrashedError();
  if (kind == OpKind::kMutating) {
    const int64_t index = ops.fetch_add(1);
    const int64_t at = crash_at.load();
    if (at >= 0 && index >= at) {
      crashed.store(true);
      return CrashedError();
    }
  }
  if (kind == OpKind::kQuery || !has_fail_rules.load()) return Status::Ok();
  return TakeFailure(path, path2);
}

Status Core::TakeFailure(std::string_view path, std::string_view path2) {
  std::lock_guard lock(fail_mu);
  for (auto it = fail_rules.begin(); it != fail_rules.end(); ++it) {
    const bool match = path.find(it->substring) != std::string_view::npos ||
                       (!path2.empty() && path2.find(it->substring) != std::string_view::npos);
    if (!match) continue;
    Status error = it->error;
    if (--it->remaining <= 0) fail_rules.erase(it);
    has_fail_rules.store(!fail_rules.empty());
    return error;
  }
  return Status::Ok();
}

Path ParsePath(std::string_view raw) {
  Path p;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t slash = raw.find('/', pos);
    if (slash == std::string_view::npos) slash = raw.size();
    std::string_view part = raw.substr(pos, slash - pos);
    if (part == "..") {
      if (!p.parts.empty()) p.parts.pop_back();
    } else if (!part.empty() && part != ".") {
      p.parts.emplace_back(part);
    }
    pos = slash + 1;
  }
  for (const std::string& part : p.parts) p.text += "/" + part;
  if (p.text.empty()) p.text = "/";
  return p;
}

Status NoEntryError(const Path& p) { return NotFoundError(p.text + ": no such file or directory"); }

Result<Dir*> FindDir(const Core& core, const Path& p, size_t n) {
  Dir* dir = core.root.get();
  for (size_t i = 0; i < n; ++i) {
    auto it = dir->current.find(p.parts[i]);
    if (it == dir->current.end()) return NoEntryError(p);
    if (it->second.dir == nullptr) return IoError(p.text + ": not a directory");
    dir = it->second.dir.get();
  }
  return dir;
}

Result<Dir*> FindParent(const Core& core, const Path& p) {
  return FindDir(core, p, p.parts.size() - 1);
}

Entry* FindEntry(Dir* dir, const std::string& name) {
  auto it = dir->current.find(name);
  return it == dir->current.end() ? nullptr : &it->second;
}

void SetEntry(Dir* dir, const std::string& name, Entry entry) {
  dir->current[name] = std::move(entry);
  dir->dirty_names.insert(name);
}

void EraseEntry(Dir* dir, const std::string& name) {
  dir->current.erase(name);
  dir->dirty_names.insert(name);
}

Status CheckRange(uint64_t offset, uint64_t len) {
  if (offset > kMaxOffset || len > kMaxOffset - offset) {
    return InvalidArgumentError("offset " + std::to_string(offset) + " + length " +
                                std::to_string(len) + " is past the largest file size");
  }
  return Status::Ok();
}

void TruncateLocked(Inode& inode, uint64_t size) {
  inode.current.Truncate(size, &inode.dirty_pages);
  inode.unsynced.push_back({UnsyncedOp::Kind::kTruncate, size, 0, {}});
}

namespace {

class CrashReverter {
 public:
  CrashReverter(CrashMode mode, uint64_t seed) : mode_(mode), rng_(seed) {}

  void RevertTree(Dir* root) {
    seen_dirs_.insert(root);
    RevertDir(root);
  }

 private:
  // Durable entries are visited in name order, so a seed always picks the same writes.
  void RevertDir(Dir* dir) {
    dir->current = dir->durable;
    dir->dirty_names.clear();
    for (const auto& [name, entry] : dir->durable) {
      if (entry.dir != nullptr) {
        // A rename made durable only in its new parent can leave one directory in two places;
        // visit it once.
        if (seen_dirs_.insert(entry.dir.get()).second) RevertDir(entry.dir.get());
      } else if (seen_inodes_.insert(entry.file.get()).second) {
        RevertInode(*entry.file);
      }
    }
  }

  void RevertInode(Inode& inode) {
    std::lock_guard lock(inode.mu);
    if (mode_ == CrashMode::kKeepSomeUnsynced && !inode.unsynced.empty()) {
      SparseContent kept = inode.durable;
      for (const UnsyncedOp& op : inode.unsynced) {
        if ((rng_() & 1) != 0) Apply(op, kept);
      }
      inode.durable = kept;  // what the kernel flushed is on disk now
    }
    inode.current = inode.durable;
    SparseContent::PageSet().swap(inode.dirty_pages);
    inode.unsynced.clear();
  }

  static void Apply(const UnsyncedOp& op, SparseContent& content) {
    switch (op.kind) {
      case UnsyncedOp::Kind::kWrite:
        content.Write(op.offset, op.data, nullptr);
        break;
      case UnsyncedOp::Kind::kPunchHole:
        content.PunchHole(op.offset, op.len, nullptr);
        break;
      case UnsyncedOp::Kind::kTruncate:
        content.Truncate(op.offset, nullptr);
        break;
    }
  }

  const CrashMode mode_;
  std::mt19937_64 rng_;
  std::unordered_set<const Dir*> seen_dirs_;
  std::unordered_set<const Inode*> seen_inodes_;
};

}  // namespace

void RevertToDurable(Core& core, CrashMode mode, uint64_t seed) {
  CrashReverter(mode, seed).RevertTree(core.root.get());
}

}  // namespace mem_fs_internal
}  // namespace kiln
