#include "catalog/image_table.h"

#include <set>

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

// is_public is derived from the launch permissions, so it can never disagree with them.
constexpr char kImageColumns[] =
    "image_id, owner_id, name, description, state, state_reason_code, state_reason_message, "
    "architecture, root_device_name, root_device_type, virtualization_type, image_type, "
    "platform, source_instance_id, creation_date, "
    "EXISTS (SELECT 1 FROM launch_permissions p "
    "WHERE p.image_id = images.image_id AND p.grantee = 'all')";
constexpr ci::ListSpec kImageList = {"images", "image_id", kImageColumns, true,
                                     "launch_permissions"};
constexpr ci::PermissionTable kLaunchPermissions = {"launch_permissions", "image_id", "image"};

Result<Image> ReadImage(const Stmt& s) {
  Image image;
  image.image_id = s.Text(0);
  image.owner_id = s.Text(1);
  image.name = s.Text(2);
  image.description = s.Text(3);
  Result<ImageState> state = ParseImageState(s.Text(4));
  if (!state.ok())
    return CorruptionError("image " + image.image_id + ": " + state.status().message());
  image.state = *state;
  image.state_reason = {s.Text(5), s.Text(6)};
  image.architecture = s.Text(7);
  image.root_device_name = s.Text(8);
  image.root_device_type = s.Text(9);
  image.virtualization_type = s.Text(10);
  image.image_type = s.Text(11);
  image.platform = s.Text(12);
  image.source_instance_id = s.Text(13);
  image.creation_date = s.Text(14);
  image.is_public = s.Bool(15);
  return image;
}

BlockDeviceMapping ReadMapping(const Stmt& s) {
  BlockDeviceMapping m;
  m.device_name = s.Text(0);
  m.snapshot_id = s.Text(1);
  m.volume_size = s.Int(2);
  m.volume_type = s.Text(3);
  m.iops = s.Int(4);
  m.delete_on_termination = s.Bool(5);
  m.encrypted = s.Bool(6);
  m.kms_key_id = s.Text(7);
  m.no_device = s.Bool(8);
  m.virtual_name = s.Text(9);
  return m;
}

Status LoadMappings(Db& db, Image& image) {
  ASSIGN_OR_RETURN(Stmt stmt,
                   db.Prepare("SELECT device_name, snapshot_id, volume_size, volume_type, "
                              "iops, delete_on_termination, encrypted, kms_key_id, no_device, "
                              "virtual_name FROM block_device_mappings WHERE image_id = ? "
                              "ORDER BY position"));
  stmt.Bind(image.image_id);
  ASSIGN_OR_RETURN(image.block_device_mappings, ci::ReadAll<BlockDeviceMapping>(stmt, ReadMapping));
  return Status::Ok();
}

// Reads every image row of `stmt`, then each image's mappings.
Result<std::vector<Image>> ReadImages(Db& db, Stmt& stmt) {
  ASSIGN_OR_RETURN(std::vector<Image> images, ci::ReadAllChecked<Image>(stmt, ReadImage));
  for (Image& image : images) RETURN_IF_ERROR(LoadMappings(db, image));
  return images;
}

Result<Image> GetImage(Db& db, const std::string& where, const std::string& a,
                       const std::string& b = "") {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kImageColumns +
                                         " FROM images WHERE " + where));
  stmt.Bind(a);
  if (!b.empty()) stmt.Bind(b);
  ASSIGN_OR_RETURN(std::vector<Image> images, ReadImages(db, stmt));
  if (images.empty()) return NotFoundError("no image with " + a + (b.empty() ? "" : " " + b));
  return std::move(images.front());
}

Status CheckImage(const Image& image) {
  RETURN_IF_ERROR(ci::CheckId("ami", image.image_id, "image id"));
  RETURN_IF_ERROR(ci::CheckAccountId(image.owner_id, "image owner"));
  if (image.name.empty()) return InvalidArgumentError("image " + image.image_id + " has no name");
  std::set<std::string> devices;
  for (const BlockDeviceMapping& m : image.block_device_mappings) {
    if (m.device_name.empty()) return InvalidArgumentError("a block device mapping needs a device");
    if (!devices.insert(m.device_name).second) {
      return InvalidArgumentError("device " + m.device_name + " is mapped twice");
    }
  }
  return Status::Ok();
}

// The error for an image insert that broke a unique key: the id, or the owner's name.
Status DuplicateImage(Db& db, const Image& image) {
  ASSIGN_OR_RETURN(bool id_taken,
                   ci::Exists(db, "SELECT 1 FROM images WHERE image_id = ?", image.image_id));
  if (id_taken) return AlreadyExistsError("image " + image.image_id + " already exists");
  Result<Image> other = GetImage(db, "owner_id = ? AND name = ? AND state <> 'deregistered'",
                                 image.owner_id, image.name);
  if (!other.ok()) return other.status();
  return AlreadyExistsError("AMI name " + image.name + " is already in use by AMI " +
                            other->image_id);
}

Status InsertMapping(Db& db, const std::string& image_id, int position,
                     const BlockDeviceMapping& m) {
  Status s = ci::Change(db,
                        "INSERT INTO block_device_mappings (image_id, position, device_name, "
                        "snapshot_id, volume_size, volume_type, iops, delete_on_termination, "
                        "encrypted, kms_key_id, no_device, virtual_name) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        image_id, position, m.device_name, ci::NullIfEmpty(m.snapshot_id),
                        m.volume_size, m.volume_type, m.iops, m.delete_on_termination, m.encrypted,
                        m.kms_key_id, m.no_device, m.virtual_name)
                 .status();
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("image " + image_id + " maps " + m.device_name +
                                   " to snapshot " + m.snapshot_id + ", which does not exist");
  }
  return s;
}

