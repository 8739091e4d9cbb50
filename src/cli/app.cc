#include "cli/app.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <ctime>
#include <functional>
#include <map>
#include <optional>

#include "cli/commands.h"
#include "cli/connect.h"
#include "cli/ec2_client.h"
#include "cli/output.h"

namespace kiln::cli {
namespace {

constexpr char kVersion[] = "kiln 0.7.0";

struct Flags {
  GlobalOptions global;
  std::string output = "table";
  bool no_color = false;
  ImagesOptions images;
  LaunchOptions launch;
  std::vector<std::string> instance_ids;
  std::string instance_id;
  std::string image;
  bool delete_snapshots = false;
  CreateImageOptions create;
  double price = 0.05;
};

// What a subcommand runs once the Context exists; returns the exit status.
using Runner = std::function<int(Context&)>;

int Report(Context& ctx, const Status& status) {
  if (status.ok()) return kExitOk;
  const std::string text = ErrorText(status);
  std::fwrite(text.data(), 1, text.size(), ctx.err);
  return ExitStatusFor(status);
}

void AddListCommands(CLI::App& app, Flags& f, std::map<CLI::App*, Runner>& runners) {
  CLI::App* images = app.add_subcommand("images", "List images (AMIs) you may launch");
  images->add_option("--owner", f.images.owner, "self, kiln or an account id");
  images->add_option("--name", f.images.name, "name pattern (* and ? wildcards)");
  runners[images] = [&f](Context& c) { return Report(c, ListImages(c, f.images)); };
  runners[app.add_subcommand("instances", "List instances")] = [](Context& c) {
    return Report(c, ListInstances(c));
  };
  runners[app.add_subcommand("snapshots", "List your snapshots")] = [](Context& c) {
    return Report(c, ListSnapshots(c));
  };
  runners[app.add_subcommand("volumes", "List volumes")] = [](Context& c) {
    return Report(c, ListVolumes(c));
  };
  CLI::App* usage = app.add_subcommand(
      "usage", "Storage your images and snapshots use (unique vs shared) and its monthly cost");
  usage->add_option("--price-per-gb-month", f.price, "dollars per GB-month (default 0.05)")
      ->check(CLI::NonNegativeNumber);
  runners[usage] = [&f](Context& c) { return Report(c, Usage(c, f.price)); };
}

void AddLaunch(CLI::App& app, Flags& f, std::map<CLI::App*, Runner>& runners) {
  CLI::App* launch = app.add_subcommand("launch", "Launch an instance from an image");
  launch->add_option("IMAGE", f.launch.image, "image id (ami-...) or name")->required();
  launch->add_option("--type", f.launch.instance_type, "instance type (default: m1.small)");
  launch->add_option("--user-data", f.launch.user_data_file, "file with user data ('-': stdin)");
  launch->add_option("--volume", f.launch.volumes, "extra EBS volume DEV:SIZE (GiB), e.g. sdf:10")
      ->type_size(1)
      ->allow_extra_args(false);
  launch->add_option("--instance-store", f.launch.instance_stores, "instance-store volume DEV")
      ->type_size(1)
      ->allow_extra_args(false);
  launch->add_option("--name", f.launch.name, "Name tag");
  launch->add_flag("--wait", f.launch.wait, "wait until it runs");
  runners[launch] = [&f](Context& c) { return Report(c, Launch(c, f.launch)); };
}

void AddInstanceCommands(CLI::App& app, Flags& f, std::map<CLI::App*, Runner>& runners) {
  for (const char* verb : {"stop", "start", "reboot", "terminate"}) {
    CLI::App* cmd = app.add_subcommand(verb, std::string("Send instances a ") + verb);
    cmd->add_option("INSTANCE", f.instance_ids, "instance ids")->required();
    runners[cmd] = [&f, verb](Context& c) {
      return Report(c, ChangeState(c, verb, f.instance_ids));
    };
  }
  CLI::App* console = app.add_subcommand("console", "Show an instance's console output");
  console->add_option("INSTANCE", f.instance_id, "instance id")->required();
  runners[console] = [&f](Context& c) { return Report(c, ShowConsole(c, f.instance_id)); };
  CLI::App* connect = app.add_subcommand("connect", "A shell inside a running instance");
  connect->add_option("INSTANCE", f.instance_id, "instance id")->required();
  runners[connect] = [&f](Context& c) {
    Result<int> code = Connect(c, f.instance_id);
    return code.ok() ? *code : Report(c, code.status());
  };
}

void AddImageCommands(CLI::App& app, Flags& f, std::map<CLI::App*, Runner>& runners) {
  CreateImageOptions& o = f.create;
  CLI::App* create = app.add_subcommand("create-image", "Make an image of an instance");
  create->add_option("INSTANCE", o.instance_id, "instance id")->required();
  create->add_option("--name", o.name, "the image's name (unique among yours)")->required();
  create->add_option("--description", o.description, "up to 255 characters");
  create->add_flag("--no-reboot", o.no_reboot,
                   "do not stop the instance (the file systems may be inconsistent)");
  create->add_option("--root-size", o.root_size, "the image's root volume size (GiB)");
  create->add_option("--add-volume", o.add_volumes, "add an empty EBS volume DEV:SIZE")
      ->type_size(1)
      ->allow_extra_args(false);
  create->add_option("--add-instance-store", o.add_instance_stores, "add instance store DEV")
      ->type_size(1)
      ->allow_extra_args(false);
  create->add_option("--remove-volume", o.remove_volumes, "leave the volume DEV out")
      ->type_size(1)
      ->allow_extra_args(false);
  create->add_flag("--wait", o.wait, "show progress until the image is available");
  runners[create] = [&f](Context& c) { return Report(c, CreateImage(c, f.create)); };
  CLI::App* dereg = app.add_subcommand("deregister", "Deregister an image");
  dereg->add_option("IMAGE", f.image, "image id or name")->required();
  dereg->add_flag("--delete-snapshots", f.delete_snapshots, "delete its snapshots too");
  runners[dereg] = [&f](Context& c) {
    return Report(c, Deregister(c, f.image, f.delete_snapshots));
  };
}

bool UseColor(const Flags& f, const Environment& env, bool out_is_tty) {
  if (f.no_color || !out_is_tty) return false;
  const auto no_color = env.get("NO_COLOR");
  if (no_color && !no_color->empty()) return false;
  return env.get("TERM").value_or("") != "dumb";
}

int RunCommand(const Runner& runner, const Flags& f, const Environment& env, std::FILE* out,
               std::FILE* err, bool out_is_tty) {
  Context ctx;
  ctx.out = out;
  ctx.err = err;
  ctx.format = f.output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  ctx.color = UseColor(f, env, out_is_tty);
  ctx.stdout_tty = out_is_tty;
  ctx.now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  Result<ResolvedConfig> config = ResolveConfig(f.global, env);
  if (!config.ok()) {
    Status s = config.status();
    if (s.code() == Code::kInvalidArgument) s = FailedPreconditionError(s.message());
    return Report(ctx, s);
  }
  Result<Url> url = ParseUrl(config->endpoint);
  if (!url.ok()) return Report(ctx, url.status());
  Ec2Client client(*config, *url);
  ctx.api = &client;
  ctx.config = &client.config();
  return runner(ctx);
}

}  // namespace

int RunKilnWith(const std::vector<std::string>& args, const Environment& env, std::FILE* out,
                std::FILE* err, bool out_is_tty) {
  CLI::App app{"kiln: images, instances and snapshots of a kilnd (EC2's API)", "kiln"};
  app.fallthrough();
  app.require_subcommand(1);
  Flags f;
  app.add_option("--endpoint-url", f.global.endpoint_url,
                 "kilnd's URL (default: KILN_ENDPOINT_URL, else the local kilnd)");
  app.add_option("--profile", f.global.profile, "credentials profile (default: AWS_PROFILE)");
  app.add_option("--region", f.global.region, "region (default: AWS_REGION, us-east-1)");
  app.add_option("--output", f.output, "table or json")->check(CLI::IsMember({"table", "json"}));
  app.add_flag("--no-color", f.no_color, "no colour even on a terminal");
  app.set_version_flag("--version", kVersion);
  std::map<CLI::App*, Runner> runners;
  AddListCommands(app, f, runners);
  AddLaunch(app, f, runners);
  AddInstanceCommands(app, f, runners);
  AddImageCommands(app, f, runners);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), out);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    std::fprintf(out, "%s\n", kVersion);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string where = "kiln";
    for (CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::fprintf(err, "kiln: %s\nhint: see `%s --help`\n", e.what(), where.c_str());
    return kExitUsage;
  }
  for (CLI::App* sub : app.get_subcommands()) {
    // --help after a subcommand is handled by CLI11 above; the one chosen runs.
    auto it = runners.find(sub);
    if (it != runners.end()) return RunCommand(it->second, f, env, out, err, out_is_tty);
  }
  std::fprintf(err, "kiln: no command\n");
  return kExitUsage;
}

int RunKiln(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return RunKilnWith(args, Environment::Process(), stdout, stderr, ::isatty(STDOUT_FILENO) == 1);
}

}  // namespace kiln::cli
