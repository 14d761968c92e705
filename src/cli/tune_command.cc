#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "cli/commands.h"
#include "core/error.h"
#include "tune/local_study.h"
#include "tune/sagemaker_study.h"

namespace rlpipe::cli {
namespace {

/// Where `rlpipe tune` runs its trials.
enum class TunePlatform { kLocal, kSageMaker };

/// Flags beside tune::TuneOptions.
struct TuneFlags {
  TunePlatform platform = TunePlatform::kLocal;
  int trials = 0;
  std::string role_arn;                  // --platform sagemaker only
  std::string run_id;                    // --platform sagemaker only
  CLI::Option* trials_option = nullptr;  // counts whether --trials was given
};

}  // namespace

void AddTuneCommand(CLI::App& app, CommandFn* run) {
  auto options = std::make_shared<tune::TuneOptions>();
  auto flags = std::make_shared<TuneFlags>();
  CLI::App* cmd = app.add_subcommand(
      "tune",
      "Search hyper-parameters: run variants of a pipeline (SPACE.yaml's parameters as overrides) "
      "x seeds as ordinary pipeline runs in OUT/trials/<trial>-s<seed>/, --parallel at once, and "
      "rank the trials by the mean of a report figure over the seeds (OUT/results.csv, "
      "OUT/results.json, OUT/best_pipeline.yaml). OUT/study.json makes it resumable. "
      "early_stopping: median in SPACE.yaml stops trials whose eval returns fall below the "
      "median of the others. Exit code 0 when every run completed (or was stopped by early "
      "stopping), 1 when a run failed, 2 on bad input, 130/143 when interrupted (resume with "
      "--resume). See docs/tune.md.");
  cmd->add_option("--config,-c", options->config_file, "pipeline YAML file")->required();
  cmd->add_option("--space,-s", options->space_file,
                  "SPACE.yaml: metric, direction, strategy (grid | random), parameters, "
                  "early_stopping (median)")
      ->required();
  flags->trials_option = cmd->add_option(
      "--trials,-n", flags->trials,
      "number of trials: required by strategy random; a grid runs at most this many");
  cmd->add_option("--parallel,-j", options->parallel,
                  "runs at once; each gets cores / parallel threads (default 1)")
      ->capture_default_str();
  cmd->add_option("--seeds", options->seeds,
                  "runs per trial, with root seeds seed, seed+1, … (default 1)")
      ->capture_default_str();
  cmd->add_option("--output-dir,-o", options->output_dir, "the study folder")
      ->capture_default_str();
  cmd->add_flag(
      "--resume", options->resume,
      "continue the study in --output-dir: finished runs (completed, failed, stopped) are "
      "kept, interrupted ones continue from their checkpoints");
  cmd->add_flag("--force", options->force,
                "with --resume: continue although the space, pipeline, --seeds or --trials "
                "changed (runs that still match are kept, the others' folders moved aside)");
  cmd->add_flag("--dry-run", options->dry_run,
                "validate everything and list the trials (with --platform sagemaker: print the "
                "CreateHyperParameterTuningJob request); start nothing, write nothing");
  const std::map<std::string, TunePlatform> platforms = {{"local", TunePlatform::kLocal},
                                                         {"sagemaker", TunePlatform::kSageMaker}};
  cmd->add_option("--platform", flags->platform,
                  "local (child processes here, default) or sagemaker (one SageMaker "
                  "hyper-parameter tuning job)")
      ->transform(CLI::CheckedTransformer(platforms, CLI::ignore_case));
  cmd->add_option("--role-arn", flags->role_arn,
                  "with --platform sagemaker: the IAM role the training jobs run as");
  cmd->add_option("--run-id", flags->run_id,
                  "with --platform sagemaker: the run folder in S3 (for a session that starts "
                  "from an earlier session's model: that run's id)");
  *run = nullptr;
  cmd->callback([options, flags, run] {
    *run = [options, flags] {
      tune::TuneOptions o = *options;
      if (flags->trials_option->count() > 0) o.trials = flags->trials;
      if (flags->platform == TunePlatform::kSageMaker) {
        tune::SageMakerTuneOptions sm;
        sm.tune = o;
        sm.role_arn = flags->role_arn;
        sm.run_id = flags->run_id;
        // RLPIPE_SM_POLL_MS: the first wait between two Describe calls (tests), as for `run`.
        if (const char* poll = std::getenv("RLPIPE_SM_POLL_MS"); poll && *poll) {
          const long ms = std::strtol(poll, nullptr, 10);
          if (ms < 1) throw ConfigError("RLPIPE_SM_POLL_MS: expected a whole number of ms >= 1");
          sm.poll_min = std::chrono::milliseconds(ms);
          sm.poll_max = std::max(sm.poll_max, sm.poll_min);
        }
        return tune::RunSageMakerStudy(sm, stdout, stderr);
      }
      if (!flags->role_arn.empty() || !flags->run_id.empty()) {
        throw ConfigError("--role-arn and --run-id: only with --platform sagemaker");
      }
      return tune::RunLocalStudy(o, stdout);
    };
  });
}

}  // namespace rlpipe::cli
