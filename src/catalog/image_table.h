// ImageTable: images, their block device mappings and their launch permissions. Obtain it
// from Catalog or Transaction (catalog.h states the errors and thread-safety all tables share).
//
// Deleting an image (Delete) removes it with its mappings, permissions and tags. An image
// that is deregistered but kept (UpdateState to kDeregistered) no longer holds its name and
// no longer keeps its snapshots in use.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class ImageTable {
 public:
  explicit ImageTable(TableContext ctx) : ctx_(ctx) {}

  // Adds an image with its block device mappings (and, if is_public, the launch permission
  // group "all"). InvalidArgument for a malformed image id or owner, an empty name, two
  // mappings with one device name, or a mapping without a device name. AlreadyExists if the
  // id is taken, or if the owner has an image with this name that is not deregistered (the
  // message then names that image: the API's InvalidAMIName.Duplicate). FailedPrecondition if
  // the owner or a mapping's snapshot does not exist (insert snapshots first).
  Status Insert(const Image& image);

  // NotFound if there is no such image (a deregistered one that was kept is returned).
  Result<Image> Get(const std::string& image_id);

  // The owner's image with this name that is not deregistered; NotFound if none.
  Result<Image> FindByName(const std::string& owner_id, const std::string& name);

  // Images by id, filtered as `query` says (visible_to: the images the account may launch).
  Result<std::vector<Image>> List(const ListQuery& query);

  // Compare-and-set of the state: moves the image from `from` to `to` and sets its
  // StateReason. FailedPrecondition (naming the current state) if it is not in `from`;
  // AlreadyExists if it leaves kDeregistered while another image of the owner has its name.
  Status UpdateState(const std::string& image_id, ImageState from, ImageState to,
                     const StateReason& reason = {});

  // Sets the Description (ModifyImageAttribute). NotFound if there is no such image.
  Status SetDescription(const std::string& image_id, const std::string& description);

  // Removes the image, its mappings, launch permissions and tags. NotFound if absent.
  Status Delete(const std::string& image_id);

  // The ids of images, not deregistered, whose mappings use the snapshot (sorted).
  Result<std::vector<std::string>> ListUsingSnapshot(const std::string& snapshot_id);

  // Grants / revokes a launch permission. Add is idempotent; InvalidArgument unless exactly
  // one of group ("all") and user_id (12 digits) is set; FailedPrecondition if the image does
  // not exist. Remove of a permission not granted is OK (as EC2).
  Status AddLaunchPermission(const LaunchPermission& permission);
  Status RemoveLaunchPermission(const LaunchPermission& permission);
  // The image's launch permissions: group "all" first, then users by id.
  Result<std::vector<LaunchPermission>> ListLaunchPermissions(const std::string& image_id);

 private:
  TableContext ctx_;
};

}  // namespace kiln
