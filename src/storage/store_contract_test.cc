// The CheckpointStore contract: the same cases on every registered scheme (local disk, and S3
// against s3rver on a loopback port).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/files.h"
#include "storage/checkpoint_store.h"
#include "storage/s3rver_fixture.h"
#include "storage/storage_error.h"

namespace rlpipe {

// Readable test names in ctest ("…/s3" rather than a byte dump).
void PrintTo(StorageScheme scheme, std::ostream* out) { *out << SchemeName(scheme); }

namespace {

namespace fs = std::filesystem;

constexpr char kBucket[] = "rlpipe-contract";

// Wraps a store; records object writes and can fail the Nth one (a crash mid-checkpoint).
class RecordingStore : public CheckpointStore {
 public:
  explicit RecordingStore(CheckpointStore& inner) : inner_(inner) {}

  void PutFile(const std::string& uri, const fs::path& local) override {
    Record(uri);
    inner_.PutFile(uri, local);
  }
  void PutBytes(const std::string& uri, std::string_view bytes) override {
    Record(uri);
    inner_.PutBytes(uri, bytes);
  }
  void GetFile(const std::string& uri, const fs::path& local) override {
    inner_.GetFile(uri, local);
  }
  std::string GetBytes(const std::string& uri) override { return inner_.GetBytes(uri); }
  bool Exists(const std::string& uri) override { return inner_.Exists(uri); }
  std::vector<std::string> List(const std::string& prefix) override { return inner_.List(prefix); }
  void Delete(const std::string& uri) override { inner_.Delete(uri); }

  std::vector<std::string> writes;
  int fail_on_write = -1;  // 0-based index of the write that throws; -1: none

