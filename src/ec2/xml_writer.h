// XmlWriter: builds the XML bodies of EC2 Query API responses, as botocore's EC2 parser reads
// them: `<XResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>..`, members in
// lowerCamel, lists as `<xSet><item>..</item></xSet>`; and the error body
// `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
//
// Text is escaped (& < > " '); characters XML 1.0 cannot carry at all (control characters other
// than tab, newline and carriage return, and invalid UTF-8) are replaced by U+FFFD, so a user's
// odd description can never make a response unparseable.
//
// Usage:
//   XmlWriter w("DescribeImagesResponse", request_id);
//   w.Open("imagesSet"); w.Open("item"); w.Field("imageId", id); w.Close(); w.Close();
//   std::string body = std::move(w).Finish();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

inline constexpr char kEc2Namespace[] = "http://ec2.amazonaws.com/doc/2016-11-15/";

class XmlWriter {
 public:
  // Opens the root element `root` with EC2's namespace and writes <requestId>.
  XmlWriter(std::string_view root, std::string_view request_id);

  // Opens element `name`; Close ends the innermost open one.
  XmlWriter& Open(std::string_view name);
  XmlWriter& Close();
  // <name>escaped text</name>
  XmlWriter& Field(std::string_view name, std::string_view text);
  XmlWriter& Field(std::string_view name, const char* text) {
    return Field(name, std::string_view(text));
  }
  XmlWriter& Field(std::string_view name, bool value);  // "true" / "false"
  XmlWriter& Field(std::string_view name, int64_t value);
  XmlWriter& Field(std::string_view name, uint64_t value);
  XmlWriter& Field(std::string_view name, int value) { return Field(name, int64_t{value}); }
  // Writes the field only when `text` is not empty (EC2 omits unset members).
  XmlWriter& FieldIfSet(std::string_view name, std::string_view text);

  // Closes every open element and returns the document.
  std::string Finish() &&;

 private:
  std::string out_;
  std::vector<std::string> open_;
};

// Appends `text` to `out` escaped for XML character data or attribute values.
void AppendXmlEscaped(std::string& out, std::string_view text);

// The error document EC2 sends with a 4xx or 5xx status.
std::string Ec2ErrorXml(std::string_view code, std::string_view message,
                        std::string_view request_id);

}  // namespace kiln
