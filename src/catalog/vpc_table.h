// VpcTable: VPCs and their subnets. Obtain it from Catalog or Transaction (catalog.h states the
// errors and thread-safety all tables share). An account's default VPC, its default subnets
// and its default security group are made by the actions layer (actions/default_network.h) in
// one transaction; this table only keeps them and enforces at most one default VPC per owner
// and one default subnet per VPC and zone.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class VpcTable {
 public:
  explicit VpcTable(TableContext ctx) : ctx_(ctx) {}

  // Adds a VPC. InvalidArgument for a malformed id or owner, an empty CIDR block or a state
  // other than pending/available; AlreadyExists if the id is taken or the owner already has a
  // default VPC (when `vpc.is_default`); FailedPrecondition if the owner does not exist.
  Status InsertVpc(const Vpc& vpc);
  // NotFound if there is no such VPC.
  Result<Vpc> GetVpc(const std::string& vpc_id);
  // The owner's default VPC; NotFound if it has none yet.
  Result<Vpc> FindDefaultVpc(const std::string& owner_id);
  // VPCs by id, filtered as `query` says (visible_to: InvalidArgument).
  Result<std::vector<Vpc>> ListVpcs(const ListQuery& query);

  // Adds a subnet. InvalidArgument for malformed ids, an empty CIDR block or zone, or a bad
  // state; AlreadyExists if the id is taken or the VPC has a default subnet in that zone
  // already; FailedPrecondition if the VPC or the owner does not exist, or the VPC belongs to
  // another owner.
  Status InsertSubnet(const Subnet& subnet);
  // NotFound if there is no such subnet.
  Result<Subnet> GetSubnet(const std::string& subnet_id);
  // Subnets by id, filtered as `query` says (visible_to: InvalidArgument).
  Result<std::vector<Subnet>> ListSubnets(const ListQuery& query);

 private:
  TableContext ctx_;
};

}  // namespace kiln
