#include "pipeline/run_log.h"

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::pipeline {

RunLog::RunLog(std::FILE* console, const std::filesystem::path& file)
    : console_(console), file_(file, std::ios::app) {
  if (!file_) throw IoError("cannot open log file " + file.string());
}

void RunLog::SetSessionLog(const std::filesystem::path& path) {
  session_.close();
  if (!path.empty()) session_.open(path, std::ios::app);
}

void RunLog::Write(const char* level, const std::string& message) {
  // The files get a timestamp and the level; the console shows WARN/ERROR only.
  const std::string line = NowIso8601() + " " + level + " " + message + "\n";
  const std::string shown =
      (std::string(level) == "INFO" ? message : std::string(level) + ": " + message) + "\n";
  std::fputs(shown.c_str(), console_);
  std::fflush(console_);
  file_ << line << std::flush;
  if (session_.is_open()) session_ << line << std::flush;
}

}  // namespace rlpipe::pipeline
