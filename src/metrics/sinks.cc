#include "metrics/sinks.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::metrics {
namespace {

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

/// A number with 10 significant digits ("%.10g"); empty when missing.
std::string CsvCell(const std::optional<double>& value) {
  if (!value) return "";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.10g", *value);
  return buffer;
}

/// "a,b,c\n"
std::string HeaderLine(const std::vector<std::string>& columns) {
  std::string line;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) line += ',';
    line += CsvField(columns[i]);
  }
  return line + "\n";
}

}  // namespace

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::optional<size_t> CsvTable::Column(const std::string& name) const {
  const auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) return std::nullopt;
  return static_cast<size_t>(it - columns.begin());
}

std::vector<std::pair<double, double>> CsvTable::Series(const std::string& x,
                                                        const std::string& y) const {
  std::vector<std::pair<double, double>> points;
  const std::optional<size_t> xi = Column(x), yi = Column(y);
  if (!xi || !yi) return points;
  for (const auto& row : rows) {
    if (row[*xi] && row[*yi]) points.emplace_back(*row[*xi], *row[*yi]);
  }
  return points;
}

CsvTable ReadCsvTable(const std::filesystem::path& path) {
  CsvTable table;
  if (!std::filesystem::exists(path)) return table;
  std::istringstream in(ReadFile(path));
  std::string line;
  if (!std::getline(in, line)) return table;
  table.columns = SplitCsvLine(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = SplitCsvLine(line);
    std::vector<std::optional<double>> row(table.columns.size());
    for (size_t i = 0; i < row.size() && i < fields.size(); ++i) {
      char* end = nullptr;
      const double value = std::strtod(fields[i].c_str(), &end);
      if (!fields[i].empty() && end != nullptr && *end == '\0') row[i] = value;
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

CsvSink::CsvSink(const std::filesystem::path& path, std::optional<int64_t> keep_through_step)
    : path_(path) {
  // A resumed session keeps its earlier rows up to the checkpoint's step, with their header.
  if (keep_through_step && std::filesystem::exists(path_)) {
    std::istringstream old(ReadFile(path_));
    std::string line;
    if (std::getline(old, line) && !line.empty()) {
      columns_ = SplitCsvLine(line);
      const auto step_column = std::find(columns_.begin(), columns_.end(), "timesteps");
      std::string contents = line + "\n";
      while (std::getline(old, line)) {
        if (line.empty()) continue;
        const std::vector<std::string> fields = SplitCsvLine(line);
        const size_t index = static_cast<size_t>(step_column - columns_.begin());
        if (step_column == columns_.end() || index >= fields.size()) continue;
        const double step = std::strtod(fields[index].c_str(), nullptr);
        if (step <= static_cast<double>(*keep_through_step)) {
          contents += line + "\n";
          kept_steps_.insert(static_cast<int64_t>(step));
        }
      }
      WriteFileAtomic(path_, contents);
      out_.open(path_, std::ios::out | std::ios::app);
      if (!out_) {
        throw IoError("cannot open '" + path_.string() +
                      "' for appending: " + std::strerror(errno));
      }
      return;
    }
  }

  // A new file per sink; the header comes with the first row.
  out_.open(path_, std::ios::out | std::ios::trunc);
  if (!out_) {
    throw IoError("cannot open '" + path_.string() + "' for writing: " + std::strerror(errno));
  }
}

void CsvSink::Write(const Row& row) {
  if (row.empty()) return;

  // Columns this row adds: the first row writes the header, later ones rewrite the file.
  std::vector<std::string> added;
  for (const auto& [name, value] : row) {
    if (std::find(columns_.begin(), columns_.end(), name) == columns_.end() &&
        std::find(added.begin(), added.end(), name) == added.end()) {
      added.push_back(name);
    }
  }
  if (columns_.empty()) {
    columns_ = added;
    out_ << HeaderLine(columns_);
  } else if (!added.empty()) {
    // Rewrite with the wider header; earlier rows get empty cells in the new columns.
    out_.close();
    std::istringstream old(ReadFile(path_));
    columns_.insert(columns_.end(), added.begin(), added.end());
    std::string contents = HeaderLine(columns_);
    std::string line;
    std::getline(old, line);  // the old header
    while (std::getline(old, line)) contents += line + std::string(added.size(), ',') + "\n";
    WriteFileAtomic(path_, contents);
    out_.open(path_, std::ios::out | std::ios::app);
    if (!out_) {
      throw IoError("cannot reopen '" + path_.string() +
                    "' for appending: " + std::strerror(errno));
    }
  }

  // Cells in header order; a column missing from this row stays empty.
  std::string line;
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) line += ',';
    const auto it = std::find_if(row.begin(), row.end(),
                                 [&](const auto& cell) { return cell.first == columns_[i]; });
    if (it != row.end()) line += CsvCell(it->second);
  }
  out_ << line << '\n';
  Flush();
}

void CsvSink::Flush() {
  out_.flush();
  if (!out_) throw IoError("cannot write to '" + path_.string() + "' (disk full?)");
}

ConsoleProgress::ConsoleProgress(std::string label, std::FILE* stream, double min_interval_s)
    : label_(std::move(label)),
      stream_(stream),
      min_interval_s_(min_interval_s),
      tty_(stream != nullptr && isatty(fileno(stream)) == 1) {}

void ConsoleProgress::Update(int64_t timesteps, int64_t total, double steps_per_second,
                             std::optional<double> mean_return, double elapsed_s, double collect_s,
                             double update_s, std::optional<double> best_eval) {
  if (stream_ == nullptr) return;
  const std::string line = Format(label_, timesteps, total, steps_per_second, mean_return,
                                  elapsed_s, collect_s, update_s, best_eval);

  // Terminal: redraw the one line in place (carriage return, text, clear to end of line).
  if (tty_) {
    std::fprintf(stream_, "\r%s\x1b[K", line.c_str());
    std::fflush(stream_);
    line_open_ = true;
    return;
  }

  // Log file or pipe: a plain line at most every min_interval_s, and always the last one.
  if (elapsed_s - last_print_s_ < min_interval_s_ && timesteps < total) return;
  std::fprintf(stream_, "%s\n", line.c_str());
  std::fflush(stream_);
  last_print_s_ = elapsed_s;
}

void ConsoleProgress::Finish(const std::string& message) {
  if (stream_ == nullptr) return;
  if (line_open_) {
    std::fputc('\n', stream_);
    line_open_ = false;
  }
  if (!message.empty()) std::fprintf(stream_, "%s\n", message.c_str());
  std::fflush(stream_);
}

std::string ConsoleProgress::Format(const std::string& label, int64_t timesteps, int64_t total,
                                    double steps_per_second, std::optional<double> mean_return,
                                    double elapsed_s, double collect_s, double update_s,
                                    std::optional<double> best_eval) {
  // Percent rounded, but never 100% before the end.
  double percent = total > 0 ? 100.0 * static_cast<double>(timesteps) / total : 0.0;
  percent = std::round(percent);
  if (timesteps < total && percent >= 100.0) percent = 99.0;

  // ETA from the remaining steps at the current rate ("--" while the rate is unknown).
  std::string eta = "--";
  if (steps_per_second > 0 && std::isfinite(steps_per_second)) {
    eta = FormatDuration(static_cast<double>(std::max<int64_t>(total - timesteps, 0)) /
                         steps_per_second);
  }

  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), "%lld/%lld (%.0f%%) | %.0f steps/s | ETA %s | ",
                static_cast<long long>(timesteps), static_cast<long long>(total), percent,
                std::max(steps_per_second, 0.0), eta.c_str());
  std::string text = label.empty() ? "" : "[" + label + "] ";
  text += buffer;
  if (mean_return) {
    std::snprintf(buffer, sizeof(buffer), "mean return %.1f", *mean_return);
    text += buffer;
  } else {
    text += "mean return n/a";
  }
  if (best_eval) {
    std::snprintf(buffer, sizeof(buffer), " | best eval %.1f", *best_eval);
    text += buffer;
  }

  // Where the wall time went: collecting (envs + acting) against updating.
  if (elapsed_s > 0.0) {
    std::snprintf(buffer, sizeof(buffer), " | collect %.0f%% update %.0f%%",
                  100.0 * collect_s / elapsed_s, 100.0 * update_s / elapsed_s);
    text += buffer;
  }
  return text;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds)) return "--";
  const long long total = std::llround(std::max(seconds, 0.0));
  const long long hours = total / 3600;
  const int minutes = static_cast<int>(total / 60 % 60);
  const int secs = static_cast<int>(total % 60);
  char buffer[48];
  if (hours > 0) {
    std::snprintf(buffer, sizeof(buffer), "%lld:%02d:%02d", hours, minutes, secs);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%d:%02d", minutes, secs);
  }
  return buffer;
}

}  // namespace rlpipe::metrics
