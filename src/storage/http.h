#pragma once
/// Plain HTTP(S) over libcurl, one easy handle per request. Transport failures come back as
/// retryable Failures; the meaning of a status code is left to the caller.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"
#include "storage/sigv4.h"

namespace rlpipe {

/// A byte range of a local file sent as the request body (re-read from disk on every attempt).
struct FileRange {
  std::filesystem::path path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

/// One request. Header values are sent as given; no header is added that was not asked for
/// except Content-Length (and no "Expect: 100-continue").
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  NameValueList headers;
  std::string body;                     ///< Sent when `body_file` is empty.
  std::optional<FileRange> body_file;   ///< Streams this file range instead of `body`.
  std::filesystem::path response_file;  ///< When set, a 2xx body is written here (truncated first).
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{0};  ///< 0: no overall limit (big transfers).
  std::chrono::seconds stall_timeout{60};      ///< Abort when under 1 byte/s for this long.
};

/// The answer. Header names are lower-case.
struct HttpResponse {
  int status = 0;
  NameValueList headers;
  std::string body;  ///< The body, unless it went to `response_file`.
  std::uint64_t response_file_bytes = 0;

  /// The first header called `name` (lower-case), or "".
  std::string Header(std::string_view name) const;
};

/// Sends `request` once. Fails (retryable, kConnection) only when no complete HTTP answer came.
Result<HttpResponse> SendHttp(const HttpRequest& request);

}  // namespace rlpipe
