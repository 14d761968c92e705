#pragma once
/// AWS Signature Version 4 as pure functions: request in, canonical request / string to sign /
/// Authorization header out. No clock and no I/O, so the published test vectors apply directly.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rlpipe {

/// Ordered name/value pairs (HTTP headers or query parameters).
using NameValueList = std::vector<std::pair<std::string, std::string>>;

/// The secret part of an AWS identity. Never printed: use `access_key_id` to name it.
struct SigningKey {
  std::string access_key_id;
  std::string secret_access_key;
};

/// One HTTP request as SigV4 sees it.
struct SignableRequest {
  std::string method;        ///< "GET", "PUT", ...
  std::string encoded_path;  ///< As sent on the wire, already URI-encoded, e.g. "/b/a%20b".
  NameValueList query;       ///< Decoded names and values; encoded and sorted by the signer.
  NameValueList headers;     ///< Every header to sign; must include "host".
  std::string payload_hash;  ///< Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
};

/// Where and when the signature is valid.
struct SigningScope {
  std::string region;    ///< "us-east-1".
  std::string service;   ///< "s3".
  std::string amz_date;  ///< Basic ISO-8601 UTC, "20150830T123600Z".
};

/// S3 signs the path as sent; every other service normalises it and encodes it once more.
enum class PathCanonicalization { kAsSent, kNormalizeAndEncode };

/// Everything SigV4 computes; tests compare each step against the published suite and botocore.
struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  ///< "host;x-amz-date".
  std::string signature;       ///< Hex. Secret-derived: never log it.
  std::string authorization;   ///< The Authorization header value. Never log it.
};

/// Signs `request` with the AWS4-HMAC-SHA256 algorithm.
SigV4Signature SignV4(const SignableRequest& request, const SigningKey& key,
                      const SigningScope& scope, PathCanonicalization path_mode);

/// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - _ . ~ (and '/' when `keep_slash`).
std::string UriEncode(std::string_view text, bool keep_slash);

/// "a=1&b=2": names and values URI-encoded, sorted by name then value. Also used to build URLs,
/// so what is sent is byte for byte what was signed.
std::string CanonicalQueryString(const NameValueList& query);

/// "20150830T123600Z" for a point in time (UTC).
std::string FormatAmzDate(std::chrono::system_clock::time_point when);

}  // namespace rlpipe
