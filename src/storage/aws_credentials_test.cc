// The credentials chain in its standard order, with the environment, home folder and metadata
// endpoints all replaced: a map, a temp folder and a loopback fake server.
#include "storage/aws_credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>

#include "core/files.h"
#include "storage/fake_http_server.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("rlpipe_creds_" + std::to_string(::getpid()));
    fs::remove_all(home_);
    fs::create_directories(home_);
    environment_.env = [this](const std::string& name) -> std::optional<std::string> {
      const auto it = vars_.find(name);
      return it == vars_.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    environment_.home = home_;
    environment_.metadata_timeout = std::chrono::milliseconds(300);
    // Nothing answers here: a refused port, standing in for "not on EC2".
    environment_.imds_endpoint = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  }
  void TearDown() override { fs::remove_all(home_); }

  Result<AwsCredentials> Resolve() { return DefaultCredentialsChain(environment_).Get(); }

  fs::path home_;
  std::map<std::string, std::string> vars_;
  AwsEnvironment environment_;
};

std::string CredentialsJson(const std::string& key, const std::string& expiration) {
  return R"({"Code": "Success", "AccessKeyId": ")" + key +
         R"(", "SecretAccessKey": "SECRETFROMMETADATA", "Token": "TOKENFROMMETADATA", )"
         R"("Expiration": ")" +
         expiration + R"("})";
}

TEST_F(CredentialsTest, EnvironmentComesFirst) {
  vars_ = {{"AWS_ACCESS_KEY_ID", "AKIDENV"},
           {"AWS_SECRET_ACCESS_KEY", "secretenv"},
           {"AWS_SESSION_TOKEN", "tokenenv"}};
  WriteFileAtomic(home_ / ".aws/credentials",
                  "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  const auto credentials = Resolve();
  ASSERT_TRUE(credentials.ok()) << credentials.failure().message;
  EXPECT_EQ(credentials.value().access_key_id, "AKIDENV");
  EXPECT_EQ(credentials.value().session_token, "tokenenv");
  EXPECT_EQ(credentials.value().source, "environment");
}

TEST_F(CredentialsTest, SharedFilesHonourProfileAndFileVariables) {
  WriteFileAtomic(home_ / ".aws/credentials",
                  "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
                  "aws_secret_access_key = s1\n\n[dev]\naws_access_key_id=AKIDDEV\n"
                  "aws_secret_access_key=s2\naws_session_token = t2\n");
  WriteFileAtomic(home_ / ".aws/config",
                  "[default]\nregion = eu-west-3\n[profile dev]\nregion = ap-northeast-1\n"
                  "s3 =\n  addressing_style = path\n[profile cfgonly]\n"
                  "aws_access_key_id = AKIDCONFIG\naws_secret_access_key = s3\n");
  auto credentials = Resolve();
  ASSERT_TRUE(credentials.ok()) << credentials.failure().message;
  EXPECT_EQ(credentials.value().access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(ResolveRegion("", environment_), "eu-west-3");

  vars_["AWS_PROFILE"] = "dev";
  credentials = Resolve();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials.value().access_key_id, "AKIDDEV");
  EXPECT_EQ(credentials.value().session_token, "t2");
  EXPECT_NE(credentials.value().source.find("[dev]"), std::string::npos);
  EXPECT_EQ(ResolveRegion("", environment_), "ap-northeast-1");
  vars_["AWS_REGION"] = "us-west-1";
  EXPECT_EQ(ResolveRegion("", environment_), "us-west-1");
  EXPECT_EQ(ResolveRegion("sa-east-1", environment_), "sa-east-1");

  vars_["AWS_PROFILE"] = "cfgonly";
  credentials = Resolve();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials.value().access_key_id, "AKIDCONFIG");

  // Files elsewhere.
  WriteFileAtomic(home_ / "other/creds",
                  "[dev]\naws_access_key_id=AKIDOTHER\n"
                  "aws_secret_access_key=s4\n");
  vars_["AWS_PROFILE"] = "dev";
  vars_["AWS_SHARED_CREDENTIALS_FILE"] = (home_ / "other/creds").string();
  credentials = Resolve();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials.value().access_key_id, "AKIDOTHER");

  // A profile that exists nowhere is an error, not a silent fallback.
  vars_["AWS_PROFILE"] = "typo";
  credentials = Resolve();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.failure().message.find("'typo'"), std::string::npos);
}

TEST_F(CredentialsTest, ContainerRelativeUriAgainstTheContainerHost) {
  FakeHttpServer server([](const FakeRequest& request) {
    if (request.target != "/v2/credentials/abc") return FakeResponse{404, {}, ""};
    return FakeResponse{200, {}, CredentialsJson("AKIDCONTAINER", "2099-01-01T00:00:00Z")};
  });
  environment_.container_endpoint = server.url();
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc";
  const auto credentials = Resolve();
  ASSERT_TRUE(credentials.ok()) << credentials.failure().message;
  EXPECT_EQ(credentials.value().access_key_id, "AKIDCONTAINER");
  EXPECT_EQ(credentials.value().session_token, "TOKENFROMMETADATA");
  ASSERT_TRUE(credentials.value().expiration.has_value());
}

