#include "pipeline/resolve.h"

#include <algorithm>
#include <string>
#include <utility>

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
  if (experiment.agent.policy == config::Policy::kMultiRobot && !spec.robot_layout) {
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

ResolvedPipeline ResolvePipeline(const fs::path& file) {
  ResolvedPipeline resolved;
  resolved.pipeline = config::LoadPipeline(file);
  for (const auto& spec : resolved.pipeline.sessions) {
    config::ExperimentConfig experiment = config::ResolveSession(resolved.pipeline, spec);
    ValidateSession(experiment);
    resolved.sessions.push_back(std::move(experiment));
  }
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
