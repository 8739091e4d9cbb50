// WebApi: sign-in (good, wrong secret, unknown key, malformed bodies, throttling), the session
// cookie and its expiry, sign-out with CSRF, and /kiln/v1/ec2 refused without the cookie or the
// CSRF header and run as the session's caller with both. Routing of the listener's paths.
#include "web/web_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "ec2/xml_writer.h"
#include "web/web_routes.h"
#include "web/web_util.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kAccount[] = "123456789012";
constexpr char kKey[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr uint64_t kHour = 3600ull * 1000 * 1000;

std::string Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

std::string ErrorCode(const HttpResponse& r) {
  std::smatch m;
  if (!std::regex_search(r.body, m, std::regex("<Code>([^<]*)</Code>"))) return "";
  return m[1];
}

class WebApiTest : public ::testing::Test {
 protected:
  WebApiTest()
      : sessions_(clock_),
        fe_(FrontEndOptions{.keys = Keys(), .now = {}, .json_protocol = {}}),
        api_(Options(), sessions_, fe_, clock_) {
    EXPECT_TRUE(fe_.Register(Action{"DescribeThings",
                                    {"Name"},
                                    [this](const ActionRequest& r) {
                                      caller_ = r.caller;
                                      XmlWriter w("DescribeThingsResponse", r.request_id);
                                      w.Field("thing", r.params.Get("Name").value_or("none"));
                                      return Result<std::string>(std::move(w).Finish());
                                    }})
                    .ok());
  }

  static KeyLookup Keys() {
    return [](std::string_view id) -> std::optional<KeyInfo> {
      if (id != kKey) return std::nullopt;
      return KeyInfo{kSecret, kAccount};
    };
  }
  static WebApiOptions Options() {
    WebApiOptions o;
    o.keys = Keys();
    o.account_name = [](const std::string& id) { return id == kAccount ? "default" : ""; };
    o.region = "us-east-1";
    return o;
  }

  static HttpRequest Request(std::string method, std::string path, std::string body = "",
                             std::string remote = "127.0.0.1:5000") {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.target = r.path;
    r.body = std::move(body);
    r.remote = std::move(remote);
    r.headers = {{"Host", "127.0.0.1:8787"}};
    return r;
  }
  HttpResponse SignIn(const std::string& key, const std::string& secret,
                      const std::string& remote = "127.0.0.1:5000") {
    HttpRequest r =
        Request("POST", "/kiln/v1/session",
                nlohmann::json{{"accessKeyId", key}, {"secretAccessKey", secret}}.dump(), remote);
    r.headers.emplace_back("Content-Type", "application/json");
    return api_.Handle(r);
  }
  // Signs in; returns the cookie value and the CSRF token.
  std::pair<std::string, std::string> SignedIn() {
    HttpResponse r = SignIn(kKey, kSecret);
    EXPECT_EQ(r.status, 200) << r.body;
    std::smatch m;
    const std::string cookie = Header(r, "Set-Cookie");
    EXPECT_TRUE(std::regex_search(cookie, m, std::regex("kiln_session=([0-9a-f]{64});")));
    return {m[1], nlohmann::json::parse(r.body)["csrfToken"].get<std::string>()};
  }
  static HttpRequest WithCookie(HttpRequest r, const std::string& id) {
    r.headers.emplace_back("Cookie", "theme=dark; kiln_session=" + id + "; other=1");
    return r;
  }
  static HttpRequest Ec2Request(const std::string& cookie, const std::string& csrf) {
    HttpRequest r =
        Request("POST", "/kiln/v1/ec2", "Action=DescribeThings&Version=2016-11-15&Name=web");
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (!cookie.empty()) r = WithCookie(r, cookie);
    if (!csrf.empty()) r.headers.emplace_back("X-Kiln-Csrf", csrf);
    return r;
  }

  ManualClock clock_;
  SessionStore sessions_;
  FrontEnd fe_;
  WebApi api_;
  Caller caller_;
};

TEST_F(WebApiTest, SignInAnswersTheSessionAndSetsTheCookie) {
  HttpResponse r = SignIn(kKey, kSecret);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["accountId"], kAccount);
  EXPECT_EQ(j["accessKeyId"], kKey);
  EXPECT_EQ(j["accountName"], "default");
  EXPECT_TRUE(std::regex_match(j["csrfToken"].get<std::string>(), std::regex("[0-9a-f]{64}")));
  EXPECT_EQ(j["expiresAt"], IsoSeconds(clock_.WallMicros() + 12 * kHour));
  EXPECT_TRUE(std::regex_match(j["expiresAt"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_TRUE(std::regex_match(
      Header(r, "Set-Cookie"),
      std::regex("kiln_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200")));
  EXPECT_THAT(r.body, Not(HasSubstr(kSecret)));
}

TEST_F(WebApiTest, WrongSecretOrUnknownKeyIs401) {
  for (const auto& [key, secret] : std::vector<std::pair<std::string, std::string>>{
           {kKey, std::string(kSecret).substr(1) + "X"},
           {kKey, std::string(kSecret) + "X"},
           {kKey, "short"},
           {"AKIAUNKNOWN000000000", kSecret}}) {
    HttpResponse r = SignIn(key, secret);
    EXPECT_EQ(r.status, 401) << key << " " << secret;
    EXPECT_EQ(nlohmann::json::parse(r.body)["code"], "AuthFailure");
    EXPECT_EQ(Header(r, "Set-Cookie"), "");
  }
  EXPECT_EQ(sessions_.size(), 0u);
}

TEST_F(WebApiTest, MalformedSignInBodiesAre400) {
  for (const std::string& body :
       {std::string(""), std::string("{"), std::string("[1,2]"), std::string("\"x\""),
        std::string(R"({"accessKeyId": "AKIAIOSFODNN7EXAMPLE"})"),
        std::string(R"({"secretAccessKey": "x"})"),
        std::string(R"({"accessKeyId": 5, "secretAccessKey": "x"})"),
        std::string(R"({"accessKeyId": "", "secretAccessKey": "x"})"),
        std::string(R"({"accessKeyId": "a", "secretAccessKey": null})"),
        std::string("accessKeyId=a&secretAccessKey=b"), std::string("\xff\xfe")}) {
    HttpRequest r = Request("POST", "/kiln/v1/session", body);
    r.headers.emplace_back("Content-Type", "application/json");
    HttpResponse res = api_.Handle(r);
    EXPECT_EQ(res.status, 400) << body;
    EXPECT_EQ(nlohmann::json::parse(res.body)["code"], "MalformedRequest") << body;
  }
  // A good body with a form's content type (what a cross-site form could send) is refused too.
  HttpRequest form =
      Request("POST", "/kiln/v1/session",
              nlohmann::json{{"accessKeyId", kKey}, {"secretAccessKey", kSecret}}.dump());
  form.headers.emplace_back("Content-Type", "text/plain");
  EXPECT_EQ(api_.Handle(form).status, 400);
}

TEST_F(WebApiTest, RepeatedFailuresFromOneAddressAreThrottled) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(SignIn(kKey, "wrong").status, 401);
  HttpResponse r = SignIn(kKey, kSecret);
  EXPECT_EQ(r.status, 429) << "even the right secret waits";
  EXPECT_EQ(Header(r, "Retry-After"), "1");
  EXPECT_EQ(SignIn(kKey, kSecret, "10.0.0.2:1").status, 200) << "another address is not slowed";
  clock_.Advance(1000 * 1000);
  EXPECT_EQ(SignIn(kKey, "wrong").status, 401);
  EXPECT_EQ(Header(SignIn(kKey, kSecret), "Retry-After"), "2") << "the wait doubles";
  clock_.Advance(2 * 1000 * 1000);
  EXPECT_EQ(SignIn(kKey, kSecret).status, 200);
  EXPECT_EQ(SignIn(kKey, "wrong").status, 401) << "a success forgot the failures";
}

TEST_F(WebApiTest, GetSessionWithTheCookie) {
  auto [cookie, csrf] = SignedIn();
  HttpResponse r = api_.Handle(WithCookie(Request("GET", "/kiln/v1/session"), cookie));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["csrfToken"], csrf);
  EXPECT_EQ(Header(r, "Set-Cookie"), "") << "no new cookie";
  for (const std::string& bad : {std::string(""), cookie.substr(1), std::string(64, 'a'), csrf}) {
    HttpResponse no = api_.Handle(WithCookie(Request("GET", "/kiln/v1/session"), bad));
    EXPECT_EQ(no.status, 401) << bad;
    EXPECT_EQ(nlohmann::json::parse(no.body)["code"], "AuthFailure");
  }
  EXPECT_EQ(api_.Handle(Request("GET", "/kiln/v1/session")).status, 401);
  clock_.Advance(12 * kHour);
  EXPECT_EQ(api_.Handle(WithCookie(Request("GET", "/kiln/v1/session"), cookie)).status, 401)
      << "expired";
}

TEST_F(WebApiTest, LogoutNeedsTheCsrfTokenAndClearsTheCookie) {
  auto [cookie, csrf] = SignedIn();
  HttpRequest out = WithCookie(Request("POST", "/kiln/v1/session/logout"), cookie);
  EXPECT_EQ(api_.Handle(out).status, 403) << "no CSRF header";
  HttpRequest wrong = out;
  wrong.headers.emplace_back("X-Kiln-Csrf", std::string(64, '0'));
  EXPECT_EQ(api_.Handle(wrong).status, 403);
  EXPECT_EQ(api_.Handle(WithCookie(Request("GET", "/kiln/v1/session"), cookie)).status, 200)
      << "still signed in";
  out.headers.emplace_back("x-kiln-csrf", csrf);
  HttpResponse r = api_.Handle(out);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Header(r, "Set-Cookie"), "kiln_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  EXPECT_EQ(api_.Handle(WithCookie(Request("GET", "/kiln/v1/session"), cookie)).status, 401);
  EXPECT_EQ(api_.Handle(out).status, 401) << "signed out already";
  EXPECT_EQ(api_.Handle(Request("POST", "/kiln/v1/session/logout")).status, 401);
}

TEST_F(WebApiTest, Ec2NeedsTheCookieAndTheCsrfHeader) {
  auto [cookie, csrf] = SignedIn();
  HttpResponse r = api_.Handle(Ec2Request("", ""));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "AuthFailure");
  r = api_.Handle(Ec2Request("", csrf));
  EXPECT_EQ(r.status, 401);
  r = api_.Handle(Ec2Request(cookie, ""));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "AuthFailure");
  EXPECT_THAT(r.body, HasSubstr("missing or invalid CSRF token"));
  EXPECT_EQ(api_.Handle(Ec2Request(cookie, csrf.substr(1) + "0")).status, 403);
  EXPECT_EQ(caller_.account_id, "") << "no refusal reached the action";

  r = api_.Handle(Ec2Request(cookie, csrf));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("<thing>web</thing>"));
  EXPECT_EQ(caller_.account_id, kAccount);
  EXPECT_EQ(caller_.access_key_id, kKey);
  EXPECT_EQ(caller_.region, "us-east-1");

  // The Query API's own errors come through as they do at "/".
  HttpRequest bad = Ec2Request(cookie, csrf);
  bad.body = "Action=Nope&Version=2016-11-15";
  EXPECT_EQ(ErrorCode(api_.Handle(bad)), "InvalidAction");

  clock_.Advance(12 * kHour);
  EXPECT_EQ(api_.Handle(Ec2Request(cookie, csrf)).status, 401) << "expired";
}

