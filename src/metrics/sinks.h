#pragma once
/// Metrics sinks: the console progress line and metrics.csv. Fed by the pipeline from the typed
/// events algorithms emit.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rlpipe::metrics {

/// One metrics row: ordered column → value. Missing values are written empty.
using Row = std::vector<std::pair<std::string, std::optional<double>>>;

/// Appends rows to a CSV file; the header is written with the first row. Columns first seen later
/// are appended to the header only if the file is rewritten, so keep row shapes stable.
class CsvSink {
 public:
  explicit CsvSink(const std::filesystem::path& path);
  void Write(const Row& row);
  void Flush();

 private:
  std::filesystem::path path_;
  std::ofstream out_;
  std::vector<std::string> columns_;
};

/// Live progress: one redrawn line on a terminal; plain lines (at most every `min_interval_s`)
/// when the stream is not a terminal.
class ConsoleProgress {
 public:
  ConsoleProgress(std::string label, std::FILE* stream, double min_interval_s = 5.0);
  /// Renders e.g. "[height] 40960/100000 (41%) | 3120 steps/s | ETA 0:19 | mean return -812.4 |
  /// collect 71% update 24%" (the shares of the elapsed wall time).
  void Update(int64_t timesteps, int64_t total, double steps_per_second,
              std::optional<double> mean_return, double elapsed_s, double collect_s = 0.0,
              double update_s = 0.0);
  /// Ends the line (on a terminal) and prints `message` on its own line.
  void Finish(const std::string& message);
  bool is_tty() const { return tty_; }

  /// Pure formatting (tested): bar text for these numbers, no terminal control characters.
  /// The shares are left out when elapsed_s is 0.
  static std::string Format(const std::string& label, int64_t timesteps, int64_t total,
                            double steps_per_second, std::optional<double> mean_return,
                            double elapsed_s = 0.0, double collect_s = 0.0, double update_s = 0.0);

 private:
  std::string label_;
  std::FILE* stream_;
  double min_interval_s_;
  bool tty_;
  double last_print_s_ = -1e9;
  bool line_open_ = false;
};

/// "1:02:03" or "2:03".
std::string FormatDuration(double seconds);

}  // namespace rlpipe::metrics
