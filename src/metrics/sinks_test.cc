#include "metrics/sinks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "core/error.h"

namespace rlpipe::metrics {
namespace {

namespace fs = std::filesystem;

/// A fresh folder under the test temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() : path_(fs::path(::testing::TempDir()) / ("sinks_test_" + UniqueName())) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static std::string UniqueName() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->test_suite_name()) + "_" + info->name();
  }
  fs::path path_;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// What a stream written by `fn` contains.
template <typename Fn>
std::string Captured(Fn fn) {
  std::FILE* file = std::tmpfile();
  fn(file);
  std::fflush(file);
  std::rewind(file);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) text += static_cast<char>(c);
  std::fclose(file);
  return text;
}

TEST(FormatDurationTest, MinutesAndHours) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(19.4), "0:19");
  EXPECT_EQ(FormatDuration(59.6), "1:00");
  EXPECT_EQ(FormatDuration(123), "2:03");
  EXPECT_EQ(FormatDuration(3599), "59:59");
  EXPECT_EQ(FormatDuration(3600), "1:00:00");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(100 * 3600 + 5), "100:00:05");
  EXPECT_EQ(FormatDuration(-3), "0:00");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "--");
  EXPECT_EQ(FormatDuration(std::nan("")), "--");
}

TEST(ConsoleProgressTest, FormatShowsProgressRateEtaAndReturn) {
  EXPECT_EQ(ConsoleProgress::Format("height", 40960, 100000, 3120, -812.44),
            "[height] 40960/100000 (41%) | 3120 steps/s | ETA 0:19 | mean return -812.4");
  EXPECT_EQ(ConsoleProgress::Format("p", 0, 1000, 0, std::nullopt),
            "[p] 0/1000 (0%) | 0 steps/s | ETA -- | mean return n/a");
  EXPECT_EQ(ConsoleProgress::Format("", 1000, 1000, 250.4, 3.0),
            "1000/1000 (100%) | 250 steps/s | ETA 0:00 | mean return 3.0");
  // Almost done is not 100%.
  EXPECT_EQ(ConsoleProgress::Format("a", 9999, 10000, 1, 0.0),
            "[a] 9999/10000 (99%) | 1 steps/s | ETA 0:01 | mean return 0.0");
  // Long runs show hours.
  EXPECT_EQ(ConsoleProgress::Format("b", 0, 7200000, 1000, -1.25),
            "[b] 0/7200000 (0%) | 1000 steps/s | ETA 2:00:00 | mean return -1.2");
  // With the elapsed time: the shares spent collecting and updating.
  EXPECT_EQ(
      ConsoleProgress::Format("c", 500, 1000, 50, 1.0, 10.0, 7.04, 2.5),
      "[c] 500/1000 (50%) | 50 steps/s | ETA 0:10 | mean return 1.0 | collect 70% update 25%");
}

TEST(ConsoleProgressTest, PlainLinesAreThrottledWhenNotATerminal) {
  const std::string text = Captured([](std::FILE* file) {
    ConsoleProgress progress("s", file, 5.0);
    EXPECT_FALSE(progress.is_tty());
    progress.Update(10, 100, 10, std::nullopt, 1.0, 0.5, 0.25);  // printed (first)
    progress.Update(20, 100, 10, std::nullopt, 3.0, 1.0, 1.0);   // too soon
    progress.Update(60, 100, 10, 2.0, 6.0, 3.0, 1.5);            // 5 s later: printed
    progress.Update(70, 100, 10, 2.0, 7.0, 3.0, 2.0);            // too soon
    progress.Update(100, 100, 10, 2.0, 8.0, 4.0, 2.0);           // the end: always printed
    progress.Finish("done");
  });
  EXPECT_EQ(
      text,
      "[s] 10/100 (10%) | 10 steps/s | ETA 0:09 | mean return n/a | collect 50% update 25%\n"
      "[s] 60/100 (60%) | 10 steps/s | ETA 0:04 | mean return 2.0 | collect 50% update 25%\n"
      "[s] 100/100 (100%) | 10 steps/s | ETA 0:00 | mean return 2.0 | collect 50% update 25%\n"
      "done\n");
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(CsvSinkTest, WritesHeaderRowsAndEmptyCellsExactly) {
  TempDir dir;
  const fs::path path = dir.path() / "metrics.csv";
  {
    CsvSink sink(path);
    sink.Write({{"timesteps", 2048}, {"mean_return", -1234.56789012345}, {"loss", std::nullopt}});
    // Flushed per row: readable before the sink closes.
    EXPECT_EQ(Slurp(path), "timesteps,mean_return,loss\n2048,-1234.56789,\n");
    sink.Write({{"timesteps", 4096}, {"mean_return", 1e-12}, {"loss", 0.5}});
    // A row with a column missing and a different order still follows the header.
    sink.Write({{"loss", 0.25}, {"timesteps", 6144}});
  }
  EXPECT_EQ(Slurp(path),
            "timesteps,mean_return,loss\n"
            "2048,-1234.56789,\n"
            "4096,1e-12,0.5\n"
            "6144,,0.25\n");
}

TEST(CsvSinkTest, NewColumnRewritesTheHeader) {
  TempDir dir;
  const fs::path path = dir.path() / "m.csv";
  CsvSink sink(path);
  sink.Write({{"a", 1}, {"b", 2}});
  sink.Write({{"a", 3}, {"c", 4}});
  sink.Write({{"a", 5}, {"b", 6}, {"c", 7}});
  EXPECT_EQ(Slurp(path), "a,b,c\n1,2,\n3,,4\n5,6,7\n");
}

TEST(CsvSinkTest, QuotesNamesAndKeepsPrecision) {
  TempDir dir;
  const fs::path path = dir.path() / "q.csv";
  {
    CsvSink sink(path);
    sink.Write({{"x,y", 0.1234567890123}, {"say \"hi\"", 12345678901.0}});
  }
  EXPECT_EQ(Slurp(path), "\"x,y\",\"say \"\"hi\"\"\"\n0.123456789,1.23456789e+10\n");
}

TEST(CsvSinkTest, ReplacesAnOldFileAndFailsOnABadPath) {
  TempDir dir;
  const fs::path path = dir.path() / "old.csv";
  std::ofstream(path) << "stale\n";
  { CsvSink sink(path); }
  EXPECT_EQ(Slurp(path), "");
  EXPECT_THROW(CsvSink(dir.path() / "missing" / "x.csv"), IoError);
}

}  // namespace
}  // namespace rlpipe::metrics
