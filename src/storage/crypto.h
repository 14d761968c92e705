#pragma once
/// Hashes and encodings on OpenSSL: what SigV4, checksums and manifests need.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace rlpipe {

/// Raw 32-byte SHA-256 of `data`.
std::string Sha256(std::string_view data);

/// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

/// Raw 16-byte MD5 of `data` (only for the Content-MD5 header S3 understands).
std::string Md5(std::string_view data);

/// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view bytes);

/// Standard base64 (with padding) of raw bytes.
std::string Base64Encode(std::string_view bytes);

/// An incremental SHA-256, for files too big to hold in memory.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  /// Raw 32-byte digest; the hasher cannot be updated afterwards.
  std::string Finish();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

/// Size and SHA-256 of a file's bytes.
struct FileDigest {
  std::uint64_t size = 0;
  std::string sha256;  ///< Raw 32 bytes.
};

/// Reads `path` once in chunks; throws IoError naming the path.
FileDigest DigestFile(const std::filesystem::path& path);

}  // namespace rlpipe
