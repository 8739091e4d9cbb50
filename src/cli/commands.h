// The `kiln` commands, one function each, over an Ec2Api (so tests can fake the server). Each
// prints to ctx.out (a table, or JSON with --output json) and returns the failure, if any;
// app.cc turns a failure into the error line and exit status (output.h).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cli/output.h"

namespace kiln::cli {

struct ImagesOptions {
  std::string owner;  // self, kiln, an account id; "" = every image the caller may launch
  std::string name;   // a name pattern (* and ?)
};
Status ListImages(Context& ctx, const ImagesOptions& options);
Status ListInstances(Context& ctx);
Status ListSnapshots(Context& ctx);
Status ListVolumes(Context& ctx);

// GetConsoleOutput, decoded, as it is.
Status ShowConsole(Context& ctx, const std::string& instance_id);

struct LaunchOptions {
  std::string image;                         // an ami- id or an image name
  std::string instance_type;                 // "" = the server's default
  std::string user_data_file;                // "" = none; "-" = stdin
  std::vector<std::string> volumes;          // DEV:SIZE
  std::vector<std::string> instance_stores;  // DEV
  std::string name;                          // Name tag, "" = none
  bool wait = false;                         // until running
};
Status Launch(Context& ctx, const LaunchOptions& options);

// stop, start, reboot, terminate of instances (verb is one of those four).
Status ChangeState(Context& ctx, const std::string& verb, const std::vector<std::string>& ids);

Status Deregister(Context& ctx, const std::string& image, bool delete_snapshots);

// An image id for an ami- id (as it is) or a name (DescribeImages by name, exactly one match:
// else InvalidAMIID.NotFound, or an ambiguity error listing the ids).
Result<std::string> ResolveImage(Context& ctx, const std::string& image);

// DescribeInstances of one instance.
Result<InstanceInfo> DescribeInstance(Context& ctx, const std::string& instance_id);

struct CreateImageOptions {
  std::string instance_id;
  std::string name;
  std::string description;
  bool no_reboot = false;
  std::string root_size;                         // GiB, "" = unchanged
  std::vector<std::string> add_volumes;          // DEV:SIZE
  std::vector<std::string> add_instance_stores;  // DEV
  std::vector<std::string> remove_volumes;       // DEV
  bool wait = false;
};
Status CreateImage(Context& ctx, const CreateImageOptions& options);

// DescribeStorageUsage, priced at `price_per_gb_month` dollars per GB (10^9 bytes) and month.
Status Usage(Context& ctx, double price_per_gb_month);

}  // namespace kiln::cli
