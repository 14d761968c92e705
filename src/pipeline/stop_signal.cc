#include "pipeline/stop_signal.h"

#include <atomic>
#include <csignal>

namespace rlpipe::pipeline {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void HandleStop(int signal_number) {
  // First signal: record it; the training loop polls and checkpoints. Second: default action.
  if (g_stop_signal.exchange(signal_number) != 0) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
  }
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction action = {};
  action.sa_handler = HandleStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int StopSignal() { return g_stop_signal.load(); }

void ResetStopSignal() { g_stop_signal.store(0); }

}  // namespace rlpipe::pipeline