Status InsertImage(Db& db, const Image& image) {
  Status s = ci::Change(db,
                        "INSERT INTO images (image_id, owner_id, name, description, state, "
                        "state_reason_code, state_reason_message, architecture, "
                        "root_device_name, root_device_type, virtualization_type, image_type, "
                        "platform, source_instance_id, creation_date) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        image.image_id, image.owner_id, image.name, image.description,
                        ToString(image.state), image.state_reason.code, image.state_reason.message,
                        image.architecture, image.root_device_name, image.root_device_type,
                        image.virtualization_type, image.image_type, image.platform,
                        image.source_instance_id, image.creation_date)
                 .status();
  if (s.code() == Code::kAlreadyExists) return DuplicateImage(db, image);
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("owner " + image.owner_id + " of image " + image.image_id +
                                   " does not exist");
  }
  RETURN_IF_ERROR(s);
  for (size_t i = 0; i < image.block_device_mappings.size(); ++i) {
    RETURN_IF_ERROR(
        InsertMapping(db, image.image_id, static_cast<int>(i), image.block_device_mappings[i]));
  }
  if (image.is_public) return ci::AddPermission(db, kLaunchPermissions, image.image_id, "all");
  return Status::Ok();
}

}  // namespace

Status ImageTable::Insert(const Image& image) {
  RETURN_IF_ERROR(CheckImage(image));
  return ctx_.db->Write(ctx_, [&] { return InsertImage(*ctx_.db, image); });
}

Result<Image> ImageTable::Get(const std::string& image_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<Image> {
    Result<Image> image = GetImage(*ctx_.db, "image_id = ?", image_id);
    if (image.status().code() == Code::kNotFound) return ci::NotFoundFor("image", image_id);
    return image;
  });
}

Result<Image> ImageTable::FindByName(const std::string& owner_id, const std::string& name) {
  return ctx_.db->Read(ctx_, [&]() -> Result<Image> {
    Result<Image> image =
        GetImage(*ctx_.db, "owner_id = ? AND name = ? AND state <> 'deregistered'", owner_id, name);
    if (image.status().code() == Code::kNotFound) {
      return NotFoundError("account " + owner_id + " has no image named '" + name + "'");
    }
    return image;
  });
}

Result<std::vector<Image>> ImageTable::List(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Image>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kImageList, query));
    return ReadImages(db, stmt);
  });
}

Status ImageTable::UpdateState(const std::string& image_id, ImageState from, ImageState to,
                               const StateReason& reason) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(
        int64_t changed,
        ci::Change(db,
                   "UPDATE images SET state = ?, state_reason_code = ?, "
                   "state_reason_message = ? WHERE image_id = ? AND state = ?",
                   ToString(to), reason.code, reason.message, image_id, ToString(from)));
    if (changed == 0)
      return ci::CasFailure(db, "images", "image_id", "image", image_id, ToString(from));
    return Status::Ok();
  });
}

Status ImageTable::SetDescription(const std::string& image_id, const std::string& description) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db, "UPDATE images SET description = ? WHERE image_id = ?",
                                description, image_id));
    if (changed == 0) return ci::NotFoundFor("image", image_id);
    return Status::Ok();
  });
}

Status ImageTable::Delete(const std::string& image_id) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db, "DELETE FROM images WHERE image_id = ?", image_id));
    if (changed == 0) return ci::NotFoundFor("image", image_id);
    return ci::DeleteTagsOf(db, image_id);
  });
}

Result<std::vector<std::string>> ImageTable::ListUsingSnapshot(const std::string& snapshot_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<std::string>> {
    ASSIGN_OR_RETURN(Stmt stmt,
                     db.Prepare("SELECT DISTINCT m.image_id FROM block_device_mappings m "
                                "JOIN images i ON i.image_id = m.image_id "
                                "WHERE m.snapshot_id = ? AND i.state <> 'deregistered' "
                                "ORDER BY m.image_id"));
    stmt.Bind(snapshot_id);
    return ci::ReadAll<std::string>(stmt, [](const Stmt& s) { return s.Text(0); });
  });
}

Status ImageTable::AddLaunchPermission(const LaunchPermission& permission) {
  ASSIGN_OR_RETURN(std::string grantee, ci::Grantee(permission.group, permission.user_id));
  return ctx_.db->Write(ctx_, [&] {
    return ci::AddPermission(*ctx_.db, kLaunchPermissions, permission.image_id, grantee);
  });
}

Status ImageTable::RemoveLaunchPermission(const LaunchPermission& permission) {
  ASSIGN_OR_RETURN(std::string grantee, ci::Grantee(permission.group, permission.user_id));
  return ctx_.db->Write(ctx_, [&] {
    return ci::RemovePermission(*ctx_.db, kLaunchPermissions, permission.image_id, grantee);
  });
}

Result<std::vector<LaunchPermission>> ImageTable::ListLaunchPermissions(
    const std::string& image_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<std::vector<LaunchPermission>> {
    ASSIGN_OR_RETURN(std::vector<std::string> grantees,
                     ci::ListGrantees(*ctx_.db, kLaunchPermissions, image_id));
    std::vector<LaunchPermission> out;
    for (const std::string& g : grantees) {
      out.push_back(g == "all" ? LaunchPermission{image_id, g, ""}
                               : LaunchPermission{image_id, "", g});
    }
    return out;
  });
}

}  // namespace kiln
