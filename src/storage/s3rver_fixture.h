#pragma once
/// Test-only: runs s3rver (an S3-speaking Node server) on a free loopback port over a temp folder,
/// and runs helper commands (python3, aws) with their output captured.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace rlpipe::testing {

/// The credentials s3rver accepts (it checks SigV4 signatures against them).
inline constexpr char kS3rverKey[] = "S3RVER";
/// s3rver's fixed secret.
inline constexpr char kS3rverSecret[] = "S3RVER";

/// The full path of `program` on PATH, or "" when it is not installed.
std::string FindOnPath(const std::string& program);

/// Exit code and combined stdout/stderr of a shell command.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

/// Shell-quotes `text` with single quotes.
std::string ShellQuote(const std::string& text);

/// One s3rver process; stopped on destruction.
class S3rverProcess {
 public:
  /// Starts tests/s3/start_s3rver.sh over `data_dir` with `buckets` created. Returns "" on
  /// success, else why it could not start.
  std::string Start(const std::filesystem::path& data_dir, const std::vector<std::string>& buckets);
  /// Stops the server (SIGTERM, then SIGKILL) and waits for it.
  void Stop();
  ~S3rverProcess() { Stop(); }

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace rlpipe::testing
