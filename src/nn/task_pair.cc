#include "nn/task_pair.h"

#include <ATen/ThreadLocalState.h>

#include <utility>

namespace rlpipe::nn {

TaskPair::TaskPair(int threads) {
  if (threads >= 2) worker_ = std::thread([this] { Work(); });
}

TaskPair::~TaskPair() {
  if (!worker_.joinable()) return;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_one();
  worker_.join();
}

void TaskPair::Run(const std::function<void()>& first, const std::function<void()>& second) {
  // One thread: in order on the caller.
  if (!worker_.joinable()) {
    first();
    second();
    return;
  }
  // Hand the second task (with the caller's grad mode etc.) to the worker, run the first here.
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    task_ = [&second, state = at::ThreadLocalState()] {
      const at::ThreadLocalStateGuard guard(state);
      second();
    };
    error_ = nullptr;
  }
  start_.notify_one();
  std::exception_ptr first_error;
  try {
    first();
  } catch (...) {
    first_error = std::current_exception();
  }
  // Wait for the worker even when the first task failed: the second refers to the caller's frame.
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return !task_; });
  if (first_error) std::rethrow_exception(first_error);
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void TaskPair::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    start_.wait(lock, [this] { return stopping_ || task_; });
    if (stopping_) return;
    lock.unlock();
    try {
      task_();
    } catch (...) {
      error_ = std::current_exception();
    }
    lock.lock();
    task_ = nullptr;
    done_.notify_one();
  }
}

}  // namespace rlpipe::nn
