#include "ec2/xml_writer.h"

#include <gtest/gtest.h>

#include <random>

namespace kiln {
namespace {

TEST(XmlWriterTest, Ec2ResponseShape) {
  XmlWriter w("DescribeImagesResponse", "req-1");
  w.Open("imagesSet").Open("item");
  w.Field("imageId", "ami-0123").Field("isPublic", true).Field("volumeSize", 8);
  w.FieldIfSet("description", "").FieldIfSet("name", "web");
  w.Close().Close();
  EXPECT_EQ(std::move(w).Finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<DescribeImagesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
            "<requestId>req-1</requestId><imagesSet><item><imageId>ami-0123</imageId>"
            "<isPublic>true</isPublic><volumeSize>8</volumeSize><name>web</name></item>"
            "</imagesSet></DescribeImagesResponse>");
}

TEST(XmlWriterTest, FinishClosesWhatIsOpenAndCloseNeverClosesTheRoot) {
  XmlWriter w("R", "id");
  w.Close().Open("a").Open("b").Field("n", uint64_t{18446744073709551615u});
  EXPECT_EQ(std::move(w).Finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R xmlns=\"" + std::string(kEc2Namespace) +
                "\"><requestId>id</requestId><a><b><n>18446744073709551615</n></b></a></R>");
}

TEST(XmlWriterTest, ErrorBody) {
  EXPECT_EQ(Ec2ErrorXml("InvalidAMIName.Duplicate", "AMI name <x> is already in use", "r-9"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
            "<Code>InvalidAMIName.Duplicate</Code><Message>AMI name &lt;x&gt; is already in "
            "use</Message></Error></Errors><RequestID>r-9</RequestID></Response>");
}

std::string Escaped(std::string_view s) {
  std::string out;
  AppendXmlEscaped(out, s);
  return out;
}

TEST(XmlEscapeTest, MarkupAndWhitespace) {
  EXPECT_EQ(Escaped("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(Escaped("tab\tnl\ncr\r"), "tab\tnl\ncr&#13;");
  EXPECT_EQ(Escaped("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")
      << "valid UTF-8 passes through";
}

TEST(XmlEscapeTest, WhatXmlCannotCarryBecomesTheReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(Escaped(std::string("a\0b", 3)), "a" + r + "b");
  EXPECT_EQ(Escaped("\x01\x1f\x7f"), r + r + "\x7f") << "DEL is a legal XML Char";
  EXPECT_EQ(Escaped("\xC3"), r) << "truncated";
  EXPECT_EQ(Escaped("\xC0\xAF"), r + r) << "overlong '/'";
  EXPECT_EQ(Escaped("\xED\xA0\x80"), r + r + r) << "surrogate";
  EXPECT_EQ(Escaped("\xEF\xBF\xBE"), r + r + r) << "U+FFFE";
  EXPECT_EQ(Escaped("\xF4\x90\x80\x80"), r + r + r + r) << "past U+10FFFF";
  EXPECT_EQ(Escaped("\xFF\xFE"), r + r);
}

// Any bytes in, well-formed character data out: valid UTF-8 of XML Chars, no raw markup.
TEST(XmlEscapeTest, RandomBytesAlwaysGiveWellFormedText) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string in(rng() % 64, '\0');
    for (char& c : in) c = static_cast<char>(rng());
    const std::string out = Escaped(in);
    for (char c : out) {
      const auto u = static_cast<unsigned char>(c);
      EXPECT_FALSE(c == '<' || c == '>' || c == '"' || c == '\'' || c == '\r') << round;
      EXPECT_TRUE(u >= 0x20 || c == '\t' || c == '\n') << round;
    }
    std::string twice;
    AppendXmlEscaped(twice, out);
    size_t replaced_in = 0, replaced_twice = 0;
    for (size_t at = out.find("\xEF\xBF\xBD"); at != std::string::npos;
         at = out.find("\xEF\xBF\xBD", at + 1)) {
      ++replaced_in;
    }
    for (size_t at = twice.find("\xEF\xBF\xBD"); at != std::string::npos;
         at = twice.find("\xEF\xBF\xBD", at + 1)) {
      ++replaced_twice;
    }
    // Escaping the output again replaces nothing more: it is valid UTF-8 of XML Chars.
    EXPECT_EQ(replaced_in, replaced_twice) << round;
  }
}

}  // namespace
}  // namespace kiln
