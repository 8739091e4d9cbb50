// VolumeTable: volumes and their attachments to instances. Obtain it from Catalog or
// Transaction (catalog.h states the errors and thread-safety all tables share).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class VolumeTable {
 public:
  explicit VolumeTable(TableContext ctx) : ctx_(ctx) {}

  // Adds a volume. InvalidArgument for a malformed id or owner or a negative size;
  // AlreadyExists if the id is taken; FailedPrecondition if the owner does not exist.
  Status Insert(const EbsVolume& volume);
  // NotFound if there is no such volume.
  Result<EbsVolume> Get(const std::string& volume_id);
  // Volumes by id, filtered as `query` says (visible_to: InvalidArgument).
  Result<std::vector<EbsVolume>> List(const ListQuery& query);

  // Compare-and-set of the state; FailedPrecondition if the volume is not in `from`.
  Status UpdateState(const std::string& volume_id, VolumeState from, VolumeState to);
  // Sets the size in GiB (ModifyVolume grows it; the caller checks the rules).
  Status SetSize(const std::string& volume_id, int64_t size);
  // Records where the storage engine keeps the volume.
  Status SetStorageDir(const std::string& volume_id, const std::string& storage_dir);
  // Removes the volume and its tags. FailedPrecondition if it has an attachment record
  // (detach first); NotFound if absent.
  Status Delete(const std::string& volume_id);

  // Records an attachment. AlreadyExists if the volume has an attachment record, or if the
  // instance has a non-detached attachment at this device; FailedPrecondition if the volume
  // or the instance does not exist; InvalidArgument for an empty device.
  Status Attach(const Attachment& attachment);
  // The volume's attachment; NotFound if it has none.
  Result<Attachment> GetAttachment(const std::string& volume_id);
  // The instance's attachments, by device.
  Result<std::vector<Attachment>> ListAttachments(const std::string& instance_id);
  // Compare-and-set of an attachment's state; FailedPrecondition if not in `from`.
  Status UpdateAttachmentState(const std::string& volume_id, AttachmentState from,
                               AttachmentState to);
  // Removes the volume's attachment record if it is in `expected` (FailedPrecondition if not;
  // NotFound if there is none).
  Status Detach(const std::string& volume_id, AttachmentState expected);

 private:
  TableContext ctx_;
};

}  // namespace kiln
