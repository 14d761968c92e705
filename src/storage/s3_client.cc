#include "storage/s3_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <optional>

#include "storage/crypto.h"
#include "storage/sigv4.h"
#include "storage/xml.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::uint64_t kMaxParts = 10'000;
constexpr size_t kMaxServerMessage = 300;

std::string S3Uri(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + "/" + key;
}

// Bucket names usable as a DNS label in virtual-hosted URLs (no dots: TLS wildcard certificates
// do not cover them).
bool IsVirtualHostable(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (const char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

// Replaces every occurrence of each secret with "[redacted]" (defence in depth for messages).
std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[redacted]");
    }
  }
  return text;
}

// One line, bounded: what the server said in <Message>.
std::string OneLine(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (text.size() > kMaxServerMessage) text = text.substr(0, kMaxServerMessage) + "...";
  return text;
}

// Splits "http://host:port/base" into scheme://authority and base path.
struct Endpoint {
  std::string origin;  // "http://127.0.0.1:4568"
  std::string host;    // "127.0.0.1:4568" (the Host header)
  std::string base_path;
};

Endpoint SplitUrl(const std::string& url) {
  Endpoint endpoint;
  const size_t scheme_end = url.find("://");
  const size_t authority_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t path_start = url.find('/', authority_start);
  endpoint.origin = url.substr(0, path_start);
  endpoint.host =
      url.substr(authority_start, path_start == std::string::npos ? std::string::npos
                                                                  : path_start - authority_start);
  if (path_start != std::string::npos) endpoint.base_path = url.substr(path_start);
  return endpoint;
}

// An endpoint override: like SplitUrl, without trailing slashes on its base path.
Endpoint SplitEndpoint(const std::string& url) {
  Endpoint endpoint = SplitUrl(url);
  while (endpoint.base_path.ends_with("/")) endpoint.base_path.pop_back();
  return endpoint;
}

// Host header value: drop a default port, which curl would not send either.
std::string HostHeader(const Endpoint& endpoint) {
  if (endpoint.origin.starts_with("https://") && endpoint.host.ends_with(":443")) {
    return endpoint.host.substr(0, endpoint.host.size() - 4);
  }
  if (endpoint.origin.starts_with("http://") && endpoint.host.ends_with(":80")) {
    return endpoint.host.substr(0, endpoint.host.size() - 3);
  }
  return endpoint.host;
}

// A temp file name beside `path`, unique across threads and processes.
fs::path TempPathBeside(const fs::path& path) {
  static std::atomic<std::uint64_t> counter{0};
  return path.parent_path() /
         ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
          std::to_string(counter.fetch_add(1)));
}

void FsyncFolder(const fs::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Failure LocalFailure(std::string message) {
  return Failure{FailureKind::kInvalid, std::move(message), false};
}

}  // namespace

// One S3 request before signing.
struct S3Client::Call {
  std::string operation{};  // "GetObject", for messages
  std::string method{};
  std::string bucket{};
  std::string key{};  // empty for bucket-level calls
  bool bucket_level = false;
  NameValueList query{};
  NameValueList headers{};  // beyond host/x-amz-*
  std::string body{};
  std::optional<FileRange> body_file{};
  std::string payload_sha256_hex{};  // empty: hash of `body`
  fs::path response_file{};
};

S3Client::S3Client(S3ClientConfig config, std::shared_ptr<CredentialsProvider> credentials,
                   const AwsEnvironment& environment)
    : config_(std::move(config)), credentials_(std::move(credentials)) {
  region_ = ResolveRegion(config_.region, environment);
  endpoint_ = ResolveS3Endpoint(config_.endpoint_url, environment);
  while (endpoint_.ends_with("/")) endpoint_.pop_back();
  config_.list_page_size = std::clamp(config_.list_page_size, 1, 1000);
  config_.part_size_bytes = std::max<std::uint64_t>(config_.part_size_bytes, 1);
}

bool S3Client::UsesPathStyle(const std::string& bucket) const {
  return config_.addressing == S3Addressing::kPathStyle ||
         (config_.addressing == S3Addressing::kAuto &&
          (!endpoint_.empty() || !IsVirtualHostable(bucket)));
}