TEST_F(WebApiTest, UnknownPathsAndMethods) {
  EXPECT_EQ(api_.Handle(Request("GET", "/kiln/v1/nothing")).status, 404);
  EXPECT_EQ(api_.Handle(Request("GET", "/kiln/v1/session/logout")).status, 405);
  EXPECT_EQ(api_.Handle(Request("GET", "/kiln/v1/ec2")).status, 405);
}

TEST_F(WebApiTest, RouterSendsEachPathToItsHandler) {
  ConsoleAssets no_assets;
  ConnectEndpoint connect(ConnectOptions{});
  HttpHandler router =
      MakeHttpRouter(WebRoutes{&api_, &no_assets, &connect, [](const HttpRequest&) {
                                 HttpResponse r;
                                 r.body = "fallback";
                                 return r;
                               }});
  EXPECT_EQ(router(Request("POST", "/")).body, "fallback");
  EXPECT_EQ(router(Request("GET", "/other")).body, "fallback");
  EXPECT_EQ(router(Request("GET", "/consoleX")).body, "fallback");
  EXPECT_EQ(router(Request("GET", "/kiln/v1/session")).status, 401);
  EXPECT_EQ(router(Request("GET", "/kiln/v1/instances/i-0123456789abcdef0/connect")).status, 426);
  EXPECT_EQ(router(Request("GET", "/console")).status, 301);
  EXPECT_EQ(router(Request("GET", "/console/")).status, 404);
  EXPECT_THAT(router(Request("GET", "/console/")).body, HasSubstr("not built"));
}

