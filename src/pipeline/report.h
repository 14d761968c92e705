#pragma once
/// The pipeline's reports: pipeline_report.json and the self-contained pipeline_report.html
/// (inline SVG and CSS, nothing fetched), built from the output folder's files: the state file,
/// each session's logs/metrics.csv, logs/evaluations.csv, transfer_report.json and videos/, and
/// final_evaluation.json (docs/reports.md).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"
#include "pipeline/state.h"

namespace rlpipe::pipeline {

inline constexpr char kReportJsonFile[] = "pipeline_report.json";
inline constexpr char kReportHtmlFile[] = "pipeline_report.html";
/// post_pipeline.evaluate_final_models's results (written by the runner, read by the reports).
inline constexpr char kFinalEvaluationFile[] = "final_evaluation.json";

/// What the reports show beyond the state file. Kept inside pipeline_report.json ("settings"),
/// so `rlpipe report` rebuilds both reports from the output folder alone.
struct ReportSettings {
  std::string description;
  config::PipelineMonitoringConfig monitoring;
  bool compare_sessions = false;
  /// Per session: its description, task, algorithm and success criteria as text.
  struct Session {
    std::string description;
    std::string environment;
    std::string algorithm;
    std::string criteria;  // e.g. "min_reward >= -200; min_episodes >= 10"; "" = none set
  };
  std::map<std::string, Session> sessions;
};

/// The settings of a resolved pipeline (sessions in the same order as pipeline.sessions).
ReportSettings MakeReportSettings(const config::PipelineConfig& pipeline,
                                  const std::vector<config::ExperimentConfig>& sessions);

/// pipeline_report.json: pipeline name, start and end, per-session status, timings, timesteps,
/// best and final mean eval return, checkpoint, error, early-stopping reason, task statistics,
/// resume losses, success criteria and final evaluations; summary counts; the settings.
std::string RenderReportJson(const PipelineState& state, const ReportSettings& settings,
                             const std::filesystem::path& output_dir,
                             const std::string& finished_at);

/// pipeline_report.html: summary table, per-session learning curves (training return, eval mean
/// ± std), small multiples of monitoring.track_metrics, task statistics, the transfer summary,
/// the wall-time split, the final evaluations, video posters, and the cross-session chart when
/// compare_sessions is on. Charts are left out when monitoring.generate_plots is false.
std::string RenderReportHtml(const PipelineState& state, const ReportSettings& settings,
                             const std::filesystem::path& output_dir,
                             const std::string& finished_at);

/// Writes the reports monitoring.report_format asks for (atomically) and returns their paths;
/// nothing when monitoring.save_report is false.
std::vector<std::filesystem::path> WriteReports(const std::filesystem::path& output_dir,
                                                const PipelineState& state,
                                                const ReportSettings& settings);

/// `rlpipe report`: rebuilds the reports of an output folder from its files (the settings from
/// the existing pipeline_report.json, defaults without one). Throws IoError when the folder has
/// no pipeline_state.json.
std::vector<std::filesystem::path> RebuildReports(const std::filesystem::path& output_dir);

}  // namespace rlpipe::pipeline
