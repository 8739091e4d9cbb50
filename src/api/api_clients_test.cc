// End to end over HTTP with the real clients DESIGN.md names: boto3 1.26 (/usr/bin/python3),
// boto3 1.43 (the pyenv's python3), AWS CLI v2 (/usr/bin/aws) and v1 (the pyenv's aws), against
// HttpServer + FrontEnd + StaticActions with a fixed key. The checks themselves are in
// tests/api/static_actions_clients.py. A missing client is a failure, not a skip: these
// clients are part of the interface contract.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "api/front_end.h"
#include "api/static_actions.h"
#include "env/subprocess.h"
#include "http/http_server.h"

namespace kiln {
namespace {

constexpr char kKeyId[] = "AKIAKILNCLIENTTEST01";
constexpr char kSecret[] = "kilnClientTestSecret/0123456789abcdefghij";

class ApiClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FrontEndOptions options;
    options.keys = [](std::string_view id) -> std::optional<KeyInfo> {
      if (id != kKeyId) return std::nullopt;
      return KeyInfo{kSecret, "123456789012"};
    };
    front_end_ = std::make_unique<FrontEnd>(std::move(options));
    for (Action& a : StaticActions("us-east-1"))
      ASSERT_TRUE(front_end_->Register(std::move(a)).ok());
    HttpServerOptions http;
    http.port = 0;
    http.threads = 2;
    Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(
        http, [fe = front_end_.get()](const HttpRequest& r) { return fe->Handle(r); });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(1000);
  }

  // Runs the script with `argv` after it; expects exit 0 and "ok" last.
  void RunScript(const std::vector<std::string>& argv_front, const std::vector<std::string>& args) {
    std::vector<std::string> argv = argv_front;
    argv.push_back(KILN_API_CLIENTS_SCRIPT);
    argv.insert(argv.end(), args.begin(), args.end());
    const std::vector<std::string> env = {
        "KILN_ENDPOINT=http://127.0.0.1:" + std::to_string(server_->port()),
        std::string("AWS_ACCESS_KEY_ID=") + kKeyId,
        std::string("AWS_SECRET_ACCESS_KEY=") + kSecret,
        "AWS_DEFAULT_REGION=us-east-1",
        "AWS_CONFIG_FILE=/nonexistent/kiln-test-config",
        "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/kiln-test-credentials",
        "AWS_PAGER=",
        "AWS_MAX_ATTEMPTS=1",
        "AWS_EC2_METADATA_DISABLED=true",
        "NO_PROXY=127.0.0.1",
        "no_proxy=127.0.0.1",
    };
    Result<CommandResult> r = RunCommand(argv, env);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exit_code, 0) << r->output;
    EXPECT_NE(r->output.find("\nok\n"), std::string::npos) << r->output;
    std::printf("%s", r->output.c_str());
  }

  std::unique_ptr<FrontEnd> front_end_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ApiClientsTest, Boto3OfDebian) { RunScript({"/usr/bin/python3"}, {"boto3"}); }

TEST_F(ApiClientsTest, Boto3OfThePyenv) { RunScript({"python3"}, {"boto3"}); }

TEST_F(ApiClientsTest, AwsCliV2OfDebian) {
  RunScript({"/usr/bin/python3"}, {"cli", "/usr/bin/aws"});
}

TEST_F(ApiClientsTest, AwsCliOfThePyenv) { RunScript({"/usr/bin/python3"}, {"cli", "aws"}); }

}  // namespace
}  // namespace kiln
