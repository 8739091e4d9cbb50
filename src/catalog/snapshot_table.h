// SnapshotTable: snapshots and their create-volume permissions. Obtain it from Catalog or
// Transaction (catalog.h states the errors and thread-safety all tables share).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class SnapshotTable {
 public:
  explicit SnapshotTable(TableContext ctx) : ctx_(ctx) {}

  // Adds a snapshot. InvalidArgument for a malformed id or owner, or progress outside
  // 0..100; AlreadyExists if the id is taken; FailedPrecondition if the owner does not exist.
  Status Insert(const Snapshot& snapshot);
  // NotFound if there is no such snapshot.
  Result<Snapshot> Get(const std::string& snapshot_id);
  // Snapshots by id, filtered as `query` says (visible_to: the snapshots the account may
  // restore: its own, public, or shared with it by a create-volume permission).
  Result<std::vector<Snapshot>> List(const ListQuery& query);

  // Compare-and-set of the state; sets StateMessage (e.g. why it failed). Moving to
  // kCompleted also sets progress to 100. FailedPrecondition if the snapshot is not in `from`.
  Status UpdateState(const std::string& snapshot_id, SnapshotState from, SnapshotState to,
                     const std::string& state_message = "");
  // Sets the progress (0..100, else InvalidArgument) of a pending snapshot;
  // FailedPrecondition if it is not pending.
  Status SetProgress(const std::string& snapshot_id, int progress);
  // Records the storage engine's id for the snapshot.
  Status SetStorageKey(const std::string& snapshot_id, const std::string& storage_key);

  // Removes the snapshot, its permissions and its tags. FailedPrecondition if an image that
  // is not deregistered uses it (the message names the image, as EC2's InvalidSnapshot.InUse:
  // "The snapshot snap-… is currently in use by ami-…"). Mappings of deregistered images that
  // named it lose their snapshot id. NotFound if absent.
  Status Delete(const std::string& snapshot_id);

  // Grants / revokes a create-volume permission, as ImageTable's launch permissions.
  Status AddCreateVolumePermission(const CreateVolumePermission& permission);
  Status RemoveCreateVolumePermission(const CreateVolumePermission& permission);
  // Group "all" first, then users by id.
  Result<std::vector<CreateVolumePermission>> ListCreateVolumePermissions(
      const std::string& snapshot_id);

 private:
  TableContext ctx_;
};

}  // namespace kiln
