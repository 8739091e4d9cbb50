#include "cloud/capture.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cloud/cloud.h"

namespace kiln {

Status StartCaptures(Cloud& cloud, std::vector<Capture>& captures) {
  for (Capture& c : captures) {
    Result<Volume*> volume = cloud.storage().GetVolume(c.volume_id);
    Result<std::unique_ptr<SnapshotJob>> job =
        volume.ok() ? cloud.storage().snapshots().Start(**volume, c.snapshot_id)
                    : Result<std::unique_ptr<SnapshotJob>>(volume.status());
    if (!job.ok()) {
      for (Capture& d : captures) d.job.reset();
      return job.status();
    }
    c.job = std::move(*job);
  }
  return Status::Ok();
}

namespace {

// Runs every capture on a thread of its own (each job has its own worker threads too), while
// this thread keeps the catalog's Progress of each snapshot current. Returns each result.
std::vector<Status> RunAll(Cloud& cloud, std::vector<Capture>& captures) {
  const size_t n = captures.size();
  std::vector<Status> results(n, InternalError("capture was not started"));
  std::mutex mu;
  std::condition_variable changed;
  size_t running = 0;  // guarded by mu
  std::vector<std::thread> runners;
  for (size_t i = 0; i < n; ++i) {
    if (!captures[i].job) continue;
    {
      std::lock_guard lock(mu);
      ++running;
    }
    runners.emplace_back([&, i] {
      Status s = captures[i].job->Run().status();
      std::lock_guard lock(mu);
      results[i] = s;
      --running;
      changed.notify_all();
    });
  }
  std::vector<int> last(n, -1);
  std::unique_lock lock(mu);
  while (running > 0) {
    // Woken by the end of a capture, or every 200 ms to publish progress.
    changed.wait_for(lock, std::chrono::milliseconds(200));
    for (size_t i = 0; i < n; ++i) {
      if (!captures[i].job) continue;
      const int percent = std::min(captures[i].job->progress().Percent(), 99);
      if (percent != last[i]) {
        cloud.catalog().snapshots().SetProgress(captures[i].snapshot_id, percent).IgnoreError();
        last[i] = percent;
      }
    }
  }
  lock.unlock();
  for (std::thread& t : runners) t.join();
  for (Capture& c : captures) c.job.reset();
  return results;
}

}  // namespace

Status RunCaptures(Cloud& cloud, std::vector<Capture>& captures) {
  const std::vector<Status> results = RunAll(cloud, captures);
  Status first;
  for (size_t i = 0; i < captures.size(); ++i) {
    const Capture& c = captures[i];
    Status s = results[i];
    Catalog& catalog = cloud.catalog();
    if (s.ok()) {
      s = catalog.snapshots().SetProgress(c.snapshot_id, 100);
      if (s.ok()) {
        s = catalog.snapshots().UpdateState(c.snapshot_id, SnapshotState::kPending,
                                            SnapshotState::kCompleted);
      }
    } else {
      spdlog::error("snapshot {} of {}: {}", c.snapshot_id, c.volume_id, s.ToString());
      catalog.snapshots()
          .UpdateState(c.snapshot_id, SnapshotState::kPending, SnapshotState::kError, s.message())
          .IgnoreError();
    }
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

}  // namespace kiln
