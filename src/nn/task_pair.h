#pragma once
/// Two independent pieces of LibTorch work run at once: the first on the calling thread, the
/// second on one persistent worker thread. For task parallelism where intra-op parallelism does
/// not pay (the twin critics of SAC/TD3: each 256-wide product is too small to split, but the two
/// critics' products are independent).
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <thread>

namespace rlpipe::nn {

/// Runs pairs of tasks, on two threads when built with `threads` >= 2, else both on the caller
/// (first, then second). The worker runs with the caller's LibTorch thread-local state (grad
/// mode, inference mode) as of Run(). The tasks must not share anything they write (a generator,
/// a tensor, a gradient), so results are the same bits on one thread or two.
///
/// Hand-offs are fine-grained (a SAC step makes six, 0.1-1.5 ms apart), so both sides spin for
/// up to kSpinMicros before they sleep: a sleeping thread woken on a core that another process
/// holds may wait for the scheduler's next tick, longer than the task itself. For the same reason
/// the worker is kept off the caller's core when it is found there (on a busy machine the
/// scheduler places a waking thread beside its waker, and the two tasks then share one core).
class TaskPair {
 public:
  static constexpr int64_t kSpinMicros = 1500;

  explicit TaskPair(int threads = 1);
  ~TaskPair();
  TaskPair(const TaskPair&) = delete;
  TaskPair& operator=(const TaskPair&) = delete;

  /// 1 or 2.
  int Threads() const { return worker_.joinable() ? 2 : 1; }
  /// Runs both tasks and returns when both are done; rethrows the first one's exception, else
  /// the second's. Called from inside a task, runs both on that task's thread, in order.
  void Run(const std::function<void()>& first, const std::function<void()>& second);
  /// Tells the worker that no pair follows soon (e.g. the end of a gradient step, before the
  /// training loop steps its envs on these cores): it sleeps at once instead of spinning.
  void Rest() { resting_.store(true, std::memory_order_relaxed); }

 private:
  // The worker's loop: wait for a task, run it, report, repeat.
  void Work();

  std::thread worker_;
  std::function<void()> task_;         // the second task wrapped with the caller's state
  std::exception_ptr error_;           // what task_ threw
  std::atomic<uint32_t> posted_{0};    // tasks handed to the worker so far
  std::atomic<uint32_t> finished_{0};  // tasks the worker has finished
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};  // a Run is under way (a nested one runs on its caller)
  std::atomic<bool> resting_{false};  // Rest() since the last Run: the worker does not spin
  std::atomic<int> worker_cpu_{-1};   // the core the worker last started a task on
  cpu_set_t allowed_;                 // the cores this process may run on
};

}  // namespace rlpipe::nn
