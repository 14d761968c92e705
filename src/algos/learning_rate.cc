#include "algos/learning_rate.h"

#include <algorithm>

namespace rlpipe::algos {

double ScheduledLearningRate(const config::BaseAlgorithmConfig& agent, int64_t timesteps,
                             int64_t total_timesteps) {
  if (!agent.learning_rate_linear) return agent.learning_rate;
  const double progress_remaining =
      1.0 - static_cast<double>(timesteps) / static_cast<double>(total_timesteps);
  return agent.learning_rate * std::max(progress_remaining, 0.0);
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double learning_rate) {
  for (torch::optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    group.options().set_lr(learning_rate);
  }
}

}  // namespace rlpipe::algos
