#include "catalog/launch_records_table.h"

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

Status PasswordDataTable::Put(const PasswordData& data) {
  RETURN_IF_ERROR(ci::CheckId("i", data.instance_id, "instance id"));
  if (data.password_data.empty()) return InvalidArgumentError("empty password data");
  return ctx_.db->Write(ctx_, [&]() -> Status {
    Status s = ci::Change(*ctx_.db,
                          "INSERT INTO password_data (instance_id, password_data, timestamp) "
                          "VALUES (?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET "
                          "password_data = excluded.password_data, timestamp = excluded.timestamp",
                          data.instance_id, data.password_data, data.timestamp)
                   .status();
    if (s.code() == Code::kFailedPrecondition) {
      return FailedPreconditionError("instance " + data.instance_id + " does not exist");
    }
    return s;
  });
}

Result<std::optional<PasswordData>> PasswordDataTable::Get(const std::string& instance_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<std::optional<PasswordData>> {
    ASSIGN_OR_RETURN(Stmt stmt, ctx_.db->Prepare("SELECT instance_id, password_data, timestamp "
                                                 "FROM password_data WHERE instance_id = ?"));
    stmt.Bind(instance_id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<PasswordData>();
    return std::optional<PasswordData>(PasswordData{stmt.Text(0), stmt.Text(1), stmt.Text(2)});
  });
}

namespace {

constexpr char kInitColumns[] = "volume_id, rate_mib_per_sec, initialized";

VolumeInitialization ReadInit(const Stmt& s) {
  return VolumeInitialization{s.Text(0), static_cast<int>(s.Int(1)), s.Bool(2)};
}

}  // namespace

Status VolumeInitializationTable::Insert(const VolumeInitialization& record) {
  RETURN_IF_ERROR(ci::CheckId("vol", record.volume_id, "volume id"));
  if (record.rate_mib_per_sec < 0) return InvalidArgumentError("negative initialization rate");
  return ctx_.db->Write(ctx_, [&]() -> Status {
    Status s = ci::Change(*ctx_.db,
                          "INSERT INTO volume_initialization (volume_id, rate_mib_per_sec, "
                          "initialized) VALUES (?, ?, ?)",
                          record.volume_id, static_cast<int64_t>(record.rate_mib_per_sec),
                          record.initialized)
                   .status();
    if (s.code() == Code::kFailedPrecondition) {
      return FailedPreconditionError("volume " + record.volume_id + " does not exist");
    }
    return s;
  });
}

Result<std::optional<VolumeInitialization>> VolumeInitializationTable::Get(
    const std::string& volume_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<std::optional<VolumeInitialization>> {
    ASSIGN_OR_RETURN(Stmt stmt,
                     ctx_.db->Prepare(std::string("SELECT ") + kInitColumns +
                                      " FROM volume_initialization WHERE volume_id = ?"));
    stmt.Bind(volume_id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<VolumeInitialization>();
    return std::optional<VolumeInitialization>(ReadInit(stmt));
  });
}

Status VolumeInitializationTable::MarkInitialized(const std::string& volume_id) {
  return ctx_.db->Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t n, ci::Change(*ctx_.db,
                                           "UPDATE volume_initialization SET initialized = 1 "
                                           "WHERE volume_id = ?",
                                           volume_id));
    if (n == 0) return ci::NotFoundFor("volume initialization of", volume_id);
    return Status::Ok();
  });
}

Result<std::vector<VolumeInitialization>> VolumeInitializationTable::ListUnfinished() {
  return ctx_.db->Read(ctx_, [&]() -> Result<std::vector<VolumeInitialization>> {
    ASSIGN_OR_RETURN(Stmt stmt, ctx_.db->Prepare(std::string("SELECT ") + kInitColumns +
                                                 " FROM volume_initialization WHERE "
                                                 "initialized = 0 ORDER BY volume_id"));
    return ci::ReadAll<VolumeInitialization>(stmt, ReadInit);
  });
}

}  // namespace kiln
