// DescribeInstanceTypes over the catalog of api/instance_types.h, rendered as EC2 renders
// InstanceTypeInfo (botocore's model names the members). kiln's current-generation types stand
// for Nitro instances (EBS and instance store over NVMe, ENA); the previous-generation m1.small
// for a Xen one (paravirtual or HVM, instance-store roots, no EBS encryption).
#include <algorithm>
#include <string>

#include "api/instance_types.h"
#include "api/simple_filters.h"
#include "api/static_actions.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

constexpr int kMinResults = 5;
constexpr int kMaxResults = 100;

const char* Bool(bool b) { return b ? "true" : "false"; }
bool Nitro(const InstanceTypeInfo& t) { return t.current_generation; }
bool FreeTier(const InstanceTypeInfo& t) { return t.name == "t3.micro"; }
std::string Hypervisor(const InstanceTypeInfo& t) { return Nitro(t) ? "nitro" : "xen"; }

void WriteList(XmlWriter& w, std::string_view name, const std::vector<std::string>& items) {
  w.Open(name);
  for (const std::string& i : items) w.Field("item", i);
  w.Close();
}

void WriteStorage(XmlWriter& w, const InstanceTypeInfo& t) {
  w.Field("instanceStorageSupported", t.instance_store_gb > 0);
  if (t.instance_store_gb == 0) return;
  const int disks = std::max(t.instance_store_disks, 1);
  const std::string nvme = Nitro(t) ? "required" : "unsupported";
  w.Open("instanceStorageInfo").Field("totalSizeInGB", t.instance_store_gb);
  w.Open("disks").Open("item");
  w.Field("sizeInGB", t.instance_store_gb / disks).Field("count", disks);
  w.Field("type", t.instance_store_type.empty() ? "ssd" : t.instance_store_type);
  w.Close().Close();
  w.Field("nvmeSupport", nvme).Field("encryptionSupport", nvme);
  w.Close();
}

void WriteInstanceType(XmlWriter& w, const InstanceTypeInfo& t) {
  const bool nitro = Nitro(t);
  w.Open("item").Field("instanceType", t.name);
  w.Field("currentGeneration", t.current_generation).Field("freeTierEligible", FreeTier(t));
  WriteList(w, "supportedUsageClasses", {"on-demand", "spot"});
  WriteList(
      w, "supportedRootDeviceTypes",
      nitro ? std::vector<std::string>{"ebs"} : std::vector<std::string>{"ebs", "instance-store"});
  WriteList(
      w, "supportedVirtualizationTypes",
      nitro ? std::vector<std::string>{"hvm"} : std::vector<std::string>{"hvm", "paravirtual"});
  w.Field("bareMetal", false).Field("hypervisor", Hypervisor(t));
  w.Open("processorInfo");
  WriteList(
      w, "supportedArchitectures",
      nitro ? std::vector<std::string>{"x86_64"} : std::vector<std::string>{"i386", "x86_64"});
  w.Close();
  const int threads = t.vcpus >= 2 ? 2 : 1;
  w.Open("vCpuInfo").Field("defaultVCpus", t.vcpus).Field("defaultCores", t.vcpus / threads);
  w.Field("defaultThreadsPerCore", threads).Close();
  w.Open("memoryInfo").Field("sizeInMiB", t.memory_mib).Close();
  WriteStorage(w, t);
  w.Open("ebsInfo").Field("ebsOptimizedSupport", nitro ? "default" : "unsupported");
  w.Field("encryptionSupport", t.ebs_encryption_supported ? "supported" : "unsupported");
  w.Field("nvmeSupport", nitro ? "required" : "unsupported").Close();
  w.Open("networkInfo").Field("networkPerformance", nitro ? "Up to 5 Gigabit" : "Low");
  w.Field("maximumNetworkInterfaces", nitro ? 3 : 2).Field("ipv4AddressesPerInterface", 4);
  w.Field("ipv6Supported", nitro).Field("enaSupport", nitro ? "required" : "unsupported");
  w.Close();
  w.Field("hibernationSupported", false);
  w.Field("burstablePerformanceSupported", t.name.starts_with("t"));
  w.Field("dedicatedHostsSupported", false).Field("autoRecoverySupported", true);
  WriteList(w, "supportedBootModes",
            nitro ? std::vector<std::string>{"legacy-bios", "uefi"}
                  : std::vector<std::string>{"legacy-bios"});
  w.Close();
}

