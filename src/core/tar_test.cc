#include "core/tar.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

/// Runs a shell command; returns its exit status and stdout.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  return {pclose(pipe), output};
}

TEST(TarGzTest, GnuTarExtractsWhatWasWrittenAndSkipsWhatWasLeftOut) {
  const fs::path dir = fs::path(::testing::TempDir()) / "tar_test";
  fs::remove_all(dir);
  const fs::path run = dir / "run";
  const std::string long_name(140, 'x');
  WriteFileAtomic(run / "pipeline_state.json", "{\"a\": 1}\n");
  WriteFileAtomic(run / "s1" / "models" / "best_model.zip", std::string(1500, '\x7f'));
  WriteFileAtomic(run / "s1" / "logs" / (long_name + ".csv"), "t,r\n1,2\n");
  WriteFileAtomic(run / "s1" / "models.partial" / "junk.zip", "half");
  WriteFileAtomic(run / ".rlpipe.lock", "");

  const size_t files =
      WriteTarGz(run, "my_pipe-r1", dir / "out" / "my_pipe-r1.tar.gz", [](const fs::path& rel) {
        return rel.filename() == "models.partial" || rel.filename() == ".rlpipe.lock";
      });
  EXPECT_EQ(files, 3u);

  // GNU tar, an independent reader, extracts the same bytes.
  const fs::path extract = dir / "extract";
  fs::create_directories(extract);
  const auto [status, listing] =
      Shell("tar -xzvf '" + (dir / "out" / "my_pipe-r1.tar.gz").string() + "' -C '" +
            extract.string() + "'");
  ASSERT_EQ(status, 0) << listing;
  EXPECT_EQ(ReadFile(extract / "my_pipe-r1" / "pipeline_state.json"), "{\"a\": 1}\n");
  EXPECT_EQ(ReadFile(extract / "my_pipe-r1" / "s1" / "models" / "best_model.zip"),
            std::string(1500, '\x7f'));
  EXPECT_EQ(ReadFile(extract / "my_pipe-r1" / "s1" / "logs" / (long_name + ".csv")), "t,r\n1,2\n");
  EXPECT_FALSE(fs::exists(extract / "my_pipe-r1" / "s1" / "models.partial"));
  EXPECT_FALSE(fs::exists(extract / "my_pipe-r1" / ".rlpipe.lock"));
  // No temp file is left beside the archive.
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir / "out")) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
  fs::remove_all(dir);
}

TEST(TarGzTest, AnUnwritableDestinationIsAnIoErrorAndLeavesNothing) {
  const fs::path dir = fs::path(::testing::TempDir()) / "tar_test_unwritable";
  fs::remove_all(dir);
  WriteFileAtomic(dir / "run" / "a.txt", "a");
  WriteFileAtomic(dir / "blocker", "a file where a folder should be");
  EXPECT_THROW(WriteTarGz(dir / "run", "run", dir / "blocker" / "x.tar.gz"), IoError);
  EXPECT_FALSE(fs::exists(dir / "blocker" / "x.tar.gz"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rlpipe
