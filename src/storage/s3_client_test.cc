// S3Client against a scripted loopback server: error mapping (403/404/503), retries, a server
// that dies mid-upload, multipart abort, request headers, addressing, and secrets in messages.
#include "storage/s3_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "core/files.h"
#include "storage/crypto.h"
#include "storage/fake_http_server.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

constexpr char kSecret[] = "SECRETwJalrXUtnFEMIK7MDENGbPxRfiCY";
constexpr char kToken[] = "TOKENFQoGZXIvYXdzEXAMPLEsessiontoken";

std::shared_ptr<CredentialsProvider> TestCredentials() {
  return std::make_shared<StaticCredentialsProvider>(
      AwsCredentials{"AKIDTEST", kSecret, kToken, std::nullopt, "test credentials"});
}

S3ClientConfig FastConfig(const std::string& endpoint) {
  S3ClientConfig config;
  config.endpoint_url = endpoint;
  config.region = "eu-west-1";
  config.retry.max_attempts = 3;
  config.retry.base_delay = std::chrono::milliseconds(1);
  config.retry.max_delay = std::chrono::milliseconds(5);
  config.connect_timeout = std::chrono::milliseconds(500);
  return config;
}

FakeResponse ErrorXml(int status, const std::string& code, const std::string& message,
                      const std::string& extra = "") {
  return {status,
          {{"Content-Type", "application/xml"}},
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
              message + "</Message>" + extra + "<RequestId>4442587FB7D0A2F9</RequestId></Error>"};
}

// No message may carry the secret key, the session token or a signature.
void ExpectNoSecrets(const std::string& message, const std::vector<FakeRequest>& requests) {
  EXPECT_EQ(message.find(kSecret), std::string::npos) << message;
  EXPECT_EQ(message.find(kToken), std::string::npos) << message;
  for (const auto& request : requests) {
    const std::string authorization = request.headers.at("authorization");
    const std::string signature = authorization.substr(authorization.find("Signature=") + 10);
    EXPECT_EQ(message.find(signature), std::string::npos) << message;
  }
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = fs::temp_directory_path() / ("rlpipe_s3client_" + std::to_string(::getpid()));
    fs::create_directories(temp_);
  }
  void TearDown() override { fs::remove_all(temp_); }
  fs::path temp_;
};

TEST_F(S3ClientTest, NoSuchKeyIsNotFoundNamingBucketAndKeyWithoutRetry) {
  FakeHttpServer server([](const FakeRequest&) {
    return ErrorXml(404, "NoSuchKey", "The specified key does not exist.");
  });
  S3Client client(FastConfig(server.url()), TestCredentials());
  const auto got = client.GetObject("my-bucket", "run/best_model.zip");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.failure().kind, FailureKind::kNotFound);
  EXPECT_FALSE(got.failure().retryable);
  EXPECT_EQ(got.failure().aws_code, "NoSuchKey");
  EXPECT_NE(got.failure().message.find("run/best_model.zip"), std::string::npos);
  EXPECT_NE(got.failure().message.find("my-bucket"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);
  ExpectNoSecrets(got.failure().message, server.requests());
}

