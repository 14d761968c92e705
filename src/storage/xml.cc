#include "storage/xml.h"

#include <cstdint>

#include "core/markup.h"

namespace rlpipe {
namespace {

// Appends the UTF-8 encoding of `code_point`.
void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

// A recursive-descent reader over the document; `error_` is set on the first problem.
class Parser {
 public:
  explicit Parser(std::string_view doc) : doc_(doc) {}

  std::optional<XmlElement> ParseDocument(std::string* error) {
    // Skip the prolog (declaration, comments, doctype), then read exactly one root element.
    SkipMisc();
    std::optional<XmlElement> root;
    if (Ok() && Peek('<')) root = ParseElement(0);
    if (Ok() && !root) Fail("no root element");
    if (Ok()) SkipMisc();
    if (Ok() && pos_ != doc_.size()) Fail("content after the root element");
    if (!Ok()) {
      if (error != nullptr) *error = error_ + " at byte " + std::to_string(pos_);
      return std::nullopt;
    }
    return root;
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool Ok() const { return error_.empty(); }
  void Fail(const std::string& message) {
    if (error_.empty()) error_ = message;
  }
  bool Peek(char c) const { return pos_ < doc_.size() && doc_[pos_] == c; }
  bool StartsWith(std::string_view prefix) const { return doc_.substr(pos_).starts_with(prefix); }
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  void SkipSpace() {
    while (pos_ < doc_.size() && IsSpace(doc_[pos_])) ++pos_;
  }

  // Skips up to and past `terminator`; fails if it never comes.
  void SkipPast(std::string_view terminator) {
    const size_t end = doc_.find(terminator, pos_);
    if (end == std::string_view::npos) {
      Fail("unterminated construct");
      pos_ = doc_.size();
      return;
    }
    pos_ = end + terminator.size();
  }

  // Whitespace, <?...?>, <!--...-->, <!DOCTYPE ...> outside the root element.
  void SkipMisc() {
    while (Ok()) {
      SkipSpace();
      if (StartsWith("<?")) {
        SkipPast("?>");
      } else if (StartsWith("<!--")) {
        SkipPast("-->");
      } else if (StartsWith("<!DOCTYPE")) {
        SkipPast(">");
      } else {
        return;
      }
    }
  }

  std::string ParseName() {
    const size_t start = pos_;
    while (pos_ < doc_.size()) {
      const char c = doc_[pos_];
      if (IsSpace(c) || c == '>' || c == '/' || c == '=') break;
      ++pos_;
    }
    if (pos_ == start) Fail("expected a name");
    return std::string(doc_.substr(start, pos_ - start));
  }

  static std::string LocalName(const std::string& name) {
    const size_t colon = name.find(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
  }

  // Decodes character data up to the next '<', resolving entities.
  void ParseText(std::string& out) {
    while (pos_ < doc_.size() && doc_[pos_] != '<') {
      if (doc_[pos_] != '&') {
        out.push_back(doc_[pos_++]);
        continue;
      }
      const size_t semi = doc_.find(';', pos_);
      if (semi == std::string_view::npos || semi - pos_ > 12) return Fail("bad entity");
      const std::string_view entity = doc_.substr(pos_ + 1, semi - pos_ - 1);
      pos_ = semi + 1;
      if (entity == "amp") {
        out.push_back('&');
      } else if (entity == "lt") {
        out.push_back('<');
      } else if (entity == "gt") {
        out.push_back('>');
      } else if (entity == "quot") {
        out.push_back('"');
      } else if (entity == "apos") {
        out.push_back('\'');
      } else if (entity.size() > 1 && entity[0] == '#') {
        const bool hex = entity[1] == 'x' || entity[1] == 'X';
        const std::string digits(entity.substr(hex ? 2 : 1));
        if (digits.empty()) return Fail("bad character reference");
        size_t used = 0;
        unsigned long code = 0;
        try {
          code = std::stoul(digits, &used, hex ? 16 : 10);
        } catch (...) {
          return Fail("bad character reference");
        }
        if (used != digits.size() || code > 0x10ffff) return Fail("bad character reference");
        AppendUtf8(static_cast<uint32_t>(code), out);
      } else {
        return Fail("unknown entity &" + std::string(entity) + ";");
      }
    }
  }

  // Skips attributes up to '>' or '/>'; S3 answers carry only xmlns attributes.
  void SkipAttributes() {
    while (Ok() && pos_ < doc_.size() && doc_[pos_] != '>' && doc_[pos_] != '/') {
      const char c = doc_[pos_];
      if (c == '"' || c == '\'') {
        const size_t end = doc_.find(c, pos_ + 1);
        if (end == std::string_view::npos) return Fail("unterminated attribute");
        pos_ = end + 1;
      } else {
        ++pos_;
      }
    }
  }

  std::optional<XmlElement> ParseElement(int depth) {
    if (depth > kMaxDepth) {
      Fail("elements nested too deeply");
      return std::nullopt;
    }
    // Start tag.
    ++pos_;  // '<'
    XmlElement element;
    const std::string qualified = ParseName();
    element.name = LocalName(qualified);
    SkipAttributes();
    if (!Ok()) return std::nullopt;
    if (StartsWith("/>")) {
      pos_ += 2;
      return element;
    }
    if (!Peek('>')) {
      Fail("unterminated start tag <" + qualified + ">");
      return std::nullopt;
    }
    ++pos_;

    // Content: text, CDATA, comments and child elements until the matching end tag.
    while (Ok()) {
      if (pos_ >= doc_.size()) {
        Fail("missing </" + qualified + ">");
        break;
      }
      if (StartsWith("</")) {
        pos_ += 2;
        const std::string closing = ParseName();
        SkipSpace();
        if (closing != qualified || !Peek('>')) {
          Fail("mismatched end tag </" + closing + "> for <" + qualified + ">");
          break;
        }
        ++pos_;
        return element;
      }
      if (StartsWith("<![CDATA[")) {
        const size_t end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) {
          Fail("unterminated CDATA");
          break;
        }
        element.text.append(doc_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (StartsWith("<!--")) {
        SkipPast("-->");
      } else if (StartsWith("<?")) {
        SkipPast("?>");
      } else if (Peek('<')) {
        auto child = ParseElement(depth + 1);
        if (!child) break;
        element.children.push_back(std::move(*child));
      } else {
        ParseText(element.text);
      }
    }
    return std::nullopt;
  }

  std::string_view doc_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* child = Child(child_name);
  return child == nullptr ? std::string() : child->text;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const auto& child : children) {
    if (child.name == child_name) out.push_back(&child);
  }
  return out;
}

std::optional<XmlElement> ParseXml(std::string_view document, std::string* error) {
  return Parser(document).ParseDocument(error);
}

std::string XmlEscape(std::string_view text) { return EscapeMarkup(text); }

}  // namespace rlpipe
