#pragma once
/// The learning-rate schedule (SB3's constant or lin_<x>) and setting it on a torch optimizer.
#include <torch/torch.h>

#include <cstdint>

#include "config/algorithms.h"

namespace rlpipe::algos {

/// SB3's schedule: the constant learning_rate, or (lin_<x>) x · (1 − timesteps / total).
double ScheduledLearningRate(const config::BaseAlgorithmConfig& agent, int64_t timesteps,
                             int64_t total_timesteps);

/// Sets the learning rate of every parameter group of `optimizer`.
void SetLearningRate(torch::optim::Optimizer& optimizer, double learning_rate);

}  // namespace rlpipe::algos
