#pragma once
/// The one retry loop of the storage package: bounded attempts, exponential backoff with full
/// jitter, only for failures marked retryable.
#include <chrono>
#include <string>
#include <utility>

#include "core/result.h"

namespace rlpipe {

/// How hard to try. Defaults suit S3; tests shrink the delays.
struct RetryPolicy {
  int max_attempts = 5;                         ///< Total tries, first included (>= 1).
  std::chrono::milliseconds base_delay{200};    ///< Cap of the first backoff.
  std::chrono::milliseconds max_delay{10'000};  ///< No backoff is longer than this.
};

/// The wait before retry number `retry` (1-based): uniform in [0, min(max, base * 2^(retry-1))]
/// ("full jitter").
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry);

/// Sleeps for BackoffDelay(policy, retry).
void SleepBeforeRetry(const RetryPolicy& policy, int retry);

/// Calls `attempt()` (returning Result<T>) until it succeeds, fails without `retryable`, or the
/// policy's attempts are used up. The last failure's message says how many attempts were made.
template <typename Fn>
auto RunWithRetry(const RetryPolicy& policy, Fn&& attempt) -> decltype(attempt()) {
  const int max_attempts = policy.max_attempts < 1 ? 1 : policy.max_attempts;
  for (int tried = 1;; ++tried) {
    auto result = attempt();
    if (result.ok() || !result.retryable()) return result;
    if (tried >= max_attempts) {
      Failure failure = result.failure();
      failure.message += " (gave up after " + std::to_string(tried) + " attempts)";
      return failure;
    }
    SleepBeforeRetry(policy, tried);
  }
}

}  // namespace rlpipe
