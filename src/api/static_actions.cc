// DescribeRegions, DescribeAvailabilityZones and DescribeAccountAttributes (see the header);
// DescribeInstanceTypes is in instance_type_actions.cc.
#include "api/static_actions.h"

#include <algorithm>

#include "api/simple_filters.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

constexpr char kOptInNotRequired[] = "opt-in-not-required";

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

Result<std::string> DescribeRegions(const std::string& region, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<SimpleFilter> filters,
                   ParseSimpleFilters(req.params, {"region-name", "endpoint", "opt-in-status"}));
  ASSIGN_OR_RETURN(std::vector<std::string> names, req.params.List("RegionName"));
  ASSIGN_OR_RETURN(std::optional<bool> all, OptionalBoolParam(req.params, "AllRegions"));
  (void)all;  // kiln has no opted-out regions: every region is listed either way
  for (const std::string& n : names) {
    if (n != region) return Ec2ClientError("InvalidParameterValue", "Invalid region: " + n);
  }
  const std::string endpoint = "ec2." + region + ".amazonaws.com";
  XmlWriter w("DescribeRegionsResponse", req.request_id);
  w.Open("regionInfo");
  if (PassesFilters(filters, {{"region-name", region},
                              {"endpoint", endpoint},
                              {"opt-in-status", kOptInNotRequired}})) {
    w.Open("item").Field("regionName", region).Field("regionEndpoint", endpoint);
    w.Field("optInStatus", kOptInNotRequired).Close();
  }
  w.Close();
  return std::move(w).Finish();
}

// "us-east-1" -> "use1", the prefix of EC2's zone ids (use1-az1).
std::string ZoneIdPrefix(const std::string& region) {
  const size_t a = region.find('-');
  const size_t b = region.rfind('-');
  if (a == std::string::npos || a == b || b + 1 >= region.size()) return region;
  return region.substr(0, a) + region.substr(a + 1, 1) + region.substr(b + 1);
}

struct Zone {
  std::string name, id;
};

std::vector<Zone> Zones(const std::string& region) {
  const std::string prefix = ZoneIdPrefix(region);
  return {{region + "a", prefix + "-az1"},
          {region + "b", prefix + "-az2"},
          {region + "c", prefix + "-az3"}};
}

Status CheckZonesExist(const std::vector<Zone>& zones, const std::vector<std::string>& names,
                       const std::vector<std::string>& ids) {
  for (const std::string& n : names) {
    if (std::none_of(zones.begin(), zones.end(), [&](const Zone& z) { return z.name == n; })) {
      return Ec2ClientError("InvalidParameterValue", "The zone '" + n + "' does not exist.");
    }
  }
  for (const std::string& n : ids) {
    if (std::none_of(zones.begin(), zones.end(), [&](const Zone& z) { return z.id == n; })) {
      return Ec2ClientError("InvalidParameterValue", "The zone id '" + n + "' does not exist.");
    }
  }
  return Status::Ok();
}

void WriteZone(XmlWriter& w, const std::string& region, const Zone& z) {
  w.Open("item");
  w.Field("optInStatus", kOptInNotRequired).Field("zoneName", z.name).Field("zoneId", z.id);
  w.Field("zoneState", "available").Field("regionName", region);
  w.Field("groupName", region).Field("networkBorderGroup", region);
  w.Field("zoneType", "availability-zone");
  w.Open("messageSet").Close();
  w.Close();
}

Result<std::string> DescribeAvailabilityZones(const std::string& region, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<SimpleFilter> filters,
                   ParseSimpleFilters(req.params, {"zone-name", "zone-id", "state", "region-name",
                                                   "zone-type", "group-name", "opt-in-status"}));
  ASSIGN_OR_RETURN(std::vector<std::string> names, req.params.List("ZoneName"));
  ASSIGN_OR_RETURN(std::vector<std::string> ids, req.params.List("ZoneId"));
  ASSIGN_OR_RETURN(std::optional<bool> all, OptionalBoolParam(req.params, "AllAvailabilityZones"));
  (void)all;  // no Local or Wavelength Zones to add
  const std::vector<Zone> zones = Zones(region);
  RETURN_IF_ERROR(CheckZonesExist(zones, names, ids));
  XmlWriter w("DescribeAvailabilityZonesResponse", req.request_id);
  w.Open("availabilityZoneInfo");
  for (const Zone& z : zones) {
    // Names and ids together select the zones either list names, as EC2 does.
    if ((!names.empty() || !ids.empty()) && !Contains(names, z.name) && !Contains(ids, z.id)) {
      continue;
    }
    if (!PassesFilters(filters, {{"zone-name", z.name},
                                 {"zone-id", z.id},
                                 {"state", "available"},
                                 {"region-name", region},
                                 {"zone-type", "availability-zone"},
                                 {"group-name", region},
                                 {"opt-in-status", kOptInNotRequired}})) {
      continue;
    }
    WriteZone(w, region, z);
  }
  w.Close();
  return std::move(w).Finish();
}

const std::vector<std::pair<std::string, std::string>>& AccountAttributes() {
  static const std::vector<std::pair<std::string, std::string>> kAttributes = {
      {"supported-platforms", "VPC"}, {"vpc-max-security-groups-per-interface", "5"},
      {"max-elastic-ips", "5"},       {"max-instances", "20"},
      {"vpc-max-elastic-ips", "5"},   {"default-vpc", "none"},
  };
  return kAttributes;
}

Result<std::string> DescribeAccountAttributes(const ActionRequest& req,
                                              const DefaultVpcLookup& default_vpc) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, req.params.List("AttributeName"));
  for (const std::string& n : names) {
    const auto& attrs = AccountAttributes();
    if (std::none_of(attrs.begin(), attrs.end(), [&](const auto& a) { return a.first == n; })) {
      return Ec2ClientError("InvalidParameterValue", "Invalid attribute name: " + n);
    }
  }
  XmlWriter w("DescribeAccountAttributesResponse", req.request_id);
  w.Open("accountAttributeSet");
  for (const auto& [name, fixed] : AccountAttributes()) {
    if (!names.empty() && !Contains(names, name)) continue;
    std::string value = fixed;
    if (name == "default-vpc" && default_vpc) {
      ASSIGN_OR_RETURN(value, default_vpc(req.caller.account_id));
    }
    w.Open("item").Field("attributeName", name);
    w.Open("attributeValueSet").Open("item").Field("attributeValue", value).Close().Close();
    w.Close();
  }
  w.Close();
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> StaticActions(std::string region, DefaultVpcLookup default_vpc) {
  std::vector<Action> actions;
  actions.push_back(
      Action{"DescribeRegions",
             {"RegionName.N", "AllRegions", "Filter.N.Name", "Filter.N.Value.N"},
             [region](const ActionRequest& req) { return DescribeRegions(region, req); }});
  actions.push_back(Action{
      "DescribeAvailabilityZones",
      {"ZoneName.N", "ZoneId.N", "AllAvailabilityZones", "Filter.N.Name", "Filter.N.Value.N"},
      [region](const ActionRequest& req) { return DescribeAvailabilityZones(region, req); }});
  actions.push_back(Action{"DescribeAccountAttributes",
                           {"AttributeName.N"},
                           [default_vpc = std::move(default_vpc)](const ActionRequest& req) {
                             return DescribeAccountAttributes(req, default_vpc);
                           }});
  actions.push_back(DescribeInstanceTypesAction());
  return actions;
}

}  // namespace kiln
