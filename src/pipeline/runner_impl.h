#pragma once
/// The Runner behind RunPipeline (pipeline-internal), defined by concept: runner.cc (the run and
/// one session), runner_state.cc (the state file: preparing it for --resume / --start-from and
/// saving it), runner_mirror.cc (the S3 mirror and the reports' upload).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/report.h"
#include "pipeline/run_log.h"
#include "pipeline/run_mirror.h"
#include "pipeline/runner.h"
#include "pipeline/session_executor.h"
#include "pipeline/state.h"

namespace rlpipe::pipeline {

// Seconds between progress writes of the state file while a session trains.
inline constexpr double kProgressSaveInterval_s = 1.0;

/// Everything one invocation of `rlpipe run` works with.
class Runner {
 public:
  Runner(const RunOptions& options, ResolvedPipeline resolved, std::FILE* out)
      : options_(options),
        resolved_(std::move(resolved)),
        report_settings_(MakeReportSettings(resolved_.pipeline, resolved_.sessions)),
        out_(out),
        executor_(options.executor ? options.executor : std::make_shared<LocalExecutor>()) {}

  int Run();

 private:
  const config::PipelineConfig& pipeline() const { return resolved_.pipeline; }
  size_t StartIndex() const;
  void PrepareState();
  /// The model session `index` starts from; `from_session` names the session that produced it.
  std::optional<std::filesystem::path> ChooseInitCheckpoint(size_t index,
                                                            std::string* from_session = nullptr);
  /// Runs one session; returns the signal number when interrupted, else 0.
  int RunSession(size_t index);
  /// Writes the state file, then mirrors it to S3.
  void Save();
  /// Writes the local state file only (progress while a session runs), at most once per
  /// `min_interval_s` unless 0.
  void SaveProgress(double min_interval_s);
  /// Writes the reports monitoring asks for (after every session and at the end) and mirrors
  /// them to S3 under reports/.
  void WriteReport();
  void PutReports();

  /// With S3 on: picks the run id, opens the mirror, and on a fresh machine downloads the state.
  void SetUpMirror();
  /// Uploads what an earlier invocation left pending, and completed sessions' models that are
  /// local but not complete in S3.
  void SyncPending();
  /// Uploads a completed session's models folder (failure: recorded as pending).
  void UploadSessionModels(const std::string& session, const std::filesystem::path& models_dir);
  /// Downloads a completed session's models from S3 into its models folder; false when S3 has
  /// no complete checkpoint set for it.
  bool FetchSessionModels(const std::string& session);
  /// Runs `put`; on a storage failure remembers the error, marks `entry` (and the state) pending
  /// and stops every later upload of this invocation. Returns false when it did not upload.
  bool Upload(const std::string& entry, const std::function<void()>& put);
  void AddPending(const std::string& entry);
  /// The command that continues this run.
  std::string ResumeCommand() const;

  RunOptions options_;
  ResolvedPipeline resolved_;
  ReportSettings report_settings_;
  std::FILE* out_;
  std::filesystem::path output_dir_;
  PipelineState state_;
  std::unique_ptr<RunLog> log_;
  bool any_failed_ = false;
  std::shared_ptr<SessionExecutor> executor_;  // where sessions run
  std::unique_ptr<RunMirror> mirror_;          // set when the run is mirrored to S3
  std::optional<std::string> upload_error_;    // the first upload that failed, if any
  /// Sessions an earlier invocation left running (kill -9) or interrupted, which --resume
  /// continues from their latest checkpoint: steps reached before the interruption and the
  /// steps lost by earlier resumes.
  struct CutShort {
    int64_t timesteps = 0;
    int64_t steps_lost = 0;
  };
  std::map<std::string, CutShort> cut_short_;
  std::chrono::steady_clock::time_point last_progress_save_{};
};

}  // namespace rlpipe::pipeline
