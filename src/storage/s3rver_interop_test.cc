// Interop with the reference client: what rlpipe writes to s3rver, `aws s3` lists and downloads;
// what `aws s3` uploads, rlpipe reads. Plus a server that is gone: retries, then a clear error.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/files.h"
#include "storage/checkpoint_store.h"
#include "storage/s3rver_fixture.h"
#include "storage/storage_error.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;
using testing::ShellQuote;

constexpr char kBucket[] = "rlpipe-interop";

class S3rverInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = fs::temp_directory_path() / ("rlpipe_interop_" + std::to_string(::getpid()));
    fs::remove_all(temp_);
    fs::create_directories(temp_ / "work");
    const std::string error = s3rver_.Start(temp_ / "s3rver", {kBucket});
    if (!error.empty()) GTEST_SKIP() << "needs s3rver: " << error;

    StorageOptions options;
    options.s3.endpoint_url = s3rver_.endpoint();
    options.s3.multipart_threshold_bytes = 100 << 10;  // the model goes up in parts
    options.s3.part_size_bytes = 64 << 10;
    options.s3.retry.max_attempts = 3;
    options.s3.retry.base_delay = std::chrono::milliseconds(5);
    options.s3.connect_timeout = std::chrono::milliseconds(500);
    options.credentials = std::make_shared<StaticCredentialsProvider>(
        AwsCredentials{testing::kS3rverKey, testing::kS3rverSecret, "", std::nullopt, "test"});
    store_ = OpenCheckpointStore("s3://" + std::string(kBucket), options);
  }
  void TearDown() override {
    s3rver_.Stop();
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }

  // Runs `aws --endpoint-url ... <args>` isolated from the user's AWS settings.
  testing::CommandResult Aws(const std::string& args) {
    const std::string command =
        "env -u AWS_PROFILE -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_SESSION_TOKEN "
        "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
        "AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent "
        "AWS_EC2_METADATA_DISABLED=true AWS_REQUEST_CHECKSUM_CALCULATION=when_required "
        "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required aws --endpoint-url " +
        s3rver_.endpoint() + " " + args;
    return testing::RunCommand(command);
  }

  void RequireAws() {
    if (testing::FindOnPath("aws").empty()) GTEST_SKIP() << "awscli is not installed";
  }

  fs::path temp_;
  testing::S3rverProcess s3rver_;
  std::unique_ptr<CheckpointStore> store_;
};

TEST_F(S3rverInteropTest, AwsCliListsAndDownloadsWhatRlpipeWrote) {
  RequireAws();
  const fs::path checkpoint = temp_ / "work/ckpt";
  const std::string model = std::string(300 << 10, 'w') + "end";  // multipart: 5 parts
  WriteFileAtomic(checkpoint / "best_model.zip", model);
  WriteFileAtomic(checkpoint / "config.yaml", "algorithm: ppo\n");
  store_->PutCheckpoint(checkpoint, std::string("s3://") + kBucket + "/P/run-1/checkpoints/s1");
  store_->PutBytes(std::string("s3://") + kBucket + "/P/run-1/pipeline_state.json", "{}");

  const auto listed = Aws("s3 ls --recursive s3://" + std::string(kBucket) + "/P/");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  for (const char* key :
       {"P/run-1/checkpoints/s1/best_model.zip", "P/run-1/checkpoints/s1/config.yaml",
        "P/run-1/checkpoints/s1/manifest.json", "P/run-1/pipeline_state.json"}) {
    EXPECT_NE(listed.output.find(key), std::string::npos) << key << " in:\n" << listed.output;
  }
  const fs::path downloaded = temp_ / "work/from_aws.zip";
  const auto copied = Aws("s3 cp s3://" + std::string(kBucket) +
                          "/P/run-1/checkpoints/s1/best_model.zip " + ShellQuote(downloaded));
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  EXPECT_EQ(ReadFile(downloaded), model);
}

TEST_F(S3rverInteropTest, RlpipeReadsWhatAwsCliUploaded) {
  RequireAws();
  const fs::path source = temp_ / "work/upload.bin";
  WriteFileAtomic(source, std::string(5000, 'a') + "uploaded by aws");
  const auto copied = Aws("s3 cp " + ShellQuote(source) + " s3://" + std::string(kBucket) +
                          "/from-aws/dir/upload.bin");
  ASSERT_EQ(copied.exit_code, 0) << copied.output;

  const std::string uri = std::string("s3://") + kBucket + "/from-aws/dir/upload.bin";
  EXPECT_TRUE(store_->Exists(uri));
  store_->GetFile(uri, temp_ / "work/out/upload.bin");
  EXPECT_EQ(ReadFile(temp_ / "work/out/upload.bin"), ReadFile(source));
  EXPECT_EQ(store_->List(std::string("s3://") + kBucket + "/from-aws/"),
            std::vector<std::string>{uri});
}

TEST_F(S3rverInteropTest, StoppedServerRetriesThenFailsClearlyLeavingLocalFilesIntact) {
  const std::string uri = std::string("s3://") + kBucket + "/run/model.zip";
  WriteFileAtomic(temp_ / "work/model.zip", "model v1");
  store_->PutFile(uri, temp_ / "work/model.zip");
  s3rver_.Stop();

  // Upload: retried, then a retryable StorageError naming the object; the file is unchanged.
  WriteFileAtomic(temp_ / "work/model.zip", std::string(200 << 10, '2'));
  try {
    store_->PutFile(uri, temp_ / "work/model.zip");
    FAIL() << "expected StorageError";
  } catch (const StorageError& e) {
    EXPECT_TRUE(e.retryable());
    EXPECT_NE(std::string(e.what()).find(uri), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("gave up after 3 attempts"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ReadFile(temp_ / "work/model.zip"), std::string(200 << 10, '2'));

  // Download: the existing local copy is not clobbered.
  WriteFileAtomic(temp_ / "work/local.zip", "local copy");
  EXPECT_THROW(store_->GetFile(uri, temp_ / "work/local.zip"), StorageError);
  EXPECT_EQ(ReadFile(temp_ / "work/local.zip"), "local copy");
}

}  // namespace
}  // namespace rlpipe
