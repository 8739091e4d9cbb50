#include "catalog/vpc_table.h"

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

constexpr char kVpcColumns[] =
    "vpc_id, owner_id, cidr_block, cidr_association_id, dhcp_options_id, is_default, state";
constexpr ci::ListSpec kVpcList = {"vpcs", "vpc_id", kVpcColumns, true, ""};

constexpr char kSubnetColumns[] =
    "subnet_id, owner_id, vpc_id, cidr_block, availability_zone, availability_zone_id, "
    "default_for_az, map_public_ip_on_launch, state";
constexpr ci::ListSpec kSubnetList = {"subnets", "subnet_id", kSubnetColumns, true, ""};

Vpc ReadVpc(const Stmt& s) {
  return Vpc{.vpc_id = s.Text(0),
             .owner_id = s.Text(1),
             .cidr_block = s.Text(2),
             .cidr_association_id = s.Text(3),
             .dhcp_options_id = s.Text(4),
             .is_default = s.Bool(5),
             .state = s.Text(6)};
}

Subnet ReadSubnet(const Stmt& s) {
  return Subnet{.subnet_id = s.Text(0),
                .owner_id = s.Text(1),
                .vpc_id = s.Text(2),
                .cidr_block = s.Text(3),
                .availability_zone = s.Text(4),
                .availability_zone_id = s.Text(5),
                .default_for_az = s.Bool(6),
                .map_public_ip_on_launch = s.Bool(7),
                .state = s.Text(8)};
}

Status CheckState(const std::string& state, std::string_view what) {
  if (state == "pending" || state == "available") return Status::Ok();
  return InvalidArgumentError(std::string(what) + " state '" + state +
                              "' is not pending or available");
}

// The first row of `sql` bound with `id`, read by `read`; NotFound naming `what` otherwise.
template <typename T, typename ReadFn>
Result<T> GetOne(Db& db, const std::string& sql, const std::string& id, std::string_view what,
                 ReadFn read) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
  ASSIGN_OR_RETURN(bool row, stmt.Bind(id).Step());
  if (!row) return ci::NotFoundFor(what, id);
  return read(stmt);
}

Status InsertVpcRow(Db& db, const Vpc& v) {
  Status s = ci::Change(db,
                        "INSERT INTO vpcs (vpc_id, owner_id, cidr_block, cidr_association_id, "
                        "dhcp_options_id, is_default, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        v.vpc_id, v.owner_id, v.cidr_block, v.cidr_association_id,
                        v.dhcp_options_id, v.is_default, v.state)
                 .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("vpc " + v.vpc_id + " exists, or account " + v.owner_id +
                              " already has a default VPC");
  }
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("owner " + v.owner_id + " of vpc " + v.vpc_id +
                                   " does not exist");
  }
  return s;
}

Status InsertSubnetRow(Db& db, const Subnet& n) {
  ASSIGN_OR_RETURN(Stmt owner, db.Prepare("SELECT owner_id FROM vpcs WHERE vpc_id = ?"));
  ASSIGN_OR_RETURN(bool row, owner.Bind(n.vpc_id).Step());
  if (!row) return FailedPreconditionError("vpc " + n.vpc_id + " does not exist");
  if (owner.Text(0) != n.owner_id) {
    return FailedPreconditionError("vpc " + n.vpc_id + " belongs to another account");
  }
  Status s =
      ci::Change(db,
                 "INSERT INTO subnets (subnet_id, owner_id, vpc_id, cidr_block, "
                 "availability_zone, availability_zone_id, default_for_az, "
                 "map_public_ip_on_launch, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 n.subnet_id, n.owner_id, n.vpc_id, n.cidr_block, n.availability_zone,
                 n.availability_zone_id, n.default_for_az, n.map_public_ip_on_launch, n.state)
          .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("subnet " + n.subnet_id + " exists, or vpc " + n.vpc_id +
                              " already has a default subnet in " + n.availability_zone);
  }
  return s;
}

}  // namespace

Status VpcTable::InsertVpc(const Vpc& vpc) {
  RETURN_IF_ERROR(ci::CheckId("vpc", vpc.vpc_id, "vpc id"));
  RETURN_IF_ERROR(ci::CheckAccountId(vpc.owner_id, "vpc owner"));
  if (vpc.cidr_block.empty()) return InvalidArgumentError("a vpc needs a CIDR block");
  RETURN_IF_ERROR(CheckState(vpc.state, "vpc"));
  return ctx_.db->Write(ctx_, [&] { return InsertVpcRow(*ctx_.db, vpc); });
}

Result<Vpc> VpcTable::GetVpc(const std::string& vpc_id) {
  return ctx_.db->Read(ctx_, [&] {
    return GetOne<Vpc>(*ctx_.db,
                       std::string("SELECT ") + kVpcColumns + " FROM vpcs WHERE vpc_id = ?", vpc_id,
                       "vpc", ReadVpc);
  });
}

Result<Vpc> VpcTable::FindDefaultVpc(const std::string& owner_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<Vpc> {
    Result<Vpc> found = GetOne<Vpc>(
        *ctx_.db,
        std::string("SELECT ") + kVpcColumns + " FROM vpcs WHERE owner_id = ? AND is_default = 1",
        owner_id, "default vpc of", ReadVpc);
    if (found.status().code() == Code::kNotFound) {
      return NotFoundError("account " + owner_id + " has no default VPC");
    }
    return found;
  });
}

Result<std::vector<Vpc>> VpcTable::ListVpcs(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Vpc>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kVpcList, query));
    return ci::ReadAll<Vpc>(stmt, ReadVpc);
  });
}

Status VpcTable::InsertSubnet(const Subnet& subnet) {
  RETURN_IF_ERROR(ci::CheckId("subnet", subnet.subnet_id, "subnet id"));
  RETURN_IF_ERROR(ci::CheckId("vpc", subnet.vpc_id, "subnet's vpc id"));
  RETURN_IF_ERROR(ci::CheckAccountId(subnet.owner_id, "subnet owner"));
  if (subnet.cidr_block.empty() || subnet.availability_zone.empty()) {
    return InvalidArgumentError("a subnet needs a CIDR block and an availability zone");
  }
  RETURN_IF_ERROR(CheckState(subnet.state, "subnet"));
  return ctx_.db->Write(ctx_, [&] { return InsertSubnetRow(*ctx_.db, subnet); });
}

Result<Subnet> VpcTable::GetSubnet(const std::string& subnet_id) {
  return ctx_.db->Read(ctx_, [&] {
    return GetOne<Subnet>(
        *ctx_.db, std::string("SELECT ") + kSubnetColumns + " FROM subnets WHERE subnet_id = ?",
        subnet_id, "subnet", ReadSubnet);
  });
}

Result<std::vector<Subnet>> VpcTable::ListSubnets(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Subnet>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kSubnetList, query));
    return ci::ReadAll<Subnet>(stmt, ReadSubnet);
  });
}

}  // namespace kiln