TEST_F(S3ClientTest, NoSuchBucketNamesTheBucket) {
  FakeHttpServer server([](const FakeRequest&) {
    return ErrorXml(404, "NoSuchBucket", "The specified bucket does not exist");
  });
  S3Client client(FastConfig(server.url()), TestCredentials());
  const auto put = client.PutObject("missing-bucket", "k", "bytes");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.failure().kind, FailureKind::kNotFound);
  EXPECT_NE(put.failure().message.find("bucket 'missing-bucket' does not exist"), std::string::npos)
      << put.failure().message;
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(S3ClientTest, AccessDeniedIsClearNotRetriedAndLeaksNoSecret) {
  // The server echoes what it was sent, as SignatureDoesNotMatch answers do.
  FakeHttpServer server([](const FakeRequest& request) {
    const std::string authorization = request.headers.at("authorization");
    return ErrorXml(
        403, "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
        "<SignatureProvided>" + authorization.substr(authorization.find("Signature=") + 10) +
            "</SignatureProvided><AWSAccessKeyId>AKIDTEST</AWSAccessKeyId>"
            "<SecurityToken>" +
            request.headers.at("x-amz-security-token") + "</SecurityToken>");
  });
  S3Client client(FastConfig(server.url()), TestCredentials());
  const auto put = client.PutObject("b", "ckpt/model.zip", "bytes");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.failure().kind, FailureKind::kAccessDenied);
  EXPECT_FALSE(put.failure().retryable);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_NE(put.failure().message.find("s3://b/ckpt/model.zip"), std::string::npos);
  EXPECT_NE(put.failure().message.find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_NE(put.failure().message.find("test credentials"), std::string::npos);
  ExpectNoSecrets(put.failure().message, server.requests());

  // Plain AccessDenied on HEAD (no body).
  FakeHttpServer head_server([](const FakeRequest&) { return FakeResponse{403, {}, ""}; });
  S3Client head_client(FastConfig(head_server.url()), TestCredentials());
  const auto head = head_client.HeadObject("b", "k");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.failure().kind, FailureKind::kAccessDenied);
  EXPECT_NE(head.failure().message.find("AccessDenied"), std::string::npos);
}

TEST_F(S3ClientTest, ThrottlingAndServerErrorsAreRetriedThenSucceed) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    const int n = calls++;
    if (n == 0) return ErrorXml(503, "SlowDown", "Please reduce your request rate.");
    if (n == 1) return FakeResponse{429, {}, ""};
    return FakeResponse{200, {}, "payload"};
  });
  S3Client client(FastConfig(server.url()), TestCredentials());
  const auto got = client.GetObject("b", "k");
  ASSERT_TRUE(got.ok()) << got.failure().message;
  EXPECT_EQ(got.value(), "payload");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(S3ClientTest, PersistentServerErrorGivesUpAfterTheBoundedAttempts) {
  FakeHttpServer server([](const FakeRequest&) {
    return ErrorXml(500, "InternalError", "We encountered an internal error.");
  });
  S3Client client(FastConfig(server.url()), TestCredentials());
  const auto got = client.GetObject("b", "k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.failure().kind, FailureKind::kServer);
  EXPECT_TRUE(got.failure().retryable);
  EXPECT_NE(got.failure().message.find("gave up after 3 attempts"), std::string::npos)
      << got.failure().message;
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(S3ClientTest, ServerDyingMidUploadIsRetriedThenFailsClearlyWithTheFileIntact) {
  // The first attempt is cut after the headers; then the server is gone (connection refused).
  const std::string contents(300 << 10, 'm');
  WriteFileAtomic(temp_ / "model.zip", contents);
  auto server = std::make_unique<FakeHttpServer>(
      [](const FakeRequest&) { return FakeResponse{.drop_connection = true}; });
  S3ClientConfig config = FastConfig(server->url());
  std::thread stopper;
  S3Client client(config, TestCredentials());
  FakeHttpServer* raw = server.get();
  stopper = std::thread([raw] {
    while (raw->requests().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    raw->Stop();
  });
  const auto put = client.PutObjectFromFile("b", "run/model.zip", temp_ / "model.zip");
  stopper.join();
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.failure().kind, FailureKind::kConnection);
  EXPECT_NE(put.failure().message.find("s3://b/run/model.zip"), std::string::npos)
      << put.failure().message;
  EXPECT_NE(put.failure().message.find("gave up after 3 attempts"), std::string::npos)
      << put.failure().message;
  EXPECT_EQ(ReadFile(temp_ / "model.zip"), contents);
}

TEST_F(S3ClientTest, FailedMultipartUploadIsAborted) {
  FakeHttpServer server([](const FakeRequest& request) {
    if (request.method == "POST" && request.Query() == "uploads=") {
      return FakeResponse{200,
                          {},
                          "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>big</Key>"
                          "<UploadId>UPLOAD-1</UploadId></InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT" && request.Query().starts_with("partNumber=1&")) {
      return FakeResponse{200, {{"ETag", "\"etag-1\""}}, ""};
    }
    if (request.method == "PUT") return ErrorXml(400, "InvalidPart", "Part 2 was rejected.");
    return FakeResponse{204, {}, ""};
  });
  WriteFileAtomic(temp_ / "big.bin", std::string(2500, 'b'));
  S3ClientConfig config = FastConfig(server.url());
  config.multipart_threshold_bytes = 1000;
  config.part_size_bytes = 1000;
  S3Client client(config, TestCredentials());
  const auto put = client.PutObjectFromFile("b", "big", temp_ / "big.bin");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.failure().message.find("aborted"), std::string::npos) << put.failure().message;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].body, std::string(1000, 'b'));
  EXPECT_EQ(requests[1].headers.at("content-md5"), Base64Encode(Md5(std::string(1000, 'b'))));
  EXPECT_EQ(requests[3].method, "DELETE");
  EXPECT_EQ(requests[3].Query(), "uploadId=UPLOAD-1");
}

