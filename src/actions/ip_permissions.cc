#include "actions/ip_permissions.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <tuple>

#include "actions/action_common.h"
#include "catalog/ids.h"

namespace kiln::actions {
namespace {

bool HasPorts(const std::string& protocol) {
  return protocol == "tcp" || protocol == "udp" || protocol == "icmp" || protocol == "icmpv6";
}

Result<std::optional<int64_t>> Port(const QueryParams& p, std::string_view name) {
  return IntParam(p, name, -1, 65535);
}

// The ports of a permission: checked for the protocol, -1/-1 where it has none.
Status SetPorts(const QueryParams& p, SecurityGroupRule& r) {
  ASSIGN_OR_RETURN(std::optional<int64_t> from, Port(p, "FromPort"));
  ASSIGN_OR_RETURN(std::optional<int64_t> to, Port(p, "ToPort"));
  if (r.ip_protocol == "tcp" || r.ip_protocol == "udp") {
    if (!from || !to) {
      return Ec2Error("InvalidParameterValue",
                      "Invalid value 'Must specify both from and to ports with TCP/UDP.' for "
                      "portRange");
    }
    if (*from < 0 || *to < 0 || *from > *to) {
      return Ec2Error("InvalidParameterValue",
                      "Invalid TCP/UDP port range " + std::to_string(*from) + "-" +
                          std::to_string(*to) + " (from 0..65535, not above to)");
    }
  } else if (r.ip_protocol == "icmp" || r.ip_protocol == "icmpv6") {
    if ((from && *from > 255) || (to && *to > 255)) {
      return Ec2Error("InvalidParameterValue", "Invalid ICMP type or code (-1..255)");
    }
  }
  if (!HasPorts(r.ip_protocol)) return Status::Ok();
  r.from_port = static_cast<int>(from.value_or(-1));
  r.to_port = static_cast<int>(to.value_or(-1));
  return Status::Ok();
}

Status CheckDescription(const std::string& d) {
  if (d.size() <= 255) return Status::Ok();
  return Ec2Error("InvalidParameterValue", "A rule description is at most 255 characters");
}

// One permission (a struct of IpPermissions.N, or the flat form) into rules.
Status ParsePermission(const QueryParams& p, bool egress, std::vector<RequestedRule>& out) {
  ASSIGN_OR_RETURN(std::string protocol_text, Required(p, "IpProtocol"));
  SecurityGroupRule base{.is_egress = egress};
  ASSIGN_OR_RETURN(base.ip_protocol, NormalizeProtocol(protocol_text));
  RETURN_IF_ERROR(SetPorts(p, base));
  const size_t before = out.size();
  ASSIGN_OR_RETURN(std::vector<QueryParams> ranges, p.Structs("IpRanges"));
  for (const QueryParams& range : ranges) {
    RequestedRule r{base, ""};
    ASSIGN_OR_RETURN(r.rule.cidr_ipv4, Required(range, "CidrIp"));
    RETURN_IF_ERROR(CheckCidr(r.rule.cidr_ipv4));
    r.rule.description = range.Get("Description").value_or("");
    RETURN_IF_ERROR(CheckDescription(r.rule.description));
    out.push_back(std::move(r));
  }
  ASSIGN_OR_RETURN(std::vector<QueryParams> groups, p.Structs("Groups"));
  for (const QueryParams& pair : groups) {
    RequestedRule r{base, pair.Get("GroupName").value_or("")};
    r.rule.referenced_group_id = pair.Get("GroupId").value_or("");
    r.rule.referenced_user_id = pair.Get("UserId").value_or("");
    r.rule.description = pair.Get("Description").value_or("");
    RETURN_IF_ERROR(CheckDescription(r.rule.description));
    if (r.rule.referenced_group_id.empty() && r.group_name.empty()) {
      return Ec2Error("MissingParameter", "A security group pair needs a GroupId or a GroupName");
    }
    out.push_back(std::move(r));
  }
  if (out.size() == before) {
    return Ec2Error("MissingParameter",
                    "A permission needs at least one IpRanges or Groups (UserIdGroupPairs) entry");
  }
  return Status::Ok();
}

// The flat form: IpProtocol/FromPort/ToPort with CidrIp, or SourceSecurityGroupName (all
// traffic from that group when no protocol is given, as EC2 reads it).
Status ParseFlat(const QueryParams& p, bool egress, std::vector<RequestedRule>& out) {
  const std::optional<std::string> cidr = p.Get("CidrIp");
  const std::optional<std::string> source = p.Get("SourceSecurityGroupName");
  if (cidr && source) {
    return Ec2Error("InvalidParameterCombination",
                    "CidrIp and SourceSecurityGroupName cannot be combined");
  }
  if (!cidr && !source) {
    if (p.Get("IpProtocol") || p.Get("FromPort") || p.Get("ToPort")) {
      return Ec2Error("MissingParameter",
                      "The request must contain the parameter CidrIp or "
                      "SourceSecurityGroupName (or IpPermissions)");
    }
    return Status::Ok();
  }
  SecurityGroupRule base{.is_egress = egress};
  ASSIGN_OR_RETURN(base.ip_protocol, NormalizeProtocol(p.Get("IpProtocol").value_or("-1")));
  RETURN_IF_ERROR(SetPorts(p, base));
  RequestedRule r{base, source.value_or("")};
  if (cidr) {
    RETURN_IF_ERROR(CheckCidr(*cidr));
    r.rule.cidr_ipv4 = *cidr;
  } else {
    r.rule.referenced_user_id = p.Get("SourceSecurityGroupOwnerId").value_or("");
  }
  out.push_back(std::move(r));
  return Status::Ok();
}

bool ParseOctets(std::string_view s, uint32_t& addr) {
  addr = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) return false;
    const std::string_view part = s.substr(0, dot);
    if (part.size() > 1 && part[0] == '0') return false;
    unsigned v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || end != part.data() + part.size() || v > 255) return false;
    addr = (addr << 8) | v;
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return s.empty();
}