 private:
  void Record(const std::string& uri) {
    if (static_cast<int>(writes.size()) == fail_on_write) {
      throw StorageError("injected failure writing " + uri, true);
    }
    writes.push_back(uri);
  }
  CheckpointStore& inner_;
};

class StoreContractTest : public ::testing::TestWithParam<StorageScheme> {
 protected:
  void SetUp() override {
    temp_ = fs::temp_directory_path() /
            ("rlpipe_contract_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(temp_);
    fs::create_directories(temp_ / "work");

    // One setup per registered scheme: a root URI and a store for it.
    switch (GetParam()) {
      case StorageScheme::kFile:
        root_ = "file://" + (temp_ / "store").string();
        store_ = OpenCheckpointStore(root_);
        break;
      case StorageScheme::kS3: {
        const std::string error = s3rver_.Start(temp_ / "s3rver", {kBucket});
        if (!error.empty()) GTEST_SKIP() << "S3 contract cases need s3rver: " << error;
        StorageOptions options;
        options.s3.endpoint_url = s3rver_.endpoint();
        options.s3.list_page_size = 2;  // several pages in every listing
        options.s3.multipart_threshold_bytes = 64 << 10;
        options.s3.part_size_bytes = 32 << 10;
        options.s3.retry.base_delay = std::chrono::milliseconds(5);
        options.credentials = std::make_shared<StaticCredentialsProvider>(
            AwsCredentials{testing::kS3rverKey, testing::kS3rverSecret, "", std::nullopt, "test"});
        root_ = std::string("s3://") + kBucket + "/contract";
        store_ = OpenCheckpointStore(root_, options);
        break;
      }
    }
  }

  void TearDown() override {
    s3rver_.Stop();
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }

  std::string Uri(const std::string& relative) const { return JoinUri(root_, relative); }
  fs::path Work(const std::string& name) const { return temp_ / "work" / name; }

  fs::path temp_;
  std::string root_;
  testing::S3rverProcess s3rver_;
  std::unique_ptr<CheckpointStore> store_;
};

// A folder that looks like a checkpoint: nested files, one larger than the multipart threshold.
void MakeCheckpointFolder(const fs::path& folder) {
  WriteFileAtomic(folder / "best_model.zip", std::string(200 << 10, 'z') + "tail");
  WriteFileAtomic(folder / "config.yaml", "algorithm: ppo\n");
  WriteFileAtomic(folder / "stats" / "vecnormalize.json", "{\"mean\": [0.5]}");
}

TEST_P(StoreContractTest, RoundTripsFilesAndBytes) {
  WriteFileAtomic(Work("in.bin"), std::string("\0binary\xff", 8));
  store_->PutFile(Uri("a/in.bin"), Work("in.bin"));
  store_->PutBytes(Uri("a/text.txt"), "hello");

  store_->GetFile(Uri("a/in.bin"), Work("out/in.bin"));
  EXPECT_EQ(ReadFile(Work("out/in.bin")), std::string("\0binary\xff", 8));
  EXPECT_EQ(store_->GetBytes(Uri("a/text.txt")), "hello");
  EXPECT_TRUE(store_->Exists(Uri("a/in.bin")));
  EXPECT_EQ(ReadFile(Work("in.bin")), std::string("\0binary\xff", 8)) << "source was modified";
}

TEST_P(StoreContractTest, OverwriteReplacesContents) {
  store_->PutBytes(Uri("k"), "first version, longer");
  store_->PutBytes(Uri("k"), "second");
  EXPECT_EQ(store_->GetBytes(Uri("k")), "second");
  store_->GetFile(Uri("k"), Work("k"));
  EXPECT_EQ(ReadFile(Work("k")), "second");
}

TEST_P(StoreContractTest, MissingKeyIsNotFoundNamingTheKey) {
  EXPECT_FALSE(store_->Exists(Uri("missing/key.bin")));
  WriteFileAtomic(Work("keep.bin"), "old contents");
  try {
    store_->GetFile(Uri("missing/key.bin"), Work("keep.bin"));
    FAIL() << "expected NotFoundError";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("missing/key.bin"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ReadFile(Work("keep.bin")), "old contents") << "a failed Get must not touch the file";
  EXPECT_THROW(store_->GetBytes(Uri("missing/key.bin")), NotFoundError);

  // No temp file is left beside the destination.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(temp_ / "work")) ++files;
  EXPECT_EQ(files, 1);
}

TEST_P(StoreContractTest, ListsEveryKeyUnderAPrefixAcrossPages) {
  std::vector<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    const std::string uri = Uri("run/checkpoints/s" + std::to_string(i) + ".bin");
    store_->PutBytes(uri, std::to_string(i));
    expected.push_back(uri);
  }
  store_->PutBytes(Uri("run/pipeline_state.json"), "{}");
  store_->PutBytes(Uri("runner/other.bin"), "x");
  std::sort(expected.begin(), expected.end());

  EXPECT_EQ(store_->List(Uri("run/checkpoints/")), expected);
  EXPECT_EQ(store_->List(Uri("run/checkpoints/s")), expected);
  EXPECT_EQ(store_->List(Uri("run/")).size(), 8u);
  EXPECT_EQ(store_->List(Uri("run")).size(), 9u) << "a string prefix, as in S3";
  EXPECT_TRUE(store_->List(Uri("nothing/here/")).empty());
}

TEST_P(StoreContractTest, DeleteRemovesAndIsIdempotent) {
  store_->PutBytes(Uri("d/x"), "x");
  store_->Delete(Uri("d/x"));
  EXPECT_FALSE(store_->Exists(Uri("d/x")));
  EXPECT_NO_THROW(store_->Delete(Uri("d/x")));
}

TEST_P(StoreContractTest, CheckpointRoundTripsWithManifest) {
  MakeCheckpointFolder(Work("ckpt"));
  store_->PutCheckpoint(Work("ckpt"), Uri("checkpoints/session_1"));
  EXPECT_TRUE(store_->IsCompleteCheckpoint(Uri("checkpoints/session_1")));

  store_->GetCheckpoint(Uri("checkpoints/session_1"), Work("restored"));
  for (const char* name : {"best_model.zip", "config.yaml", "stats/vecnormalize.json"}) {
    EXPECT_EQ(ReadFile(Work("restored") / name), ReadFile(Work("ckpt") / name)) << name;
  }
  const std::string manifest = ReadFile(Work("restored/manifest.json"));
  EXPECT_NE(manifest.find("\"stats/vecnormalize.json\""), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"sha256\""), std::string::npos) << manifest;
}

TEST_P(StoreContractTest, ManifestIsWrittenLastSoAHalfCheckpointIsIncomplete) {
  MakeCheckpointFolder(Work("ckpt"));

  // Order of writes: every object, then the manifest.
  RecordingStore recording(*store_);
  recording.PutCheckpoint(Work("ckpt"), Uri("c1"));
  ASSERT_EQ(recording.writes.size(), 4u);
  EXPECT_EQ(recording.writes.back(), Uri("c1/manifest.json"));

  // A failure on the last object: the objects before it exist, the checkpoint does not.
  RecordingStore failing(*store_);
  failing.fail_on_write = 2;
  EXPECT_THROW(failing.PutCheckpoint(Work("ckpt"), Uri("c2")), StorageError);
  EXPECT_EQ(store_->List(Uri("c2/")).size(), 2u);
  EXPECT_FALSE(store_->IsCompleteCheckpoint(Uri("c2")));
  try {
    store_->GetCheckpoint(Uri("c2"), Work("restored"));
    FAIL() << "expected NotFoundError";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("c2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("manifest.json"), std::string::npos) << e.what();
  }
}

TEST_P(StoreContractTest, CorruptedObjectIsDetectedByTheManifest) {
  MakeCheckpointFolder(Work("ckpt"));
  store_->PutCheckpoint(Work("ckpt"), Uri("c"));
  store_->PutBytes(Uri("c/config.yaml"), "algorithm: sac\n");  // same size, other bytes

  try {
    store_->GetCheckpoint(Uri("c"), Work("restored"));
    FAIL() << "expected IntegrityError";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("config.yaml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("SHA-256"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(Work("restored/config.yaml"))) << "a corrupt object must not be kept";
  EXPECT_FALSE(fs::exists(Work("restored/manifest.json")));
}

TEST_P(StoreContractTest, ManifestPathsCannotLeaveTheFolder) {
  store_->PutBytes(Uri("evil/manifest.json"),
                   R"({"format": "rlpipe.checkpoint-manifest.v1", "objects": [)"
                   R"({"path": "../../escape", "size": 1, "sha256": "00"}]})");
  EXPECT_THROW(store_->GetCheckpoint(Uri("evil"), Work("restored")), IntegrityError);
}

std::string SchemeTestName(const ::testing::TestParamInfo<StorageScheme>& info) {
  return std::string(SchemeName(info.param));
}

// Every registered scheme runs the contract; a new scheme needs a case in SetUp().
INSTANTIATE_TEST_SUITE_P(AllSchemes, StoreContractTest,
                         ::testing::ValuesIn(RegisteredStorageSchemes()), SchemeTestName);

TEST(StoreRegistryTest, ChoosesTheStoreByScheme) {
  EXPECT_NO_THROW(OpenCheckpointStore("file:///tmp/x"));
  EXPECT_NO_THROW(OpenCheckpointStore("relative/path"));
  EXPECT_NO_THROW(OpenCheckpointStore("s3://bucket/prefix"));
  try {
    OpenCheckpointStore("gs://bucket/key");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("gs"), std::string::npos);
  }
  EXPECT_THROW(OpenCheckpointStore("file://host/path"), ConfigError);
  EXPECT_THROW(OpenCheckpointStore("s3:///key"), ConfigError);
}

}  // namespace
}  // namespace rlpipe