TEST_F(S3ClientTest, MultipartCompletesWithEveryPartInOrder) {
  FakeHttpServer server([](const FakeRequest& request) {
    if (request.method == "POST" && request.Query() == "uploads=") {
      return FakeResponse{200,
                          {},
                          "<InitiateMultipartUploadResult><UploadId>U&amp;2</UploadId>"
                          "</InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT") {
      return FakeResponse{200, {{"ETag", "\"e" + request.Query().substr(11, 1) + "\""}}, ""};
    }
    return FakeResponse{200,
                        {},
                        "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
                        "</CompleteMultipartUploadResult>"};
  });
  WriteFileAtomic(temp_ / "big.bin", std::string(2500, 'b'));
  S3ClientConfig config = FastConfig(server.url());
  config.multipart_threshold_bytes = 1000;
  config.part_size_bytes = 1000;
  S3Client client(config, TestCredentials());
  const auto put = client.PutObjectFromFile("b", "big", temp_ / "big.bin");
  ASSERT_TRUE(put.ok()) << put.failure().message;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[3].body.size(), 500u);
  EXPECT_EQ(requests[4].Query(), "uploadId=U%262");
  EXPECT_EQ(
      requests[4].body,
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>"
      "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part><Part>"
      "<PartNumber>3</PartNumber><ETag>&quot;e3&quot;</ETag></Part></CompleteMultipartUpload>");
}

TEST_F(S3ClientTest, EveryRequestCarriesPayloadHashTokenAndChecksum) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse{200, {}, ""}; });
  S3Client client(FastConfig(server.url()), TestCredentials());
  ASSERT_TRUE(client.PutObject("b", "dir/a b.txt", "hello").ok());
  ASSERT_TRUE(client.DeleteObject("b", "dir/a b.txt").ok());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/b/dir/a%20b.txt");
  EXPECT_EQ(requests[0].body, "hello");
  EXPECT_EQ(requests[0].headers.at("x-amz-content-sha256"), HexEncode(Sha256("hello")));
  EXPECT_EQ(requests[0].headers.at("x-amz-checksum-sha256"), Base64Encode(Sha256("hello")));
  for (const auto& request : requests) {
    EXPECT_EQ(request.headers.at("x-amz-security-token"), kToken);
    EXPECT_TRUE(request.headers.count("x-amz-content-sha256"));
    const std::string authorization = request.headers.at("authorization");
    const std::string signed_headers = authorization.substr(authorization.find("SignedHeaders="));
    for (const char* name :
         {"host;", "x-amz-content-sha256;", "x-amz-date;", "x-amz-security-token,"}) {
      EXPECT_NE(signed_headers.find(name), std::string::npos) << name << " in " << authorization;
    }
    EXPECT_NE(request.headers.at("authorization").find("/eu-west-1/s3/aws4_request"),
              std::string::npos);
  }
}

