// Internals of MemFileSystem (mem_file_system.h): the in-memory tree, its paths and lookups,
// crash points and fault rules, and the power-loss revert. Include only from mem_file_system*.cc
// and mem_fs_core.cc; nothing here is a public contract.
//
// Locking: Core::mu guards every Dir (the whole namespace); Inode::mu guards one inode's
// contents. Order: Core::mu before Inode::mu. File I/O takes only Inode::mu.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "env/mem_file_system.h"
#include "env/sparse_content.h"

namespace kiln {
namespace mem_fs_internal {

// Offsets and sizes stay within off_t, as on the real file system.
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(INT64_MAX);

// A data change not yet made durable by Sync, kept so kKeepSomeUnsynced can replay a subset.
struct UnsyncedOp {
  enum class Kind { kWrite, kPunchHole, kTruncate };
  Kind kind;
  uint64_t offset;  // kTruncate: the new size
  uint64_t len;
  Bytes data;  // kWrite only
};

struct Inode {
  std::mutex mu;
  SparseContent current;
  SparseContent durable;
  // Pages where current may differ from durable: Sync copies only these.
  SparseContent::PageSet dirty_pages;
  std::vector<UnsyncedOp> unsynced;
  // Permission bits. SetPermissions is durable on return, so there is no durable copy to revert.
  uint32_t mode = 0644;
};

struct Dir;
// Exactly one of the two is set.
struct Entry {
  std::shared_ptr<Inode> file;
  std::shared_ptr<Dir> dir;
  bool operator==(const Entry&) const = default;
};

struct Dir {
  std::map<std::string, Entry> current;
  std::map<std::string, Entry> durable;
  // Names whose current entry may differ from the durable one: SyncDir copies only these, so
  // syncing a big directory after each create stays cheap.
  std::set<std::string> dirty_names;
  uint32_t mode = 0755;  // permission bits; as for Inode::mode, durable on change
};

enum class OpKind {
  kMutating,  // counts toward the crash point; FailNext applies
  kReading,   // FailNext applies
  kQuery,     // fails only when crashed
};

struct FailRule {
  std::string substring;
  Status error;
  int remaining;
};

struct Core {
  std::mutex mu;  // guards every Dir (the whole namespace)
  const std::shared_ptr<Dir> root = std::make_shared<Dir>();
  std::atomic<bool> crashed{false};
  std::atomic<int64_t> ops{0};
  std::atomic<int64_t> crash_at{-1};  // index of the op that crashes; -1: none
  std::atomic<uint64_t> epoch{0};     // bumped by each Crash(); handles remember theirs
  std::atomic<uint64_t> free_bytes{uint64_t{1} << 40};

  std::mutex fail_mu;
  std::vector<FailRule> fail_rules;         // guarded by fail_mu
  std::atomic<bool> has_fail_rules{false};  // lets I/O skip fail_mu when there are none

  // Starts an operation on `path` (and `path2`): fails if crashed, counts a mutating op and
  // fires the crash point, then applies FailNext rules.
  Status Begin(OpKind kind, std::string_view path, std::string_view path2 = {});
  Status TakeFailure(std::string_view path, std::string_view path2);
};

// A path split into components, and its normalized text ("/a/b") for messages and matching.
struct Path {
  std::vector<std::string> parts;
  std::string text;
  const std::string& name() const { return parts.back(); }
};

Path ParsePath(std::string_view raw);
Status NoEntryError(const Path& p);

// The directory named by the first `n` components of `p`, through current entries: NotFound
// if one is missing, IoError if one is a file. This and the next four require core.mu.
Result<Dir*> FindDir(const Core& core, const Path& p, size_t n);
// The directory holding `p`'s last component; `p` must not be the root.
Result<Dir*> FindParent(const Core& core, const Path& p);
// `name` in `dir`'s current entries; nullptr if absent.
Entry* FindEntry(Dir* dir, const std::string& name);
// Change a current entry, remembering the name for the next SyncDir.
void SetEntry(Dir* dir, const std::string& name, Entry entry);
void EraseEntry(Dir* dir, const std::string& name);

// InvalidArgument unless [offset, offset + len) fits in off_t.
Status CheckRange(uint64_t offset, uint64_t len);
// Truncates the current content, logging the change for kKeepSomeUnsynced. Requires inode.mu.
void TruncateLocked(Inode& inode, uint64_t size);

// Power loss: every directory reachable through durable entries gets its durable entries back,
// every inode reachable so its durable content (plus, with kKeepSomeUnsynced, a seeded subset of
// its unsynced changes). Requires core.mu.
void RevertToDurable(Core& core, CrashMode mode, uint64_t seed);

}  // namespace mem_fs_internal
}  // namespace kiln
