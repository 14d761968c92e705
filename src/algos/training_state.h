#pragma once
/// Exact mid-session resume: the pieces of a training loop's state that are not network weights,
/// as bytes for rlpipe's own checkpoint members (docs/resume.md).
///
/// A periodic or interrupt checkpoint (rl_model_<n>_steps.zip) holds, beside policy.pth:
///   rlpipe_training_state  counters and recent episodes, best evaluation, every RNG (the loop's
///                          sampler generator, torch's default CPU generator, each env's RNG),
///                          each env's in-progress episode, the partial rollout (on-policy), the
///                          action noise, every optimizer's state (torch archive) and the
///                          observation/reward normaliser's state (training.normalize)
///   rlpipe_replay_index    SAC/TD3 only, unless training.save_replay_buffer is false: the
///                          replay buffer, its transitions in segment files beside the archive
///                          (replay_segments.h)
/// It is captured where the loop can restart exactly: between two batched env steps.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/byte_stream.h"

namespace rlpipe::algos {

/// Member names (never ending in `.pth`, which are Stable-Baselines3's).
inline constexpr const char* kTrainingStateMember = "rlpipe_training_state";
/// The whole replay buffer inside the archive, as checkpoints held it before segments (read only).
inline constexpr const char* kReplayBufferMember = "rlpipe_replay_buffer";
/// Layout version of rlpipe_training_state; another version is refused on resume.
/// 2: the normaliser's state, task statistics, early-stopping count and written checkpoints.
inline constexpr int32_t kTrainingStateVersion = 2;

/// A generator's full state (torch's own byte layout).
std::string GeneratorState(const torch::Generator& generator);
/// Puts back GeneratorState's bytes; IoError naming `origin` when they do not fit.
void SetGeneratorState(torch::Generator& generator, std::string_view state,
                       const std::string& origin);

/// A torch archive (optimizer states, tensors, counters) as bytes, and back.
std::string ArchiveBytes(torch::serialize::OutputArchive& archive);
void LoadArchiveBytes(torch::serialize::InputArchive& archive, std::string_view bytes,
                      const std::string& origin);

/// A scalar counter in a torch archive (int64 or double), and back (IoError when absent).
void WriteScalar(torch::serialize::OutputArchive& archive, const std::string& key, double value);
double ReadScalar(torch::serialize::InputArchive& archive, const std::string& key);

}  // namespace rlpipe::algos
