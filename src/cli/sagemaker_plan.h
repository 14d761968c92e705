#pragma once
/// `rlpipe run --platform sagemaker`: plan every session's SageMaker training job and, with
/// --dry-run, print the CreateTrainingJob requests instead of sending them.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "pipeline/runner.h"

namespace rlpipe::cli {

/// Where `rlpipe run` runs the sessions.
enum class Platform { kLocal, kSageMaker };

/// The run flags that only the SageMaker platform reads.
struct SageMakerRunFlags {
  Platform platform = Platform::kLocal;
  std::string role_arn;  // overrides aws.sagemaker.role_arn (and every session's override)
  bool dry_run = false;  // print the requests, send nothing, create no folders
};

/// Adds --platform, --role-arn and --dry-run to `cmd`.
void AddSageMakerRunFlags(CLI::App& cmd, SageMakerRunFlags& flags);

/// Throws ConfigError when a SageMaker-only flag is given with --platform local.
void CheckSageMakerRunFlags(const SageMakerRunFlags& flags);

/// Runs the pipeline on SageMaker. With --dry-run: each session's request as pretty JSON on `out`,
/// in session order, warnings on `err`; exit 0. Without: the pipeline runner with one training
/// job per session (platform/sagemaker_platform.h), exit codes as for a local run. Throws
/// ConfigError on invalid settings before anything is printed or sent.
int RunOnSageMaker(const pipeline::RunOptions& options, const SageMakerRunFlags& flags,
                   std::FILE* out, std::FILE* err);

}  // namespace rlpipe::cli
