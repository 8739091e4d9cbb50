#include "catalog/instance_table.h"

#include <set>

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

// The client token lives on the reservation (one per RunInstances call).
constexpr char kInstanceColumns[] =
    "instance_id, owner_id, reservation_id, image_id, instance_type, state, state_reason_code, "
    "state_reason_message, state_transition_reason, launch_time, user_data, key_name, "
    "availability_zone, root_device_name, root_device_type, ami_launch_index, "
    "(SELECT client_token FROM reservations r WHERE r.reservation_id = instances.reservation_id), "
    "vpc_id, subnet_id, shutdown_behavior";
constexpr ci::ListSpec kInstanceList = {"instances", "instance_id", kInstanceColumns, true, ""};

Result<Instance> ReadInstance(const Stmt& s) {
  Instance i;
  i.instance_id = s.Text(0);
  i.owner_id = s.Text(1);
  i.reservation_id = s.Text(2);
  i.image_id = s.Text(3);
  i.instance_type = s.Text(4);
  Result<InstanceState> state = ParseInstanceState(s.Text(5));
  if (!state.ok()) {
    return CorruptionError("instance " + i.instance_id + ": " + state.status().message());
  }
  i.state = *state;
  i.state_reason = {s.Text(6), s.Text(7)};
  i.state_transition_reason = s.Text(8);
  i.launch_time = s.Text(9);
  i.user_data = s.Blob(10);
  i.key_name = s.Text(11);
  i.availability_zone = s.Text(12);
  i.root_device_name = s.Text(13);
  i.root_device_type = s.Text(14);
  i.ami_launch_index = static_cast<int>(s.Int(15));
  i.client_token = s.Text(16);
  i.vpc_id = s.Text(17);
  i.subnet_id = s.Text(18);
  i.shutdown_behavior = s.Text(19);
  return i;
}

Status LoadDisks(Db& db, Instance& instance) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT device, size_gb, virtual_name "
                                         "FROM instance_store_disks WHERE instance_id = ? "
                                         "ORDER BY position"));
  stmt.Bind(instance.instance_id);
  ASSIGN_OR_RETURN(instance.instance_store, ci::ReadAll<InstanceStoreVolume>(stmt, [](const Stmt& s) {
                     return InstanceStoreVolume{s.Text(0), s.Int(1), s.Text(2)};
                   }));
  return Status::Ok();
}

Status LoadGroups(Db& db, Instance& instance) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT m.group_id, g.group_name "
                                         "FROM instance_security_groups m JOIN security_groups g "
                                         "ON g.group_id = m.group_id WHERE m.instance_id = ? "
                                         "ORDER BY m.position"));
  stmt.Bind(instance.instance_id);
  ASSIGN_OR_RETURN(instance.security_groups,
                   ci::ReadAll<GroupIdentifier>(stmt, [](const Stmt& s) {
                     return GroupIdentifier{s.Text(0), s.Text(1)};
                   }));
  return Status::Ok();
}

Result<std::vector<Instance>> ReadInstances(Db& db, Stmt& stmt) {
  ASSIGN_OR_RETURN(std::vector<Instance> out, ci::ReadAllChecked<Instance>(stmt, ReadInstance));
  for (Instance& instance : out) {
    RETURN_IF_ERROR(LoadDisks(db, instance));
    RETURN_IF_ERROR(LoadGroups(db, instance));
  }
  return out;
}