void WriteRuleFields(XmlWriter& w, const SecurityGroupRule& r) {
  w.Field("ipProtocol", r.ip_protocol);
  if (HasPorts(r.ip_protocol)) w.Field("fromPort", r.from_port).Field("toPort", r.to_port);
  w.FieldIfSet("cidrIpv4", r.cidr_ipv4);
}

}  // namespace

Result<std::string> NormalizeProtocol(std::string_view text) {
  std::string p(text);
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
  if (p == "tcp" || p == "udp" || p == "icmp" || p == "icmpv6" || p == "-1") return p;
  int n = -2;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (ec == std::errc() && end == p.data() + p.size() && n >= -1 && n <= 255 &&
      (p.size() == 1 || p[0] != '0')) {
    if (n == 6) return std::string("tcp");
    if (n == 17) return std::string("udp");
    if (n == 1) return std::string("icmp");
    if (n == 58) return std::string("icmpv6");
    return std::to_string(n);
  }
  return Ec2Error("InvalidParameterValue",
                  "Invalid value '" + std::string(text) + "' for IP protocol. Unknown protocol.");
}

Status CheckCidr(std::string_view cidr) {
  const size_t slash = cidr.find('/');
  uint32_t addr = 0;
  int bits = -1;
  bool ok = slash != std::string_view::npos && ParseOctets(cidr.substr(0, slash), addr);
  if (ok) {
    const std::string_view len = cidr.substr(slash + 1);
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), bits);
    ok = ec == std::errc() && end == len.data() + len.size() && !len.empty() && bits >= 0 &&
         bits <= 32 && (len.size() == 1 || len[0] != '0');
  }
  // Host bits set below the prefix (10.0.0.1/8) make the block ambiguous: EC2 refuses it.
  if (ok && bits < 32) ok = (addr & (0xffffffffu >> bits)) == 0;
  if (ok) return Status::Ok();
  return Ec2Error("InvalidParameterValue", "CIDR block " + std::string(cidr) + " is malformed");
}

