#include "platform/aws_json_client.h"

#include <algorithm>

#include "storage/crypto.h"
#include "storage/http.h"
#include "storage/sigv4.h"
#include "storage/storage_error.h"
#include "storage/xml.h"

namespace rlpipe::platform {
namespace {

constexpr size_t kMaxServerMessage = 300;

/// "http://host:port/base" → origin, Host header value and base path.
struct Url {
  std::string origin;
  std::string host;
  std::string path;
};

Url SplitUrl(const std::string& url) {
  Url parts;
  const size_t scheme_end = url.find("://");
  const size_t authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t path_start = url.find('/', authority);
  parts.origin = url.substr(0, path_start);
  parts.host = url.substr(
      authority, path_start == std::string::npos ? std::string::npos : path_start - authority);
  parts.path = path_start == std::string::npos ? "/" : url.substr(path_start);
  // curl leaves a default port out of Host; the signature must match.
  if (parts.origin.starts_with("https://") && parts.host.ends_with(":443")) {
    parts.host.resize(parts.host.size() - 4);
  } else if (parts.origin.starts_with("http://") && parts.host.ends_with(":80")) {
    parts.host.resize(parts.host.size() - 3);
  }
  return parts;
}

/// One line, bounded, with every secret replaced.
std::string Clean(std::string text, const std::vector<std::string>& secrets) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (text.size() > kMaxServerMessage) text = text.substr(0, kMaxServerMessage) + "...";
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[redacted]");
    }
  }
  return text;
}

