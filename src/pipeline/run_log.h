#pragma once
/// The run's log: lines to the console and to OUT/pipeline.log, and to a session's own
/// training.log while it runs (pipeline-internal).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace rlpipe::pipeline {

/// Lines to the console and to pipeline.log (and a session's own log while it runs).
class RunLog {
 public:
  RunLog(std::FILE* console, const std::filesystem::path& file);
  void Info(const std::string& message) { Write("INFO", message); }
  void Warn(const std::string& message) { Write("WARN", message); }
  void Error(const std::string& message) { Write("ERROR", message); }
  /// Mirrors every line into a session log too (empty path: stop mirroring).
  void SetSessionLog(const std::filesystem::path& path);

 private:
  void Write(const char* level, const std::string& message);
  std::FILE* console_;
  std::ofstream file_;
  std::ofstream session_;
};

}  // namespace rlpipe::pipeline
