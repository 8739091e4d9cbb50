// Where `kiln` sends its requests and with which keys: the endpoint, the credentials and the
// region, found as the AWS SDKs find them, plus kiln's local-kilnd discovery (issue 7 contract,
// "Local kilnd discovery"):
//
// Endpoint: --endpoint-url, then KILN_ENDPOINT_URL, then $KILN_RUN_DIR/kilnd.json (default
// /run/kiln) when the pid it names is alive; otherwise an error saying how to start kilnd.
// Credentials:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN ignored);
//   2. when the endpoint came from kilnd.json and neither AWS_ACCESS_KEY_ID, an explicit profile
//      (--profile, AWS_PROFILE) nor AWS_SHARED_CREDENTIALS_FILE was given: profile `default` of
//      kilnd's dataDir/credentials (keys meant for real AWS never go to the local kilnd);
//   3. the profile (--profile, AWS_PROFILE, else `default`) of AWS_SHARED_CREDENTIALS_FILE or
//      ~/.aws/credentials.
// Region: --region, AWS_REGION, AWS_DEFAULT_REGION, else us-east-1.
//
// Errors: InvalidArgument for malformed files (with file:line), NotFound for a missing profile
// or file, FailedPrecondition when no endpoint can be found.
// Thread-safety: pure functions of their inputs (plus the files they read).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "cli/sigv4_signer.h"

namespace kiln::cli {

// The process environment, swappable in tests.
struct Environment {
  std::function<std::optional<std::string>(const std::string&)> get;
  std::function<bool(int pid)> pid_alive;
  static Environment Process();  // getenv and kill(pid, 0)
};

// The global flags of the command line (empty: not given).
struct GlobalOptions {
  std::string endpoint_url;
  std::string profile;
  std::string region;
};

using IniFile = std::map<std::string, std::map<std::string, std::string>>;

// An AWS shared credentials file: [section] lines and key = value lines; '#' and ';' start
// comments; blank lines are skipped. `source` names the file in errors.
Result<IniFile> ParseIni(std::string_view text, std::string_view source);

// The keys of `profile` in a parsed credentials file.
Result<AwsCredentials> ProfileCredentials(const IniFile& ini, std::string_view profile,
                                          std::string_view source);

// kilnd.json: {"endpoint": ..., "dataDir": ..., "pid": N}.
struct KilndInfo {
  std::string endpoint;
  std::string data_dir;
  int pid = 0;
};
Result<KilndInfo> ParseKilndJson(std::string_view text, std::string_view source);

enum class EndpointSource { kFlag, kEnvironment, kKilndJson };

struct ResolvedConfig {
  std::string endpoint;  // "http://host:port" (no trailing slash)
  EndpointSource endpoint_source = EndpointSource::kFlag;
  AwsCredentials credentials;
  std::string credentials_source;  // for messages: "AWS_ACCESS_KEY_ID", "/path [profile]"
  std::string region;
};

Result<ResolvedConfig> ResolveConfig(const GlobalOptions& options, const Environment& env);

}  // namespace kiln::cli
