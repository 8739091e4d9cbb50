#include "cli/sigv4_signer.h"

#include <gtest/gtest.h>

#include "api/sigv4.h"
#include "base/uri.h"

namespace kiln::cli {
namespace {

// AWS's SigV4 test suite, case get-vanilla (aws-sig-v4-test-suite/get-vanilla).
TEST(SigV4SignerTest, GetVanillaFromAwsTestSuite) {
  SigningRequest r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  EXPECT_EQ(CanonicalRequest(r),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Authorization(r, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                          "us-east-1", "service", "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4SignerTest, QueryIsSortedAndReencoded) {
  SigningRequest r;
  r.method = "GET";
  r.path = "/kiln/v1/instances/i-1/connect";
  r.query = "rows=24&cols=80&a%20b=c+d";
  r.headers = {{"Host", "h"}};
  EXPECT_NE(CanonicalRequest(r).find("\na%20b=c%20d&cols=80&rows=24\n"), std::string::npos)
      << CanonicalRequest(r);
}

TEST(SigV4SignerTest, HeaderValuesTrimmedAndRepeatedJoined) {
  SigningRequest r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Host", "h"}, {"My-Header", "  a   b  "}, {"my-header", "c"}};
  EXPECT_NE(CanonicalRequest(r).find("my-header:a b,c\n"), std::string::npos);
  EXPECT_NE(CanonicalRequest(r).find("\nhost;my-header\n"), std::string::npos);
}

TEST(SigV4SignerTest, UriEncodeAndFormEncode) {
  EXPECT_EQ(UriEncode("a b/c~d*"), "a%20b%2Fc~d%2A");
  EXPECT_EQ(UriEncode("/a b", true), "/a%20b");
  EXPECT_EQ(FormEncode({{"Action", "X"}, {"Name", "a=b&c"}}), "Action=X&Name=a%3Db%26c");
  EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z");
}

// What the CLI sends passes kilnd's verifier (POST with a body, and the connect GET).
TEST(SigV4SignerTest, AcceptedByTheServersVerifier) {
  const AwsCredentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
  const int64_t now = 1795000000;
  for (const std::string method : {"POST", "GET"}) {
    SigningRequest r;
    r.method = method;
    r.path = method == "GET" ? "/kiln/v1/instances/i-0123/connect" : "/";
    r.query = method == "GET" ? "rows=40&cols=120" : "";
    r.payload = method == "POST" ? "Action=DescribeImages&Version=2016-11-15&Owner.1=self" : "";
    r.headers = {{"Host", "127.0.0.1:8787"}};
    if (method == "POST") {
      r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    }
    std::vector<std::pair<std::string, std::string>> sent = r.headers;
    for (auto& h : Sign(r, creds, "us-east-1", "ec2", now)) sent.push_back(h);
    SigV4Request v{r.method, r.path, r.query, &sent, r.payload};
    const auto secrets = [&](std::string_view id) -> std::optional<std::string> {
      if (id == creds.access_key_id) return creds.secret_access_key;
      return std::nullopt;
    };
    Result<SigV4Identity> identity = VerifySigV4(v, now, secrets);
    ASSERT_TRUE(identity.ok()) << method << ": " << identity.status().ToString();
    EXPECT_EQ(identity->access_key_id, creds.access_key_id);
    // A wrong secret does not verify.
    SigningRequest r2 = r;
    r2.headers.pop_back();  // the X-Amz-Date Sign added
    std::vector<std::pair<std::string, std::string>> sent2 = r2.headers;
    for (auto& h : Sign(r2, {creds.access_key_id, "wrong"}, "us-east-1", "ec2", now)) {
      sent2.push_back(h);
    }
    SigV4Request v2{r2.method, r2.path, r2.query, &sent2, r2.payload};
    EXPECT_EQ(VerifySigV4(v2, now, secrets).status().ec2_code(), "SignatureDoesNotMatch");
  }
}

}  // namespace
}  // namespace kiln::cli
