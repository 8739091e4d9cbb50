// The KMS JSON protocol's parsing on good and bad input (malformed JSON, wrong types, missing
// members, unknown targets, constraints, unsupported key kinds) and its response shapes.
#include "api/kms_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kiln {
namespace {

using ::testing::HasSubstr;

std::string TypeOf(const Result<KmsRequest>& r) {
  if (r.ok()) return "OK";
  return r.status().ec2_code().value_or("(none)");
}

Result<KmsRequest> Parse(std::string_view op, std::string_view body) {
  return ParseKmsRequest("TrentService." + std::string(op), body);
}

TEST(KmsJsonTest, ParsesEveryOperation) {
  auto create = Parse("CreateKey", R"({"Description":"d","KeyUsage":"ENCRYPT_DECRYPT",
      "KeySpec":"SYMMETRIC_DEFAULT","Origin":"AWS_KMS","Policy":"{}","Tags":[],
      "MultiRegion":false,"BypassPolicyLockoutSafetyCheck":true})");
  ASSERT_TRUE(create.ok()) << create.status().ToString();
  EXPECT_EQ(std::get<KmsCreateKey>(*create).description, "d");
  EXPECT_STREQ(KmsOperationName(*create), "CreateKey");

  auto describe = Parse("DescribeKey", R"({"KeyId":"alias/x","GrantTokens":["t"]})");
  ASSERT_TRUE(describe.ok());
  EXPECT_EQ(std::get<KmsDescribeKey>(*describe).key_id, "alias/x");

  auto keys = Parse("ListKeys", R"({"Limit":7,"Marker":"m"})");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(std::get<KmsListKeys>(*keys).limit, 7);
  EXPECT_EQ(std::get<KmsListKeys>(*keys).marker, "m");

  auto alias = Parse("CreateAlias", R"({"AliasName":"alias/a","TargetKeyId":"k"})");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(std::get<KmsCreateAlias>(*alias).alias_name, "alias/a");
  EXPECT_EQ(std::get<KmsCreateAlias>(*alias).target_key_id, "k");

  auto aliases = Parse("ListAliases", R"({"KeyId":"k"})");
  ASSERT_TRUE(aliases.ok());
  EXPECT_EQ(std::get<KmsListAliases>(*aliases).key_id, "k");
  EXPECT_EQ(std::get<KmsListAliases>(*aliases).limit, kListAliasesDefaultLimit);
  EXPECT_FALSE(std::get<KmsListAliases>(*aliases).marker);
}

TEST(KmsJsonTest, EmptyBodyAndNullsReadAsAbsent) {
  auto keys = Parse("ListKeys", "");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(std::get<KmsListKeys>(*keys).limit, kListKeysDefaultLimit);
  EXPECT_EQ(TypeOf(Parse("ListKeys", R"({"Limit":null,"Marker":null})")), "OK");
  EXPECT_EQ(TypeOf(Parse("CreateKey", "{}")), "OK");
  EXPECT_EQ(TypeOf(Parse("ListAliases", R"({"Unknown":{"deep":[1,2]}})")), "OK");
}

TEST(KmsJsonTest, UnknownTargetsAreUnknownOperation) {
  for (const char* target : {"", "TrentService.", "TrentService.Encrypt", "TrentService.createkey",
                             "DynamoDB_20120810.ListTables", "CreateKey", "trentservice.CreateKey",
                             "TrentService.CreateKey "}) {
    EXPECT_EQ(TypeOf(ParseKmsRequest(target, "{}")), "UnknownOperationException") << target;
  }
  // The operation is checked before the body.
  EXPECT_EQ(TypeOf(ParseKmsRequest("TrentService.Nope", "not json")), "UnknownOperationException");
}