std::string S3Client::ObjectUrl(const std::string& bucket, const std::string& key) const {
  // Pick the addressing style, then the origin.
  const bool path_style = UsesPathStyle(bucket);
  std::string origin;
  std::string base_path;
  if (!endpoint_.empty()) {
    const Endpoint endpoint = SplitEndpoint(endpoint_);
    origin = endpoint.origin;
    base_path = endpoint.base_path;
    if (!path_style) {
      const size_t authority = origin.find("://") + 3;
      origin.insert(authority, bucket + ".");
    }
  } else {
    const std::string domain = region_.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    origin =
        "https://" + std::string(path_style ? "" : bucket + ".") + "s3." + region_ + "." + domain;
  }
  const std::string encoded_key = UriEncode(key, true);
  return origin + base_path + (path_style ? "/" + UriEncode(bucket, false) : "") + "/" +
         encoded_key;
}

Result<HttpResponse> S3Client::SendOnce(const Call& call) const {
  // Credentials (cached by the provider; refreshed when they near expiry).
  auto credentials = credentials_->Get();
  if (!credentials.ok()) return credentials.failure();
  const AwsCredentials& identity = credentials.value();

  // URL: the object URL; bucket-level calls on path-style end at "/bucket".
  std::string url = ObjectUrl(call.bucket, call.key);
  if (call.bucket_level && UsesPathStyle(call.bucket)) url.pop_back();
  const Endpoint parts = SplitUrl(url);
  const std::string query = CanonicalQueryString(call.query);

  // Headers to sign: host, payload hash, date, token, then the call's own.
  std::string payload_hash = call.payload_sha256_hex;
  if (!config_.sign_payload) payload_hash = kUnsignedPayload;
  if (payload_hash.empty()) payload_hash = HexEncode(Sha256(call.body));
  SignableRequest signable;
  signable.method = call.method;
  signable.encoded_path = parts.base_path.empty() ? "/" : parts.base_path;
  signable.query = call.query;
  signable.payload_hash = payload_hash;
  const std::string amz_date = FormatAmzDate(std::chrono::system_clock::now());
  signable.headers = {{"host", HostHeader(parts)},
                      {"x-amz-content-sha256", payload_hash},
                      {"x-amz-date", amz_date}};
  if (!identity.session_token.empty()) {
    signable.headers.emplace_back("x-amz-security-token", identity.session_token);
  }
  for (const auto& header : call.headers) signable.headers.push_back(header);
  const SigV4Signature signature = SignV4(signable, identity.signing_key(),
                                          {region_, "s3", amz_date}, PathCanonicalization::kAsSent);

  // Send.
  HttpRequest request;
  request.method = call.method;
  request.url = url + (query.empty() ? "" : "?" + query);
  request.headers = signable.headers;
  request.headers.emplace_back("Authorization", signature.authorization);
  request.body = call.body;
  request.body_file = call.body_file;
  request.response_file = call.response_file;
  request.connect_timeout = config_.connect_timeout;
  request.stall_timeout = config_.stall_timeout;
  const std::vector<std::string> secrets = {identity.secret_access_key, identity.session_token,
                                            signature.signature};
  const std::string what = call.operation + " " + S3Uri(call.bucket, call.key);
  auto sent = SendHttp(request);
  if (!sent.ok()) {
    Failure failure = sent.failure();
    failure.message = Redact(what + " failed: " + failure.message, secrets);
    return failure;
  }
  HttpResponse& response = sent.value();
  if (response.status >= 200 && response.status < 300) return std::move(response);

  // An S3 error: keep only <Code> and <Message> (the body may echo the signature).
  std::string code;
  std::string server_message;
  if (const auto xml = ParseXml(response.body); xml && xml->name == "Error") {
    code = xml->ChildText("Code");
    server_message = OneLine(xml->ChildText("Message"));
  }
  const int status = response.status;
  if (code.empty() && status == 404) code = call.method == "HEAD" ? "NotFound" : "NoSuchKey";
  if (code.empty() && status == 403) code = "AccessDenied";

  // Kind and retryability from status and code.
  Failure failure;
  failure.http_status = status;
  failure.aws_code = code;
  if (status == 404) {
    failure.kind = FailureKind::kNotFound;
  } else if (status == 403) {
    failure.kind = FailureKind::kAccessDenied;
  } else if (status == 429 || code == "SlowDown" || code == "Throttling" ||
             code == "RequestLimitExceeded") {
    failure.kind = FailureKind::kThrottled;
    failure.retryable = true;
  } else if (status >= 500 || code == "RequestTimeout" || code == "InternalError") {
    failure.kind = FailureKind::kServer;
    failure.retryable = true;
  } else {
    failure.kind = FailureKind::kInvalid;
  }

  // Message: what was tried, on what, and what came back.
  std::string message = what + " failed: ";
  if (code == "NoSuchBucket") {
    message += "bucket '" + call.bucket + "' does not exist (NoSuchBucket, HTTP 404)";
  } else if (failure.kind == FailureKind::kNotFound && !call.key.empty()) {
    message +=
        "no such key '" + call.key + "' in bucket '" + call.bucket + "' (" + code + ", HTTP 404)";
  } else {
    message += (code.empty() ? "HTTP " + std::to_string(status)
                             : code + " (HTTP " + std::to_string(status) + ")");
  }
  if (!server_message.empty()) message += ": " + server_message;
  if (failure.kind == FailureKind::kAccessDenied) {
    message +=
        " [credentials: access key " + identity.access_key_id + " from " + identity.source + "]";
  }
  failure.message = Redact(message, secrets);
  return failure;
}

