#include "cli/output.h"

#include <map>

namespace kiln::cli {
namespace {

nlohmann::json TagsJson(const std::vector<Tag>& tags) {
  nlohmann::json out = nlohmann::json::array();
  for (const Tag& t : tags) out.push_back({{"Key", t.key}, {"Value", t.value}});
  return out;
}

nlohmann::json DevicesJson(const std::vector<BlockDevice>& devices) {
  nlohmann::json out = nlohmann::json::array();
  for (const BlockDevice& d : devices) {
    nlohmann::json m = {{"DeviceName", d.device_name}};
    if (!d.virtual_name.empty()) {
      m["VirtualName"] = d.virtual_name;
    } else {
      nlohmann::json ebs = {{"DeleteOnTermination", d.delete_on_termination}};
      if (!d.snapshot_id.empty()) ebs["SnapshotId"] = d.snapshot_id;
      if (d.volume_size > 0) ebs["VolumeSize"] = d.volume_size;
      if (!d.volume_id.empty()) ebs["VolumeId"] = d.volume_id;
      if (!d.status.empty()) ebs["Status"] = d.status;
      m["Ebs"] = ebs;
    }
    out.push_back(m);
  }
  return out;
}

struct Hint {
  const char* code;
  const char* text;
};

// Hints by EC2 code prefix (first match wins).
constexpr Hint kHints[] = {
    {"InvalidAMIID", "list images with `kiln images --owner self` (or `--owner kiln`)"},
    {"InvalidAMIName.Malformed",
     "an image name is 3-128 characters: letters, digits, spaces and ( ) [ ] . / - ' @ _"},
    {"InvalidAMIName.Duplicate",
     "image names are unique per account: pick another --name, or "
     "`kiln deregister` the old image"},
    {"InvalidInstanceID", "list instances with `kiln instances`"},
    {"IncorrectInstanceState", "see the instance's state with `kiln instances`"},
    {"InvalidSnapshot", "list snapshots with `kiln snapshots`"},
    {"InvalidVolume", "list volumes with `kiln volumes`"},
    {"InvalidBlockDeviceMapping", "devices are /dev/sd[b-z] or /dev/xvd[b-z]; sizes are GiB"},
    {"AuthFailure",
     "check the credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile, "
     "~/.aws/credentials; the local kilnd's keys are in DIR/credentials"},
    {"SignatureDoesNotMatch",
     "the secret key does not match the access key: check the "
     "credentials (for the local kilnd: DIR/credentials)"},
    {"RequestExpired", "the request's time is off: check this machine's clock"},
};

}  // namespace

void Print(Context& ctx, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), ctx.out);
}

// The server's strings are not checked to be UTF-8 (pugixml passes bytes through): invalid
// sequences print as U+FFFD rather than making dump() throw.
void PrintJson(Context& ctx, const nlohmann::json& value) {
  Print(ctx, value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

nlohmann::json ToJson(const ImageInfo& i) {
  nlohmann::json j = {{"ImageId", i.image_id},
                      {"Name", i.name},
                      {"State", i.state},
                      {"OwnerId", i.owner_id},
                      {"CreationDate", i.creation_date},
                      {"Public", i.is_public},
                      {"RootDeviceType", i.root_device_type},
                      {"RootDeviceName", i.root_device_name},
                      {"BlockDeviceMappings", DevicesJson(i.block_devices)},
                      {"Tags", TagsJson(i.tags)}};
  if (!i.description.empty()) j["Description"] = i.description;
  if (!i.owner_alias.empty()) j["ImageOwnerAlias"] = i.owner_alias;
  if (!i.state_reason.empty()) j["StateReason"] = {{"Message", i.state_reason}};
  return j;
}

nlohmann::json ToJson(const InstanceInfo& i) {
  return {{"InstanceId", i.instance_id},
          {"ImageId", i.image_id},
          {"State", i.state},
          {"InstanceType", i.instance_type},
          {"LaunchTime", i.launch_time},
          {"AvailabilityZone", i.availability_zone},
          {"RootDeviceType", i.root_device_type},
          {"RootDeviceName", i.root_device_name},
          {"BlockDeviceMappings", DevicesJson(i.block_devices)},
          {"Tags", TagsJson(i.tags)}};
}

nlohmann::json ToJson(const SnapshotInfo& s) {
  return {{"SnapshotId", s.snapshot_id}, {"VolumeId", s.volume_id},      {"State", s.state},
          {"Progress", s.progress},      {"StartTime", s.start_time},    {"OwnerId", s.owner_id},
          {"VolumeSize", s.volume_size}, {"Description", s.description}, {"Encrypted", s.encrypted},
          {"Tags", TagsJson(s.tags)}};
}

nlohmann::json ToJson(const VolumeInfo& v) {
  nlohmann::json attachments = nlohmann::json::array();
  for (const auto& a : v.attachments) {
    attachments.push_back(
        {{"InstanceId", a.instance_id}, {"Device", a.device}, {"State", a.state}});
  }
  return {{"VolumeId", v.volume_id},
          {"Size", v.size},
          {"State", v.state},
          {"VolumeType", v.volume_type},
          {"SnapshotId", v.snapshot_id},
          {"AvailabilityZone", v.availability_zone},
          {"CreateTime", v.create_time},
          {"Encrypted", v.encrypted},
          {"Attachments", attachments},
          {"Tags", TagsJson(v.tags)}};
}

std::string ErrorText(const Status& status) {
  std::string out = "kiln: ";
  if (status.ec2_code()) out += *status.ec2_code() + ": ";
  out += status.message() + "\n";
  if (status.ec2_code()) {
    for (const Hint& h : kHints) {
      if (status.ec2_code()->rfind(h.code, 0) == 0) {
        out += std::string("hint: ") + h.text + "\n";
        break;
      }
    }
  } else if (status.code() == Code::kUnavailable &&
             status.message().rfind("cannot connect to ", 0) == 0) {
    out += "hint: is kilnd running? start it with `make run` or pass --endpoint-url\n";
  } else if (status.code() == Code::kFailedPrecondition &&
             status.message().find("kilnd") != std::string::npos) {
    out +=
        "hint: start kilnd with `make run`, or pass --endpoint-url (or set "
        "KILN_ENDPOINT_URL)\n";
  }
  return out;
}

int ExitStatusFor(const Status& status) {
  if (status.ok()) return kExitOk;
  if (status.code() == Code::kAborted && !status.ec2_code()) return kExitInterrupted;
  if (!status.ec2_code() && status.code() == Code::kInvalidArgument) return kExitUsage;
  return kExitApiError;
}

}  // namespace kiln::cli
