// launch, stop/start/reboot/terminate, and the lookups other commands share.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/block_devices.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "crypto/base64.h"

namespace kiln::cli {
namespace {

Result<std::string> ReadUserData(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("--user-data: cannot read " + path);
  text << in.rdbuf();
  return text.str();
}

Result<Params> LaunchParams(Context& ctx, const LaunchOptions& options) {
  std::vector<MappingSpec> specs;
  for (const auto& v : options.volumes) {
    ASSIGN_OR_RETURN(MappingSpec spec, ParseDeviceSize("--volume", v));
    specs.push_back(spec);
  }
  for (const auto& d : options.instance_stores) {
    MappingSpec spec{MappingSpec::Kind::kInstanceStore, "", 0};
    ASSIGN_OR_RETURN(spec.device, NormalizeDevice("--instance-store", d));
    specs.push_back(spec);
  }
  std::string user_data;
  if (!options.user_data_file.empty()) {
    ASSIGN_OR_RETURN(user_data, ReadUserData(options.user_data_file));
  }
  ASSIGN_OR_RETURN(const std::string image_id, ResolveImage(ctx, options.image));
  Params params = {{"ImageId", image_id}, {"MinCount", "1"}, {"MaxCount", "1"}};
  if (!options.instance_type.empty()) params.emplace_back("InstanceType", options.instance_type);
  if (!user_data.empty()) params.emplace_back("UserData", Base64Encode(AsBytes(user_data)));
  for (auto& p : MappingParams(specs)) params.push_back(std::move(p));
  if (!options.name.empty()) {
    params.insert(params.end(), {{"TagSpecification.1.ResourceType", "instance"},
                                 {"TagSpecification.1.Tag.1.Key", "Name"},
                                 {"TagSpecification.1.Tag.1.Value", options.name}});
  }
  return params;
}

// Polls until the instance leaves `pending`; an error unless it then runs.
Result<InstanceInfo> WaitRunning(Context& ctx, const std::string& instance_id) {
  InterruptGuard guard;
  ProgressDisplay display(ctx.json() ? ctx.err : ctx.out, ctx.stdout_tty && !ctx.json(), ctx.color);
  while (true) {
    ASSIGN_OR_RETURN(InstanceInfo info, DescribeInstance(ctx, instance_id));
    display.Update({ProgressLine{"instance", "instance " + instance_id, info.state, -1}});
    if (info.state != "pending") {
      display.Finish();
      if (info.state != "running") {
        return FailedPreconditionError("instance " + instance_id + " is " + info.state +
                                       ", not running")
            .WithEc2Code("IncorrectInstanceState");
      }
      return info;
    }
    if (!SleepUnlessInterrupted(std::chrono::milliseconds(250))) {
      display.Finish();
      return InterruptedWaiting("instance " + instance_id +
                                " is still starting; watch it with "
                                "`kiln instances`");
    }
  }
}

}  // namespace

Result<InstanceInfo> DescribeInstance(Context& ctx, const std::string& instance_id) {
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeInstances", {{"InstanceId.1", instance_id}}));
  std::vector<InstanceInfo> instances = ParseInstances(doc->document_element());
  if (instances.size() != 1) {
    return NotFoundError("The instance ID '" + instance_id + "' does not exist")
        .WithEc2Code("InvalidInstanceID.NotFound");
  }
  return instances[0];
}

Result<std::string> ResolveImage(Context& ctx, const std::string& image) {
  if (image.rfind("ami-", 0) == 0) return image;
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeImages", {{"Filter.1.Name", "name"},
                                                                {"Filter.1.Value.1", image}}));
  const std::vector<ImageInfo> images = ParseImages(doc->document_element());
  if (images.empty()) {
    return NotFoundError("no image named '" + image + "' (nor an ami- id)")
        .WithEc2Code("InvalidAMIID.NotFound");
  }
  if (images.size() > 1) {
    std::string ids;
    for (const auto& i : images)
      ids += " " + i.image_id + " (owner " + (i.owner_alias.empty() ? i.owner_id : i.owner_alias) +
             ")";
    return InvalidArgumentError("several images are named '" + image + "':" + ids +
                                "; give an image id")
        .WithEc2Code("AmbiguousImageName");
  }
  return images[0].image_id;
}

Status Launch(Context& ctx, const LaunchOptions& options) {
  ASSIGN_OR_RETURN(const Params params, LaunchParams(ctx, options));
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("RunInstances", params));
  std::vector<InstanceInfo> instances = ParseInstances(doc->document_element());
  if (instances.empty()) return InternalError("RunInstances answered no instance");
  InstanceInfo instance = instances[0];
  if (!ctx.json()) {
    Print(ctx, "launched " + instance.instance_id + " from " + instance.image_id + " (" +
                   instance.instance_type + ", " + instance.state + ")\n");
  }
  if (options.wait) {
    ASSIGN_OR_RETURN(instance, WaitRunning(ctx, instance.instance_id));
  }
  if (ctx.json()) {
    PrintJson(ctx, ToJson(instance));
  } else if (!options.wait) {
    Print(ctx, "watch it with `kiln instances`; see its console with `kiln console " +
                   instance.instance_id + "`\n");
  }
  return Status::Ok();
}

Status ChangeState(Context& ctx, const std::string& verb, const std::vector<std::string>& ids) {
  static const std::pair<const char*, const char*> kActions[] = {
      {"stop", "StopInstances"},
      {"start", "StartInstances"},
      {"reboot", "RebootInstances"},
      {"terminate", "TerminateInstances"}};
  std::string action;
  for (const auto& [v, a] : kActions) {
    if (verb == v) action = a;
  }
  if (action.empty()) return InternalError("unknown state change " + verb);
  Params params;
  for (size_t i = 0; i < ids.size(); ++i) {
    params.emplace_back("InstanceId." + std::to_string(i + 1), ids[i]);
  }
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call(action, params));
  std::vector<InstanceStateChange> changes = ParseStateChanges(doc->document_element());
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : changes) {
      list.push_back({{"InstanceId", c.instance_id},
                      {"PreviousState", c.previous_state},
                      {"CurrentState", c.current_state}});
    }
    if (verb == "reboot") {
      for (const auto& id : ids) list.push_back({{"InstanceId", id}, {"Rebooting", true}});
    }
    PrintJson(ctx, {{"StateChanges", list}});
    return Status::Ok();
  }
  std::string text;
  for (const auto& c : changes) {
    text += c.instance_id + ": " + c.previous_state + " -> " +
            Colorize(c.current_state, ctx.color ? StateColor(c.current_state) : Color::kNone) +
            "\n";
  }
  if (verb == "reboot") {
    for (const auto& id : ids) text += id + ": rebooting\n";
  }
  Print(ctx, text);
  return Status::Ok();
}

}  // namespace kiln::cli