TEST(WebUtilTest, CookiesAndOrigin) {
  HttpRequest r;
  r.headers = {{"cookie", "a=1; kiln_session=\"abc\""}, {"Cookie", "kiln_session=second"}};
  EXPECT_EQ(CookieValue(r, "kiln_session"), "abc");
  EXPECT_EQ(CookieValue(r, "a"), "1");
  EXPECT_EQ(CookieValue(r, "kiln"), std::nullopt);
  EXPECT_EQ(CookieValue(HttpRequest{}, "a"), std::nullopt);

  HttpRequest o;
  o.headers = {{"Host", "127.0.0.1:8787"}};
  EXPECT_FALSE(OriginMatchesHost(o)) << "no Origin";
  o.headers.emplace_back("Origin", "http://127.0.0.1:8787");
  EXPECT_TRUE(OriginMatchesHost(o));
  o.headers.back().second = "https://127.0.0.1:8787";
  EXPECT_TRUE(OriginMatchesHost(o));
  for (const char* bad : {"http://evil.example", "http://127.0.0.1:8788", "null",
                          "http://127.0.0.1:8787.evil", "ftp://127.0.0.1:8787", ""}) {
    o.headers.back().second = bad;
    EXPECT_FALSE(OriginMatchesHost(o)) << bad;
  }
  EXPECT_EQ(IsoSeconds(1795000000ull * 1000000 + 999999), "2026-11-18T11:06:40Z");
}

// Found by web_request_fuzz: a path with bytes that are not UTF-8 (Beast lets them through)
// made the JSON error body throw instead of answering.
TEST_F(WebApiTest, AnUnknownPathWithBytesThatAreNotUtf8IsA404WithValidJson) {
  HttpResponse r = api_.Handle(Request("GET", "/kiln/v1/\xff\xfe"));
  EXPECT_EQ(r.status, 404);
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["code"], "NotFound");
}

}  // namespace
}  // namespace kiln
