// kilnd: the daemon. `kilnd --data-dir DIR --listen HOST:PORT` serves the EC2 Query API in the
// foreground; `kilnd account create --data-dir DIR NAME` adds an account (DESIGN.md, Interface
// contract).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "actions/default_network.h"
#include "actions/image_attribute_actions.h"
#include "actions/key_pair_actions.h"
#include "actions/network_actions.h"
#include "actions/snapshot_attribute_actions.h"
#include "actions/tag_actions.h"
#include "api/front_end.h"
#include "api/kms_json_handler.h"
#include "api/static_actions.h"
#include "catalog/catalog.h"
#include "cloud/accounts.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "cloud/password.h"
#include "http/http_server.h"
#include "web/connect.h"
#include "web/console_assets.h"
#include "web/run_file.h"
#include "web/session_store.h"
#include "web/web_api.h"
#include "web/web_routes.h"

namespace {

int Fail(const kiln::Status& s) {
  std::fprintf(stderr, "kilnd: %s\n", s.ToString().c_str());
  return 1;
}

// build/NAME beside build/kilnd: where the build puts the base image (images) and the web
// console's assets (console).
std::string BesideKilnd(const std::string& name) {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return name;
  return (exe.parent_path() / name).string();
}

// The console's assets; none (a 404 that says so) when the default dir was not built.
kiln::Result<std::unique_ptr<kiln::ConsoleAssets>> LoadConsole(const std::string& dir,
                                                               bool explicit_dir) {
  auto assets = kiln::ConsoleAssets::Load(dir);
  if (assets.ok()) {
    spdlog::info("web console: {} files from {}", (*assets)->size(), dir);
    return assets;
  }
  if (explicit_dir) return assets.status();
  spdlog::warn("web console not served: {}", assets.status().ToString());
  return std::make_unique<kiln::ConsoleAssets>();
}

// Everything but "/" on the listener: the console's sign-in, its EC2 calls, its assets and the
// connect endpoint (src/web).
struct Web {
  kiln::SessionStore sessions{kiln::SystemClock()};
  std::unique_ptr<kiln::WebApi> api;
  std::unique_ptr<kiln::ConsoleAssets> assets;
  std::unique_ptr<kiln::ConnectEndpoint> connect;
};

void MakeWeb(Web& web, kiln::Cloud& cloud, const kiln::KeyLookup& keys, const kiln::FrontEnd& fe,
             std::unique_ptr<kiln::ConsoleAssets> assets) {
  kiln::Catalog& catalog = cloud.catalog();
  web.api = std::make_unique<kiln::WebApi>(
      kiln::WebApiOptions{.keys = keys,
                          .account_name =
                              [&catalog](const std::string& id) {
                                auto a = catalog.accounts().Get(id);
                                return a.ok() ? a->name : std::string();
                              },
                          .region = cloud.options().region},
      web.sessions, fe, kiln::SystemClock());
  web.assets = std::move(assets);
  web.connect = std::make_unique<kiln::ConnectEndpoint>(kiln::ConnectOptions{
      .sessions = &web.sessions,
      .keys = keys,
      .now = {},
      .instance = [&catalog](const std::string& id) { return catalog.instances().Get(id); },
      .exec = [&cloud](const std::string& id, const kiln::ExecOptions& options)
          -> kiln::Result<std::unique_ptr<kiln::Terminal>> {
        ASSIGN_OR_RETURN(std::unique_ptr<kiln::ExecProcess> p, cloud.runtime().Exec(id, options));
        return kiln::ExecTerminal(std::move(p));
      }});
}

bool SplitListen(const std::string& listen, std::string& host, uint16_t& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    const int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return !host.empty();
}

int AccountCreate(const std::string& data_dir, const std::string& name) {
  auto catalog = kiln::Catalog::Open(kiln::JoinPath(data_dir, "catalog.db"), kiln::SystemClock());
  if (!catalog.ok()) return Fail(catalog.status());
  auto text = kiln::CreateAccount(**catalog, data_dir, name);
  if (!text.ok()) return Fail(text.status());
  std::fputs(text->c_str(), stdout);
  return 0;
}

kiln::Status RegisterAll(kiln::FrontEnd& fe, kiln::Cloud& cloud) {
  std::vector<std::vector<kiln::Action>> groups = {
      kiln::StaticActions(cloud.options().region,
                          [&cloud](const std::string& account) -> kiln::Result<std::string> {
                            ASSIGN_OR_RETURN(kiln::Vpc vpc,
                                             kiln::actions::EnsureDefaultVpc(
                                                 cloud.catalog(), account, cloud.options().region));
                            return vpc.vpc_id;
                          }),
      kiln::KeyPairActions(cloud.catalog()),
      kiln::NetworkActions(cloud.catalog(), cloud.options().region),
      kiln::ImageAttributeActions(cloud.catalog()),
      kiln::SnapshotAttributeActions(cloud.catalog()),
      kiln::TagActions(cloud.catalog()),
      kiln::InstanceActions(cloud),
      kiln::ImageActions(cloud),
      kiln::SnapshotActions(cloud),
      kiln::VolumeActions(cloud),
      kiln::InstanceStatusActions(cloud),
      kiln::PasswordActions(cloud),
      kiln::VolumeStatusActions(cloud),
      kiln::EncryptionActions(cloud),
      kiln::StorageUsageActions(cloud),
      kiln::CopyActions(cloud)};
  for (auto& group : groups) {
    for (auto& action : group) RETURN_IF_ERROR(fe.Register(std::move(action)));
  }
  return kiln::Status::Ok();
}

int Serve(const kiln::CloudOptions& options, const std::string& listen,
          const std::string& console_dir, bool console_dir_explicit) {
  kiln::HttpServerOptions http;
  if (!SplitListen(listen, http.host, http.port)) {
    return Fail(kiln::InvalidArgumentError("--listen must be HOST:PORT, not " + listen));
  }
  // SIGTERM and SIGINT are taken by sigwait below, in every thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto console = LoadConsole(console_dir, console_dir_explicit);
  if (!console.ok()) return Fail(console.status());
  auto cloud = kiln::Cloud::Open(options);
  if (!cloud.ok()) return Fail(cloud.status());
  kiln::Catalog& catalog = (*cloud)->catalog();
  const kiln::KeyLookup keys = [&catalog](std::string_view key) -> std::optional<kiln::KeyInfo> {
    auto cred = catalog.accounts().GetCredential(std::string(key));
    if (!cred.ok()) return std::nullopt;
    return kiln::KeyInfo{cred->secret_access_key, cred->account_id};
  };
  // The KMS JSON API shares the listener: requests with X-Amz-Target go to it.
  kiln::KmsJsonHandler kms_api((*cloud)->storage().kms(), kiln::KmsJsonOptions{keys, {}});
  kiln::FrontEnd fe(kiln::FrontEndOptions{
      .keys = keys, .now = {}, .json_protocol = [&kms_api](const kiln::HttpRequest& r) {
        return kms_api.Handle(r);
      }});
  if (auto s = RegisterAll(fe, **cloud); !s.ok()) return Fail(s);
  Web web;
  MakeWeb(web, **cloud, keys, fe, std::move(*console));
  const kiln::WebRoutes routes{web.api.get(), web.assets.get(), web.connect.get(),
                               [&fe](const kiln::HttpRequest& r) { return fe.Handle(r); }};
  auto server =
      kiln::HttpServer::Start(http, kiln::MakeHttpRouter(routes), kiln::MakeUpgradeRouter(routes));
  if (!server.ok()) return Fail(server.status());
  const std::string run_dir = kiln::RunDir();
  const std::string endpoint = kiln::EndpointUrl(http.host, (*server)->port());
  if (auto s = kiln::WriteRunFile(run_dir, endpoint, options.data_dir, getpid()); !s.ok()) {
    spdlog::warn("local clients will not find this kilnd: {}", s.ToString());
  }
  std::printf("kilnd: serving the EC2 API at http://%s:%u/ (region %s), data in %s\n",
              http.host.c_str(), (*server)->port(), options.region.c_str(),
              options.data_dir.c_str());
  std::printf("kilnd: web console at %s/console/\n", endpoint.c_str());
  std::printf(
      "kilnd: try  AWS_SHARED_CREDENTIALS_FILE=%s/credentials aws --region %s "
      "--endpoint-url http://%s:%u ec2 describe-images --owners kiln\n",
      options.data_dir.c_str(), options.region.c_str(), http.host.c_str(), (*server)->port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  if (auto s = kiln::RemoveRunFile(run_dir, getpid()); !s.ok()) spdlog::warn("{}", s.ToString());
  (*server)->Shutdown(10000);  // WebSocket sessions end here, and their shells with them
  server->reset();
  cloud->reset();  // waits for background work; running instances boot again at next start
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kilnd: the kiln daemon (EC2 custom images on one machine)"};
  app.require_subcommand(0, 1);
  kiln::CloudOptions options;
  std::string listen = "127.0.0.1:8787";
  app.add_option("--data-dir", options.data_dir, "where kiln keeps everything");
  app.add_option("--listen", listen, "HOST:PORT of the EC2 API");
  app.add_option("--region", options.region, "the region kilnd presents");
  app.add_option("--images-dir", options.images_dir,
                 "where the base image is (default: images/ beside kilnd)");
  std::string console_dir;
  app.add_option("--console-dir", console_dir,
                 "the web console's built assets (default: console/ beside kilnd)");
  CLI::App* account = app.add_subcommand("account", "manage accounts");
  account->require_subcommand(1);
  CLI::App* create = account->add_subcommand("create", "add an account NAME with new keys");
  std::string account_dir, account_name;
  create->add_option("--data-dir", account_dir, "the data dir of the kilnd")->required();
  create->add_option("NAME", account_name, "profile name")->required();
  CLI11_PARSE(app, argc, argv);
  if (create->parsed()) return AccountCreate(account_dir, account_name);
  if (options.data_dir.empty()) {
    std::fprintf(stderr, "kilnd: --data-dir is required\n");
    return 2;
  }
  options.data_dir = std::filesystem::absolute(options.data_dir).string();
  if (options.images_dir.empty()) options.images_dir = BesideKilnd("images");
  const bool console_dir_explicit = !console_dir.empty();
  if (!console_dir_explicit) console_dir = BesideKilnd("console");
  return Serve(options, listen, console_dir, console_dir_explicit);
}