TEST(KmsJsonTest, MalformedBodiesAreSerializationErrors) {
  for (std::string body : {"{", "not json", "[]", "null", "3", "\"s\"", "{\"KeyId\":}",
                           "{\"KeyId\":\"a\",}", "{\"KeyId\":\"\xff\"}", "{} {}"}) {
    EXPECT_EQ(TypeOf(Parse("DescribeKey", body)), "SerializationException") << body;
  }
  std::string deep(kMaxJsonDepth, '[');
  deep += std::string(kMaxJsonDepth, ']');
  EXPECT_EQ(TypeOf(Parse("ListKeys", "{\"X\":" + deep + "}")), "SerializationException");
  std::string very_deep(100000, '[');
  EXPECT_EQ(TypeOf(Parse("ListKeys", "{\"X\":" + very_deep)), "SerializationException");
  // Brackets inside strings do not count.
  EXPECT_EQ(TypeOf(Parse("CreateKey", "{\"Description\":\"" + very_deep + "\\\"]\"}")), "OK");
}

TEST(KmsJsonTest, WrongTypesAreSerializationErrors) {
  for (const char* body : {R"({"KeyId":5})", R"({"KeyId":["a"]})", R"({"KeyId":{"a":1}})",
                           R"({"KeyId":true})", R"({"KeyId":"k","GrantTokens":"t"})"}) {
    EXPECT_EQ(TypeOf(Parse("DescribeKey", body)), "SerializationException") << body;
  }
  for (const char* body : {R"({"Limit":"5"})", R"({"Limit":1.5})", R"({"Limit":true})",
                           R"({"Marker":1})", R"({"Limit":1e400})"}) {
    EXPECT_EQ(TypeOf(Parse("ListKeys", body)), "SerializationException") << body;
  }
  for (const char* body : {R"({"Description":1})", R"({"Tags":{}})", R"({"MultiRegion":"no"})",
                           R"({"Policy":[]})", R"({"KeyUsage":1})"}) {
    EXPECT_EQ(TypeOf(Parse("CreateKey", body)), "SerializationException") << body;
  }
}

TEST(KmsJsonTest, MissingRequiredMembersAreValidationErrors) {
  auto r = Parse("DescribeKey", "{}");
  EXPECT_EQ(TypeOf(r), "ValidationException");
  EXPECT_THAT(r.status().message(),
              HasSubstr("Value null at 'keyId' failed to satisfy constraint: Member must not be"));
  EXPECT_EQ(TypeOf(Parse("DescribeKey", R"({"KeyId":null})")), "ValidationException");
  EXPECT_EQ(TypeOf(Parse("CreateAlias", R"({"AliasName":"alias/a"})")), "ValidationException");
  EXPECT_EQ(TypeOf(Parse("CreateAlias", R"({"TargetKeyId":"k"})")), "ValidationException");
}

TEST(KmsJsonTest, PagingConstraints) {
  for (const char* body : {R"({"Limit":0})", R"({"Limit":-3})", R"({"Limit":1001})",
                           R"({"Limit":18446744073709551615})", R"({"Marker":""})",
                           R"({"Marker":"a\u0001"})", R"({"Marker":"\u0100"})"}) {
    EXPECT_EQ(TypeOf(Parse("ListAliases", body)), "ValidationException") << body;
  }
  EXPECT_THAT(Parse("ListKeys", R"({"Limit":0})").status().message(),
              HasSubstr("'limit' failed to satisfy constraint: Member must have value greater"));
  EXPECT_EQ(TypeOf(Parse("ListKeys", R"({"Limit":1000,"Marker":"\u00ff x"})")), "OK");
  EXPECT_EQ(TypeOf(Parse("ListKeys", "{\"Marker\":\"" + std::string(1024, 'm') + "\"}")), "OK");
  EXPECT_EQ(TypeOf(Parse("ListKeys", "{\"Marker\":\"" + std::string(1025, 'm') + "\"}")),
            "ValidationException");
}

