#pragma once
/// Escaping text for XML, SVG and HTML (one implementation for the S3 client and the reports).
#include <string>
#include <string_view>

namespace rlpipe {

/// `text` with &, <, >, " and ' escaped (&amp; &lt; &gt; &quot; &apos;), safe in element text and
/// attribute values of XML, SVG and HTML5.
inline std::string EscapeMarkup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
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
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace rlpipe
