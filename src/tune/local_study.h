#pragma once
/// `rlpipe tune` on this machine: every trial × seed is an ordinary `rlpipe run` of a pipeline
/// variant in D/trials/<trial>-s<seed>/, started as a child process of the same binary, at most
/// --parallel at once, each with a thread budget of cores / parallel. D/study.json records every
/// run, so a killed study continues with --resume (finished runs are kept, interrupted ones
/// continue through `rlpipe run --resume`).
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline_config.h"
#include "tune/space.h"
#include "tune/study.h"

namespace rlpipe::tune {

/// What `rlpipe tune` was asked to do.
struct TuneOptions {
  std::filesystem::path config_file;  // the pipeline YAML
  std::filesystem::path space_file;   // SPACE.yaml
  std::optional<int> trials;          // random: required; grid: at most this many
  int parallel = 1;                   // child runs at once, >= 1
  int seeds = 1;                      // runs per trial, seeds pipeline.seed + 0..M-1
  std::filesystem::path output_dir = "tune_output";
  bool resume = false;   // continue the study in output_dir
  bool force = false;    // resume although the space, pipeline, --seeds or --trials changed
  bool dry_run = false;  // validate and list the runs; start nothing
  /// The rlpipe executable the children run; empty = this process's (/proc/self/exe).
  std::filesystem::path rlpipe_binary;
  /// Cores to divide among the children; 0 = the CPUs this process may run on.
  int cores = 0;
};

/// Exit codes beside pipeline::kExitOk (0): a run failed (1); interrupted: 128 + signal.
inline constexpr int kExitRunFailed = 1;

/// The study as planned from the options (validated, nothing written).
struct StudyPlan {
  config::PipelineConfig pipeline;
  SearchSpace space;
  std::vector<Trial> trials;
  std::string metric_session;
  std::string fingerprint;
};

/// Loads and validates everything before anything runs: options (--parallel, --seeds,
/// --trials), SPACE.yaml, the pipeline, and every trial against the config schema. Throws
/// ConfigError with one line (SPACE.yaml:line:col for the space's problems).
StudyPlan PlanStudy(const TuneOptions& options);

/// The thread budget of each child: max(1, cores / parallel).
int ThreadBudget(int cores, int parallel);

/// The CPUs this process may run on (sched_getaffinity), at least 1.
int AvailableCores();

/// Runs (or resumes) the study: children, study.json, then results.csv, results.json, the
/// printed table and best_pipeline.yaml. Ctrl-C / SIGTERM are forwarded once to every child,
/// which checkpoint and stop; the study is left resumable. With `early_stopping: median` the
/// running children's evaluations are watched and a trial failing the median rule
/// (tune/early_stopping.h) is stopped: its children get SIGTERM, its pending runs never start,
/// its runs are recorded as stopped (final). Returns 0 when every run completed or was stopped,
/// kExitRunFailed when one failed, 128 + signal when interrupted. Throws ConfigError / IoError
/// on bad input before any child starts.
int RunLocalStudy(const TuneOptions& options, std::FILE* out);

/// Writes results.csv, results.json, tune_report.html and (when a trial completed)
/// best_pipeline.yaml from the study state; prints the table to `out`.
void WriteResults(const StudyPlan& plan, const StudyState& state,
                  const std::filesystem::path& output_dir, std::FILE* out);

}  // namespace rlpipe::tune
