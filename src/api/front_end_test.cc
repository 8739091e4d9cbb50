// The front end's pipeline with a fake action: signing forms (header, presigned; GET and POST),
// every error code it answers with and its HTTP status, declared parameters, DryRun, empty
// values, and how a handler's Status becomes EC2's error.
#include "api/front_end.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>

#include "api/sigv4_testing.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using sigv4_testing::Credentials;
using sigv4_testing::FormEncode;
using sigv4_testing::Params;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kNow = 1795000000;  // 2026-11-18
constexpr char kAccount[] = "123456789012";

struct Seen {
  int calls = 0;
  Caller caller;
  std::map<std::string, std::optional<std::string>> values;  // every declared name's Get
  std::string request_id;
};

class FrontEndTest : public ::testing::Test {
 protected:
  FrontEndTest() : fe_(Options()) {
    EXPECT_TRUE(fe_.Register(Action{"DescribeThings",
                                    {"ThingId.N", "Name", "Filter.N.Name", "Filter.N.Value.N"},
                                    [this](const ActionRequest& r) { return Thing(r); }})
                    .ok());
  }

  FrontEndOptions Options() {
    FrontEndOptions o;
    o.keys = [this](std::string_view id) -> std::optional<KeyInfo> {
      if (id != creds_.access_key_id) return std::nullopt;
      return KeyInfo{creds_.secret_access_key, kAccount};
    };
    o.now = [] { return kNow; };
    return o;
  }

  Result<std::string> Thing(const ActionRequest& r) {
    ++seen_.calls;
    seen_.caller = r.caller;
    seen_.request_id = std::string(r.request_id);
    for (const std::string& n : r.params.names()) seen_.values[n] = r.params.Get(n);
    if (fail_) return *fail_;
    XmlWriter w("DescribeThingsResponse", r.request_id);
    w.Field("thing", r.params.Get("Name").value_or("none"));
    return std::move(w).Finish();
  }

  static Params WithAction(Params extra) {
    Params p = {{"Action", "DescribeThings"}, {"Version", "2016-11-15"}};
    p.insert(p.end(), extra.begin(), extra.end());
    return p;
  }

  static HttpRequest Post(const Params& params) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.body = FormEncode(params);
    r.headers = {{"Host", "127.0.0.1:8787"},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    return r;
  }
  static HttpRequest Get(const Params& params) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/";
    r.query = FormEncode(params);
    r.headers = {{"Host", "127.0.0.1:8787"}};
    return r;
  }
  HttpRequest Signed(HttpRequest r, int64_t at = kNow) {
    sigv4_testing::Sign(r, creds_, at);
    return r;
  }
  HttpResponse SignedPost(const Params& extra) {
    return fe_.Handle(Signed(Post(WithAction(extra))));
  }

  static std::string ErrorCode(const HttpResponse& r) {
    std::smatch m;
    if (!std::regex_search(r.body, m, std::regex("<Code>([^<]*)</Code>"))) return "";
    return m[1];
  }

  Credentials creds_;
  Seen seen_;
  std::optional<Status> fail_;
  FrontEnd fe_;
};

TEST_F(FrontEndTest, RegisterRejectsDuplicatesAndMalformedPatterns) {
  auto h = [](const ActionRequest&) -> Result<std::string> { return std::string("x"); };
  EXPECT_FALSE(fe_.Register(Action{"DescribeThings", {}, h}).ok());
  EXPECT_FALSE(fe_.Register(Action{"A", {"Foo..Bar"}, h}).ok());
  EXPECT_FALSE(fe_.Register(Action{"B", {"Foo."}, h}).ok());
  EXPECT_FALSE(fe_.Register(Action{"C", {""}, h}).ok());
  EXPECT_FALSE(fe_.Register(Action{"", {}, h}).ok());
  EXPECT_FALSE(fe_.Register(Action{"D", {}, nullptr}).ok());
  EXPECT_TRUE(fe_.Register(Action{"E", {"Foo.N.Bar"}, h}).ok());
}