TEST(KmsJsonTest, CreateKeyRefusesWhatKilnDoesNotMake) {
  for (const char* body :
       {R"({"KeyUsage":"SIGN_VERIFY"})", R"({"KeySpec":"RSA_2048"})",
        R"({"CustomerMasterKeySpec":"HMAC_256"})", R"({"Origin":"EXTERNAL"})",
        R"({"CustomKeyStoreId":"cks-1"})", R"({"XksKeyId":"x"})", R"({"MultiRegion":true})",
        R"({"Tags":[{"TagKey":"a","TagValue":"b"}]})"}) {
    EXPECT_EQ(TypeOf(Parse("CreateKey", body)), "UnsupportedOperationException") << body;
  }
  for (const char* body : {R"({"KeyUsage":"ENCRYPT"})", R"({"KeySpec":"AES_256"})",
                           R"({"Origin":"aws_kms"})", R"({"Policy":""})"}) {
    EXPECT_EQ(TypeOf(Parse("CreateKey", body)), "ValidationException") << body;
  }
}

TEST(KmsJsonTest, KeyMetadataShape) {
  KeyMetadata key;
  key.account_id = "111122223333";
  key.key_id = "1234abcd-12ab-4cde-9f01-1234567890ab";
  key.arn = "arn:aws:kms:us-east-1:111122223333:key/" + key.key_id;
  key.creation_micros = 1700000000500000;
  key.description = "d\"q";
  key.key_manager = KeyManager::kAws;
  const auto j = nlohmann::json::parse(KeyMetadataResponseJson(key));
  const auto& m = j.at("KeyMetadata");
  EXPECT_EQ(m.at("AWSAccountId"), key.account_id);
  EXPECT_EQ(m.at("KeyId"), key.key_id);
  EXPECT_EQ(m.at("Arn"), key.arn);
  ASSERT_TRUE(m.at("CreationDate").is_number());
  EXPECT_DOUBLE_EQ(m.at("CreationDate").get<double>(), 1700000000.5);
  EXPECT_EQ(m.at("Enabled"), true);
  EXPECT_EQ(m.at("Description"), "d\"q");
  EXPECT_EQ(m.at("KeyUsage"), "ENCRYPT_DECRYPT");
  EXPECT_EQ(m.at("KeyState"), "Enabled");
  EXPECT_EQ(m.at("Origin"), "AWS_KMS");
  EXPECT_EQ(m.at("KeyManager"), "AWS");
  EXPECT_EQ(m.at("KeySpec"), "SYMMETRIC_DEFAULT");
  EXPECT_EQ(m.at("CustomerMasterKeySpec"), "SYMMETRIC_DEFAULT");
  EXPECT_EQ(m.at("EncryptionAlgorithms"), nlohmann::json::array({"SYMMETRIC_DEFAULT"}));
}

TEST(KmsJsonTest, ListShapesAndErrors) {
  auto keys = nlohmann::json::parse(ListKeysResponseJson({{"k1", "arn1"}}, "k1"));
  EXPECT_EQ(keys.at("Keys").at(0).at("KeyId"), "k1");
  EXPECT_EQ(keys.at("Keys").at(0).at("KeyArn"), "arn1");
  EXPECT_EQ(keys.at("NextMarker"), "k1");
  EXPECT_EQ(keys.at("Truncated"), true);
  auto empty = nlohmann::json::parse(ListAliasesResponseJson({}, std::nullopt));
  EXPECT_TRUE(empty.at("Aliases").empty());
  EXPECT_EQ(empty.at("Truncated"), false);
  EXPECT_FALSE(empty.contains("NextMarker"));
  auto aliases = nlohmann::json::parse(ListAliasesResponseJson(
      {{"alias/aws/ebs", "arn:a", std::nullopt, std::nullopt}, {"alias/x", "arn:x", "k", 2000000}},
      std::nullopt));
  EXPECT_FALSE(aliases["Aliases"][0].contains("TargetKeyId"));
  EXPECT_FALSE(aliases["Aliases"][0].contains("CreationDate"));
  EXPECT_EQ(aliases["Aliases"][1]["TargetKeyId"], "k");
  EXPECT_EQ(aliases["Aliases"][1]["CreationDate"], 2.0);
  auto err = nlohmann::json::parse(KmsErrorJson("NotFoundException", "no \xff key"));
  EXPECT_EQ(err.at("__type"), "NotFoundException");
  EXPECT_THAT(err.at("message").get<std::string>(), HasSubstr("no "));
}

}  // namespace
}  // namespace kiln
