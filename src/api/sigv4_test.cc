// SigV4 verification against requests signed by the machine's real botocore (1.43), and every
// way a request can be tampered with or malformed.
#include "api/sigv4.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Vector {
  std::string method, path, query;
  Headers headers;
  std::string body;
};

// Made by src/api/testdata/make_sigv4_vectors.py (botocore's SigV4Auth and SigV4QueryAuth) with
// the access key AKIAIOSFODNN7EXAMPLE and its example secret.
const Vector kVectors[] = {
    // POST form body, header auth
    {"POST",
     "/",
     "",
     {{"Host", "127.0.0.1:8787"},
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"X-Amz-Date", "20261126T224934Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/ec2/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date, "
       "Signature=16421c0731ab9efccbf5bf79e068a56ded3f0892505b0508cc29e4bdd40f6abf"},
      {"Content-Length", "96"}},
     "Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=name&Filter.1.Value.1="
     "web%2A"},
    // GET query, header auth
    {"GET",
     "/",
     "Action=DescribeRegions&Version=2016-11-15&RegionName.1=us-east-1",
     {{"Host", "127.0.0.1:8787"},
      {"X-Amz-Date", "20261126T224934Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/ec2/aws4_request, "
       "SignedHeaders=host;x-amz-date, "
       "Signature=02ed678114e22cbecd5fda6991577fe51dcb86334b3e102c1e0fd8fe6644f32c"}},
     ""},
    // POST with x-amz-content-sha256 and another region
    {"POST",
     "/",
     "",
     {{"Host", "localhost:8787"},
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"X-Amz-Content-SHA256", "903451d1f3cda66f6ac7101b5810af53eb3ce6b47c5162b0b2238ce9086b6a0d"},
      {"X-Amz-Date", "20261126T224934Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/eu-west-1/ec2/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, "
       "Signature=ccb3460d99a92aa7ed4fec08f60094f9453a5ed8f04680858dcd9da66ccb229c"},
      {"Content-Length", "41"}},
     "Action=DescribeRegions&Version=2016-11-15"},
    // a path with characters to encode
    {"POST",
     "/a%20b/c~d",
     "",
     {{"Host", "127.0.0.1:8787"},
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"X-Amz-Date", "20261126T224934Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/ec2/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date, "
       "Signature=a9b2281fce5087abfb4055a285da52df87d8a860fd338930d26995057ccfd49b"},
      {"Content-Length", "41"}},
     "Action=DescribeRegions&Version=2016-11-15"},
    // presigned GET
    {"GET",
     "/",
     "Action=DescribeImages&Version=2016-11-15&Owner.1=self&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-"
     "Credential=AKIAIOSFODNN7EXAMPLE%2F20261126%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date="
     "20261126T224934Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature="
     "e9b3a90d3a99a7299053afbdab5ff1d9113e1bc130c58db100d5fd5bf2618f4a",
     {{"Host", "127.0.0.1:8787"}},
     ""},
};

