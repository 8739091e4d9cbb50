#include "volume/epoch_lock.h"

namespace kiln {

void EpochLock::lock_shared() {
  uint32_t s = state_.load();
  for (;;) {
    if (s & kWriter) {
      state_.wait(s);  // futex wait until the writer is gone
      s = state_.load();
    } else if (state_.compare_exchange_weak(s, s + 1)) {
      return;
    }
  }
}

void EpochLock::unlock_shared() {
  // The last reader out while a writer waits wakes it.
  if (state_.fetch_sub(1) == (kWriter | 1)) state_.notify_all();
}

void EpochLock::lock() {
  writers_.lock();
  uint32_t s = state_.fetch_or(kWriter) | kWriter;
  while (s != kWriter) {
    state_.wait(s);
    s = state_.load();
  }
}

void EpochLock::unlock() {
  state_.fetch_and(~kWriter);
  state_.notify_all();
  writers_.unlock();
}

}  // namespace kiln
