// Security group rules as the API carries them: the IpPermissions.N lists of
// Authorize/RevokeSecurityGroupIngress/Egress (and the older flat form: IpProtocol, FromPort,
// ToPort, CidrIp, SourceSecurityGroupName, SourceSecurityGroupOwnerId), and the IpPermission
// and SecurityGroupRule items of responses (botocore's 2016-11-15 model).
//
// On the wire an IpPermission is {IpProtocol, FromPort, ToPort, IpRanges.N.{CidrIp,
// Description}, Groups.N.{GroupId, GroupName, UserId, Description}} (Groups is the member
// UserIdGroupPairs, whose locationName is "groups"). kiln keeps one rule per range or group
// (EC2's SecurityGroupRule) and merges rules of equal protocol and ports back into one
// IpPermission item when describing.
//
// EC2's checks, all InvalidParameterValue: IpProtocol is tcp, udp, icmp, icmpv6, -1 (all) or a
// protocol number 0..255 (case-insensitive; 6, 17, 1 and 58 read as tcp, udp, icmp, icmpv6);
// tcp and udp need FromPort <= ToPort within 0..65535; icmp's type and code are -1..255; other
// protocols have no ports (stored as -1). A CIDR is a.b.c.d/n with n 0..32 and no host bits
// set. A permission without any range or group: MissingParameter. IPv6 ranges and prefix lists
// are not supported (the parameters are not declared: UnknownParameter).
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/query.h"
#include "base/status.h"
#include "catalog/records.h"
#include "ec2/xml_writer.h"

namespace kiln::actions {

// One rule a request asks for. `rule` has a fresh rule id; when the request names the
// referenced group by name, `rule.referenced_group_id` is "" and `group_name` is set (the
// caller resolves it in the group's VPC).
struct RequestedRule {
  SecurityGroupRule rule;
  std::string group_name;
};

// The rules of the request's IpPermissions.N and its flat form together, for direction
// `egress`. Errors: as above; MissingParameter if the request holds no permission at all.
Result<std::vector<RequestedRule>> ParseIpPermissions(const QueryParams& params, bool egress);

// The parameter patterns ParseIpPermissions reads (for an Action's declared list).
std::vector<std::string> IpPermissionParameters();

// EC2's protocol name for `text` (above); InvalidParameterValue if it is none.
Result<std::string> NormalizeProtocol(std::string_view text);
// OK for a canonical IPv4 CIDR block; InvalidParameterValue otherwise.
Status CheckCidr(std::string_view cidr);

// <element> with one IpPermission item per (protocol, from port, to port) among `rules` of
// direction `egress`, in order of first appearance.
void WriteIpPermissions(XmlWriter& w, std::string_view element,
                        const std::vector<SecurityGroupRule>& rules, bool egress);
// <element> with one SecurityGroupRule item per rule of `group` (Authorize* responses).
void WriteSecurityGroupRules(XmlWriter& w, std::string_view element, const SecurityGroup& group,
                             const std::vector<SecurityGroupRule>& rules);
// <element> with one RevokedSecurityGroupRule item per rule (Revoke* responses).
void WriteRevokedRules(XmlWriter& w, std::string_view element, const std::string& group_id,
                       const std::vector<SecurityGroupRule>& rules);

}  // namespace kiln::actions