Status CheckInstance(const Instance& i) {
  RETURN_IF_ERROR(ci::CheckId("i", i.instance_id, "instance id"));
  RETURN_IF_ERROR(ci::CheckId("r", i.reservation_id, "reservation id"));
  RETURN_IF_ERROR(ci::CheckAccountId(i.owner_id, "instance owner"));
  std::set<std::string> devices;
  for (const InstanceStoreVolume& d : i.instance_store) {
    if (d.device.empty()) return InvalidArgumentError("an instance-store disk needs a device");
    if (!devices.insert(d.device).second) {
      return InvalidArgumentError("two instance-store disks at " + d.device);
    }
  }
  std::set<std::string> groups;
  for (const GroupIdentifier& g : i.security_groups) {
    RETURN_IF_ERROR(ci::CheckId("sg", g.group_id, "instance's security group id"));
    if (!groups.insert(g.group_id).second) {
      return InvalidArgumentError("security group " + g.group_id + " listed twice");
    }
  }
  if (!i.shutdown_behavior.empty() && i.shutdown_behavior != "stop" &&
      i.shutdown_behavior != "terminate") {
    return InvalidArgumentError("shutdown behavior '" + i.shutdown_behavior +
                                "' is not stop or terminate");
  }
  return Status::Ok();
}

// Makes the instance's reservation exist, or checks that the existing one matches it.
Status EnsureReservation(Db& db, const Instance& i) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT owner_id, client_token FROM reservations "
                                         "WHERE reservation_id = ?"));
  ASSIGN_OR_RETURN(bool row, stmt.Bind(i.reservation_id).Step());
  if (row) {
    if (stmt.Text(0) == i.owner_id && stmt.Text(1) == i.client_token) return Status::Ok();
    return AlreadyExistsError("reservation " + i.reservation_id +
                              " exists with another owner or client token");
  }
  Status s = ci::Change(db,
                        "INSERT INTO reservations (reservation_id, owner_id, client_token) "
                        "VALUES (?, ?, ?)",
                        i.reservation_id, i.owner_id, i.client_token)
                 .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("client token '" + i.client_token + "' of account " + i.owner_id +
                              " is already used by another reservation");
  }
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("owner " + i.owner_id + " of instance " + i.instance_id +
                                   " does not exist");
  }
  return s;
}

// The instance's security groups; FailedPrecondition for a group that does not exist.
Status InsertGroups(Db& db, const Instance& i) {
  for (size_t n = 0; n < i.security_groups.size(); ++n) {
    Status s = ci::Change(db,
                          "INSERT INTO instance_security_groups (instance_id, group_id, position) "
                          "VALUES (?, ?, ?)",
                          i.instance_id, i.security_groups[n].group_id, static_cast<int>(n))
                   .status();
    if (s.code() == Code::kFailedPrecondition) {
      return FailedPreconditionError("security group " + i.security_groups[n].group_id +
                                     " of instance " + i.instance_id + " does not exist");
    }
    RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

Status InsertInstance(Db& db, const Instance& i) {
  RETURN_IF_ERROR(EnsureReservation(db, i));
  Status s =
      ci::Change(db,
                 "INSERT INTO instances (instance_id, owner_id, reservation_id, image_id, "
                 "instance_type, state, state_reason_code, state_reason_message, "
                 "state_transition_reason, launch_time, user_data, key_name, "
                 "availability_zone, root_device_name, root_device_type, "
                 "ami_launch_index, vpc_id, subnet_id, shutdown_behavior) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 i.instance_id, i.owner_id, i.reservation_id, i.image_id, i.instance_type,
                 ToString(i.state), i.state_reason.code, i.state_reason.message,
                 i.state_transition_reason, i.launch_time, i.user_data, i.key_name,
                 i.availability_zone, i.root_device_name, i.root_device_type, i.ami_launch_index,
                 i.vpc_id, i.subnet_id, i.shutdown_behavior)
          .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("instance " + i.instance_id + " already exists");
  }
  RETURN_IF_ERROR(s);
  for (size_t n = 0; n < i.instance_store.size(); ++n) {
    const InstanceStoreVolume& d = i.instance_store[n];
    RETURN_IF_ERROR(ci::Change(db,
                               "INSERT INTO instance_store_disks (instance_id, position, device, "
                               "size_gb, virtual_name) VALUES (?, ?, ?, ?, ?)",
                               i.instance_id, static_cast<int>(n), d.device, d.size_gb,
                               d.virtual_name)
                        .status());
  }
  return InsertGroups(db, i);
}

Status DeleteInstance(Db& db, const std::string& instance_id) {
  ASSIGN_OR_RETURN(bool attached,
                   ci::Exists(db, "SELECT 1 FROM attachments WHERE instance_id = ?", instance_id));
  if (attached) {
    return FailedPreconditionError("instance " + instance_id + " still has volume attachments");
  }
  ASSIGN_OR_RETURN(
      Stmt stmt,
      db.Prepare("DELETE FROM instances WHERE instance_id = ? RETURNING reservation_id"));
  ASSIGN_OR_RETURN(bool row, stmt.Bind(instance_id).Step());
  if (!row) return ci::NotFoundFor("instance", instance_id);
  std::string reservation_id = stmt.Text(0);
  RETURN_IF_ERROR(stmt.Run());
  RETURN_IF_ERROR(ci::Change(db,
                             "DELETE FROM reservations WHERE reservation_id = ?1 AND NOT EXISTS "
                             "(SELECT 1 FROM instances WHERE reservation_id = ?1)",
                             reservation_id)
                      .status());
  return ci::DeleteTagsOf(db, instance_id);
}

}  // namespace

