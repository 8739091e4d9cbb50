// DescribeVpcs and DescribeSubnets; NetworkActions gathers them with the security group actions
// (security_group_actions.cc).
#include "actions/network_actions.h"

#include <array>
#include <span>

#include "actions/action_common.h"
#include "actions/default_network.h"
#include "ec2/describe.h"
#include "ec2/describe_internal.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using actions::Ec2Error;
using describe_internal::Bool;
using describe_internal::FilterField;
using describe_internal::IfSet;
using describe_internal::Values;

struct VpcView {
  const Vpc& vpc;
};
struct SubnetView {
  const Subnet& subnet;
  std::string arn;
};

// clang-format off
constexpr std::array<FilterField<VpcView>, 9> kVpcFields = {{
  {"vpc-id", [](const VpcView& v) { return IfSet(v.vpc.vpc_id); }},
  {"owner-id", [](const VpcView& v) { return IfSet(v.vpc.owner_id); }},
  {"state", [](const VpcView& v) { return IfSet(v.vpc.state); }},
  {"cidr", [](const VpcView& v) { return IfSet(v.vpc.cidr_block); }},
  {"cidr-block-association.cidr-block", [](const VpcView& v) { return IfSet(v.vpc.cidr_block); }},
  {"cidr-block-association.association-id", [](const VpcView& v) {
    return IfSet(v.vpc.cidr_association_id);
  }},
  {"cidr-block-association.state", [](const VpcView&) { return Values{"associated"}; }},
  {"dhcp-options-id", [](const VpcView& v) { return IfSet(v.vpc.dhcp_options_id); }},
  {"is-default", [](const VpcView& v) { return Bool(v.vpc.is_default); }},
}};

constexpr std::array<FilterField<SubnetView>, 11> kSubnetFields = {{
  {"subnet-id", [](const SubnetView& v) { return IfSet(v.subnet.subnet_id); }},
  {"vpc-id", [](const SubnetView& v) { return IfSet(v.subnet.vpc_id); }},
  {"owner-id", [](const SubnetView& v) { return IfSet(v.subnet.owner_id); }},
  {"state", [](const SubnetView& v) { return IfSet(v.subnet.state); }},
  {"cidr-block", [](const SubnetView& v) { return IfSet(v.subnet.cidr_block); }},
  {"availability-zone", [](const SubnetView& v) { return IfSet(v.subnet.availability_zone); }},
  {"availability-zone-id", [](const SubnetView& v) {
    return IfSet(v.subnet.availability_zone_id);
  }},
  {"default-for-az", [](const SubnetView& v) { return Bool(v.subnet.default_for_az); }},
  {"map-public-ip-on-launch", [](const SubnetView& v) {
    return Bool(v.subnet.map_public_ip_on_launch);
  }},
  {"subnet-arn", [](const SubnetView& v) { return IfSet(v.arn); }},
  {"ipv6-native", [](const SubnetView&) { return Values{"false"}; }},
}};
// clang-format on

template <typename View, size_t N>
Status CheckFilters(const std::array<FilterField<View>, N>& table,
                    const std::vector<Filter>& filters) {
  const std::vector<std::string_view> names =
      describe_internal::Names(std::span<const FilterField<View>>(table));
  return describe_internal::CheckNames(filters, names);
}

void WriteBlockPublicAccess(XmlWriter& w) {
  w.Open("blockPublicAccessStates").Field("internetGatewayBlockMode", "off").Close();
}

void WriteVpc(XmlWriter& w, const Vpc& v, const std::vector<Tag>& tags) {
  w.Open("item").Field("vpcId", v.vpc_id).Field("ownerId", v.owner_id);
  w.Field("state", v.state).Field("cidrBlock", v.cidr_block);
  w.Open("cidrBlockAssociationSet").Open("item");
  w.Field("associationId", v.cidr_association_id).Field("cidrBlock", v.cidr_block);
  w.Open("cidrBlockState").Field("state", "associated").Close();
  w.Close().Close();
  w.FieldIfSet("dhcpOptionsId", v.dhcp_options_id);
  w.Field("instanceTenancy", "default").Field("isDefault", v.is_default);
  WriteTagSet(w, tags);
  WriteBlockPublicAccess(w);
  w.Close();
}

// Addresses a subnet offers: its size less the five EC2 reserves (network, router, DNS, future,
// broadcast). kiln hands out no addresses yet, so none are in use.
int64_t AvailableAddresses(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  const int bits = slash == std::string::npos ? 32 : std::atoi(cidr.c_str() + slash + 1);
  if (bits < 0 || bits > 28) return 0;
  return (int64_t{1} << (32 - bits)) - 5;
}