TEST_F(S3ClientTest, DownloadWithWrongChecksumIsAnIntegrityErrorAndLeavesNothing) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{200, {{"x-amz-checksum-sha256", Base64Encode(Sha256("other"))}}, "bytes"};
  });
  S3Client client(FastConfig(server.url()), TestCredentials());
  const auto got = client.GetObjectToFile("b", "k", temp_ / "out.bin");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.failure().kind, FailureKind::kIntegrity);
  EXPECT_FALSE(fs::exists(temp_ / "out.bin"));
  EXPECT_TRUE(fs::is_empty(temp_)) << "temp file left behind";
}

TEST_F(S3ClientTest, ListFollowsContinuationTokens) {
  FakeHttpServer server([](const FakeRequest& request) {
    const bool second = request.Query().find("continuation-token=t%2F1%3D") != std::string::npos;
    return FakeResponse{
        200,
        {},
        std::string("<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/"
                    "doc/2006-03-01/\"><IsTruncated>") +
            (second ? "false" : "true") + "</IsTruncated>" +
            (second ? "<Contents><Key>p/c &amp; d</Key><Size>3</Size></Contents>"
                    : "<Contents><Key>p/a</Key><Size>1</Size></Contents><Contents><Key>p/b</Key>"
                      "<Size>22</Size></Contents><NextContinuationToken>t/1=</"
                      "NextContinuationToken>") +
            "</ListBucketResult>"};
  });
  S3Client client(FastConfig(server.url()), TestCredentials());
  const auto listed = client.ListObjects("b", "p/");
  ASSERT_TRUE(listed.ok()) << listed.failure().message;
  ASSERT_EQ(listed.value().size(), 3u);
  EXPECT_EQ(listed.value()[1].size, 22u);
  EXPECT_EQ(listed.value()[2].key, "p/c & d");
  EXPECT_EQ(server.requests()[0].Path(), "/b");
}

TEST(S3AddressingTest, VirtualHostedOnAwsPathStyleForDotsAndEndpoints) {
  AwsEnvironment no_env;
  no_env.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  S3ClientConfig config;
  config.region = "eu-west-1";
  const S3Client aws(config, TestCredentials(), no_env);
  EXPECT_EQ(aws.ObjectUrl("my-bucket", "a b/c"),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c");
  EXPECT_EQ(aws.ObjectUrl("my.bucket", "k"), "https://s3.eu-west-1.amazonaws.com/my.bucket/k");

  config.addressing = S3Addressing::kPathStyle;
  EXPECT_EQ(S3Client(config, TestCredentials(), no_env).ObjectUrl("b-1", "k"),
            "https://s3.eu-west-1.amazonaws.com/b-1/k");

  config.addressing = S3Addressing::kAuto;
  config.endpoint_url = "http://127.0.0.1:9000/";
  EXPECT_EQ(S3Client(config, TestCredentials(), no_env).ObjectUrl("b", "k"),
            "http://127.0.0.1:9000/b/k");
}

TEST(S3AddressingTest, EndpointAndRegionComeFromConfigThenEnvironment) {
  std::map<std::string, std::string> vars = {{"AWS_ENDPOINT_URL", "http://generic:1"},
                                             {"AWS_ENDPOINT_URL_S3", "http://s3only:2"},
                                             {"AWS_DEFAULT_REGION", "ap-south-1"},
                                             {"HOME", "/nonexistent"}};
  AwsEnvironment environment;
  environment.env = [&](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  EXPECT_EQ(S3Client({}, TestCredentials(), environment).endpoint(), "http://s3only:2");
  EXPECT_EQ(S3Client({}, TestCredentials(), environment).region(), "ap-south-1");
  vars.erase("AWS_ENDPOINT_URL_S3");
  vars["AWS_REGION"] = "eu-north-1";
  EXPECT_EQ(S3Client({}, TestCredentials(), environment).endpoint(), "http://generic:1");
  EXPECT_EQ(S3Client({}, TestCredentials(), environment).region(), "eu-north-1");
  S3ClientConfig config;
  config.endpoint_url = "http://configured:3";
  config.region = "us-west-2";
  EXPECT_EQ(S3Client(config, TestCredentials(), environment).endpoint(), "http://configured:3");
  EXPECT_EQ(S3Client(config, TestCredentials(), environment).region(), "us-west-2");
}

}  // namespace
}  // namespace rlpipe
