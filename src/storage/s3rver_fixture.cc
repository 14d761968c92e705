#include "storage/s3rver_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "storage/fake_http_server.h"

namespace rlpipe::testing {
namespace {

bool CanConnect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path == nullptr ? "" : path);
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(folder) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string S3rverProcess::Start(const std::filesystem::path& data_dir,
                                 const std::vector<std::string>& buckets) {
  if (FindOnPath("s3rver").empty()) {
    return "s3rver is not installed (npm install -g s3rver@3, or scripts/install-deps.sh --test)";
  }
  // Launch the helper script in its own process group.
  port_ = FreeLoopbackPort();
  const std::string script = std::string(RLPIPE_SOURCE_DIR) + "/tests/s3/start_s3rver.sh";
  std::vector<std::string> args = {"bash", script, data_dir.string(), std::to_string(port_)};
  args.insert(args.end(), buckets.begin(), buckets.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execvp("bash", argv.data());
    ::_exit(127);
  }
  if (pid_ < 0) return "fork failed";

  // Wait until it accepts connections (Node starts in about a second).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (CanConnect(port_)) return "";
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "s3rver exited during start-up (exit status " + std::to_string(status) + ")";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  return "s3rver did not listen on port " + std::to_string(port_) + " within 20 s";
}

void S3rverProcess::Stop() {
  if (pid_ <= 0) return;
  // The whole process group: the script execs node, but be safe.
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace rlpipe::testing
