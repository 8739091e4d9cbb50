#include "cloud/capture.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
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

// Runs one capture on its own thread while this one keeps the catalog's Progress current.
Status RunOne(Cloud& cloud, Capture& c) {
  std::atomic<bool> done{false};
  Result<SnapshotInfo> result = InternalError("not run");
  std::thread runner([&] {
    result = c.job->Run();
    done = true;
  });
  int last = -1;
  while (!done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int percent = std::min(c.job->progress().Percent(), 99);
    if (percent != last) {
      cloud.catalog().snapshots().SetProgress(c.snapshot_id, percent).IgnoreError();
      last = percent;
    }
  }
  runner.join();
  c.job.reset();
  return result.status();
}

}  // namespace

Status RunCaptures(Cloud& cloud, std::vector<Capture>& captures) {
  Status first;
  for (Capture& c : captures) {
    Status s = c.job ? RunOne(cloud, c) : InternalError("capture was not started");
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
