#include "ec2/xml_writer.h"

namespace kiln {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// The length of the valid UTF-8 sequence starting at text[i] that XML 1.0 allows (a Char),
// or 0 if there is none there.
size_t ValidXmlChar(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
  size_t len = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len]) return 0;                // overlong
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;  // surrogates
  if (cp == 0xFFFE || cp == 0xFFFF) return 0;  // not XML Chars
  if (cp > 0x10FFFF) return 0;
  return len;
}

}  // namespace

void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t len = ValidXmlChar(text, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (len == 1) {
      switch (text[i]) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\r':
          out += "&#13;";
          break;  // a literal CR would be normalized away
        default:
          out += text[i];
      }
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
}

XmlWriter::XmlWriter(std::string_view root, std::string_view request_id) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_.append(root);
  out_ += " xmlns=\"";
  out_ += kEc2Namespace;
  out_ += "\">";
  open_.emplace_back(root);
  Field("requestId", request_id);
}

XmlWriter& XmlWriter::Open(std::string_view name) {
  out_ += '<';
  out_.append(name);
  out_ += '>';
  open_.emplace_back(name);
  return *this;
}

XmlWriter& XmlWriter::Close() {
  if (open_.size() <= 1) return *this;  // the root closes in Finish
  out_ += "</" + open_.back() + ">";
  open_.pop_back();
  return *this;
}

XmlWriter& XmlWriter::Field(std::string_view name, std::string_view text) {
  out_ += '<';
  out_.append(name);
  out_ += '>';
  AppendXmlEscaped(out_, text);
  out_ += "</";
  out_.append(name);
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Field(std::string_view name, bool value) {
  return Field(name, std::string_view(value ? "true" : "false"));
}

XmlWriter& XmlWriter::Field(std::string_view name, int64_t value) {
  return Field(name, std::string_view(std::to_string(value)));
}

XmlWriter& XmlWriter::Field(std::string_view name, uint64_t value) {
  return Field(name, std::string_view(std::to_string(value)));
}

XmlWriter& XmlWriter::FieldIfSet(std::string_view name, std::string_view text) {
  if (!text.empty()) Field(name, text);
  return *this;
}

std::string XmlWriter::Finish() && {
  while (!open_.empty()) {
    out_ += "</" + open_.back() + ">";
    open_.pop_back();
  }
  return std::move(out_);
}

std::string Ec2ErrorXml(std::string_view code, std::string_view message,
                        std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>";
  AppendXmlEscaped(out, code);
  out += "</Code><Message>";
  AppendXmlEscaped(out, message);
  out += "</Message></Error></Errors><RequestID>";
  AppendXmlEscaped(out, request_id);
  out += "</RequestID></Response>";
  return out;
}

}  // namespace kiln
