#include "algos/train.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "algos/off_policy.h"
#include "algos/on_policy.h"
#include "config/algorithms.h"
#include "core/error.h"
#include "envs/env.h"

namespace rlpipe::algos {

int SessionThreads(const config::TrainingConfig& training) {
  if (training.threads > 0) return training.threads;
  // A run started by `rlpipe tune --parallel K` gets its share of the cores.
  if (const char* budget = std::getenv("RLPIPE_TUNE_THREADS")) {
    const int threads = std::atoi(budget);
    if (threads >= 1) return threads;
  }
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) return std::max(1, CPU_COUNT(&cpus));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

TrainingResult Train(const TrainingRequest& request) {
  // Each session's envs come from the registry; the loop is chosen by algorithm family.
  const config::EnvironmentConfig env_config = request.config.environment;
  auto factory = [env_config] { return envs::MakeEnv(env_config); };
  // training.threads step the envs, run the evaluation episodes and the twin critics' work of a
  // SAC/TD3 gradient step (none of them changes results).
  LoopOptions options;
  options.env_threads = SessionThreads(request.config.training);
  options.eval_threads = options.env_threads;
  options.update_threads = options.env_threads;
  switch (config::InfoOf(request.config.agent.algorithm()).family) {
    case config::AlgorithmFamily::kOnPolicy:
      return TrainOnPolicy(request, factory, options);
    case config::AlgorithmFamily::kOffPolicy:
      return TrainOffPolicy(request, factory, options);
  }
  throw ConfigError("agent.algorithm: unknown family of " +
                    config::ToString(request.config.agent.algorithm()));
}

}  // namespace rlpipe::algos