std::vector<std::pair<std::string, std::string>> FilterFields(const InstanceTypeInfo& t) {
  return {{"instance-type", t.name},
          {"current-generation", Bool(t.current_generation)},
          {"instance-storage-supported", Bool(t.instance_store_gb > 0)},
          {"ebs-info.encryption-support", t.ebs_encryption_supported ? "supported" : "unsupported"},
          {"vcpu-info.default-vcpus", std::to_string(t.vcpus)},
          {"memory-info.size-in-mib", std::to_string(t.memory_mib)},
          {"hypervisor", Hypervisor(t)},
          {"free-tier-eligible", Bool(FreeTier(t))}};
}

// The types the request selects, in name order.
Result<std::vector<const InstanceTypeInfo*>> Select(const QueryParams& params) {
  ASSIGN_OR_RETURN(std::vector<SimpleFilter> filters,
                   ParseSimpleFilters(
                       params, {"instance-type", "current-generation", "instance-storage-supported",
                                "ebs-info.encryption-support", "vcpu-info.default-vcpus",
                                "memory-info.size-in-mib", "hypervisor", "free-tier-eligible"}));
  ASSIGN_OR_RETURN(std::vector<std::string> names, params.List("InstanceType"));
  for (const std::string& n : names) {
    if (FindInstanceType(n) == nullptr) {
      return Ec2ClientError("InvalidInstanceType",
                            "The following supplied instance types do not exist: [" + n + "]");
    }
  }
  std::vector<const InstanceTypeInfo*> out;
  for (const InstanceTypeInfo& t : InstanceTypes()) {
    if (!names.empty() && std::find(names.begin(), names.end(), t.name) == names.end()) continue;
    if (PassesFilters(filters, FilterFields(t))) out.push_back(&t);
  }
  return out;
}

// MaxResults, or 0 when unset (everything at once).
Result<int> MaxResults(const QueryParams& params) {
  std::optional<std::string> v = params.Get("MaxResults");
  if (!v) return 0;
  int n = 0;
  const bool digits =
      !v->empty() && v->size() <= 4 &&
      std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) n = std::stoi(*v);
  if (!digits || n < kMinResults || n > kMaxResults) {
    return Ec2ClientError("InvalidParameterValue",
                          "Value (" + *v +
                              ") for parameter MaxResults is invalid. Expecting a "
                              "value between 5 and 100.");
  }
  return n;
}

Result<std::string> DescribeInstanceTypes(const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<const InstanceTypeInfo*> types, Select(req.params));
  ASSIGN_OR_RETURN(int max, MaxResults(req.params));
  ASSIGN_OR_RETURN(std::optional<bool> unsupported,
                   OptionalBoolParam(req.params, "IncludeUnsupportedInRegion"));
  (void)unsupported;  // every type kiln has is offered in its region
  // The token is the name of the first type of the next page (types are in name order).
  size_t begin = 0;
  if (std::optional<std::string> token = req.params.Get("NextToken")) {
    if (FindInstanceType(*token) == nullptr) {
      return Ec2ClientError("InvalidPaginationToken",
                            "The specified pagination token is not valid or is expired.");
    }
    while (begin < types.size() && types[begin]->name < *token) ++begin;
  }
  const size_t end = max == 0 ? types.size() : std::min(types.size(), begin + max);
  XmlWriter w("DescribeInstanceTypesResponse", req.request_id);
  w.Open("instanceTypeSet");
  for (size_t i = begin; i < end; ++i) WriteInstanceType(w, *types[i]);
  w.Close();
  if (end < types.size()) w.Field("nextToken", types[end]->name);
  return std::move(w).Finish();
}

}  // namespace

Action DescribeInstanceTypesAction() {
  return Action{"DescribeInstanceTypes",
                {"InstanceType.N", "Filter.N.Name", "Filter.N.Value.N", "MaxResults", "NextToken",
                 "IncludeUnsupportedInRegion"},
                [](const ActionRequest& req) { return DescribeInstanceTypes(req); }};
}

}  // namespace kiln