Result<HttpResponse> S3Client::Send(const Call& call) const {
  return RunWithRetry(config_.retry, [&] { return SendOnce(call); });
}

Status S3Client::PutObject(const std::string& bucket, const std::string& key,
                           std::string_view bytes) {
  const std::string digest = Sha256(bytes);
  Call call{.operation = "PutObject", .method = "PUT", .bucket = bucket, .key = key};
  call.body = std::string(bytes);
  call.payload_sha256_hex = HexEncode(digest);
  call.headers = {{"x-amz-checksum-sha256", Base64Encode(digest)}};
  auto sent = Send(call);
  if (!sent.ok()) return sent.failure();
  return OkStatus();
}

Status S3Client::PutObjectFromFile(const std::string& bucket, const std::string& key,
                                   const fs::path& file) {
  // Size decides between one PUT and a multipart upload.
  std::error_code ec;
  const std::uint64_t size = fs::file_size(file, ec);
  if (ec) return LocalFailure("cannot upload " + file.string() + ": " + ec.message());
  if (size > config_.multipart_threshold_bytes) return PutMultipart(bucket, key, file, size);

  // One PUT streamed from the file, hashed first for the signature and the checksum header.
  FileDigest digest;
  try {
    digest = DigestFile(file);
  } catch (const std::exception& e) {
    return LocalFailure(e.what());
  }
  Call call{.operation = "PutObject", .method = "PUT", .bucket = bucket, .key = key};
  call.body_file = FileRange{file, 0, digest.size};
  call.payload_sha256_hex = HexEncode(digest.sha256);
  call.headers = {{"x-amz-checksum-sha256", Base64Encode(digest.sha256)}};
  auto sent = Send(call);
  if (!sent.ok()) return sent.failure();
  return OkStatus();
}

