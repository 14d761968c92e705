#include "nn/task_pair.h"

#include <ATen/ThreadLocalState.h>
#include <pthread.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <chrono>
#include <utility>

namespace rlpipe::nn {
namespace {

// A spinning core's pause hint (x86); nothing elsewhere.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Returns once `counter` reads `value`: spinning for up to kSpinMicros (or until `rest` is set),
// then sleeping on it.
void AwaitValue(const std::atomic<uint32_t>& counter, uint32_t value,
                const std::atomic<bool>* rest = nullptr) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::microseconds(TaskPair::kSpinMicros);
  for (int i = 1;; ++i) {
    if (counter.load(std::memory_order_acquire) == value) return;
    CpuRelax();
    if (rest != nullptr && rest->load(std::memory_order_relaxed)) break;
    if (i % 64 == 0 && Clock::now() > deadline) break;
  }
  for (uint32_t seen = counter.load(std::memory_order_acquire); seen != value;
       seen = counter.load(std::memory_order_acquire)) {
    counter.wait(seen, std::memory_order_acquire);
  }
}

}  // namespace

TaskPair::TaskPair(int threads) {
  CPU_ZERO(&allowed_);
  sched_getaffinity(0, sizeof(allowed_), &allowed_);
  if (threads >= 2) worker_ = std::thread([this] { Work(); });
}

TaskPair::~TaskPair() {
  if (!worker_.joinable()) return;
  stopping_.store(true);
  posted_.fetch_add(1, std::memory_order_release);
  posted_.notify_one();
  worker_.join();
}

void TaskPair::Run(const std::function<void()>& first, const std::function<void()>& second) {
  // One thread, or a pair run from inside a task: both here, in order.
  if (!worker_.joinable() || std::this_thread::get_id() == worker_.get_id() ||
      running_.exchange(true)) {
    first();
    second();
    return;
  }
  const struct Done {
    std::atomic<bool>& running;
    ~Done() { running.store(false); }
  } done{running_};
  // A worker that last ran on the caller's core would share it (the scheduler places a waking
  // thread there when the other cores are busy with other processes): keep it off that core.
  const int cpu = sched_getcpu();
  if (cpu == worker_cpu_.load(std::memory_order_relaxed)) {
    cpu_set_t others = allowed_;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) > 0) {
      pthread_setaffinity_np(worker_.native_handle(), sizeof(others), &others);
    }
  }
  // Hand the second task (with the caller's grad mode etc.) to the worker, run the first here.
  task_ = [this, &second, state = at::ThreadLocalState()] {
    const at::ThreadLocalStateGuard guard(state);
    worker_cpu_.store(sched_getcpu(), std::memory_order_relaxed);
    second();
  };
  error_ = nullptr;
  resting_.store(false, std::memory_order_relaxed);
  const uint32_t ticket = posted_.fetch_add(1, std::memory_order_release) + 1;
  posted_.notify_one();
  std::exception_ptr first_error;
  try {
    first();
  } catch (...) {
    first_error = std::current_exception();
  }
  // Wait for the worker even when the first task failed: the second refers to the caller's frame.
  AwaitValue(finished_, ticket);
  if (first_error) std::rethrow_exception(first_error);
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void TaskPair::Work() {
  for (uint32_t ticket = 1;; ++ticket) {
    AwaitValue(posted_, ticket, &resting_);
    if (stopping_.load()) return;
    try {
      task_();
    } catch (...) {
      error_ = std::current_exception();
    }
    finished_.store(ticket, std::memory_order_release);
    finished_.notify_one();
  }
}

}  // namespace rlpipe::nn
