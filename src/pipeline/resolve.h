#pragma once
/// Validate first: a pipeline file becomes one typed, checked config per session before anything
/// trains, so a pipeline that would fail in its fifth session fails now, in well under a second.
#include <filesystem>
#include <vector>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"

namespace rlpipe::pipeline {

/// A pipeline whose sessions have all been resolved and validated (nothing trained yet).
struct ResolvedPipeline {
  config::PipelineConfig pipeline;
  std::vector<config::ExperimentConfig> sessions;  // same order as pipeline.sessions
};

/// Checks what a session's config only shows together with its task: every task parameter (type,
/// range) and the task's cross-field rules (the task is built once), and the network against the
/// task's spaces. Throws ConfigError with the offending key's file:line:col and path.
void ValidateSession(const config::ExperimentConfig& experiment);

/// Loads the pipeline file and resolves + validates every session (config files, overrides,
/// algorithm keys, task parameters, network against task, and the model each session starts
/// from: a `checkpoint:` file's algorithm and network, or the previous session's config). Throws
/// ConfigError before anything runs.
ResolvedPipeline ResolvePipeline(const std::filesystem::path& file);

}  // namespace rlpipe::pipeline
