#pragma once
/// Helpers shared by the end-to-end tests that drive the real rlpipe binary: run it to
/// completion, start it in the background, wait for it, poll for a condition, read its files.
/// Each test target defines RLPIPE_BINARY (the path of the rlpipe executable).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace rlpipe::e2e {

/// What a finished rlpipe run printed and returned.
struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

/// An exit status as a shell reports it (128 + signal when killed).
inline int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// `s` in single quotes for /bin/sh.
inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Runs the rlpipe binary with `args` to completion.
inline Outcome Rlpipe(const std::vector<std::string>& args) {
  std::string command = Quote(RLPIPE_BINARY);
  for (const auto& a : args) {
    // Two appends: GCC 12 -O3 reports a false -Wrestrict overlap for " " + std::string.
    command += ' ';
    command += Quote(a);
  }
  command += " 2>&1";
  Outcome outcome;
  FILE* pipe = popen(command.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) outcome.output.append(buf, n);
  outcome.exit_code = ExitCode(pclose(pipe));
  return outcome;
}

/// Starts `argv` (argv[0] is the program) in the background with stdout and stderr in `log`.
inline pid_t Spawn(std::vector<std::string> argv, const std::filesystem::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "w", stdout);
    (void)f;
    dup2(fileno(stdout), 2);
    std::vector<char*> pointers;
    for (auto& a : argv) pointers.push_back(a.data());
    pointers.push_back(nullptr);
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  return pid;
}

/// Starts the rlpipe binary with `args` in the background; returns its pid.
inline pid_t SpawnRlpipe(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<std::string> argv{RLPIPE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return Spawn(std::move(argv), log);
}

/// Waits for `pid` and returns its exit code.
inline int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return ExitCode(status);
}

/// The whole file (empty when it does not exist).
inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json ReadJson(const std::filesystem::path& p) {
  return nlohmann::json::parse(Slurp(p));
}

/// Polls until `pred` holds or `timeout_s` passes; returns whether it held.
template <typename Pred>
bool WaitFor(Pred pred, double timeout_s = 60.0) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

/// True when the local state file in `out` says `session` is running.
inline bool SessionRunning(const std::filesystem::path& out, const std::string& session) {
  try {
    return ReadJson(out / "pipeline_state.json")["sessions"][session]["status"] == "running";
  } catch (...) {
    return false;
  }
}

}  // namespace rlpipe::e2e