void WriteSubnet(XmlWriter& w, const SubnetView& view, const std::vector<Tag>& tags) {
  const Subnet& s = view.subnet;
  w.Open("item").Field("subnetId", s.subnet_id).Field("subnetArn", view.arn);
  w.Field("state", s.state).Field("ownerId", s.owner_id).Field("vpcId", s.vpc_id);
  w.Field("cidrBlock", s.cidr_block).Open("ipv6CidrBlockAssociationSet").Close();
  w.Field("availableIpAddressCount", AvailableAddresses(s.cidr_block));
  w.Field("availabilityZone", s.availability_zone);
  w.FieldIfSet("availabilityZoneId", s.availability_zone_id);
  w.Field("defaultForAz", s.default_for_az);
  w.Field("mapPublicIpOnLaunch", s.map_public_ip_on_launch);
  w.Field("mapCustomerOwnedIpOnLaunch", false).Field("assignIpv6AddressOnCreation", false);
  w.Field("enableDns64", false).Field("ipv6Native", false);
  w.Open("privateDnsNameOptionsOnLaunch").Field("hostnameType", "ip-name");
  w.Field("enableResourceNameDnsARecord", false);
  w.Field("enableResourceNameDnsAAAARecord", false).Close();
  WriteTagSet(w, tags);
  WriteBlockPublicAccess(w);
  w.Close();
}

// The ids listed under `param` that the caller has none of: `code` ("The vpc ID 'x' does not
// exist").
template <typename T, typename IdOf>
Status CheckListed(const std::vector<std::string>& ids, const std::vector<T>& found, IdOf id_of,
                   std::string_view code, std::string_view noun) {
  for (const std::string& id : ids) {
    if (std::none_of(found.begin(), found.end(), [&](const T& t) { return id_of(t) == id; })) {
      return Ec2Error(code, "The " + std::string(noun) + " ID '" + id + "' does not exist");
    }
  }
  return Status::Ok();
}

Result<std::string> DescribeVpcs(Catalog& catalog, const std::string& region,
                                 const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, actions::ParseFilters(req.params));
  RETURN_IF_ERROR(CheckFilters(kVpcFields, filters));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  RETURN_IF_ERROR(actions::EnsureDefaultVpc(catalog, req.caller.account_id, region).status());
  ListQuery q{.owner_id = req.caller.account_id};
  ASSIGN_OR_RETURN(q.ids, req.params.List("VpcId"));
  ASSIGN_OR_RETURN(std::vector<Vpc> vpcs, catalog.vpcs().ListVpcs(q));
  RETURN_IF_ERROR(CheckListed(
      q.ids, vpcs, [](const Vpc& v) { return v.vpc_id; }, "InvalidVpcID.NotFound", "vpc"));
  XmlWriter w("DescribeVpcsResponse", req.request_id);
  w.Open("vpcSet");
  for (const Vpc& v : vpcs) {
    if (!page.after_id.empty() && v.vpc_id <= page.after_id) continue;
    ASSIGN_OR_RETURN(std::vector<Tag> tags, catalog.tags().List(v.vpc_id));
    if (!describe_internal::MatchAll(std::span<const FilterField<VpcView>>(kVpcFields), VpcView{v},
                                     tags, filters)) {
      continue;
    }
    if (!page.Admit(v.vpc_id)) break;
    WriteVpc(w, v, tags);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

Result<std::string> DescribeSubnets(Catalog& catalog, const std::string& region,
                                    const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, actions::ParseFilters(req.params));
  RETURN_IF_ERROR(CheckFilters(kSubnetFields, filters));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  RETURN_IF_ERROR(actions::EnsureDefaultVpc(catalog, req.caller.account_id, region).status());
  ListQuery q{.owner_id = req.caller.account_id};
  ASSIGN_OR_RETURN(q.ids, req.params.List("SubnetId"));
  ASSIGN_OR_RETURN(std::vector<Subnet> subnets, catalog.vpcs().ListSubnets(q));
  RETURN_IF_ERROR(CheckListed(
      q.ids, subnets, [](const Subnet& s) { return s.subnet_id; }, "InvalidSubnetID.NotFound",
      "subnet"));
  XmlWriter w("DescribeSubnetsResponse", req.request_id);
  w.Open("subnetSet");
  for (const Subnet& s : subnets) {
    if (!page.after_id.empty() && s.subnet_id <= page.after_id) continue;
    const SubnetView view{s, "arn:aws:ec2:" + region + ":" + s.owner_id + ":subnet/" + s.subnet_id};
    ASSIGN_OR_RETURN(std::vector<Tag> tags, catalog.tags().List(s.subnet_id));
    if (!describe_internal::MatchAll(std::span<const FilterField<SubnetView>>(kSubnetFields), view,
                                     tags, filters)) {
      continue;
    }
    if (!page.Admit(s.subnet_id)) break;
    WriteSubnet(w, view, tags);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> NetworkActions(Catalog& catalog, const std::string& region) {
  Catalog* c = &catalog;
  const std::vector<std::string> describe = {"Filter.N.Name", "Filter.N.Value.N", "MaxResults",
                                             "NextToken"};
  auto with = [&](std::string ids) {
    std::vector<std::string> params = describe;
    params.push_back(std::move(ids));
    return params;
  };
  std::vector<Action> actions = {
      {"DescribeVpcs", with("VpcId.N"),
       [c, region](const ActionRequest& r) { return DescribeVpcs(*c, region, r); }},
      {"DescribeSubnets", with("SubnetId.N"),
       [c, region](const ActionRequest& r) { return DescribeSubnets(*c, region, r); }},
  };
  for (Action& a : SecurityGroupActions(catalog, region)) actions.push_back(std::move(a));
  return actions;
}

}  // namespace kiln