TEST_F(FrontEndTest, SignedPostRunsTheHandlerAsTheKeysAccount) {
  HttpResponse r = SignedPost({{"Name", "web"}, {"ThingId.1", "t-1"}, {"ThingId.2", "t-2"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("<thing>web</thing>"));
  EXPECT_EQ(seen_.calls, 1);
  EXPECT_EQ(seen_.caller.account_id, kAccount);
  EXPECT_EQ(seen_.caller.access_key_id, creds_.access_key_id);
  EXPECT_EQ(seen_.caller.region, "us-east-1");
  EXPECT_EQ(seen_.values["ThingId.2"], "t-2");
  // The request id is a UUID v4, the same in the body and given to the handler.
  EXPECT_TRUE(std::regex_match(
      seen_.request_id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_THAT(r.body, HasSubstr("<requestId>" + seen_.request_id + "</requestId>"));
}

TEST_F(FrontEndTest, SignedGetWorksToo) {
  HttpResponse r = fe_.Handle(Signed(Get(WithAction({{"Name", "a b&c"}}))));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(seen_.values["Name"], "a b&c");
}

TEST_F(FrontEndTest, RegionComesFromTheCredentialScope) {
  creds_.region = "eu-west-1";
  ASSERT_EQ(SignedPost({}).status, 200);
  EXPECT_EQ(seen_.caller.region, "eu-west-1");
}

TEST_F(FrontEndTest, PresignedGetAndPost) {
  HttpRequest get = Get(WithAction({{"ThingId.1", "t-1"}}));
  sigv4_testing::Presign(get, creds_, kNow - 10, 300);
  HttpResponse r = fe_.Handle(get);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(seen_.values["ThingId.1"], "t-1");
  EXPECT_EQ(seen_.values.count("X-Amz-Signature"), 1u);  // seen, though not declared

  // POST: the action in the body, the X-Amz-* in the query string.
  HttpRequest post = Post(WithAction({{"Name", "p"}}));
  sigv4_testing::Presign(post, creds_, kNow, 60);
  r = fe_.Handle(post);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(seen_.values["Name"], "p");

  // Expired.
  HttpRequest old = Get(WithAction({}));
  sigv4_testing::Presign(old, creds_, kNow - 120, 60);
  EXPECT_EQ(ErrorCode(fe_.Handle(old)), "RequestExpired");
}

struct ErrorCase {
  std::string what;
  int status;
  std::string code;
};

TEST_F(FrontEndTest, EveryPipelineErrorHasItsCodeAndStatus) {
  Credentials wrong_secret = creds_;
  wrong_secret.secret_access_key = "nope";
  Credentials unknown_key = creds_;
  unknown_key.access_key_id = "AKIAUNKNOWN000000000";
  auto signed_with = [&](const Credentials& c, HttpRequest r) {
    sigv4_testing::Sign(r, c, kNow);
    return r;
  };
  HttpRequest incomplete = Post(WithAction({}));
  incomplete.headers.emplace_back("X-Amz-Date", sigv4_testing::AmzDate(kNow));
  incomplete.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=garbage");
  HttpRequest malformed = Post({});
  malformed.body = "Action=DescribeThings&Version=2016-11-15&Name=%zz";
  malformed = Signed(malformed);
  HttpRequest elsewhere = Signed(Post(WithAction({})));
  elsewhere.path = "/other";

  const std::vector<std::pair<ErrorCase, HttpRequest>> cases = {
      {{"malformed form", 400, "MalformedQueryString"}, malformed},
      {{"no signature", 401, "MissingAuthenticationToken"}, Post(WithAction({}))},
      {{"unknown key", 401, "AuthFailure"}, signed_with(unknown_key, Post(WithAction({})))},
      {{"wrong secret", 403, "SignatureDoesNotMatch"},
       signed_with(wrong_secret, Post(WithAction({})))},
      {{"bad Authorization", 400, "IncompleteSignature"}, incomplete},
      {{"an hour old", 400, "RequestExpired"}, Signed(Post(WithAction({})), kNow - 3600)},
      {{"no Action", 400, "MissingAction"}, Signed(Post({{"Version", "2016-11-15"}}))},
      {{"unknown Action", 400, "InvalidAction"},
       Signed(Post({{"Action", "DescribeNothing"}, {"Version", "2016-11-15"}}))},
      {{"no Version", 400, "MissingParameter"}, Signed(Post({{"Action", "DescribeThings"}}))},
      {{"old Version", 400, "InvalidAction"},
       Signed(Post({{"Action", "DescribeThings"}, {"Version", "2014-10-01"}}))},
      {{"undeclared", 400, "UnknownParameter"}, Signed(Post(WithAction({{"Owner.1", "self"}})))},
      {{"DryRun", 412, "DryRunOperation"}, Signed(Post(WithAction({{"DryRun", "true"}})))},
      {{"DryRun maybe", 400, "InvalidParameterValue"},
       Signed(Post(WithAction({{"DryRun", "maybe"}})))},
      {{"another path", 404, "NotFound"}, elsewhere},
  };
  for (const auto& [c, request] : cases) {
    HttpResponse r = fe_.Handle(request);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    EXPECT_EQ(ErrorCode(r), c.code) << c.what << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr("<RequestID>")) << c.what;
  }
  EXPECT_EQ(seen_.calls, 0) << "no error case may reach the handler";
}

TEST_F(FrontEndTest, UnknownParameterNamesTheFirstOneAndMatchesIndexesStrictly) {
  HttpResponse r = SignedPost({{"Zebra", "1"}, {"Apple", "2"}});
  EXPECT_EQ(ErrorCode(r), "UnknownParameter");
  EXPECT_THAT(r.body, HasSubstr("Apple"));
  for (const char* bad : {"ThingId.0", "ThingId.01", "ThingId", "ThingId.x", "ThingId.1.Foo",
                          "Filter.1.Value", "Filter.1.Values.1", "name", "Name.1"}) {
    EXPECT_EQ(ErrorCode(SignedPost({{bad, "v"}})), "UnknownParameter") << bad;
  }
  // An empty value is still a parameter the action must declare.
  EXPECT_EQ(ErrorCode(SignedPost({{"VpcId", ""}})), "UnknownParameter");
  for (const char* good : {"ThingId.7", "ThingId.123456789", "Filter.2.Name", "Filter.1.Value.3"}) {
    EXPECT_EQ(SignedPost({{good, "v"}}).status, 200) << good;
  }
  EXPECT_EQ(seen_.calls, 4);
}

TEST_F(FrontEndTest, EmptyValuesAreUnsetAndDryRunFalseRuns) {
  HttpResponse r = SignedPost({{"Name", ""}, {"ThingId.1", ""}, {"DryRun", "false"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(seen_.values.count("Name"), 1u);
  EXPECT_EQ(seen_.values["Name"], std::nullopt);
  EXPECT_THAT(r.body, HasSubstr("<thing>none</thing>"));
}

TEST_F(FrontEndTest, DryRunChecksTheParametersFirst) {
  EXPECT_EQ(ErrorCode(SignedPost({{"DryRun", "true"}, {"Bogus", "1"}})), "UnknownParameter");
}

TEST_F(FrontEndTest, HandlerStatusesMapToEc2Codes) {
  const std::vector<std::pair<Status, ErrorCase>> cases = {
      {NotFoundError("x").WithEc2Code("InvalidThing.NotFound"), {"", 400, "InvalidThing.NotFound"}},
      {InvalidArgumentError("x").WithEc2Code("InvalidThingID.Malformed"),
       {"", 400, "InvalidThingID.Malformed"}},
      {InvalidArgumentError("bad"), {"", 400, "InvalidParameterValue"}},
      {NotFoundError("gone"), {"", 400, "InvalidParameterValue"}},
      {FailedPreconditionError("busy"), {"", 400, "IncorrectState"}},
      {Status(Code::kUnavailable, "later"), {"", 503, "Unavailable"}},
      {InternalError("/var/lib/kiln/secret broke"), {"", 500, "InternalError"}},
      {IoError("disk"), {"", 500, "InternalError"}},
      {InternalError("x").WithEc2Code("InternalError"), {"", 500, "InternalError"}},
      {Status(Code::kUnavailable, "x").WithEc2Code("RequestLimitExceeded"),
       {"", 503, "RequestLimitExceeded"}},
      {FailedPreconditionError("x").WithEc2Code("AuthFailure"), {"", 401, "AuthFailure"}},
  };
  for (const auto& [status, c] : cases) {
    fail_ = status;
    HttpResponse r = SignedPost({});
    EXPECT_EQ(r.status, c.status) << status.ToString();
    EXPECT_EQ(ErrorCode(r), c.code) << status.ToString();
    EXPECT_THAT(r.body, HasSubstr("<RequestID>" + seen_.request_id + "</RequestID>"));
    EXPECT_THAT(r.body, Not(HasSubstr("/var/lib/kiln")));  // internals are logged, not sent
  }
}

TEST_F(FrontEndTest, EveryResponseHasAFreshRequestId) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    HttpResponse r = fe_.Handle(Post(WithAction({})));  // unsigned: an error, still an id
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.body, m, std::regex("<RequestID>([^<]+)</RequestID>")));
    ids.insert(m[1]);
  }
  EXPECT_EQ(ids.size(), 50u);
}

// HandleAs: the pipeline after SigV4, as a caller authenticated elsewhere (the console).
TEST_F(FrontEndTest, HandleAsRunsTheActionAsTheGivenCallerWithoutASignature) {
  const Caller console{"210987654321", "AKIACONSOLE000000000", "us-east-1"};
  HttpRequest r = Post(WithAction({{"Name", "web"}}));
  r.path = "/kiln/v1/ec2";
  HttpResponse res = fe_.HandleAs(r, console);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_THAT(res.body, HasSubstr("<thing>web</thing>"));
  EXPECT_EQ(seen_.caller.account_id, "210987654321");
  EXPECT_EQ(seen_.caller.access_key_id, "AKIACONSOLE000000000");
  EXPECT_EQ(seen_.caller.region, "us-east-1");
  EXPECT_EQ(res.content_type, "text/xml;charset=UTF-8");
}

TEST_F(FrontEndTest, HandleAsAnswersThePipelinesErrorsAsHandleDoes) {
  const Caller console{kAccount, "AKIACONSOLE000000000", "us-east-1"};
  HttpRequest malformed = Post({});
  malformed.body = "Action=DescribeThings&Version=2016-11-15&Name=%zz";
  const std::vector<std::pair<ErrorCase, HttpRequest>> cases = {
      {{"malformed form", 400, "MalformedQueryString"}, malformed},
      {{"no Action", 400, "MissingAction"}, Post({{"Version", "2016-11-15"}})},
      {{"unknown Action", 400, "InvalidAction"},
       Post({{"Action", "DescribeNothing"}, {"Version", "2016-11-15"}})},
      {{"no Version", 400, "MissingParameter"}, Post({{"Action", "DescribeThings"}})},
      {{"undeclared", 400, "UnknownParameter"}, Post(WithAction({{"Owner.1", "self"}}))},
      {{"DryRun", 412, "DryRunOperation"}, Post(WithAction({{"DryRun", "true"}}))},
  };
  for (const auto& [c, request] : cases) {
    HttpResponse r = fe_.HandleAs(request, console);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    EXPECT_EQ(ErrorCode(r), c.code) << c.what << ": " << r.body;
  }
  EXPECT_EQ(seen_.calls, 0);
  fail_ = NotFoundError("x").WithEc2Code("InvalidThing.NotFound");
  HttpResponse r = fe_.HandleAs(Post(WithAction({})), console);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "InvalidThing.NotFound");
}

TEST_F(FrontEndTest, Ec2ErrorResponseIsAnEc2ErrorDocument) {
  HttpResponse r = Ec2ErrorResponse(403, "AuthFailure", "missing or invalid CSRF token");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "AuthFailure");
  EXPECT_THAT(r.body, HasSubstr("<Message>missing or invalid CSRF token</Message>"));
  EXPECT_THAT(r.body, HasSubstr("<RequestID>"));
}

}  // namespace
}  // namespace kiln
