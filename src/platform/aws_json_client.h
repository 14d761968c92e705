#pragma once
/// SigV4-signed calls to AWS services that are not S3: the JSON 1.1 protocol (SageMaker,
/// CloudWatch Logs: POST / with X-Amz-Target "<prefix>.<Operation>") and the query protocol
/// (SNS Publish). Built on the storage package's HTTP, SigV4, credentials and its one retry loop.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "storage/aws_credentials.h"
#include "core/result.h"
#include "core/retry.h"

namespace rlpipe::platform {

/// One AWS service as the wire sees it.
struct AwsService {
  std::string signing_name;   ///< SigV4 service name: "sagemaker", "logs", "sns".
  std::string target_prefix;  ///< X-Amz-Target prefix: "SageMaker", "Logs_20140328" ("" for query).
  std::string endpoint_env;   ///< Endpoint override variable, e.g. "AWS_ENDPOINT_URL_SAGEMAKER".
  std::string host_prefix;    ///< AWS host: <host_prefix>.<region>.amazonaws.com.
};

/// SageMaker's API (JSON 1.1).
AwsService SageMakerService();
/// CloudWatch Logs (JSON 1.1).
AwsService LogsService();
/// SNS (query protocol).
AwsService SnsService();

/// Client settings; every field has a working default.
struct AwsClientConfig {
  std::string region;        ///< Empty: AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1.
  std::string endpoint_url;  ///< Empty: the service's variable, then AWS_ENDPOINT_URL, else AWS.
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{60000};  ///< Per attempt.
};

/// `configured`, else the service's AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else
/// https://<host_prefix>.<region>.amazonaws.com.
std::string ResolveServiceEndpoint(const AwsService& service, const std::string& configured,
                                   const std::string& region, const AwsEnvironment& environment);

/// Calls to one service. Thread-safe (one curl handle per call).
class AwsClient {
 public:
  AwsClient(AwsService service, AwsClientConfig config,
            std::shared_ptr<CredentialsProvider> credentials,
            const AwsEnvironment& environment = {});

  /// A JSON 1.1 call: `operation` ("DescribeTrainingJob") with `input`; the parsed answer.
  /// Failures carry the AWS error type in aws_code ("ValidationException") and its message;
  /// throttling, 5xx and connection errors are retried per the policy.
  Result<nlohmann::json> CallJson(const std::string& operation, const nlohmann::json& input);

  /// A query-protocol call (form-encoded Action=<action>&Version=<version>&...); the XML body.
  Result<std::string> CallQuery(const std::string& action, const std::string& version,
                                const NameValueList& parameters);

  const std::string& endpoint() const { return endpoint_; }
  const std::string& region() const { return region_; }

 private:
  Result<std::string> SendOnce(const std::string& what, const std::string& body,
                               const NameValueList& extra_headers, bool json_errors) const;

  AwsService service_;
  AwsClientConfig config_;
  std::shared_ptr<CredentialsProvider> credentials_;
  std::string region_;
  std::string endpoint_;
};

/// The value of `result`, or throws its failure as a StorageError (storage/storage_error.h).
nlohmann::json ValueOrThrow(Result<nlohmann::json> result);

}  // namespace rlpipe::platform
