#include "pipeline/resolve.h"

#include <algorithm>
#include <string>
#include <utility>

#include "checkpoint/checkpoint.h"
#include "config/tree.h"
#include "core/error.h"
#include "envs/env.h"
#include "envs/registry.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

void ValidateSession(const config::ExperimentConfig& experiment) {
  // The task with every parameter and cross-field rule.
  const envs::EnvSpec spec = envs::ValidateEnvironment(experiment.environment);

  // The network against the task: the multi-robot network needs per-robot blocks.
  if (experiment.agent.common().policy == config::Policy::kMultiRobot && !spec.robot_layout) {
    config::SourceLoc loc = experiment.environment.name_loc;
    if (const config::Tree* agent = experiment.resolved.Find("agent")) {
      if (const config::Tree* policy = agent->Find("policy")) loc = policy->loc;
    }
    config::FailAt(loc, "agent.policy",
                   "MultiRobotPolicy needs a multi-robot task (one with per-robot observation "
                   "blocks); task " +
                       spec.name + " has none, use MlpPolicy");
  }
}

namespace {

/// Where `section.key` was written in a session's resolved config (else `fallback`).
config::SourceLoc LocOf(const config::ExperimentConfig& experiment, const char* section,
                        const char* key, const config::SourceLoc& fallback) {
  if (const config::Tree* node = experiment.resolved.Find(section)) {
    if (const config::Tree* value = node->Find(key)) return value->loc;
  }
  return fallback;
}

/// The model session `index` starts from must fit it (docs/transfer.md, "What cannot be
/// transferred"): a `checkpoint:` file is read now; a hand-over from the previous session is
/// checked against that session's config.
void CheckHandOver(const ResolvedPipeline& resolved, size_t index) {
  const config::SessionSpec& spec = resolved.pipeline.sessions[index];
  const config::ExperimentConfig& experiment = resolved.sessions[index];
  if (spec.checkpoint) {
    // The file's algorithm and network family.
    try {
      const checkpoint::LoadedModel model = checkpoint::LoadModel(*spec.checkpoint);
      checkpoint::RequireAlgorithm(model, experiment.agent.algorithm(), spec.checkpoint->string());
      checkpoint::RequirePolicy(model, experiment.agent.common().policy, spec.checkpoint->string());
    } catch (const Error& e) {
      config::FailAt(spec.checkpoint_loc, spec.path + ".checkpoint", e.what());
    }
    return;
  }
  if (!spec.use_previous_checkpoint || index == 0) return;

  // The previous session's model: same algorithm and network family.
  const config::SessionSpec& previous_spec = resolved.pipeline.sessions[index - 1];
  const config::ExperimentConfig& previous = resolved.sessions[index - 1];
  const std::string why = "session '" + spec.name + "' starts from session '" + previous_spec.name +
                          "''s model (use_previous_checkpoint), ";
  if (previous.agent.algorithm() != experiment.agent.algorithm()) {
    config::FailAt(LocOf(experiment, "agent", "algorithm", spec.loc), "agent.algorithm",
                   why + "trained with " + config::ToString(previous.agent.algorithm()) + ", not " +
                       config::ToString(experiment.agent.algorithm()) +
                       "; a model moves only between sessions of one algorithm (set "
                       "use_previous_checkpoint: false to train from scratch)");
  }
  if (previous.agent.common().policy != experiment.agent.common().policy) {
    config::FailAt(LocOf(experiment, "agent", "policy", spec.loc), "agent.policy",
                   why + "a " + config::ToString(previous.agent.common().policy) + ", not a " +
                       config::ToString(experiment.agent.common().policy) +
                       "; set use_previous_checkpoint: false to train from scratch");
  }
}

}  // namespace

ResolvedPipeline ResolvePipeline(const fs::path& file) {
  ResolvedPipeline resolved;
  resolved.pipeline = config::LoadPipeline(file);
  for (const auto& spec : resolved.pipeline.sessions) {
    config::ExperimentConfig experiment = config::ResolveSession(resolved.pipeline, spec);
    ValidateSession(experiment);
    resolved.sessions.push_back(std::move(experiment));
  }
  // What each session starts from.
  for (size_t i = 0; i < resolved.sessions.size(); ++i) CheckHandOver(resolved, i);
  // Training-config keys with no effect, once each (sessions often share one config file).
  for (std::string& warning : config::TakeNoEffectWarnings()) {
    if (std::find(resolved.pipeline.warnings.begin(), resolved.pipeline.warnings.end(), warning) ==
        resolved.pipeline.warnings.end()) {
      resolved.pipeline.warnings.push_back(std::move(warning));
    }
  }
  return resolved;
}

}  // namespace rlpipe::pipeline
