#include "storage/storage_uri.h"

#include "core/error.h"

namespace rlpipe {

StorageUri ParseStorageUri(std::string_view uri) {
  StorageUri parsed;
  const size_t scheme_end = uri.find("://");

  // Plain paths are local files.
  if (scheme_end == std::string_view::npos) {
    if (uri.empty()) throw ConfigError("empty storage URI");
    parsed.path = std::filesystem::absolute(std::filesystem::path(uri)).lexically_normal();
    return parsed;
  }
  const std::string_view scheme = uri.substr(0, scheme_end);
  const std::string_view rest = uri.substr(scheme_end + 3);

  // file:///abs/path (no host part).
  if (scheme == "file") {
    if (!rest.starts_with("/")) {
      throw ConfigError("file URI must be file:///absolute/path, got '" + std::string(uri) + "'");
    }
    parsed.path = std::filesystem::path(rest).lexically_normal();
    return parsed;
  }

  // s3://bucket[/key].
  if (scheme == "s3") {
    const size_t slash = rest.find('/');
    parsed.scheme = StorageScheme::kS3;
    parsed.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) parsed.key = std::string(rest.substr(slash + 1));
    if (parsed.bucket.empty()) {
      throw ConfigError("s3 URI needs a bucket: s3://bucket/key, got '" + std::string(uri) + "'");
    }
    return parsed;
  }
  throw ConfigError("unsupported storage URI scheme '" + std::string(scheme) + "' in '" +
                    std::string(uri) + "' (supported: file://, s3://, plain paths)");
}

std::string_view SchemeName(StorageScheme scheme) {
  switch (scheme) {
    case StorageScheme::kFile:
      return "file";
    case StorageScheme::kS3:
      return "s3";
  }
  return "?";
}

std::string JoinUri(std::string_view base, std::string_view relative) {
  std::string joined(base);
  while (joined.ends_with("/") && !joined.ends_with("://")) joined.pop_back();
  while (relative.starts_with("/")) relative.remove_prefix(1);
  return joined + "/" + std::string(relative);
}

}  // namespace rlpipe
