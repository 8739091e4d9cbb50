// DescribeInstanceStatus and DescribeInstanceAttribute.
//
// Status checks are real: a running instance's reachability is whether the runtime has its
// guest's init alive (the system check: whether kilnd's runtime answers for it). A guest that
// ended on its own shows `impaired` until the guest watcher (SettleEndedGuests) has stopped it.
#include <algorithm>

#include "api/simple_filters.h"
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "crypto/base64.h"
#include "ec2/describe.h"

namespace kiln {
namespace {

struct StatusChecks {
  std::string system;    // ok | impaired | not-applicable
  std::string instance;  // ok | impaired | not-applicable
};

StatusChecks CheckInstance(Cloud& cloud, const Instance& inst) {
  if (inst.state != InstanceState::kRunning) return {"not-applicable", "not-applicable"};
  Result<InstanceStatus> st = cloud.runtime().Describe(inst.instance_id);
  if (!st.ok()) return {"impaired", "impaired"};
  return {"ok", st->running ? "ok" : "impaired"};
}

std::string Reachability(std::string_view status) {
  if (status == "ok") return "passed";
  if (status == "impaired") return "failed";
  return "";
}

void WriteSummary(XmlWriter& w, std::string_view element, const std::string& status) {
  w.Open(element).Field("status", status).Open("details");
  const std::string r = Reachability(status);
  if (!r.empty()) w.Open("item").Field("name", "reachability").Field("status", r).Close();
  w.Close().Close();
}

// Events (scheduled maintenance) never happen on kiln: their filters are accepted and match
// nothing, as EC2's do for an instance without events.
const std::vector<std::string> kStatusFilters = {
    "availability-zone",          "instance-state-code",          "instance-state-name",
    "instance-status.status",     "instance-status.reachability", "system-status.status",
    "system-status.reachability", "attached-ebs-status.status",   "event.code",
    "event.description",          "event.instance-event-id",      "event.not-after",
    "event.not-before",           "event.not-before-deadline"};

bool PassesStatusFilters(const std::vector<SimpleFilter>& filters, const Instance& inst,
                         const StatusChecks& c) {
  const std::string reach = Reachability(c.instance);
  const std::string ebs = c.instance == "not-applicable" ? "not-applicable" : "ok";
  return PassesFilters(filters,
                       {{"availability-zone", inst.availability_zone},
                        {"instance-state-code", std::to_string(InstanceStateCode(inst.state))},
                        {"instance-state-name", std::string(ToString(inst.state))},
                        {"instance-status.status", c.instance},
                        {"instance-status.reachability", reach},
                        {"system-status.status", c.system},
                        {"system-status.reachability", Reachability(c.system)},
                        {"attached-ebs-status.status", ebs}});
}

void WriteInstanceStatus(XmlWriter& w, const Instance& inst, const StatusChecks& c) {
  w.Open("item").Field("instanceId", inst.instance_id);
  w.Field("availabilityZone", inst.availability_zone);
  w.Open("eventsSet").Close();
  WriteState(w, "instanceState", inst.state);
  WriteSummary(w, "systemStatus", c.system);
  WriteSummary(w, "instanceStatus", c.instance);
  WriteSummary(w, "attachedEbsStatus", c.instance == "not-applicable" ? "not-applicable" : "ok");
  w.Close();
}

Result<std::string> DescribeInstanceStatus(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<SimpleFilter> filters,
                   ParseSimpleFilters(req.params, kStatusFilters));
  ASSIGN_OR_RETURN(bool all, BoolParam(req.params, "IncludeAllInstances", false));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  ListQuery q;
  q.owner_id = req.caller.account_id;
  ASSIGN_OR_RETURN(q.ids, req.params.List("InstanceId"));
  if (!q.ids.empty() && page.max_results != 0) {
    return Ec2Error("InvalidParameterCombination",
                    "The parameter instancesSet cannot be used with the parameter maxResults");
  }
  for (const std::string& id : q.ids)
    RETURN_IF_ERROR(OwnedInstance(cloud, req.caller, id).status());
  q.after_id = page.after_id;
  ASSIGN_OR_RETURN(std::vector<Instance> listed, cloud.catalog().instances().List(q));
  XmlWriter w("DescribeInstanceStatusResponse", req.request_id);
  w.Open("instanceStatusSet");
  for (const Instance& inst : listed) {
    // Without IncludeAllInstances only running instances are described (EC2).
    if (!all && inst.state != InstanceState::kRunning) continue;
    const StatusChecks checks = CheckInstance(cloud, inst);
    if (!PassesStatusFilters(filters, inst, checks)) continue;
    if (!page.Admit(inst.instance_id)) break;
    WriteInstanceStatus(w, inst, checks);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

// The attributes botocore's InstanceAttributeName lists.
const std::vector<std::string_view> kAttributes = {"instanceType",
                                                   "kernel",
                                                   "ramdisk",
                                                   "userData",
                                                   "disableApiTermination",
                                                   "instanceInitiatedShutdownBehavior",
                                                   "rootDeviceName",
                                                   "blockDeviceMapping",
                                                   "productCodes",
                                                   "sourceDestCheck",
                                                   "groupSet",
                                                   "ebsOptimized",
                                                   "sriovNetSupport",
                                                   "enaSupport",
                                                   "enclaveOptions",
                                                   "disableApiStop"};

void WriteValue(XmlWriter& w, std::string_view element, std::string_view value) {
  w.Open(element);
  if (!value.empty()) w.Field("value", value);
  w.Close();
}

void WriteBoolValue(XmlWriter& w, std::string_view element, bool value) {
  w.Open(element).Field("value", value).Close();
}

Status WriteAttribute(Cloud& cloud, XmlWriter& w, const Instance& inst, std::string_view name) {
  if (name == "instanceType") {
    WriteValue(w, name, inst.instance_type);
  } else if (name == "kernel" || name == "ramdisk" || name == "sriovNetSupport") {
    WriteValue(w, name, "");  // a container has no kernel of its own; no SR-IOV
  } else if (name == "userData") {
    WriteValue(w, name, Base64Encode(ByteView(inst.user_data.data(), inst.user_data.size())));
  } else if (name == "instanceInitiatedShutdownBehavior") {
    WriteValue(w, name, inst.shutdown_behavior.empty() ? "stop" : inst.shutdown_behavior);
  } else if (name == "rootDeviceName") {
    WriteValue(w, name, inst.root_device_name);
  } else if (name == "blockDeviceMapping") {
    ASSIGN_OR_RETURN(std::vector<Attachment> atts,
                     cloud.catalog().volumes().ListAttachments(inst.instance_id));
    WriteBlockDevices(w, atts);
  } else if (name == "groupSet") {
    WriteGroupSet(w, name, inst.security_groups);
  } else if (name == "productCodes") {
    w.Open(name).Close();
  } else if (name == "enclaveOptions") {
    w.Open(name).Field("enabled", false).Close();
  } else {
    // disableApiTermination, disableApiStop: kiln never protects an instance; no source/dest
    // check without networking to check; ENA and EBS optimization are what EC2's current
    // types report.
    WriteBoolValue(w, name, name == "sourceDestCheck" || name == "enaSupport");
  }
  return Status::Ok();
}

Result<std::string> DescribeInstanceAttribute(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::string id, Required(req.params, "InstanceId"));
  ASSIGN_OR_RETURN(std::string attribute, Required(req.params, "Attribute"));
  if (std::find(kAttributes.begin(), kAttributes.end(), attribute) == kAttributes.end()) {
    return Ec2Error("InvalidParameterValue", "Value (" + attribute +
                                                 ") for parameter attribute is invalid. Unknown "
                                                 "attribute.");
  }
  ASSIGN_OR_RETURN(Instance inst, OwnedInstance(cloud, req.caller, id));
  XmlWriter w("DescribeInstanceAttributeResponse", req.request_id);
  w.Field("instanceId", inst.instance_id);
  RETURN_IF_ERROR(WriteAttribute(cloud, w, inst, attribute));
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> InstanceStatusActions(Cloud& cloud) {
  auto bind = [&cloud](Result<std::string> (*fn)(Cloud&, const ActionRequest&)) {
    return [&cloud, fn](const ActionRequest& r) { return fn(cloud, r); };
  };
  return {
      {"DescribeInstanceStatus",
       {"InstanceId.N", "IncludeAllInstances", "IncludeManagedResources", "Filter.N.Name",
        "Filter.N.Value.N", "MaxResults", "NextToken"},
       bind(&DescribeInstanceStatus)},
      {"DescribeInstanceAttribute", {"InstanceId", "Attribute"}, bind(&DescribeInstanceAttribute)},
  };
}

}  // namespace kiln
