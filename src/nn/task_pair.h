#pragma once
/// Two independent pieces of LibTorch work run at once: the first on the calling thread, the
/// second on one persistent worker thread. For task parallelism where intra-op parallelism does
/// not pay (the twin critics of SAC/TD3: each 256-wide product is too small to split, but the two
/// critics' products are independent).
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace rlpipe::nn {

/// Runs pairs of tasks, on two threads when built with `threads` >= 2, else both on the caller
/// (first, then second). The worker runs with the caller's LibTorch thread-local state (grad
/// mode, inference mode) as of Run(). The tasks must not share anything they write (a generator,
/// a tensor, a gradient), so results are the same bits on one thread or two.
class TaskPair {
 public:
  explicit TaskPair(int threads = 1);
  ~TaskPair();
  TaskPair(const TaskPair&) = delete;
  TaskPair& operator=(const TaskPair&) = delete;

  /// 1 or 2.
  int Threads() const { return worker_.joinable() ? 2 : 1; }
  /// Runs both tasks and returns when both are done; rethrows the first one's exception, else
  /// the second's.
  void Run(const std::function<void()>& first, const std::function<void()>& second);

 private:
  // The worker's loop: wait for a task, run it, report, repeat.
  void Work();

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  std::function<void()> task_;  // the second task wrapped with the caller's state; empty: idle
  bool stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace rlpipe::nn
