#pragma once
/// The study's state (D/study.json, written atomically after every change) and its results:
/// every trial's parameters, every trial × seed run's status and metric, the ranked table,
/// results.csv and results.json.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tune/early_stopping.h"
#include "tune/space.h"

namespace rlpipe::tune {

inline constexpr char kStudyFile[] = "study.json";
inline constexpr char kResultsCsvFile[] = "results.csv";
inline constexpr char kResultsJsonFile[] = "results.json";
inline constexpr char kBestPipelineFile[] = "best_pipeline.yaml";
inline constexpr char kTrialsDir[] = "trials";
/// A run's pipeline variant, inside its output folder.
inline constexpr char kRunPipelineFile[] = "tune_pipeline.yaml";
/// A run's console output (the child's stdout and stderr), inside its output folder.
inline constexpr char kRunConsoleFile[] = "tune_console.log";

/// Where one trial × seed run is. kStopped: median early stopping ended its trial (a running
/// child was stopped as by Ctrl-C and keeps its partial results; a pending one never starts);
/// like kCompleted and kFailed it is final (--resume does not run it again).
enum class RunStatus { kPending, kRunning, kCompleted, kFailed, kInterrupted, kStopped };
std::string ToString(RunStatus status);
/// Inverse of ToString; throws IoError naming `origin` for an unknown word.
RunStatus ParseRunStatus(const std::string& word, const std::string& origin);

/// One trial × seed: an ordinary pipeline run in D/trials/<trial>-s<seed index>/.
struct RunRecord {
  std::string trial;   // trial id, e.g. "t003"
  int seed_index = 0;  // 0 … seeds-1
  uint64_t seed = 0;   // the variant's root seed (the pipeline's seed + seed_index)
  std::string dir;     // relative to the study folder: "trials/t003-s1"
  RunStatus status = RunStatus::kPending;
  std::optional<double> metric;  // the space's figure from the run's report, when it has one
  std::optional<int> exit_code;  // the child's last exit code
  int attempts = 0;              // times a child was started for it
  int threads = 0;               // the thread budget it ran with (cores / parallel)
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  double duration_seconds = 0.0;  // wall time over all attempts
};

/// One trial's parameter values as text (key path → value as written in the variant).
struct TrialRecord {
  std::string id;
  std::vector<std::pair<std::string, std::string>> params;
  std::optional<StopDecision> early_stop;  // why median early stopping stopped it
  std::optional<std::string> stopped_at;   // when (ISO 8601)
};

/// D/study.json.
struct StudyState {
  int version = 1;
  std::string fingerprint;  // of the space, the pipeline file, --seeds and --trials
  std::string pipeline_file;
  std::string space_file;
  std::string metric;
  std::string metric_session;
  Direction direction = Direction::kMaximize;
  std::string strategy;
  int seeds = 1;
  std::string started_at;
  std::string last_updated;
  std::vector<TrialRecord> trials;
  std::vector<RunRecord> runs;  // trial-major: t000-s0, t000-s1, t001-s0, …

  RunRecord* FindRun(const std::string& dir);
  TrialRecord* FindTrial(const std::string& id);
};

std::string StudyToJson(const StudyState& state);
/// Throws IoError naming `origin` on malformed content.
StudyState StudyFromJson(const std::string& text, const std::string& origin);
/// Reads D/study.json (IoError when unreadable or malformed).
StudyState LoadStudy(const std::filesystem::path& path);
/// Writes it atomically, stamping last_updated.
void SaveStudy(const std::filesystem::path& path, StudyState& state);

/// A trial's line in the ranked table.
struct TrialResult {
  int rank = 0;  // 1 = best; trials without any metric value come last, unranked (0)
  std::string trial;
  std::vector<std::pair<std::string, std::string>> params;
  std::optional<double> mean;                   // over the seeds that have a value
  std::optional<double> stddev;                 // sample standard deviation (0 with one value)
  std::vector<std::optional<double>> per_seed;  // by seed index
  std::string status;  // "completed", or the worst run status ("failed", "stopped", …)
  std::optional<StopDecision> early_stop;  // a stopped trial's reason
};

/// The trials ranked by mean metric in the space's direction (ties: trial order). Only trials
/// whose runs all completed are ranked; the others (stopped ones with their partial metric)
/// follow, in trial order.
std::vector<TrialResult> RankTrials(const StudyState& state);

/// results.csv: rank,trial,<param…>,mean,std,s0,s1,…,status (one header row).
std::string ResultsCsv(const StudyState& state, const std::vector<TrialResult>& results);
/// results.json: the study's metric, direction and the ranked list.
std::string ResultsJson(const StudyState& state, const std::vector<TrialResult>& results);
/// The printed table (aligned columns, mean ± std), then one line per stopped trial saying why.
std::string ResultsTable(const StudyState& state, const std::vector<TrialResult>& results);

}  // namespace rlpipe::tune
