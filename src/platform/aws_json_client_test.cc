#include "platform/aws_json_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "storage/fake_http_server.h"
#include "storage/storage_error.h"

namespace rlpipe::platform {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

AwsEnvironment Env(std::map<std::string, std::string> vars) {
  AwsEnvironment environment;
  environment.env = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
  environment.home = "/nonexistent";
  return environment;
}

std::shared_ptr<CredentialsProvider> Keys() {
  return std::make_shared<StaticCredentialsProvider>(
      AwsCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                     "session-token-1234", std::nullopt, "test"});
}

AwsClientConfig Fast(const std::string& endpoint) {
  AwsClientConfig config;
  config.endpoint_url = endpoint;
  config.region = "eu-west-1";
  config.retry.base_delay = std::chrono::milliseconds(1);
  config.retry.max_attempts = 3;
  return config;
}

TEST(AwsJsonClient, SendsASignedJson11Call) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{200,
                        {{"Content-Type", "application/x-amz-json-1.1"}},
                        R"({"TrainingJobStatus": "InProgress"})"};
  });
  AwsClient client(SageMakerService(), Fast(server.url()), Keys(), Env({}));
  auto answer = client.CallJson("DescribeTrainingJob", {{"TrainingJobName", "j"}});
  ASSERT_TRUE(answer.ok()) << answer.failure().message;
  EXPECT_EQ(answer.value()["TrainingJobStatus"], "InProgress");

  // The wire: POST /, the target, the JSON 1.1 content type, SigV4 scoped to sagemaker.
  const FakeRequest request = server.requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/");
  EXPECT_EQ(request.headers.at("x-amz-target"), "SageMaker.DescribeTrainingJob");
  EXPECT_EQ(request.headers.at("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(request.body, R"({"TrainingJobName":"j"})");
  EXPECT_EQ(request.headers.at("x-amz-security-token"), "session-token-1234");
  const std::string auth = request.headers.at("authorization");
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/eu-west-1/sagemaker/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("x-amz-target"), std::string::npos) << auth;
}

TEST(AwsJsonClient, ErrorsKeepTheAwsTypeAndRetryOnlyWhatCanPass) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest& request) {
    ++calls;
    if (request.headers.at("x-amz-target") == "SageMaker.DescribeTrainingJob") {
      return FakeResponse{400,
                          {},
                          R"({"__type": "com.amazonaws.sagemaker#ValidationException",)"
                          R"( "Message": "Requested resource not found."})"};
    }
    // Throttled twice, then an answer.
    if (calls <= 3) return FakeResponse{400, {}, R"({"__type": "ThrottlingException"})"};
    return FakeResponse{200, {}, "{}"};
  });
  AwsClient client(SageMakerService(), Fast(server.url()), Keys(), Env({}));
  auto missing = client.CallJson("DescribeTrainingJob", {{"TrainingJobName", "nope"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.failure().aws_code, "ValidationException");
  EXPECT_FALSE(missing.failure().retryable);
  EXPECT_EQ(missing.failure().message,
            "SageMaker.DescribeTrainingJob failed: ValidationException (HTTP 400): Requested "
            "resource not found.");
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(ValueOrThrow(std::move(missing)), StorageError);

  EXPECT_TRUE(client.CallJson("StopTrainingJob", {{"TrainingJobName", "j"}}).ok());
  EXPECT_EQ(calls, 4);
}

TEST(AwsJsonClient, QueryProtocolForSns) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{200,
                        {},
                        "<PublishResponse><PublishResult><MessageId>m-1</MessageId>"
                        "</PublishResult></PublishResponse>"};
  });
  AwsClient client(SnsService(), Fast(server.url()), Keys(), Env({}));
  auto answer = client.CallQuery(
      "Publish", "2010-03-31",
      {{"TopicArn", "arn:aws:sns:eu-west-1:123456789012:t"}, {"Message", "a b&c"}});
  ASSERT_TRUE(answer.ok()) << answer.failure().message;
  const FakeRequest request = server.requests().at(0);
  EXPECT_EQ(request.body,
            "Action=Publish&Message=a%20b%26c&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012"
            "%3At&Version=2010-03-31");
  EXPECT_NE(request.headers.at("authorization").find("/eu-west-1/sns/aws4_request"),
            std::string::npos);
}

TEST(AwsJsonClient, EndpointOverrides) {
  // Configured, then the service's variable, then AWS_ENDPOINT_URL, then AWS.
  const auto env = Env({{"AWS_ENDPOINT_URL_SAGEMAKER", "http://sm:1/"},
                        {"AWS_ENDPOINT_URL_LOGS", "http://logs:2"},
                        {"AWS_ENDPOINT_URL", "http://all:3"}});
  EXPECT_EQ(ResolveServiceEndpoint(SageMakerService(), "http://cfg:9", "us-east-1", env),
            "http://cfg:9");
  EXPECT_EQ(ResolveServiceEndpoint(SageMakerService(), "", "us-east-1", env), "http://sm:1");
  EXPECT_EQ(ResolveServiceEndpoint(LogsService(), "", "us-east-1", env), "http://logs:2");
  EXPECT_EQ(ResolveServiceEndpoint(SnsService(), "", "us-east-1", env), "http://all:3");
  EXPECT_EQ(ResolveServiceEndpoint(SageMakerService(), "", "eu-west-1", Env({})),
            "https://api.sagemaker.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResolveServiceEndpoint(LogsService(), "", "eu-west-1", Env({})),
            "https://logs.eu-west-1.amazonaws.com");
}

}  // namespace
}  // namespace rlpipe::platform
