#pragma once
/// pipeline_state.json: what has run, what is running, and where each session's model is. Written
/// atomically at every transition so any interruption (Ctrl-C, kill -9, a crash) can be resumed.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rlpipe::pipeline {

enum class SessionStatus { kPending, kRunning, kCompleted, kFailed, kFailedCriteria, kInterrupted };

/// "pending", "running", "completed", "failed", "failed_criteria", "interrupted".
std::string ToString(SessionStatus status);
/// Inverse of ToString; throws IoError naming `origin` for an unknown word.
SessionStatus ParseSessionStatus(const std::string& word, const std::string& origin);
/// Completed is the only good end; failed and failed_criteria count as failures.
bool IsFailure(SessionStatus status);

/// One task statistic of a session: an `info` key at the end of the last 100 training episodes.
struct TaskStatistic {
  double mean = 0.0;
  double max = 0.0;
};

/// One session's record.
struct SessionRecord {
  std::string name;
  SessionStatus status = SessionStatus::kPending;
  std::string config_fingerprint;  // hash of the resolved training config (YAML text)
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  double duration_seconds = 0.0;
  int attempts = 0;       // times this session was started
  int64_t timesteps = 0;  // env steps trained in the last attempt (updated while it runs)
  int64_t episodes = 0;   // training episodes in the last attempt
  std::optional<double> best_mean_return;
  std::optional<double> final_mean_return;
  std::optional<std::string> init_checkpoint;  // model the session started from
  std::optional<std::string> checkpoint;       // model handed to the next session
  std::optional<std::string> error;            // why it failed / was interrupted
  std::optional<std::string> stop_reason;      // early-stopping rule that ended training
  std::map<std::string, TaskStatistic> task_stats;  // by info key (robot tasks)
  std::optional<std::string> job;              // remote job that ran it (SageMaker job name)
  /// Exact resume (--resume of a running or interrupted session): the periodic or interrupt
  /// checkpoint the last attempt continued from, its steps, and the steps trained before the
  /// interruption but after that checkpoint, summed over every resume of this session.
  std::optional<std::string> resumed_from;
  std::optional<int64_t> resumed_from_timesteps;
  int64_t steps_lost = 0;
};

/// The whole state file. The first five fields keep the Python tool's names and meaning.
struct PipelineState {
  std::vector<std::string> sessions_completed;
  std::optional<std::string> current_session;
  std::string started_at;
  std::string last_updated;
  std::map<std::string, std::string> checkpoints;  // session → model path (completed sessions)
  std::string pipeline_name;
  std::string pipeline_file;
  uint64_t seed = 0;
  std::vector<SessionRecord> sessions;  // in pipeline order
  std::optional<std::string> run_id;    // names the run in S3 (--use-s3 only)
  std::optional<std::string> run_uri;   // s3://bucket/prefix/run-id (--use-s3 only)
  /// What did not reach S3 yet ("pipeline_state.json", "checkpoints/<session>",
  /// "reports/pipeline_report.json"); `--resume` uploads them first.
  std::vector<std::string> pending_uploads;

  SessionRecord* Find(const std::string& name);
  const SessionRecord* Find(const std::string& name) const;
};

/// Reads a state file; throws IoError naming the file on unreadable or malformed content.
PipelineState LoadState(const std::filesystem::path& path);
/// Stamps last_updated and writes atomically (temp file, fsync, rename).
void SaveState(const std::filesystem::path& path, PipelineState& state);

std::string StateToJson(const PipelineState& state);
PipelineState StateFromJson(const std::string& text, const std::string& origin);

/// Stable 64-bit FNV-1a fingerprint of a text, as 16 hex digits.
std::string Fingerprint(const std::string& text);

}  // namespace rlpipe::pipeline
