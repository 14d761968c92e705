#pragma once
/// A small XML reader for S3's answers (ListBucketResult, Error, InitiateMultipartUploadResult,
/// CompleteMultipartUploadResult). Elements, text and entities only: no namespaces resolution, no
/// DTDs. Enough for S3, no new dependency.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rlpipe {

/// One element: its local name (prefix dropped), its decoded text and its child elements.
struct XmlElement {
  std::string name;
  std::string text;  ///< Concatenated character data directly inside this element.
  std::vector<XmlElement> children;

  /// The first child called `child_name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  /// Text of the first child called `child_name`, or "" when there is none.
  std::string ChildText(std::string_view child_name) const;
  /// Every child called `child_name`, in document order.
  std::vector<const XmlElement*> Children(std::string_view child_name) const;
};

/// Parses a document and returns its root element, or nullopt (with `error` set) when malformed.
std::optional<XmlElement> ParseXml(std::string_view document, std::string* error = nullptr);

/// Escapes &, <, >, " and ' for text or attribute content.
std::string XmlEscape(std::string_view text);

}  // namespace rlpipe
