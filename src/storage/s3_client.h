#pragma once
/// A small S3 client on libcurl with SigV4 signing: the object operations a checkpoint store needs,
/// multipart upload for big files, bounded retries with backoff, and errors that name bucket and
/// key (never a secret).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/aws_credentials.h"
#include "storage/http.h"
#include "core/result.h"
#include "core/retry.h"

namespace rlpipe {

/// How the bucket appears in URLs.
enum class S3Addressing {
  kAuto,           ///< Virtual-hosted on AWS; path-style for custom endpoints and dotted names.
  kVirtualHosted,  ///< https://bucket.s3.region.amazonaws.com/key
  kPathStyle,      ///< https://s3.region.amazonaws.com/bucket/key
};

/// S3 client settings. Every field has a working default.
struct S3ClientConfig {
  std::string region;        ///< Empty: AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1.
  std::string endpoint_url;  ///< Empty: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS.
  S3Addressing addressing = S3Addressing::kAuto;
  /// Files larger than this (bytes) go up as multipart uploads.
  std::uint64_t multipart_threshold_bytes = 64ull << 20;
  /// Bytes per part (AWS requires >= 5 MiB except the last; grown to stay within 10,000 parts).
  std::uint64_t part_size_bytes = 16ull << 20;
  /// max-keys per ListObjectsV2 page, 1..1000.
  int list_page_size = 1000;
  /// false: send "UNSIGNED-PAYLOAD" instead of hashing bodies (only sensible over https; the
  /// x-amz-checksum-sha256 / Content-MD5 header still protects the bytes).
  bool sign_payload = true;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::seconds stall_timeout{60};  ///< Abort a transfer stuck under 1 byte/s this long.
};

/// One object as listed or headed.
struct S3ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  std::string last_modified;
};

/// One page of ListObjectsV2.
struct S3ListPage {
  std::vector<S3ObjectInfo> objects;
  bool truncated = false;
  std::string next_continuation_token;
};

/// S3 operations. Thread-safe: each call uses its own curl handle.
class S3Client {
 public:
  S3Client(S3ClientConfig config, std::shared_ptr<CredentialsProvider> credentials,
           const AwsEnvironment& environment = {});

  /// PutObject with an x-amz-checksum-sha256 header.
  Status PutObject(const std::string& bucket, const std::string& key, std::string_view bytes);
  /// PutObject streamed from a file, or a multipart upload (aborted on failure) above the
  /// threshold. The local file is only read.
  Status PutObjectFromFile(const std::string& bucket, const std::string& key,
                           const std::filesystem::path& file);
  /// GetObject into memory.
  Result<std::string> GetObject(const std::string& bucket, const std::string& key);
  /// GetObject streamed into a temp file beside `destination`, renamed into place on success;
  /// on failure `destination` is untouched.
  Status GetObjectToFile(const std::string& bucket, const std::string& key,
                         const std::filesystem::path& destination);
  /// HeadObject; kNotFound when the key does not exist.
  Result<S3ObjectInfo> HeadObject(const std::string& bucket, const std::string& key);
  /// One ListObjectsV2 page (`continuation_token` empty for the first).
  Result<S3ListPage> ListObjectsPage(const std::string& bucket, const std::string& prefix,
                                     const std::string& continuation_token);
  /// Every key under `prefix`, following continuation tokens.
  Result<std::vector<S3ObjectInfo>> ListObjects(const std::string& bucket,
                                                const std::string& prefix);
  /// DeleteObject; deleting a missing key succeeds.
  Status DeleteObject(const std::string& bucket, const std::string& key);

  /// The URL an object is addressed at (addressing style and endpoint applied).
  std::string ObjectUrl(const std::string& bucket, const std::string& key) const;
  const std::string& region() const { return region_; }
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Call;
  bool UsesPathStyle(const std::string& bucket) const;
  Result<HttpResponse> SendOnce(const Call& call) const;
  Result<HttpResponse> Send(const Call& call) const;
  Status PutMultipart(const std::string& bucket, const std::string& key,
                      const std::filesystem::path& file, std::uint64_t size);

  S3ClientConfig config_;
  std::shared_ptr<CredentialsProvider> credentials_;
  std::string region_;
  std::string endpoint_;  ///< Resolved override without trailing '/', or "" for AWS.
};

}  // namespace rlpipe