Status S3Client::PutMultipart(const std::string& bucket, const std::string& key,
                              const fs::path& file, std::uint64_t size) {
  // Part size: as configured, grown so the upload stays within S3's 10,000 parts.
  const std::uint64_t part_size =
      std::max(config_.part_size_bytes, (size + kMaxParts - 1) / kMaxParts);

  // Create the upload.
  Call create{.operation = "CreateMultipartUpload", .method = "POST", .bucket = bucket, .key = key};
  create.query = {{"uploads", ""}};
  auto created = Send(create);
  if (!created.ok()) return created.failure();
  const auto created_xml = ParseXml(created.value().body);
  const std::string upload_id = created_xml ? created_xml->ChildText("UploadId") : "";
  if (upload_id.empty()) {
    return Failure{FailureKind::kInvalid,
                   "CreateMultipartUpload " + S3Uri(bucket, key) + " answered without an UploadId",
                   false};
  }

  // Abort on any later failure, so no orphaned parts are billed.
  auto abort = [&](Failure failure) -> Status {
    Call call{
        .operation = "AbortMultipartUpload", .method = "DELETE", .bucket = bucket, .key = key};
    call.query = {{"uploadId", upload_id}};
    const auto aborted = Send(call);
    failure.message +=
        aborted.ok()
            ? " (multipart upload aborted)"
            : " (and aborting the multipart upload failed: " + aborted.failure().message + ")";
    return failure;
  };

  // Upload the parts one after another, each with its own retries and Content-MD5.
  std::ifstream in(file, std::ios::binary);
  if (!in) return abort(LocalFailure("cannot open " + file.string()));
  std::string completion = "<CompleteMultipartUpload>";
  std::string part(static_cast<size_t>(std::min(part_size, size)), '\0');
  for (std::uint64_t offset = 0, number = 1; offset < size; offset += part_size, ++number) {
    const auto length = static_cast<size_t>(std::min(part_size, size - offset));
    part.resize(length);
    in.read(part.data(), static_cast<std::streamsize>(length));
    if (static_cast<size_t>(in.gcount()) != length) {
      return abort(
          LocalFailure("cannot read " + file.string() + " (file changed while uploading?)"));
    }
    Call upload{.operation = "UploadPart", .method = "PUT", .bucket = bucket, .key = key};
    upload.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
    upload.body = part;
    upload.headers = {{"content-md5", Base64Encode(Md5(part))}};
    auto uploaded = Send(upload);
    if (!uploaded.ok()) return abort(uploaded.failure());
    const std::string etag = uploaded.value().Header("etag");
    if (etag.empty()) {
      return abort(Failure{FailureKind::kInvalid,
                           "UploadPart " + S3Uri(bucket, key) + " answered without an ETag",
                           false});
    }
    completion += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
                  XmlEscape(etag) + "</ETag></Part>";
  }
  completion += "</CompleteMultipartUpload>";

  // Complete. S3 may answer 200 with an <Error> body: that is a failure too.
  Call complete{
      .operation = "CompleteMultipartUpload", .method = "POST", .bucket = bucket, .key = key};
  complete.query = {{"uploadId", upload_id}};
  complete.body = completion;
  complete.headers = {{"content-type", "application/xml"}};
  auto completed = RunWithRetry(config_.retry, [&]() -> Result<HttpResponse> {
    auto sent = SendOnce(complete);
    if (!sent.ok()) return sent;
    const auto xml = ParseXml(sent.value().body);
    if (xml && xml->name == "Error") {
      const std::string code = xml->ChildText("Code");
      return Failure{FailureKind::kServer,
                     "CompleteMultipartUpload " + S3Uri(bucket, key) + " failed: " + code + ": " +
                         OneLine(xml->ChildText("Message")),
                     code == "InternalError" || code == "SlowDown", 200, code};
    }
    return sent;
  });
  if (!completed.ok()) return abort(completed.failure());
  return OkStatus();
}

Result<std::string> S3Client::GetObject(const std::string& bucket, const std::string& key) {
  Call call{.operation = "GetObject", .method = "GET", .bucket = bucket, .key = key};
  auto got = Send(call);
  if (!got.ok()) return got.failure();
  return std::move(got.value().body);
}

Status S3Client::GetObjectToFile(const std::string& bucket, const std::string& key,
                                 const fs::path& destination) {
  // The temp file lives beside the destination so the final rename is atomic.
  std::error_code ec;
  if (!destination.parent_path().empty()) fs::create_directories(destination.parent_path(), ec);
  if (ec) {
    return LocalFailure("cannot create folder " + destination.parent_path().string() + ": " +
                        ec.message());
  }
  const fs::path temp = TempPathBeside(destination);
  Call call{.operation = "GetObject", .method = "GET", .bucket = bucket, .key = key};
  call.headers = {{"x-amz-checksum-mode", "ENABLED"}};
  call.response_file = temp;

  // Each attempt downloads and checks length and (when S3 sends one) the full-object SHA-256.
  auto got = RunWithRetry(config_.retry, [&]() -> Result<HttpResponse> {
    auto sent = SendOnce(call);
    if (!sent.ok()) return sent;
    const std::string length = sent.value().Header("content-length");
    if (!length.empty() && length != std::to_string(sent.value().response_file_bytes)) {
      return Failure{FailureKind::kIntegrity,
                     "GetObject " + S3Uri(bucket, key) + ": expected " + length +
                         " bytes, received " + std::to_string(sent.value().response_file_bytes),
                     true};
    }
    const std::string checksum = sent.value().Header("x-amz-checksum-sha256");
    if (!checksum.empty() && checksum.find('-') == std::string::npos) {
      std::string actual;
      try {
        actual = Base64Encode(DigestFile(temp).sha256);
      } catch (const std::exception& e) {
        return LocalFailure(e.what());
      }
      if (actual != checksum) {
        return Failure{FailureKind::kIntegrity,
                       "GetObject " + S3Uri(bucket, key) + ": SHA-256 " + actual +
                           " does not match the server's " + checksum,
                       true};
      }
    }
    return sent;
  });

  // Rename into place on success; otherwise leave the destination as it was.
  if (!got.ok()) {
    fs::remove(temp, ec);
    return got.failure();
  }
  fs::rename(temp, destination, ec);
  if (ec) {
    fs::remove(temp, ec);
    return LocalFailure("cannot move download into " + destination.string() + ": " + ec.message());
  }
  FsyncFolder(destination.parent_path());
  return OkStatus();
}

