// DescribeInstances: filters, the Instance item (botocore shape Instance) and the
// InstanceStateChange item of Start/Stop/TerminateInstances.
#include <array>

#include "ec2/describe.h"
#include "ec2/describe_internal.h"

namespace kiln {
namespace {

using namespace describe_internal;  // NOLINT: the helpers of this family of files

// An attachment that is over no longer maps a device of the instance.
bool Current(const Attachment& a) { return a.state != AttachmentState::kDetached; }

template <typename F>
Values EachAttachment(const InstanceView& v, F field) {
  Values out;
  for (const Attachment& a : v.attachments) {
    if (!Current(a)) continue;
    for (std::string& s : field(a)) out.push_back(std::move(s));
  }
  return out;
}

// clang-format off
constexpr std::array<FilterField<InstanceView>, 22> kInstanceFields = {{
  {"instance-id", [](const InstanceView& v) { return IfSet(v.instance.instance_id); }},
  {"instance-state-name", [](const InstanceView& v) {
    return Values{std::string(ToString(v.instance.state))};
  }},
  {"instance-state-code", [](const InstanceView& v) {
    return Num(InstanceStateCode(v.instance.state));
  }},
  {"instance-type", [](const InstanceView& v) { return IfSet(v.instance.instance_type); }},
  {"image-id", [](const InstanceView& v) { return IfSet(v.instance.image_id); }},
  {"key-name", [](const InstanceView& v) { return IfSet(v.instance.key_name); }},
  {"availability-zone", [](const InstanceView& v) {
    return IfSet(v.instance.availability_zone);
  }},
  {"launch-time", [](const InstanceView& v) { return IfSet(v.instance.launch_time); }},
  {"reservation-id", [](const InstanceView& v) { return IfSet(v.instance.reservation_id); }},
  {"owner-id", [](const InstanceView& v) { return IfSet(v.instance.owner_id); }},
  {"root-device-type", [](const InstanceView& v) { return IfSet(v.instance.root_device_type); }},
  {"root-device-name", [](const InstanceView& v) { return IfSet(v.instance.root_device_name); }},
  {"client-token", [](const InstanceView& v) { return IfSet(v.instance.client_token); }},
  {"vpc-id", [](const InstanceView& v) { return IfSet(v.instance.vpc_id); }},
  {"subnet-id", [](const InstanceView& v) { return IfSet(v.instance.subnet_id); }},
  {"instance.group-id", [](const InstanceView& v) {
    Values out;
    for (const GroupIdentifier& g : v.instance.security_groups) out.push_back(g.group_id);
    return out;
  }},
  {"instance.group-name", [](const InstanceView& v) {
    Values out;
    for (const GroupIdentifier& g : v.instance.security_groups) out.push_back(g.group_name);
    return out;
  }},
  {"block-device-mapping.device-name", [](const InstanceView& v) {
    return EachAttachment(v, [](const Attachment& a) { return IfSet(a.device); });
  }},
  {"block-device-mapping.volume-id", [](const InstanceView& v) {
    return EachAttachment(v, [](const Attachment& a) { return IfSet(a.volume_id); });
  }},
  {"block-device-mapping.status", [](const InstanceView& v) {
    return EachAttachment(v, [](const Attachment& a) {
      return Values{std::string(ToString(a.state))};
    });
  }},
  {"block-device-mapping.delete-on-termination", [](const InstanceView& v) {
    return EachAttachment(v, [](const Attachment& a) { return Bool(a.delete_on_termination); });
  }},
  {"block-device-mapping.attach-time", [](const InstanceView& v) {
    return EachAttachment(v, [](const Attachment& a) { return IfSet(a.attach_time); });
  }},
}};
// clang-format on

}  // namespace

void WriteState(XmlWriter& w, std::string_view element, InstanceState state) {
  w.Open(element).Field("code", InstanceStateCode(state)).Field("name", ToString(state)).Close();
}

void WriteBlockDevices(XmlWriter& w, const std::vector<Attachment>& attachments) {
  w.Open("blockDeviceMapping");
  for (const Attachment& a : attachments) {
    if (!Current(a)) continue;
    w.Open("item").FieldIfSet("deviceName", a.device).Open("ebs");
    w.Field("volumeId", a.volume_id).Field("status", ToString(a.state));
    w.FieldIfSet("attachTime", a.attach_time);
    w.Field("deleteOnTermination", a.delete_on_termination);
    w.Close().Close();
  }
  w.Close();
}

namespace {

// Where and how the instance runs: its zone, subnet and VPC, and EC2's answers for what kiln
// lacks (no placement group, default tenancy, no detailed monitoring).
void WritePlacementAndMonitoring(XmlWriter& w, const Instance& i) {
  w.Open("placement");
  w.FieldIfSet("availabilityZone", i.availability_zone);
  w.Field("groupName", "").Field("tenancy", "default").Close();
  w.Open("monitoring").Field("state", "disabled").Close();
  w.FieldIfSet("subnetId", i.subnet_id);
  w.FieldIfSet("vpcId", i.vpc_id);
}

}  // namespace

void WriteGroupSet(XmlWriter& w, std::string_view element,
                   const std::vector<GroupIdentifier>& groups) {
  w.Open(element);
  for (const GroupIdentifier& g : groups) {
    w.Open("item").Field("groupId", g.group_id).Field("groupName", g.group_name).Close();
  }
  w.Close();
}

Status CheckInstanceFilters(const std::vector<Filter>& filters) {
  static const std::vector<std::string_view> names =
      Names(std::span<const FilterField<InstanceView>>(kInstanceFields));
  return CheckNames(filters, names);
}

bool MatchInstance(const InstanceView& instance, const std::vector<Filter>& filters) {
  return MatchAll(std::span<const FilterField<InstanceView>>(kInstanceFields), instance,
                  instance.tags, filters);
}

void WriteInstance(XmlWriter& w, const InstanceView& v) {
  const Instance& i = v.instance;
  w.Open("item");
  w.Field("instanceId", i.instance_id);
  w.Field("imageId", i.image_id);
  WriteState(w, "instanceState", i.state);
  // No networking yet: EC2 sends these empty for an instance without addresses.
  w.Field("privateDnsName", "").Field("dnsName", "");
  w.Field("reason", i.state_transition_reason);
  w.FieldIfSet("keyName", i.key_name);
  w.Field("amiLaunchIndex", i.ami_launch_index);
  w.Open("productCodes").Close();
  w.Field("instanceType", i.instance_type);
  w.FieldIfSet("launchTime", i.launch_time);
  WritePlacementAndMonitoring(w, i);
  WriteGroupSet(w, "groupSet", i.security_groups);
  WriteStateReason(w, i.state_reason);
  w.Field("architecture", "x86_64");
  w.FieldIfSet("rootDeviceType", i.root_device_type);
  w.FieldIfSet("rootDeviceName", i.root_device_name);
  WriteBlockDevices(w, v.attachments);
  w.Field("virtualizationType", "hvm");
  w.FieldIfSet("clientToken", i.client_token);
  WriteTagSet(w, v.tags);
  w.Field("hypervisor", "xen");
  w.Open("networkInterfaceSet").Close();
  w.Field("ebsOptimized", false);
  w.Field("platformDetails", "Linux/UNIX");
  w.Field("usageOperation", "RunInstances");
  w.FieldIfSet("usageOperationUpdateTime", i.launch_time);
  w.Field("currentInstanceBootMode", "legacy-bios");
  w.Close();
}

void WriteStateChange(XmlWriter& w, const std::string& instance_id, InstanceState previous,
                      InstanceState current) {
  w.Open("item").Field("instanceId", instance_id);
  WriteState(w, "currentState", current);
  WriteState(w, "previousState", previous);
  w.Close();
}

}  // namespace kiln
