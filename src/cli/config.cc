#include "cli/config.h"

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kiln::cli {
namespace {

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("cannot read " + path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> NonEmpty(const Environment& env, const std::string& name) {
  std::optional<std::string> v = env.get(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::string StripSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Result<AwsCredentials> FileCredentials(const std::string& path, const std::string& profile) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(IniFile ini, ParseIni(text, path));
  return ProfileCredentials(ini, profile, path);
}

// The endpoint, and kilnd.json's contents when it came from there.
Result<std::pair<std::string, std::optional<KilndInfo>>> FindEndpoint(const GlobalOptions& options,
                                                                      const Environment& env,
                                                                      EndpointSource* source) {
  if (!options.endpoint_url.empty()) {
    *source = EndpointSource::kFlag;
    return std::make_pair(StripSlash(options.endpoint_url), std::optional<KilndInfo>());
  }
  if (auto url = NonEmpty(env, "KILN_ENDPOINT_URL")) {
    *source = EndpointSource::kEnvironment;
    return std::make_pair(StripSlash(*url), std::optional<KilndInfo>());
  }
  const std::string run_dir = NonEmpty(env, "KILN_RUN_DIR").value_or("/run/kiln");
  const std::string path = run_dir + "/kilnd.json";
  const Status no_kilnd = FailedPreconditionError(
      "no kilnd endpoint: no --endpoint-url, no KILN_ENDPOINT_URL and no running kilnd (" + path +
      ")");
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return no_kilnd;
  ASSIGN_OR_RETURN(KilndInfo info, ParseKilndJson(*text, path));
  if (!env.pid_alive(info.pid)) {
    return FailedPreconditionError("kilnd is not running (" + path + " names pid " +
                                   std::to_string(info.pid) + ", which is gone)");
  }
  *source = EndpointSource::kKilndJson;
  return std::make_pair(StripSlash(info.endpoint), std::optional<KilndInfo>(info));
}

}  // namespace

Environment Environment::Process() {
  Environment env;
  env.get = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  env.pid_alive = [](int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); };
  return env;
}

Result<IniFile> ParseIni(std::string_view text, std::string_view source) {
  IniFile ini;
  std::string section;
  bool in_section = false;
  int line_no = 0;
  std::istringstream lines{std::string(text)};
  for (std::string raw; std::getline(lines, raw);) {
    ++line_no;
    const std::string line = Trim(raw);
    const std::string where = std::string(source) + ":" + std::to_string(line_no) + ": ";
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return InvalidArgumentError(where + "malformed section header: " + line);
      }
      section = Trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = Trim(section.substr(8));
      ini[section];
      in_section = true;
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return InvalidArgumentError(where + "expected key = value");
    if (!in_section) return InvalidArgumentError(where + "key = value before any [section]");
    const std::string key = Trim(line.substr(0, eq));
    if (key.empty()) return InvalidArgumentError(where + "empty key");
    ini[section][key] = Trim(line.substr(eq + 1));
  }
  return ini;
}

Result<AwsCredentials> ProfileCredentials(const IniFile& ini, std::string_view profile,
                                          std::string_view source) {
  const auto it = ini.find(std::string(profile));
  if (it == ini.end()) {
    return NotFoundError("profile [" + std::string(profile) + "] not found in " +
                         std::string(source));
  }
  AwsCredentials c;
  for (const auto& [key, out] :
       {std::pair<const char*, std::string*>{"aws_access_key_id", &c.access_key_id},
        {"aws_secret_access_key", &c.secret_access_key}}) {
    const auto v = it->second.find(key);
    if (v == it->second.end() || v->second.empty()) {
      return InvalidArgumentError("profile [" + std::string(profile) + "] in " +
                                  std::string(source) + " has no " + key);
    }
    *out = v->second;
  }
  return c;
}

Result<KilndInfo> ParseKilndJson(std::string_view text, std::string_view source) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&](const std::string& why) {
    return InvalidArgumentError(std::string(source) + ": " + why);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  KilndInfo info;
  if (!j.contains("endpoint") || !j["endpoint"].is_string()) return bad("no \"endpoint\" string");
  if (!j.contains("dataDir") || !j["dataDir"].is_string()) return bad("no \"dataDir\" string");
  if (!j.contains("pid") || !j["pid"].is_number_integer()) return bad("no \"pid\" number");
  // get<int>() would wrap a pid beyond int to some other process's.
  if (j["pid"] < 1 || j["pid"] > std::numeric_limits<int>::max()) {
    return bad("\"pid\" out of range");
  }
  info.endpoint = j["endpoint"].get<std::string>();
  info.data_dir = j["dataDir"].get<std::string>();
  info.pid = j["pid"].get<int>();
  return info;
}

Result<ResolvedConfig> ResolveConfig(const GlobalOptions& options, const Environment& env) {
  ResolvedConfig config;
  ASSIGN_OR_RETURN(auto endpoint, FindEndpoint(options, env, &config.endpoint_source));
  config.endpoint = endpoint.first;
  config.region = !options.region.empty()
                      ? options.region
                      : NonEmpty(env, "AWS_REGION")
                            .value_or(NonEmpty(env, "AWS_DEFAULT_REGION").value_or("us-east-1"));
  const auto key = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  if (key) {
    const auto secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
    if (!secret) {
      return InvalidArgumentError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    config.credentials = {*key, *secret};
    config.credentials_source = "AWS_ACCESS_KEY_ID";
    return config;
  }
  const auto env_profile = NonEmpty(env, "AWS_PROFILE");
  const auto shared_file = NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE");
  const bool explicit_profile = !options.profile.empty() || env_profile.has_value();
  std::string path;
  std::string profile =
      !options.profile.empty() ? options.profile : env_profile.value_or("default");
  if (endpoint.second && !explicit_profile && !shared_file) {
    path = endpoint.second->data_dir + "/credentials";
  } else if (shared_file) {
    path = *shared_file;
  } else if (auto home = NonEmpty(env, "HOME")) {
    path = *home + "/.aws/credentials";
  } else {
    return NotFoundError("no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or HOME");
  }
  ASSIGN_OR_RETURN(config.credentials, FileCredentials(path, profile));
  config.credentials_source = path + " [" + profile + "]";
  return config;
}

}  // namespace kiln::cli