TEST_F(CredentialsTest, ContainerFullUriSendsTheAuthorizationToken) {
  FakeHttpServer server([](const FakeRequest& request) {
    if (request.headers.count("authorization") == 0 ||
        request.headers.at("authorization") != "Bearer CONTAINERSECRET") {
      return FakeResponse{401, {}, ""};
    }
    return FakeResponse{200, {}, CredentialsJson("AKIDPOD", "2099-01-01T00:00:00Z")};
  });
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server.url() + "/creds";
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer CONTAINERSECRET";
  auto credentials = Resolve();
  ASSERT_TRUE(credentials.ok()) << credentials.failure().message;
  EXPECT_EQ(credentials.value().access_key_id, "AKIDPOD");

  // A refused token is a clear failure without the token in it.
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer WRONGSECRET";
  credentials = Resolve();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.failure().message.find("401"), std::string::npos);
  EXPECT_EQ(credentials.failure().message.find("WRONGSECRET"), std::string::npos);

  // Plain http to a non-loopback host is refused.
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds";
  EXPECT_FALSE(Resolve().ok());
}

TEST_F(CredentialsTest, InstanceMetadataV2TokenThenRoleThenCredentials) {
  FakeHttpServer server([](const FakeRequest& request) {
    if (request.method == "PUT" && request.target == "/latest/api/token") {
      if (!request.headers.count("x-aws-ec2-metadata-token-ttl-seconds")) return FakeResponse{400};
      return FakeResponse{200, {}, "IMDSTOKEN"};
    }
    if (!request.headers.count("x-aws-ec2-metadata-token") ||
        request.headers.at("x-aws-ec2-metadata-token") != "IMDSTOKEN") {
      return FakeResponse{401, {}, ""};
    }
    if (request.target == "/latest/meta-data/iam/security-credentials/") {
      return FakeResponse{200, {}, "trainer-role\n"};
    }
    if (request.target == "/latest/meta-data/iam/security-credentials/trainer-role") {
      return FakeResponse{200, {}, CredentialsJson("AKIDIMDS", "2099-01-01T00:00:00Z")};
    }
    return FakeResponse{404, {}, ""};
  });
  environment_.imds_endpoint = server.url();
  const auto credentials = Resolve();
  ASSERT_TRUE(credentials.ok()) << credentials.failure().message;
  EXPECT_EQ(credentials.value().access_key_id, "AKIDIMDS");
  EXPECT_NE(credentials.value().source.find("trainer-role"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 3u);

  // AWS_EC2_METADATA_DISABLED skips it.
  vars_["AWS_EC2_METADATA_DISABLED"] = "true";
  EXPECT_FALSE(Resolve().ok());
}

TEST_F(CredentialsTest, ExpiringCredentialsAreRefreshedAndOthersCached) {
  std::atomic<int> fetches{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++fetches;
    // Expires in 2 minutes: inside the 5-minute refresh margin, so every Get refetches.
    const auto soon = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                           std::chrono::minutes(2));
    char expiration[32];
    std::tm utc{};
    gmtime_r(&soon, &utc);
    std::strftime(expiration, sizeof(expiration), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return FakeResponse{200, {}, CredentialsJson("AKIDSHORT", expiration)};
  });
  environment_.container_endpoint = server.url();
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/c";
  DefaultCredentialsChain chain(environment_);
  ASSERT_TRUE(chain.Get().ok());
  ASSERT_TRUE(chain.Get().ok());
  EXPECT_EQ(fetches.load(), 2);

  vars_ = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "secretenv"}};
  DefaultCredentialsChain cached(environment_);
  ASSERT_TRUE(cached.Get().ok());
  vars_.clear();
  EXPECT_TRUE(cached.Get().ok()) << "long-term credentials are cached";
}

TEST_F(CredentialsTest, NothingConfiguredFailsFastAndSaysWhereItLooked) {
  const auto start = std::chrono::steady_clock::now();
  const auto credentials = Resolve();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.failure().kind, FailureKind::kCredentials);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  for (const char* place : {"environment", "credentials", "container", "instance metadata"}) {
    EXPECT_NE(credentials.failure().message.find(place), std::string::npos) << place;
  }
}

TEST(IniTest, ParsesSectionsCommentsAndNestedBlocks) {
  const IniSections ini = ParseIni(
      "; top comment\n[default]\nRegion = eu-west-1 \ns3 =\n  max_concurrent_requests = 4\n"
      "[profile x]\n# c\nkey=v=w\n");
  EXPECT_EQ(ini.at("default").at("region"), "eu-west-1");
  EXPECT_EQ(ini.at("default").count("max_concurrent_requests"), 0u);
  EXPECT_EQ(ini.at("profile x").at("key"), "v=w");
}

TEST(Iso8601Test, ParsesUtcTimestamps) {
  const auto parsed = ParseIso8601("2015-08-30T12:36:00Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*parsed), 1440938160);
  EXPECT_FALSE(ParseIso8601("yesterday").has_value());
}

}  // namespace
}  // namespace rlpipe
