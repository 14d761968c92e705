// libFuzzer target: the XML reader for S3's answers (ParseXml never throws: nullopt when
// malformed). The tree is read the way s3_client.cc reads ListBucketResult and Error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/xml.h"

namespace {

void Walk(const rlpipe::XmlElement& element, int depth) {
  (void)element.ChildText("Key");
  (void)element.Child("Contents");
  (void)element.Children("Contents").size();
  (void)rlpipe::XmlEscape(element.text);
  if (depth > 0) {
    for (const rlpipe::XmlElement& child : element.children) Walk(child, depth - 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  const auto root =
      rlpipe::ParseXml(std::string_view(reinterpret_cast<const char*>(data), size), &error);
  if (root) {
    Walk(*root, 64);
  } else if (error.empty()) {
    __builtin_trap();  // a rejected document always says why
  }
  return 0;
}
