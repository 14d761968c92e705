#pragma once
/// Storage URIs: "file:///abs/path", plain paths, and "s3://bucket/key".
#include <filesystem>
#include <string>
#include <string_view>

namespace rlpipe {

/// The URI schemes a CheckpointStore can serve.
enum class StorageScheme { kFile, kS3 };

/// A parsed storage URI.
struct StorageUri {
  StorageScheme scheme = StorageScheme::kFile;
  std::filesystem::path path;  ///< kFile: absolute local path (lexically normal).
  std::string bucket;          ///< kS3.
  std::string key;             ///< kS3: may be empty (the bucket root) or end in '/'.
};

/// Parses `uri`; throws ConfigError naming the URI for an unknown scheme, "file://host/..." or an
/// s3 URI without a bucket. Relative plain paths are made absolute.
StorageUri ParseStorageUri(std::string_view uri);

/// "file", "s3": the scheme's name as written in URIs.
std::string_view SchemeName(StorageScheme scheme);

/// `base` + "/" + `relative`, with exactly one '/' between them.
std::string JoinUri(std::string_view base, std::string_view relative);

}  // namespace rlpipe
