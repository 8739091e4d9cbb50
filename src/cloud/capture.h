// Snapshot capture for CreateSnapshot and CreateImage: the point in time is fixed when
// StartCaptures returns (SnapshotStore::Start for every volume at once); RunCaptures then
// copies the blocks in the background, keeping each snapshot's Progress in the catalog, and
// ends each snapshot `completed` or `error`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "snapshot/snapshot_job.h"

namespace kiln {

class Cloud;

struct Capture {
  std::string volume_id;
  std::string snapshot_id;  // also the storage engine's id of the snapshot
  std::unique_ptr<SnapshotJob> job;
};

// Starts a capture of each volume (`captures` with volume and snapshot ids set). On error the
// captures started so far are dropped (aborted: their volumes' blocks stay dirty).
Status StartCaptures(Cloud& cloud, std::vector<Capture>& captures);

// Runs every started capture to the end, all at once. Returns the first error; every
// snapshot ends completed or error (with the message) either way. With `image_id`, when every
// capture succeeded, the image moves from pending to available in the same catalog
// transaction that completes its snapshots: an image is never seen available with a pending
// snapshot, and the end of an image costs one synchronous commit, not one per snapshot.
Status RunCaptures(Cloud& cloud, std::vector<Capture>& captures, const std::string& image_id = "");

// Bytes the started `captures` have left to copy (their dirty blocks).
uint64_t PendingCaptureBytes(const std::vector<Capture>& captures);

}  // namespace kiln