constexpr char kKey[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

std::optional<std::string> Secrets(std::string_view key) {
  if (key == kKey) return std::string(kSecret);
  return std::nullopt;
}

std::string& HeaderOf(Vector& v, const std::string& name) {
  for (auto& [n, value] : v.headers) {
    if (n == name) return value;
  }
  static std::string none;
  ADD_FAILURE() << "no header " << name;
  return none;
}

// The time the vector was signed at (its X-Amz-Date, in the header or the query).
int64_t SignedAt(const Vector& v) {
  for (const auto& [n, value] : v.headers) {
    if (n == "X-Amz-Date") return *ParseAmzDate(value);
  }
  const size_t at = v.query.find("X-Amz-Date=");
  return *ParseAmzDate(v.query.substr(at + 11, 16));
}

Result<SigV4Identity> Verify(const Vector& v, int64_t now, const SigV4Options& o = {}) {
  SigV4Request r{v.method, v.path, v.query, &v.headers, v.body};
  return VerifySigV4(r, now, Secrets, o);
}

std::string CodeOf(const Result<SigV4Identity>& r) {
  if (r.ok()) return "OK";
  return r.status().ec2_code().value_or("<no code>");
}

TEST(SigV4Test, BotocoreSignedRequestsVerify) {
  for (const Vector& v : kVectors) {
    auto id = Verify(v, SignedAt(v));
    ASSERT_TRUE(id.ok()) << v.method << " " << v.path << "?" << v.query << ": "
                         << id.status().ToString();
    EXPECT_EQ(id->access_key_id, kKey);
  }
  EXPECT_EQ(Verify(kVectors[2], SignedAt(kVectors[2]))->region, "eu-west-1");
  EXPECT_TRUE(Verify(kVectors[4], SignedAt(kVectors[4]))->presigned);
}

TEST(SigV4Test, ClockSkewOfFifteenMinutesAtTheEdges) {
  const Vector& v = kVectors[0];
  const int64_t t = SignedAt(v);
  EXPECT_EQ(CodeOf(Verify(v, t + 900)), "OK");
  EXPECT_EQ(CodeOf(Verify(v, t - 900)), "OK");
  EXPECT_EQ(CodeOf(Verify(v, t + 901)), "RequestExpired");
  EXPECT_EQ(CodeOf(Verify(v, t - 901)), "RequestExpired") << "signed in the future";
  // Presigned: valid for X-Amz-Expires (300 s) after signing.
  const Vector& p = kVectors[4];
  EXPECT_EQ(CodeOf(Verify(p, SignedAt(p) + 300)), "OK");
  EXPECT_EQ(CodeOf(Verify(p, SignedAt(p) + 301)), "RequestExpired");
  EXPECT_EQ(CodeOf(Verify(p, SignedAt(p) - 901)), "RequestExpired");
}

TEST(SigV4Test, EveryTamperIsSignatureDoesNotMatch) {
  struct Tamper {
    const char* what;
    int vector;
    std::function<void(Vector&)> change;
  };
  const Tamper tampers[] = {
      {"a body byte", 0, [](Vector& v) { v.body[10] ^= 1; }},
      {"a signed header's value", 0,
       [](Vector& v) { HeaderOf(v, "Content-Type") = "application/json"; }},
      {"the host", 0, [](Vector& v) { HeaderOf(v, "Host") = "127.0.0.1:8788"; }},
      {"the method", 0, [](Vector& v) { v.method = "PUT"; }},
      {"the path", 0, [](Vector& v) { v.path = "/x"; }},
      {"a query parameter", 1,
       [](Vector& v) { v.query.replace(v.query.find("us-east-1"), 9, "us-west-2"); }},
      {"an added query parameter", 1, [](Vector& v) { v.query += "&Extra=1"; }},
      {"the region in the scope", 0,
       [](Vector& v) {
         auto& a = HeaderOf(v, "Authorization");
         a.replace(a.find("us-east-1"), 9, "us-west-2");
       }},
      {"the signature", 0,
       [](Vector& v) {
         auto& a = HeaderOf(v, "Authorization");
         char& c = a[a.size() - 1];
         c = c == '0' ? '1' : '0';
       }},
      {"the signature's case", 0,
       [](Vector& v) {
         auto& a = HeaderOf(v, "Authorization");
         for (size_t i = a.find("Signature=") + 10; i < a.size(); ++i) a[i] = std::toupper(a[i]);
       }},
      {"the signature's length", 0, [](Vector& v) { HeaderOf(v, "Authorization").pop_back(); }},
      {"the body under a content hash", 2, [](Vector& v) { v.body += "&x=1"; }},
      {"a presigned parameter", 4,
       [](Vector& v) { v.query.replace(v.query.find("Owner.1=self"), 12, "Owner.1=amzn"); }},
      {"a presigned expiry", 4,
       [](Vector& v) {
         v.query.replace(v.query.find("X-Amz-Expires=300"), 17, "X-Amz-Expires=900");
       }},
  };
  for (const Tamper& t : tampers) {
    Vector v = kVectors[t.vector];
    t.change(v);
    EXPECT_EQ(CodeOf(Verify(v, SignedAt(kVectors[t.vector]))), "SignatureDoesNotMatch") << t.what;
  }
}

// The body is an EC2 request's action: UNSIGNED-PAYLOAD never covers a non-empty one.
TEST(SigV4Test, AnUnsignedPayloadNeverCoversABody) {
  Vector p = kVectors[4];  // presigned over UNSIGNED-PAYLOAD
  p.body = "Action=TerminateInstances&InstanceId.1=i-0123456789abcdef0";
  EXPECT_EQ(CodeOf(Verify(p, SignedAt(p))), "SignatureDoesNotMatch");
  Vector h = kVectors[2];
  HeaderOf(h, "X-Amz-Content-SHA256") = "UNSIGNED-PAYLOAD";
  EXPECT_EQ(CodeOf(Verify(h, SignedAt(h))), "SignatureDoesNotMatch");
}

TEST(SigV4Test, WrongOrUnknownKeys) {
  const Vector& v = kVectors[0];
  SigV4Request r{v.method, v.path, v.query, &v.headers, v.body};
  auto wrong = VerifySigV4(r, SignedAt(v), [](std::string_view) {
    return std::optional<std::string>("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz");
  });
  EXPECT_EQ(CodeOf(wrong), "SignatureDoesNotMatch");
  auto unknown =
      VerifySigV4(r, SignedAt(v), [](std::string_view) { return std::optional<std::string>(); });
  EXPECT_EQ(CodeOf(unknown), "AuthFailure");
  EXPECT_EQ(SigV4HttpStatus("AuthFailure"), 401);
  EXPECT_EQ(SigV4HttpStatus("SignatureDoesNotMatch"), 403);
  EXPECT_EQ(SigV4HttpStatus("IncompleteSignature"), 400);
}

TEST(SigV4Test, UnsignedRequestsAndAnotherService) {
  Vector v = kVectors[0];
  v.headers.erase(v.headers.begin() + 3);  // Authorization
  EXPECT_EQ(CodeOf(Verify(v, SignedAt(v))), "MissingAuthenticationToken");
  EXPECT_EQ(SigV4HttpStatus("MissingAuthenticationToken"), 401);
  SigV4Options kms;
  kms.service = "kms";
  EXPECT_EQ(CodeOf(Verify(kVectors[0], SignedAt(kVectors[0]), kms)), "IncompleteSignature");
}

TEST(SigV4Test, MalformedAuthorizationIsIncompleteSignature) {
  const std::string good = HeaderOf(const_cast<Vector&>(kVectors[0]), "Authorization");
  const std::string cred = "Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/ec2/aws4_request";
  const std::string sig = "Signature=" + std::string(64, 'a');
  const std::string bad[] = {
      "",
      "AWS4-HMAC-SHA1 " + cred + ", SignedHeaders=host, " + sig,
      "AWS4-HMAC-SHA256X " + cred + ", SignedHeaders=host, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", " + sig,
      "AWS4-HMAC-SHA256 SignedHeaders=host, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", " + sig,
      "AWS4-HMAC-SHA256 Credential=AKIA/20261126/us-east-1/ec2, SignedHeaders=host, " + sig,
      "AWS4-HMAC-SHA256 Credential=AKIA//us-east-1/ec2/aws4_request, SignedHeaders=host, " + sig,
      "AWS4-HMAC-SHA256 Credential=AKIA/20261126/us-east-1/ec2/aws5_request, SignedHeaders=host, " +
          sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-missing, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig,
      "AWS4-HMAC-SHA256 " + cred + " SignedHeaders=host " + sig,
      "AWS4-HMAC-SHA256 Credential=AKIA/20261125/us-east-1/ec2/aws4_request, "
      "SignedHeaders=host;x-amz-date, " +
          sig,
  };
  for (const std::string& header : bad) {
    Vector v = kVectors[0];
    HeaderOf(v, "Authorization") = header;
    EXPECT_EQ(CodeOf(Verify(v, SignedAt(v))), "IncompleteSignature") << header;
  }
  Vector v = kVectors[0];
  HeaderOf(v, "X-Amz-Date") = "2026-11-26T12:00:00Z";
  EXPECT_EQ(CodeOf(Verify(v, SignedAt(kVectors[0]))), "IncompleteSignature");
  EXPECT_FALSE(good.empty());
}

TEST(SigV4Test, MalformedPresignedParametersAreIncompleteSignature) {
  const Vector& p = kVectors[4];
  const std::pair<const char*, const char*> edits[] = {
      {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"},
      {"X-Amz-Expires=300", "X-Amz-Expires=0"},
      {"X-Amz-Expires=300", "X-Amz-Expires=604801"},
      {"X-Amz-Expires=300", "X-Amz-Expires=3e2"},
      {"X-Amz-Expires=300&", ""},
      {"X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"},
  };
  for (const auto& [from, to] : edits) {
    Vector v = p;
    v.query.replace(v.query.find(from), std::string(from).size(), to);
    EXPECT_EQ(CodeOf(Verify(v, SignedAt(p))), "IncompleteSignature") << to;
  }
  Vector twice = kVectors[0];
  twice.headers.push_back({"authorization", HeaderOf(twice, "Authorization")});
  EXPECT_EQ(CodeOf(Verify(twice, SignedAt(twice))), "IncompleteSignature") << "two headers";
  Vector both = p;
  both.headers.push_back({"Authorization", "AWS4-HMAC-SHA256 x"});
  EXPECT_EQ(CodeOf(Verify(both, SignedAt(p))), "IncompleteSignature") << "header and query";
}

TEST(ParseAmzDateTest, GoodAndBad) {
  EXPECT_EQ(ParseAmzDate("19700101T000000Z"), 0);
  EXPECT_EQ(ParseAmzDate("20261126T120000Z"), 1795694400);
  for (const char* bad :
       {"", "20261126T120000", "20261126 120000Z", "2026112xT120000Z", "20261326T120000Z",
        "20260231T120000Z", "20261126T250000Z", "20261126T120000Z0"}) {
    EXPECT_EQ(ParseAmzDate(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace kiln