Result<std::vector<RequestedRule>> ParseIpPermissions(const QueryParams& params, bool egress) {
  std::vector<RequestedRule> out;
  ASSIGN_OR_RETURN(std::vector<QueryParams> permissions, params.Structs("IpPermissions"));
  for (const QueryParams& p : permissions) RETURN_IF_ERROR(ParsePermission(p, egress, out));
  RETURN_IF_ERROR(ParseFlat(params, egress, out));
  if (out.empty()) {
    return Ec2Error("MissingParameter", "The request must contain the parameter IpPermissions");
  }
  for (RequestedRule& r : out) {
    ASSIGN_OR_RETURN(r.rule.rule_id, NewId("sgr"));
  }
  return out;
}

std::vector<std::string> IpPermissionParameters() {
  return {"IpPermissions.N.IpProtocol",
          "IpPermissions.N.FromPort",
          "IpPermissions.N.ToPort",
          "IpPermissions.N.IpRanges.N.CidrIp",
          "IpPermissions.N.IpRanges.N.Description",
          "IpPermissions.N.Groups.N.GroupId",
          "IpPermissions.N.Groups.N.GroupName",
          "IpPermissions.N.Groups.N.UserId",
          "IpPermissions.N.Groups.N.Description",
          "IpPermissions.N.Groups.N.VpcId",
          "IpProtocol",
          "FromPort",
          "ToPort",
          "CidrIp",
          "SourceSecurityGroupName",
          "SourceSecurityGroupOwnerId"};
}

void WriteIpPermissions(XmlWriter& w, std::string_view element,
                        const std::vector<SecurityGroupRule>& rules, bool egress) {
  using Key = std::tuple<std::string, int, int>;
  std::vector<Key> order;
  for (const SecurityGroupRule& r : rules) {
    const Key key{r.ip_protocol, r.from_port, r.to_port};
    if (r.is_egress == egress && std::find(order.begin(), order.end(), key) == order.end()) {
      order.push_back(key);
    }
  }
  w.Open(element);
  for (const Key& key : order) {
    const auto& [protocol, from, to] = key;
    auto same = [&](const SecurityGroupRule& r) {
      return r.is_egress == egress && Key{r.ip_protocol, r.from_port, r.to_port} == key;
    };
    w.Open("item").Field("ipProtocol", protocol);
    if (HasPorts(protocol)) w.Field("fromPort", from).Field("toPort", to);
    w.Open("groups");
    for (const SecurityGroupRule& r : rules) {
      if (!same(r) || r.referenced_group_id.empty()) continue;
      w.Open("item").FieldIfSet("description", r.description);
      w.Field("userId", r.referenced_user_id).Field("groupId", r.referenced_group_id).Close();
    }
    w.Close().Open("ipRanges");
    for (const SecurityGroupRule& r : rules) {
      if (!same(r) || r.cidr_ipv4.empty()) continue;
      w.Open("item").Field("cidrIp", r.cidr_ipv4).FieldIfSet("description", r.description);
      w.Close();
    }
    w.Close().Open("ipv6Ranges").Close().Open("prefixListIds").Close();
    w.Close();
  }
  w.Close();
}

void WriteSecurityGroupRules(XmlWriter& w, std::string_view element, const SecurityGroup& group,
                             const std::vector<SecurityGroupRule>& rules) {
  w.Open(element);
  for (const SecurityGroupRule& r : rules) {
    w.Open("item").Field("securityGroupRuleId", r.rule_id).Field("groupId", group.group_id);
    w.Field("groupOwnerId", group.owner_id).Field("isEgress", r.is_egress);
    WriteRuleFields(w, r);
    if (!r.referenced_group_id.empty()) {
      w.Open("referencedGroupInfo").Field("groupId", r.referenced_group_id);
      w.FieldIfSet("userId", r.referenced_user_id).Close();
    }
    w.FieldIfSet("description", r.description);
    w.Close();
  }
  w.Close();
}

void WriteRevokedRules(XmlWriter& w, std::string_view element, const std::string& group_id,
                       const std::vector<SecurityGroupRule>& rules) {
  w.Open(element);
  for (const SecurityGroupRule& r : rules) {
    w.Open("item").Field("securityGroupRuleId", r.rule_id).Field("groupId", group_id);
    w.Field("isEgress", r.is_egress);
    WriteRuleFields(w, r);
    w.FieldIfSet("referencedGroupId", r.referenced_group_id);
    w.FieldIfSet("description", r.description);
    w.Close();
  }
  w.Close();
}

}  // namespace kiln::actions
