#include "catalog/snapshot_table.h"

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

constexpr char kSnapshotColumns[] =
    "snapshot_id, owner_id, volume_id, volume_size, state, progress, description, start_time, "
    "encrypted, kms_key_id, state_message, storage_key";
constexpr ci::ListSpec kSnapshotList = {"snapshots", "snapshot_id", kSnapshotColumns, true,
                                        "create_volume_permissions"};
constexpr ci::PermissionTable kVolumePermissions = {"create_volume_permissions", "snapshot_id",
                                                    "snapshot"};

Result<Snapshot> ReadSnapshot(const Stmt& s) {
  Snapshot snap;
  snap.snapshot_id = s.Text(0);
  snap.owner_id = s.Text(1);
  snap.volume_id = s.Text(2);
  snap.volume_size = s.Int(3);
  Result<SnapshotState> state = ParseSnapshotState(s.Text(4));
  if (!state.ok()) {
    return CorruptionError("snapshot " + snap.snapshot_id + ": " + state.status().message());
  }
  snap.state = *state;
  snap.progress = static_cast<int>(s.Int(5));
  snap.description = s.Text(6);
  snap.start_time = s.Text(7);
  snap.encrypted = s.Bool(8);
  snap.kms_key_id = s.Text(9);
  snap.state_message = s.Text(10);
  snap.storage_key = s.Text(11);
  return snap;
}

Result<std::vector<Snapshot>> ReadSnapshots(Stmt& stmt) {
  return ci::ReadAllChecked<Snapshot>(stmt, ReadSnapshot);
}

Status InsertSnapshot(Db& db, const Snapshot& s) {
  Status status = ci::Change(db,
                             "INSERT INTO snapshots (snapshot_id, owner_id, volume_id, "
                             "volume_size, state, progress, description, start_time, encrypted, "
                             "kms_key_id, state_message, storage_key) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             s.snapshot_id, s.owner_id, s.volume_id, s.volume_size,
                             ToString(s.state), s.progress, s.description, s.start_time,
                             s.encrypted, s.kms_key_id, s.state_message, s.storage_key)
                      .status();
  if (status.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("snapshot " + s.snapshot_id + " already exists");
  }
  if (status.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("owner " + s.owner_id + " of snapshot " + s.snapshot_id +
                                   " does not exist");
  }
  return status;
}

// Sets one column of a snapshot; NotFound if there is none.
Status SetColumn(Db& db, const char* sql, const std::string& value, const std::string& id) {
  ASSIGN_OR_RETURN(int64_t changed, ci::Change(db, sql, value, id));
  if (changed == 0) return ci::NotFoundFor("snapshot", id);
  return Status::Ok();
}

Status DeleteSnapshot(Db& db, const std::string& snapshot_id) {
  ASSIGN_OR_RETURN(Stmt users, db.Prepare("SELECT m.image_id FROM block_device_mappings m "
                                          "JOIN images i ON i.image_id = m.image_id "
                                          "WHERE m.snapshot_id = ? AND i.state <> 'deregistered' "
                                          "ORDER BY m.image_id LIMIT 1"));
  ASSIGN_OR_RETURN(bool used, users.Bind(snapshot_id).Step());
  if (used) {
    return FailedPreconditionError("The snapshot " + snapshot_id + " is currently in use by " +
                                   users.Text(0));
  }
  // Mappings of deregistered images that name it lose the reference (ON DELETE SET NULL).
  ASSIGN_OR_RETURN(int64_t changed,
                   ci::Change(db, "DELETE FROM snapshots WHERE snapshot_id = ?", snapshot_id));
  if (changed == 0) return ci::NotFoundFor("snapshot", snapshot_id);
  return ci::DeleteTagsOf(db, snapshot_id);
}

}  // namespace

Status SnapshotTable::Insert(const Snapshot& snapshot) {
  RETURN_IF_ERROR(ci::CheckId("snap", snapshot.snapshot_id, "snapshot id"));
  RETURN_IF_ERROR(ci::CheckAccountId(snapshot.owner_id, "snapshot owner"));
  if (snapshot.progress < 0 || snapshot.progress > 100) {
    return InvalidArgumentError("snapshot progress must be 0..100");
  }
  return ctx_.db->Write(ctx_, [&] { return InsertSnapshot(*ctx_.db, snapshot); });
}

