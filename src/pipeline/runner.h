#pragma once
/// The pipeline runner: sequences sessions, hands each session's model to the next, and keeps
/// pipeline_state.json so any interruption can be resumed.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"
#include "pipeline/resolve.h"
#include "pipeline/session_executor.h"

namespace rlpipe::pipeline {

/// A session that just completed (its models promoted), for post-session work.
struct CompletedSession {
  std::string name;
  const config::ExperimentConfig* experiment = nullptr;  // its resolved config
  uint64_t seed = 0;                                     // the seed it trained with
  std::filesystem::path session_dir;                     // OUT/<session>
  std::filesystem::path models_dir;                      // OUT/<session>/models
};

/// Post-session work (e.g. session videos, which the pipeline library does not render itself);
/// returns a line for the log ("" for none). What it throws is logged as a warning: the session
/// stays completed and the run goes on.
using SessionCompletedHook = std::function<std::string(const CompletedSession&)>;

/// What `rlpipe run` was asked to do.
struct RunOptions {
  std::filesystem::path config_file;
  std::filesystem::path output_dir = "pipeline_output";
  bool resume = false;                    // continue a previous run in output_dir
  std::optional<std::string> start_from;  // run this session and everything after it
  bool force = false;                     // resume even if completed sessions' configs changed
  bool verbose = false;                   // list the config keys that have no effect, more logging
  std::optional<uint64_t> seed;           // overrides the pipeline file's seed
  bool use_s3 = false;                    // mirror the run to S3 (also on with aws.use_s3)
  std::string s3_bucket;                  // overrides aws.s3_bucket when not empty
  std::string s3_prefix;                  // overrides aws.s3_prefix when not empty
  std::optional<std::string> run_id;      // names the run in S3; default: the state's or new
  /// Where sessions run; null: in this process (LocalExecutor).
  std::shared_ptr<SessionExecutor> executor;
  /// Called after each session that completes in this run; may be empty.
  SessionCompletedHook on_session_completed;
};

/// Exit codes of RunPipeline.
inline constexpr int kExitOk = 0;
inline constexpr int kExitSessionFailed = 1;
/// Something did not reach S3 after retries; local results are intact and `--resume` finishes the
/// upload.
inline constexpr int kExitUploadFailed = 3;

/// Runs the pipeline. Returns kExitOk when every session that ran completed, kExitSessionFailed
/// when a session failed (or failed its success criteria), kExitUploadFailed when an S3 upload
/// failed, 128 + signal when interrupted.
/// Throws ConfigError / IoError for bad input (before any state is changed).
int RunPipeline(const RunOptions& options, std::FILE* out);

}  // namespace rlpipe::pipeline