/// The error type and message of a JSON 1.1 error body ("__type" may carry a namespace:
/// "com.amazonaws.sagemaker#ValidationException").
std::pair<std::string, std::string> JsonError(const std::string& body) {
  try {
    const nlohmann::json doc = nlohmann::json::parse(body);
    std::string type = doc.value("__type", std::string());
    if (const size_t hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
    std::string message = doc.value("message", doc.value("Message", std::string()));
    return {type, message};
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

/// The <Code> and <Message> of a query-protocol error body.
std::pair<std::string, std::string> XmlError(const std::string& body) {
  const auto xml = ParseXml(body);
  if (!xml) return {};
  for (const auto& child : xml->children) {
    if (child.name == "Error") return {child.ChildText("Code"), child.ChildText("Message")};
  }
  return {xml->ChildText("Code"), xml->ChildText("Message")};
}

}  // namespace

AwsService SageMakerService() {
  return {"sagemaker", "SageMaker", "AWS_ENDPOINT_URL_SAGEMAKER", "api.sagemaker"};
}
AwsService LogsService() {
  return {"logs", "Logs_20140328", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "logs"};
}
AwsService SnsService() { return {"sns", "", "AWS_ENDPOINT_URL_SNS", "sns"}; }

std::string ResolveServiceEndpoint(const AwsService& service, const std::string& configured,
                                   const std::string& region, const AwsEnvironment& environment) {
  // Configured, the service's own variable (Logs also answers to the short name), the global
  // override, then AWS.
  std::vector<std::string> names = {service.endpoint_env};
  if (service.signing_name == "logs") names.push_back("AWS_ENDPOINT_URL_LOGS");
  names.push_back("AWS_ENDPOINT_URL");
  std::string endpoint = configured;
  for (const auto& name : names) {
    if (!endpoint.empty()) break;
    if (const auto value = environment.env(name); value && !value->empty()) endpoint = *value;
  }
  if (endpoint.empty())
    endpoint = "https://" + service.host_prefix + "." + region + ".amazonaws.com";
  while (endpoint.ends_with("/")) endpoint.pop_back();
  return endpoint;
}

AwsClient::AwsClient(AwsService service, AwsClientConfig config,
                     std::shared_ptr<CredentialsProvider> credentials,
                     const AwsEnvironment& environment)
    : service_(std::move(service)),
      config_(std::move(config)),
      credentials_(std::move(credentials)),
      region_(ResolveRegion(config_.region, environment)),
      endpoint_(ResolveServiceEndpoint(service_, config_.endpoint_url, region_, environment)) {}

Result<std::string> AwsClient::SendOnce(const std::string& what, const std::string& body,
                                        const NameValueList& extra_headers,
                                        bool json_errors) const {
  // Credentials (cached by the provider; refreshed before they expire).
  auto credentials = credentials_->Get();
  if (!credentials.ok()) return credentials.failure();
  const AwsCredentials& identity = credentials.value();

  // Sign: host, date, token and the call's own headers; the body's SHA-256.
  const Url url = SplitUrl(endpoint_ + "/");
  const std::string amz_date = FormatAmzDate(std::chrono::system_clock::now());
  SignableRequest signable;
  signable.method = "POST";
  signable.encoded_path = url.path;
  signable.payload_hash = HexEncode(Sha256(body));
  signable.headers = {{"host", url.host}, {"x-amz-date", amz_date}};
  if (!identity.session_token.empty()) {
    signable.headers.emplace_back("x-amz-security-token", identity.session_token);
  }
  for (const auto& header : extra_headers) signable.headers.push_back(header);
  const SigV4Signature signature =
      SignV4(signable, identity.signing_key(), {region_, service_.signing_name, amz_date},
             PathCanonicalization::kNormalizeAndEncode);

  // Send.
  HttpRequest request;
  request.method = "POST";
  request.url = url.origin + url.path;
  request.headers = signable.headers;
  request.headers.emplace_back("Authorization", signature.authorization);
  request.body = body;
  request.connect_timeout = config_.connect_timeout;
  request.total_timeout = config_.total_timeout;
  const std::vector<std::string> secrets = {identity.secret_access_key, identity.session_token,
                                            signature.signature};
  auto sent = SendHttp(request);
  if (!sent.ok()) {
    Failure failure = sent.failure();
    failure.message = Clean(what + " failed: " + failure.message + " (" + endpoint_ + ")", secrets);
    return failure;
  }
  const HttpResponse& response = sent.value();
  if (response.status >= 200 && response.status < 300) return response.body;

  // An AWS error: its type and message decide kind and retry.
  const auto [code, server_message] =
      json_errors ? JsonError(response.body) : XmlError(response.body);
  Failure failure;
  failure.http_status = response.status;
  failure.aws_code = code;
  if (response.status == 429 || code == "ThrottlingException" || code == "Throttling" ||
      code == "TooManyRequestsException" || code == "RequestLimitExceeded") {
    failure.kind = FailureKind::kThrottled;
    failure.retryable = true;
  } else if (response.status >= 500 || code == "InternalFailure" || code == "ServiceUnavailable") {
    failure.kind = FailureKind::kServer;
    failure.retryable = true;
  } else if (response.status == 403 || code == "AccessDeniedException" ||
             code == "UnrecognizedClientException" || code == "InvalidSignatureException" ||
             code == "ExpiredTokenException") {
    failure.kind = FailureKind::kAccessDenied;
  } else if (code == "ResourceNotFoundException" || code == "ResourceNotFound" ||
             code == "NotFound") {
    failure.kind = FailureKind::kNotFound;
  } else {
    failure.kind = FailureKind::kInvalid;
  }
  std::string message = what + " failed: " +
                        (code.empty() ? "HTTP " + std::to_string(response.status)
                                      : code + " (HTTP " + std::to_string(response.status) + ")");
  if (!server_message.empty()) message += ": " + server_message;
  if (failure.kind == FailureKind::kAccessDenied) {
    message +=
        " [credentials: access key " + identity.access_key_id + " from " + identity.source + "]";
  }
  failure.message = Clean(message, secrets);
  return failure;
}

Result<nlohmann::json> AwsClient::CallJson(const std::string& operation,
                                           const nlohmann::json& input) {
  const std::string what = service_.target_prefix + "." + operation;
  const std::string body = input.dump();
  const NameValueList headers = {{"content-type", "application/x-amz-json-1.1"},
                                 {"x-amz-target", what}};
  auto sent = RunWithRetry(config_.retry, [&] { return SendOnce(what, body, headers, true); });
  if (!sent.ok()) return sent.failure();
  try {
    const std::string& text = sent.value();
    return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return Failure(FailureKind::kInvalid, what + " failed: the answer is not JSON");
  }
}

Result<std::string> AwsClient::CallQuery(const std::string& action, const std::string& version,
                                         const NameValueList& parameters) {
  NameValueList form = {{"Action", action}, {"Version", version}};
  form.insert(form.end(), parameters.begin(), parameters.end());
  const std::string body = CanonicalQueryString(form);
  const std::string what = service_.signing_name + "." + action;
  const NameValueList headers = {
      {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  return RunWithRetry(config_.retry, [&] { return SendOnce(what, body, headers, false); });
}

nlohmann::json ValueOrThrow(Result<nlohmann::json> result) {
  if (!result.ok()) ThrowFailure(result.failure());
  return std::move(result).value();
}

}  // namespace rlpipe::platform
