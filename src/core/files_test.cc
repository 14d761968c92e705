#include "core/files.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "core/error.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed at the end of the test.
class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rlpipe_files_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Listing(const fs::path& dir) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST_F(FilesTest, AtomicWriteReplacesWholeFileAndLeavesNoTemp) {
  const fs::path file = dir_ / "state.json";
  WriteFileAtomic(file, std::string(10000, 'a'));
  WriteFileAtomic(file, "short");
  EXPECT_EQ(ReadFile(file), "short");
  EXPECT_EQ(Listing(dir_), std::vector<std::string>{"state.json"});
}

TEST_F(FilesTest, AtomicWriteCreatesParentFolders) {
  const fs::path file = dir_ / "a" / "b" / "c.txt";
  WriteFileAtomic(file, std::string("x\0y", 3));
  EXPECT_EQ(ReadFile(file), std::string("x\0y", 3));
}

TEST_F(FilesTest, AtomicWriteFailureNamesPathAndLeavesNoTemp) {
  // The target is an existing non-empty folder, so the final rename fails.
  const fs::path target = dir_ / "occupied";
  fs::create_directories(target / "inside");
  try {
    WriteFileAtomic(target, "data");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(target.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(Listing(dir_), std::vector<std::string>{"occupied"});
}

TEST_F(FilesTest, ReadMissingFileThrowsIoErrorNamingPath) {
  const fs::path missing = dir_ / "missing.yaml";
  try {
    ReadFile(missing);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.yaml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

TEST_F(FilesTest, FileLockExcludesOtherProcesses) {
  const fs::path lock_path = dir_ / "pipeline.lock";

  // A child process reports (by exit code) whether it could take the lock.
  auto child_can_lock = [&] {
    const pid_t pid = ::fork();
    if (pid == 0) {
      FileLock other;
      ::_exit(other.TryLock(lock_path) ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };

  // While we hold the lock, the child fails; once released, it succeeds.
  {
    FileLock lock;
    ASSERT_TRUE(lock.TryLock(lock_path));
    EXPECT_TRUE(fs::exists(lock_path));
    EXPECT_FALSE(child_can_lock());
  }
  EXPECT_TRUE(child_can_lock());
}

TEST(NowIso8601Test, HasUtcSecondsFormat) {
  EXPECT_TRUE(std::regex_match(NowIso8601(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << NowIso8601();
}

}  // namespace
}  // namespace rlpipe
