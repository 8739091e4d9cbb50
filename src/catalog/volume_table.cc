#include "catalog/volume_table.h"

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

constexpr char kVolumeColumns[] =
    "volume_id, owner_id, size, snapshot_id, availability_zone, state, volume_type, iops, "
    "encrypted, kms_key_id, create_time, storage_dir";
constexpr ci::ListSpec kVolumeList = {"volumes", "volume_id", kVolumeColumns, true, ""};
constexpr char kAttachmentColumns[] =
    "volume_id, instance_id, device, state, attach_time, delete_on_termination";

Result<EbsVolume> ReadVolume(const Stmt& s) {
  EbsVolume v;
  v.volume_id = s.Text(0);
  v.owner_id = s.Text(1);
  v.size = s.Int(2);
  v.snapshot_id = s.Text(3);
  v.availability_zone = s.Text(4);
  Result<VolumeState> state = ParseVolumeState(s.Text(5));
  if (!state.ok())
    return CorruptionError("volume " + v.volume_id + ": " + state.status().message());
  v.state = *state;
  v.volume_type = s.Text(6);
  v.iops = s.Int(7);
  v.encrypted = s.Bool(8);
  v.kms_key_id = s.Text(9);
  v.create_time = s.Text(10);
  v.storage_dir = s.Text(11);
  return v;
}

Result<Attachment> ReadAttachment(const Stmt& s) {
  Attachment a;
  a.volume_id = s.Text(0);
  a.instance_id = s.Text(1);
  a.device = s.Text(2);
  Result<AttachmentState> state = ParseAttachmentState(s.Text(3));
  if (!state.ok()) {
    return CorruptionError("attachment of " + a.volume_id + ": " + state.status().message());
  }
  a.state = *state;
  a.attach_time = s.Text(4);
  a.delete_on_termination = s.Bool(5);
  return a;
}

Status InsertVolume(Db& db, const EbsVolume& v) {
  Status s = ci::Change(db,
                        "INSERT INTO volumes (volume_id, owner_id, size, snapshot_id, "
                        "availability_zone, state, volume_type, iops, encrypted, kms_key_id, "
                        "create_time, storage_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        v.volume_id, v.owner_id, v.size, v.snapshot_id, v.availability_zone,
                        ToString(v.state), v.volume_type, v.iops, v.encrypted, v.kms_key_id,
                        v.create_time, v.storage_dir)
                 .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("volume " + v.volume_id + " already exists");
  }
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("owner " + v.owner_id + " of volume " + v.volume_id +
                                   " does not exist");
  }
  return s;
}

template <typename T>
Status SetVolumeColumn(Db& db, const char* sql, const T& value, const std::string& id) {
  ASSIGN_OR_RETURN(int64_t changed, ci::Change(db, sql, value, id));
  if (changed == 0) return ci::NotFoundFor("volume", id);
  return Status::Ok();
}

Status DeleteVolume(Db& db, const std::string& volume_id) {
  ASSIGN_OR_RETURN(bool attached,
                   ci::Exists(db, "SELECT 1 FROM attachments WHERE volume_id = ?", volume_id));
  if (attached) return FailedPreconditionError("volume " + volume_id + " is attached");
  ASSIGN_OR_RETURN(int64_t changed,
                   ci::Change(db, "DELETE FROM volumes WHERE volume_id = ?", volume_id));
  if (changed == 0) return ci::NotFoundFor("volume", volume_id);
  return ci::DeleteTagsOf(db, volume_id);
}

Status InsertAttachment(Db& db, const Attachment& a) {
  Status s = ci::Change(db,
                        "INSERT INTO attachments (volume_id, instance_id, device, state, "
                        "attach_time, delete_on_termination) VALUES (?, ?, ?, ?, ?, ?)",
                        a.volume_id, a.instance_id, a.device, ToString(a.state), a.attach_time,
                        a.delete_on_termination)
                 .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("volume " + a.volume_id + " is already attached, or instance " +
                              a.instance_id + " already uses " + a.device);
  }
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("volume " + a.volume_id + " or instance " + a.instance_id +
                                   " does not exist");
  }
  return s;
}

}  // namespace

