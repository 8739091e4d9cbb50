#include "cloud/capture.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cloud/cloud.h"
#include "store/block_map.h"

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
  size_t running = 0;                    // guarded by mu
  std::vector<bool> finished(n, false);  // guarded by mu
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
      finished[i] = true;
      --running;
      changed.notify_all();
    });
  }
  std::vector<int> last(n, -1);
  std::unique_lock lock(mu);
  while (running > 0) {
    // Woken by the end of a capture, or every 200 ms to publish progress. A finished capture's
    // progress is not published: RunCaptures completes it in its final transaction.
    changed.wait_for(lock, std::chrono::milliseconds(200));
    for (size_t i = 0; i < n; ++i) {
      if (!captures[i].job || finished[i]) continue;
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

uint64_t PendingCaptureBytes(const std::vector<Capture>& captures) {
  uint64_t bytes = 0;
  for (const Capture& c : captures) {
    if (c.job) bytes += c.job->progress().blocks_total * kBlockSize;
  }
  return bytes;
}

namespace {

// Ends every snapshot (completed, or error with its message) and, with `image_id` and no
// error, the image, in one transaction.
Status Settle(Catalog& catalog, const std::vector<Capture>& captures,
              const std::vector<Status>& results, const std::string& image_id) {
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  bool all_ok = true;
  for (size_t i = 0; i < captures.size(); ++i) {
    const std::string& id = captures[i].snapshot_id;
    if (results[i].ok()) {
      RETURN_IF_ERROR(
          tx.snapshots().UpdateState(id, SnapshotState::kPending, SnapshotState::kCompleted));
    } else {
      all_ok = false;
      RETURN_IF_ERROR(tx.snapshots().UpdateState(id, SnapshotState::kPending, SnapshotState::kError,
                                                 results[i].message()));
    }
  }
  if (all_ok && !image_id.empty()) {
    RETURN_IF_ERROR(
        tx.images().UpdateState(image_id, ImageState::kPending, ImageState::kAvailable));
  }
  return tx.Commit();
}

}  // namespace

Status RunCaptures(Cloud& cloud, std::vector<Capture>& captures, const std::string& image_id) {
  const std::vector<Status> results = RunAll(cloud, captures);
  Status first;
  for (size_t i = 0; i < captures.size(); ++i) {
    if (results[i].ok()) continue;
    spdlog::error("snapshot {} of {}: {}", captures[i].snapshot_id, captures[i].volume_id,
                  results[i].ToString());
    if (first.ok()) first = results[i];
  }
  Status settled = Settle(cloud.catalog(), captures, results, image_id);
  if (settled.ok()) return first;
  // One record could not move (a snapshot deleted under way, or the image deregistered while
  // pending): settle each record alone, so the others still end where they belong.
  Catalog& catalog = cloud.catalog();
  for (size_t i = 0; i < captures.size(); ++i) {
    const std::string& id = captures[i].snapshot_id;
    if (results[i].ok()) {
      catalog.snapshots()
          .UpdateState(id, SnapshotState::kPending, SnapshotState::kCompleted)
          .IgnoreError();
    } else {
      catalog.snapshots()
          .UpdateState(id, SnapshotState::kPending, SnapshotState::kError, results[i].message())
          .IgnoreError();
    }
  }
  if (!first.ok()) return first;
  if (image_id.empty()) return Status::Ok();
  return catalog.images().UpdateState(image_id, ImageState::kPending, ImageState::kAvailable);
}

}  // namespace kiln