Status InstanceTable::Insert(const Instance& instance) {
  RETURN_IF_ERROR(CheckInstance(instance));
  return ctx_.db->Write(ctx_, [&] { return InsertInstance(*ctx_.db, instance); });
}

Result<Instance> InstanceTable::Get(const std::string& instance_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<Instance> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kInstanceColumns +
                                           " FROM instances WHERE instance_id = ?"));
    stmt.Bind(instance_id);
    ASSIGN_OR_RETURN(std::vector<Instance> found, ReadInstances(db, stmt));
    if (found.empty()) return ci::NotFoundFor("instance", instance_id);
    return std::move(found.front());
  });
}

Result<std::vector<Instance>> InstanceTable::List(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Instance>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kInstanceList, query));
    return ReadInstances(db, stmt);
  });
}

Result<std::vector<Instance>> InstanceTable::FindByClientToken(const std::string& owner_id,
                                                               const std::string& client_token) {
  if (client_token.empty()) return std::vector<Instance>{};
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Instance>> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kInstanceColumns +
                                           " FROM instances WHERE reservation_id = "
                                           "(SELECT reservation_id FROM reservations "
                                           "WHERE owner_id = ? AND client_token = ?) "
                                           "ORDER BY ami_launch_index, instance_id"));
    stmt.Bind(owner_id, client_token);
    return ReadInstances(db, stmt);
  });
}

Status InstanceTable::UpdateState(const std::string& instance_id, InstanceState from,
                                  InstanceState to, const std::string& state_transition_reason,
                                  const StateReason& state_reason) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db,
                                "UPDATE instances SET state = ?, state_transition_reason = ?, "
                                "state_reason_code = ?, state_reason_message = ? "
                                "WHERE instance_id = ? AND state = ?",
                                ToString(to), state_transition_reason, state_reason.code,
                                state_reason.message, instance_id, ToString(from)));
    if (changed == 0) {
      return ci::CasFailure(db, "instances", "instance_id", "instance", instance_id,
                            ToString(from));
    }
    return Status::Ok();
  });
}

Status InstanceTable::SetLaunchTime(const std::string& instance_id,
                                    const std::string& launch_time) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db, "UPDATE instances SET launch_time = ? WHERE instance_id = ?",
                                launch_time, instance_id));
    if (changed == 0) return ci::NotFoundFor("instance", instance_id);
    return Status::Ok();
  });
}

Status InstanceTable::Delete(const std::string& instance_id) {
  return ctx_.db->Write(ctx_, [&] { return DeleteInstance(*ctx_.db, instance_id); });
}

}  // namespace kiln