Result<Snapshot> SnapshotTable::Get(const std::string& snapshot_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<Snapshot> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kSnapshotColumns +
                                           " FROM snapshots WHERE snapshot_id = ?"));
    stmt.Bind(snapshot_id);
    ASSIGN_OR_RETURN(std::vector<Snapshot> found, ReadSnapshots(stmt));
    if (found.empty()) return ci::NotFoundFor("snapshot", snapshot_id);
    return std::move(found.front());
  });
}

Result<std::vector<Snapshot>> SnapshotTable::List(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Snapshot>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kSnapshotList, query));
    return ReadSnapshots(stmt);
  });
}

Status SnapshotTable::UpdateState(const std::string& snapshot_id, SnapshotState from,
                                  SnapshotState to, const std::string& state_message) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db,
                                "UPDATE snapshots SET state = ?1, state_message = ?2, "
                                "progress = CASE WHEN ?1 = 'completed' THEN 100 ELSE progress END "
                                "WHERE snapshot_id = ?3 AND state = ?4",
                                ToString(to), state_message, snapshot_id, ToString(from)));
    if (changed == 0) {
      return ci::CasFailure(db, "snapshots", "snapshot_id", "snapshot", snapshot_id,
                            ToString(from));
    }
    return Status::Ok();
  });
}

Status SnapshotTable::SetProgress(const std::string& snapshot_id, int progress) {
  if (progress < 0 || progress > 100) return InvalidArgumentError("progress must be 0..100");
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed, ci::Change(db,
                                                 "UPDATE snapshots SET progress = ? "
                                                 "WHERE snapshot_id = ? AND state = 'pending'",
                                                 progress, snapshot_id));
    if (changed == 0) {
      return ci::CasFailure(db, "snapshots", "snapshot_id", "snapshot", snapshot_id, "pending");
    }
    return Status::Ok();
  });
}

Status SnapshotTable::SetStorageKey(const std::string& snapshot_id,
                                    const std::string& storage_key) {
  return ctx_.db->Write(ctx_, [&] {
    return SetColumn(*ctx_.db, "UPDATE snapshots SET storage_key = ? WHERE snapshot_id = ?",
                     storage_key, snapshot_id);
  });
}

Status SnapshotTable::Delete(const std::string& snapshot_id) {
  return ctx_.db->Write(ctx_, [&] { return DeleteSnapshot(*ctx_.db, snapshot_id); });
}

Status SnapshotTable::AddCreateVolumePermission(const CreateVolumePermission& permission) {
  ASSIGN_OR_RETURN(std::string grantee, ci::Grantee(permission.group, permission.user_id));
  return ctx_.db->Write(ctx_, [&] {
    return ci::AddPermission(*ctx_.db, kVolumePermissions, permission.snapshot_id, grantee);
  });
}

Status SnapshotTable::RemoveCreateVolumePermission(const CreateVolumePermission& permission) {
  ASSIGN_OR_RETURN(std::string grantee, ci::Grantee(permission.group, permission.user_id));
  return ctx_.db->Write(ctx_, [&] {
    return ci::RemovePermission(*ctx_.db, kVolumePermissions, permission.snapshot_id, grantee);
  });
}

Result<std::vector<CreateVolumePermission>> SnapshotTable::ListCreateVolumePermissions(
    const std::string& snapshot_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<std::vector<CreateVolumePermission>> {
    ASSIGN_OR_RETURN(std::vector<std::string> grantees,
                     ci::ListGrantees(*ctx_.db, kVolumePermissions, snapshot_id));
    std::vector<CreateVolumePermission> out;
    for (const std::string& g : grantees) {
      out.push_back(g == "all" ? CreateVolumePermission{snapshot_id, g, ""}
                               : CreateVolumePermission{snapshot_id, "", g});
    }
    return out;
  });
}

}  // namespace kiln
