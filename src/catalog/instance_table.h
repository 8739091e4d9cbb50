// InstanceTable: instances, their reservations, instance-store disks and security groups. Obtain it from
// Catalog or Transaction (catalog.h states the errors and thread-safety all tables share).
//
// A reservation is the set of instances one RunInstances made; its ClientToken is unique per
// owner. All instances of a reservation share owner and client token.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class InstanceTable {
 public:
  explicit InstanceTable(TableContext ctx) : ctx_(ctx) {}

  // Adds an instance with its instance-store disks, and its reservation if this is the
  // reservation's first instance. InvalidArgument for malformed ids or owner, or two disks at
  // one device. AlreadyExists if the instance id is taken, or if the owner's non-empty client
  // token already names another reservation, or if the reservation exists with another owner
  // or client token. FailedPrecondition if the owner does not exist, or one of its
  // security_groups (by group_id; names are ignored) does not. Reads fill each group's name.
  Status Insert(const Instance& instance);
  // NotFound if there is no such instance.
  Result<Instance> Get(const std::string& instance_id);
  // Instances by id, filtered as `query` says (visible_to: InvalidArgument).
  Result<std::vector<Instance>> List(const ListQuery& query);
  // The instances of the owner's reservation with this client token, by ami_launch_index
  // (RunInstances' idempotency: a retried call returns them). Empty if the token is unused.
  Result<std::vector<Instance>> FindByClientToken(const std::string& owner_id,
                                                  const std::string& client_token);

  // Compare-and-set of the state; also sets StateTransitionReason and StateReason.
  // FailedPrecondition if the instance is not in `from`.
  Status UpdateState(const std::string& instance_id, InstanceState from, InstanceState to,
                     const std::string& state_transition_reason = "",
                     const StateReason& state_reason = {});
  // Sets LaunchTime (EC2 moves it at every start).
  Status SetLaunchTime(const std::string& instance_id, const std::string& launch_time);
  // Removes the instance, its disks and tags (and its reservation once empty).
  // FailedPrecondition while a volume attachment record names it; NotFound if absent.
  Status Delete(const std::string& instance_id);

 private:
  TableContext ctx_;
};

}  // namespace kiln