Result<S3ObjectInfo> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  Call call{.operation = "HeadObject", .method = "HEAD", .bucket = bucket, .key = key};
  auto head = Send(call);
  if (!head.ok()) return head.failure();
  S3ObjectInfo info;
  info.key = key;
  const std::string length = head.value().Header("content-length");
  info.size = length.empty() ? 0 : std::stoull(length);
  info.etag = head.value().Header("etag");
  info.last_modified = head.value().Header("last-modified");
  return info;
}

Result<S3ListPage> S3Client::ListObjectsPage(const std::string& bucket, const std::string& prefix,
                                             const std::string& continuation_token) {
  Call call{
      .operation = "ListObjectsV2 prefix '" + prefix + "' in", .method = "GET", .bucket = bucket};
  call.bucket_level = true;
  call.query = {
      {"list-type", "2"}, {"max-keys", std::to_string(config_.list_page_size)}, {"prefix", prefix}};
  if (!continuation_token.empty())
    call.query.emplace_back("continuation-token", continuation_token);
  auto listed = Send(call);
  if (!listed.ok()) return listed.failure();

  // <ListBucketResult><IsTruncated/><NextContinuationToken/><Contents>...</Contents>...
  std::string error;
  const auto xml = ParseXml(listed.value().body, &error);
  if (!xml || xml->name != "ListBucketResult") {
    return Failure{FailureKind::kInvalid,
                   "ListObjectsV2 s3://" + bucket + "/" + prefix + ": unexpected answer (" +
                       (xml ? "<" + xml->name + ">" : error) + ")",
                   false};
  }
  S3ListPage page;
  page.truncated = xml->ChildText("IsTruncated") == "true";
  page.next_continuation_token = xml->ChildText("NextContinuationToken");
  for (const XmlElement* contents : xml->Children("Contents")) {
    S3ObjectInfo info;
    info.key = contents->ChildText("Key");
    const std::string size = contents->ChildText("Size");
    info.size = size.empty() ? 0 : std::stoull(size);
    info.etag = contents->ChildText("ETag");
    info.last_modified = contents->ChildText("LastModified");
    page.objects.push_back(std::move(info));
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    return Failure{FailureKind::kInvalid,
                   "ListObjectsV2 s3://" + bucket + "/" + prefix +
                       ": truncated page without a NextContinuationToken",
                   false};
  }
  return page;
}

Result<std::vector<S3ObjectInfo>> S3Client::ListObjects(const std::string& bucket,
                                                        const std::string& prefix) {
  std::vector<S3ObjectInfo> all;
  std::string token;
  do {
    auto page = ListObjectsPage(bucket, prefix, token);
    if (!page.ok()) return page.failure();
    for (auto& object : page.value().objects) all.push_back(std::move(object));
    token = page.value().truncated ? page.value().next_continuation_token : "";
  } while (!token.empty());
  return all;
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) {
  Call call{.operation = "DeleteObject", .method = "DELETE", .bucket = bucket, .key = key};
  auto deleted = Send(call);
  if (!deleted.ok() && deleted.failure().aws_code != "NoSuchKey") return deleted.failure();
  return OkStatus();
}

}  // namespace rlpipe
