#pragma once
/// Metrics sinks: the console progress line and metrics.csv. Fed by the pipeline from the typed
/// events algorithms emit.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rlpipe::metrics {

/// One metrics row: ordered column → value. Missing values are written empty.
using Row = std::vector<std::pair<std::string, std::optional<double>>>;

/// The fields of one CSV line (RFC 4180 quoting).
std::vector<std::string> SplitCsvLine(const std::string& line);

/// A numeric CSV file as written by CsvSink: a header, then rows (empty or non-numeric cells are
/// missing values).
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<double>>> rows;
  std::optional<size_t> Column(const std::string& name) const;
  /// (x, y) of the rows where both columns have a value, in file order.
  std::vector<std::pair<double, double>> Series(const std::string& x, const std::string& y) const;
};
/// Reads a CSV file written by CsvSink; an absent file is an empty table. Throws IoError.
CsvTable ReadCsvTable(const std::filesystem::path& path);

/// Appends rows to a CSV file; the header is written with the first row. Columns first seen later
/// are appended to the header only if the file is rewritten, so keep row shapes stable.
class CsvSink {
 public:
  /// A new file; with `keep_through_step` (a resumed session), the rows of an existing file whose
  /// `timesteps` column is <= that step are kept and new rows are appended after them (the rows
  /// an interrupted attempt wrote after its checkpoint are dropped).
  explicit CsvSink(const std::filesystem::path& path,
                   std::optional<int64_t> keep_through_step = std::nullopt);
  void Write(const Row& row);
  void Flush();
  /// The `timesteps` of the rows kept from an earlier attempt (empty for a new file).
  const std::set<int64_t>& kept_steps() const { return kept_steps_; }

 private:
  std::set<int64_t> kept_steps_;
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
  /// best eval -640.2 | collect 71% update 24%" (the shares of the elapsed wall time; best eval
  /// once an evaluation ran).
  void Update(int64_t timesteps, int64_t total, double steps_per_second,
              std::optional<double> mean_return, double elapsed_s, double collect_s = 0.0,
              double update_s = 0.0, std::optional<double> best_eval = std::nullopt);
  /// Ends the line (on a terminal) and prints `message` on its own line.
  void Finish(const std::string& message);
  bool is_tty() const { return tty_; }

  /// Pure formatting (tested): bar text for these numbers, no terminal control characters.
  /// The shares are left out when elapsed_s is 0.
  static std::string Format(const std::string& label, int64_t timesteps, int64_t total,
                            double steps_per_second, std::optional<double> mean_return,
                            double elapsed_s = 0.0, double collect_s = 0.0, double update_s = 0.0,
                            std::optional<double> best_eval = std::nullopt);

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
