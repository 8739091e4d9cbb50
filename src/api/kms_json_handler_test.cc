// KmsJsonHandler over a real KeyService (on a MemFileSystem): authentication errors as KMS
// names them, the operations end to end, paging with markers, account isolation, error bodies,
// and the FrontEnd's routing of X-Amz-Target requests.
#include "api/kms_json_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "api/sigv4_testing.h"
#include "env/mem_file_system.h"

namespace kiln {
namespace {

using sigv4_testing::Credentials;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr int64_t kNow = 1795000000;
constexpr char kAccountA[] = "111122223333";
constexpr char kAccountB[] = "444455556666";

Credentials KmsCredentials(std::string key = "AKIDA", std::string secret = "secretA") {
  Credentials c;
  c.access_key_id = std::move(key);
  c.secret_access_key = std::move(secret);
  c.service = "kms";
  return c;
}

struct Answer {
  int status = 0;
  std::string type;  // __type, "" on success
  Json body;
};

class KmsJsonHandlerTest : public ::testing::Test {
 protected:
  KmsJsonHandlerTest() {
    auto kms = KeyService::Open(fs_, clock_, "/kms");
    EXPECT_TRUE(kms.ok()) << kms.status().ToString();
    kms_ = std::move(kms).value();
    KmsJsonOptions o;
    o.keys = [](std::string_view id) -> std::optional<KeyInfo> {
      if (id == "AKIDA") return KeyInfo{"secretA", kAccountA};
      if (id == "AKIDB") return KeyInfo{"secretB", kAccountB};
      return std::nullopt;
    };
    o.now = [] { return kNow; };
    handler_ = std::make_unique<KmsJsonHandler>(*kms_, o);
  }

  static HttpRequest Request(std::string_view op, std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.body = std::move(body);
    r.headers = {{"Host", "127.0.0.1:8787"},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "TrentService." + std::string(op)}};
    return r;
  }

  Answer Send(const HttpRequest& r) {
    HttpResponse resp = handler_->Handle(r);
    EXPECT_EQ(resp.content_type, "application/x-amz-json-1.1");
    bool has_id = false;
    for (const auto& [n, v] : resp.headers) has_id |= n == "x-amzn-RequestId" && !v.empty();
    EXPECT_TRUE(has_id);
    Answer a;
    a.status = resp.status;
    a.body = resp.body.empty() ? Json::object() : Json::parse(resp.body, nullptr, false);
    EXPECT_FALSE(a.body.is_discarded()) << resp.body;
    if (resp.status != 200) a.type = a.body.value("__type", "(none)");
    return a;
  }

  Answer Call(std::string_view op, const Json& body, const Credentials& c = KmsCredentials()) {
    HttpRequest r = Request(op, body.dump());
    sigv4_testing::Sign(r, c, kNow);
    return Send(r);
  }

  std::string CreateKey(const Credentials& c = KmsCredentials()) {
    Answer a = Call("CreateKey", {{"Description", "k"}}, c);
    EXPECT_EQ(a.status, 200) << a.body.dump();
    return a.body["KeyMetadata"].value("KeyId", "");
  }

  MemFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<KeyService> kms_;
  std::unique_ptr<KmsJsonHandler> handler_;
};

TEST_F(KmsJsonHandlerTest, AuthenticationErrorsAsKmsNamesThem) {
  EXPECT_EQ(Send(Request("ListKeys", "{}")).type, "MissingAuthenticationTokenException");
  EXPECT_EQ(Call("ListKeys", Json::object(), KmsCredentials("AKIDX", "x")).type,
            "UnrecognizedClientException");
  EXPECT_EQ(Call("ListKeys", Json::object(), KmsCredentials("AKIDA", "wrong")).type,
            "InvalidSignatureException");
  Credentials ec2 = KmsCredentials();
  ec2.service = "ec2";
  EXPECT_EQ(Call("ListKeys", Json::object(), ec2).type, "IncompleteSignatureException");
  HttpRequest old = Request("ListKeys", "{}");
  sigv4_testing::Sign(old, KmsCredentials(), kNow - 3600);
  Answer expired = Send(old);
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(expired.type, "InvalidSignatureException");
  // Authentication comes before the operation.
  EXPECT_EQ(Send(Request("Bogus", "{}")).type, "MissingAuthenticationTokenException");
  EXPECT_EQ(Call("Bogus", Json::object()).type, "UnknownOperationException");
}

TEST_F(KmsJsonHandlerTest, CreateDescribeAndAlias) {
  Answer created = Call("CreateKey", {{"Description", "volumes"}});
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const Json& m = created.body["KeyMetadata"];
  const std::string id = m["KeyId"];
  EXPECT_EQ(m["Arn"], "arn:aws:kms:us-east-1:111122223333:key/" + id);
  EXPECT_EQ(m["KeyManager"], "CUSTOMER");
  EXPECT_EQ(m["Description"], "volumes");
  EXPECT_EQ(m["CreationDate"], clock_.WallMicros() / 1e6);

  Answer alias = Call("CreateAlias", {{"AliasName", "alias/vols"}, {"TargetKeyId", id}});
  EXPECT_EQ(alias.status, 200) << alias.body.dump();
  for (const std::string& ref : {id, std::string(m["Arn"]), std::string("alias/vols"),
                                 std::string("arn:aws:kms:us-east-1:111122223333:alias/vols")}) {
    Answer d = Call("DescribeKey", {{"KeyId", ref}});
    EXPECT_EQ(d.status, 200) << ref << " " << d.body.dump();
    EXPECT_EQ(d.body["KeyMetadata"]["KeyId"], id) << ref;
  }
  EXPECT_EQ(Call("CreateAlias", {{"AliasName", "alias/vols"}, {"TargetKeyId", id}}).type,
            "AlreadyExistsException");
  EXPECT_EQ(Call("CreateAlias", {{"AliasName", "alias/aws/mine"}, {"TargetKeyId", id}}).type,
            "NotAuthorizedException");
  EXPECT_EQ(Call("CreateAlias", {{"AliasName", "vols2"}, {"TargetKeyId", id}}).type,
            "ValidationException");
  Answer missing = Call("DescribeKey", {{"KeyId", "1234abcd-12ab-4cde-9f01-1234567890ab"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.type, "NotFoundException");
  EXPECT_FALSE(missing.body.value("message", "").empty());
  EXPECT_EQ(Call("DescribeKey", {{"KeyId", ""}}).type, "ValidationException");
  EXPECT_EQ(Call("DescribeKey", Json::object()).type, "ValidationException");

  Answer by_key = Call("ListAliases", {{"KeyId", id}});
  ASSERT_EQ(by_key.body["Aliases"].size(), 1u) << by_key.body.dump();
  EXPECT_EQ(by_key.body["Aliases"][0]["AliasName"], "alias/vols");
  EXPECT_EQ(by_key.body["Aliases"][0]["TargetKeyId"], id);
}

TEST_F(KmsJsonHandlerTest, ListKeysPagesWithMarkers) {
  std::set<std::string> made;
  for (int i = 0; i < 7; ++i) made.insert(CreateKey());
  std::set<std::string> seen;
  std::optional<std::string> marker;
  int pages = 0;
  while (true) {
    Json body = {{"Limit", 3}};
    if (marker) body["Marker"] = *marker;
    Answer a = Call("ListKeys", body);
    ASSERT_EQ(a.status, 200) << a.body.dump();
    ++pages;
    EXPECT_LE(a.body["Keys"].size(), 3u);
    for (const Json& k : a.body["Keys"]) EXPECT_TRUE(seen.insert(k["KeyId"]).second);
    if (!a.body["Truncated"].get<bool>()) {
      EXPECT_FALSE(a.body.contains("NextMarker"));
      break;
    }
    marker = a.body["NextMarker"].get<std::string>();
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, made);
  EXPECT_EQ(Call("ListKeys", {{"Marker", "not-ours"}}).type, "InvalidMarkerException");
  EXPECT_EQ(Call("ListKeys", {{"Limit", 0}}).type, "ValidationException");
}

TEST_F(KmsJsonHandlerTest, ListAliasesPages) {
  const std::string id = CreateKey();
  for (const char* name : {"alias/a", "alias/b", "alias/c"}) {
    ASSERT_EQ(Call("CreateAlias", {{"AliasName", name}, {"TargetKeyId", id}}).status, 200);
  }
  // alias/a, alias/aws/ebs (predefined, no target yet), alias/b, alias/c.
  Answer first = Call("ListAliases", {{"Limit", 2}});
  ASSERT_EQ(first.body["Aliases"].size(), 2u) << first.body.dump();
  EXPECT_TRUE(first.body["Truncated"].get<bool>());
  Answer rest = Call("ListAliases", {{"Limit", 2}, {"Marker", first.body["NextMarker"]}});
  ASSERT_EQ(rest.status, 200) << rest.body.dump();
  EXPECT_FALSE(rest.body["Truncated"].get<bool>());
  std::vector<std::string> names;
  for (const Json* page : {&first.body, &rest.body}) {
    for (const Json& a : (*page)["Aliases"]) names.push_back(a["AliasName"]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"alias/a", "alias/aws/ebs", "alias/b", "alias/c"}));
  EXPECT_EQ(Call("ListAliases", {{"Marker", "x y"}}).type, "InvalidMarkerException");
}

TEST_F(KmsJsonHandlerTest, AccountsAreIsolated) {
  const std::string id = CreateKey();
  const Credentials b = KmsCredentials("AKIDB", "secretB");
  EXPECT_EQ(Call("DescribeKey", {{"KeyId", id}}, b).type, "NotFoundException");
  EXPECT_EQ(
      Call("DescribeKey", {{"KeyId", "arn:aws:kms:us-east-1:111122223333:key/" + id}}, b).type,
      "NotFoundException");
  EXPECT_TRUE(Call("ListKeys", Json::object(), b).body["Keys"].empty());
  EXPECT_EQ(Call("CreateAlias", {{"AliasName", "alias/steal"}, {"TargetKeyId", id}}, b).type,
            "NotFoundException");
}

TEST_F(KmsJsonHandlerTest, BadBodiesGetKmsErrors) {
  HttpRequest r = Request("CreateKey", "{\"Description\":");
  sigv4_testing::Sign(r, KmsCredentials(), kNow);
  Answer a = Send(r);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.type, "SerializationException");
  EXPECT_EQ(Call("ListKeys", {{"Limit", "10"}}).type, "SerializationException");
  EXPECT_EQ(Call("CreateKey", {{"KeySpec", "RSA_2048"}}).type, "UnsupportedOperationException");
}

TEST_F(KmsJsonHandlerTest, FrontEndRoutesTargetedPosts) {
  FrontEndOptions o;
  o.json_protocol = [this](const HttpRequest& r) { return handler_->Handle(r); };
  FrontEnd fe(o);
  HttpRequest r = Request("ListKeys", "{}");
  sigv4_testing::Sign(r, KmsCredentials(), kNow);
  HttpResponse resp = fe.Handle(r);
  EXPECT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.content_type, "application/x-amz-json-1.1");
  // Without X-Amz-Target the Query pipeline answers (in XML).
  HttpRequest query = r;
  query.headers.erase(query.headers.begin() + 2);
  HttpResponse xml = fe.Handle(query);
  EXPECT_THAT(xml.body, HasSubstr("<Response>"));
}

}  // namespace
}  // namespace kiln