Status VolumeTable::Insert(const EbsVolume& volume) {
  RETURN_IF_ERROR(ci::CheckId("vol", volume.volume_id, "volume id"));
  RETURN_IF_ERROR(ci::CheckAccountId(volume.owner_id, "volume owner"));
  if (volume.size < 0) return InvalidArgumentError("volume size must not be negative");
  return ctx_.db->Write(ctx_, [&] { return InsertVolume(*ctx_.db, volume); });
}

Result<EbsVolume> VolumeTable::Get(const std::string& volume_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<EbsVolume> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kVolumeColumns +
                                           " FROM volumes WHERE volume_id = ?"));
    ASSIGN_OR_RETURN(bool row, stmt.Bind(volume_id).Step());
    if (!row) return ci::NotFoundFor("volume", volume_id);
    return ReadVolume(stmt);
  });
}

Result<std::vector<EbsVolume>> VolumeTable::List(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<EbsVolume>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kVolumeList, query));
    return ci::ReadAllChecked<EbsVolume>(stmt, ReadVolume);
  });
}

Status VolumeTable::UpdateState(const std::string& volume_id, VolumeState from, VolumeState to) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(
        int64_t changed,
        ci::Change(db, "UPDATE volumes SET state = ? WHERE volume_id = ? AND state = ?",
                   ToString(to), volume_id, ToString(from)));
    if (changed == 0) {
      return ci::CasFailure(db, "volumes", "volume_id", "volume", volume_id, ToString(from));
    }
    return Status::Ok();
  });
}

Status VolumeTable::SetSize(const std::string& volume_id, int64_t size) {
  if (size < 0) return InvalidArgumentError("volume size must not be negative");
  return ctx_.db->Write(ctx_, [&] {
    return SetVolumeColumn(*ctx_.db, "UPDATE volumes SET size = ? WHERE volume_id = ?", size,
                           volume_id);
  });
}

Status VolumeTable::SetStorageDir(const std::string& volume_id, const std::string& storage_dir) {
  return ctx_.db->Write(ctx_, [&] {
    return SetVolumeColumn(*ctx_.db, "UPDATE volumes SET storage_dir = ? WHERE volume_id = ?",
                           storage_dir, volume_id);
  });
}

Status VolumeTable::Delete(const std::string& volume_id) {
  return ctx_.db->Write(ctx_, [&] { return DeleteVolume(*ctx_.db, volume_id); });
}

Status VolumeTable::Attach(const Attachment& attachment) {
  if (attachment.device.empty()) return InvalidArgumentError("an attachment needs a device");
  return ctx_.db->Write(ctx_, [&] { return InsertAttachment(*ctx_.db, attachment); });
}

Result<Attachment> VolumeTable::GetAttachment(const std::string& volume_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<Attachment> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kAttachmentColumns +
                                           " FROM attachments WHERE volume_id = ?"));
    ASSIGN_OR_RETURN(bool row, stmt.Bind(volume_id).Step());
    if (!row) return NotFoundError("volume " + volume_id + " has no attachment");
    return ReadAttachment(stmt);
  });
}

Result<std::vector<Attachment>> VolumeTable::ListAttachments(const std::string& instance_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Attachment>> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kAttachmentColumns +
                                           " FROM attachments WHERE instance_id = ? "
                                           "ORDER BY device, volume_id"));
    stmt.Bind(instance_id);
    return ci::ReadAllChecked<Attachment>(stmt, ReadAttachment);
  });
}

Status VolumeTable::UpdateAttachmentState(const std::string& volume_id, AttachmentState from,
                                          AttachmentState to) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed, ci::Change(db,
                                                 "UPDATE attachments SET state = ? "
                                                 "WHERE volume_id = ? AND state = ?",
                                                 ToString(to), volume_id, ToString(from)));
    if (changed == 0) {
      return ci::CasFailure(db, "attachments", "volume_id", "attachment of volume", volume_id,
                            ToString(from));
    }
    return Status::Ok();
  });
}

Status VolumeTable::Detach(const std::string& volume_id, AttachmentState expected) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db, "DELETE FROM attachments WHERE volume_id = ? AND state = ?",
                                volume_id, ToString(expected)));
    if (changed == 0) {
      return ci::CasFailure(db, "attachments", "volume_id", "attachment of volume", volume_id,
                            ToString(expected));
    }
    return Status::Ok();
  });
}

}  // namespace kiln
