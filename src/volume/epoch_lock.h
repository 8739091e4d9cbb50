// EpochLock: a reader-writer lock that prefers writers, for a volume's "epoch".
//
// Every I/O call of a volume holds it shared for its duration; the rare calls that must see no
// I/O in flight (fixing a capture's point in time, growing, ending a capture) hold it
// exclusively. std::shared_mutex on glibc prefers readers, so a steady stream of overlapping
// I/O could keep a snapshot from ever starting; here a waiting exclusive locker stops new
// shared lockers from entering, and waits only for those already inside.
//
// Not recursive: a thread holding it shared must not take it again (a waiting writer would
// deadlock the two). Thread-safety: that is its purpose.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace kiln {

class EpochLock {
 public:
  void lock_shared();
  void unlock_shared();
  void lock();
  void unlock();

 private:
  static constexpr uint32_t kWriter = 1u << 31;
  // Low bits: shared holders inside; kWriter: an exclusive locker holds or awaits the lock.
  std::atomic<uint32_t> state_{0};
  std::mutex writers_;  // one exclusive locker at a time
};

}  // namespace kiln
