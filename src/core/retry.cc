#include "core/retry.h"

#include <algorithm>
#include <random>
#include <thread>

namespace rlpipe {

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry) {
  // Exponential cap (saturating), then a uniform draw below it.
  const int shift = std::clamp(retry - 1, 0, 30);
  const auto base = std::max<std::chrono::milliseconds::rep>(policy.base_delay.count(), 0);
  const auto cap = std::min<std::chrono::milliseconds::rep>(
      policy.max_delay.count(),
      base > (policy.max_delay.count() >> shift) ? policy.max_delay.count() : base << shift);
  if (cap <= 0) return std::chrono::milliseconds(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::chrono::milliseconds::rep> draw(0, cap);
  return std::chrono::milliseconds(draw(rng));
}

void SleepBeforeRetry(const RetryPolicy& policy, int retry) {
  std::this_thread::sleep_for(BackoffDelay(policy, retry));
}

}  // namespace rlpipe
