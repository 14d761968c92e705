#pragma once
/// What a training session does before its first step: the setup checks, the `data` member its
/// archives carry, and starting the model from another checkpoint (transfer).
#include <torch/torch.h>

#include <cstdint>

#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "envs/env.h"
#include "vec/normalizer.h"

namespace rlpipe::algos {

/// Setup-time checks of what ParseExperimentConfig cannot know (or a config built in code), and
/// torch::set_num_threads. Throws ConfigError.
void PrepareSession(const TrainingRequest& request, const LoopOptions& options);

/// The `data` member of a checkpoint for this session at this point.
checkpoint::ModelData MakeModelData(const TrainingRequest& request, const envs::EnvSpec& spec,
                                    int64_t timesteps, int64_t episodes);

/// Starts `model` (freshly initialised from the session seed) from request.init_checkpoint per
/// request.transfer: checks the checkpoint's algorithm, plans and applies the transfer, carries
/// Adam state into `optimizer` (may be null; only an Adam one takes state) when reset_optimizer is
/// false, takes over the source's normaliser statistics into `normalizer` (observation columns
/// moved like the weights' input columns) when `normaliser` is among the parts to load, and
/// hands the report to hooks.on_transfer (else its summary line to on_message).
/// Throws ConfigError / IoError.
void TransferInitialWeights(const TrainingRequest& request, const envs::EnvSpec& spec,
                            torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                            vec::VecNormalizer& normalizer);

}  // namespace rlpipe::algos
