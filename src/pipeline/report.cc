#include "pipeline/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kStateFile[] = "pipeline_state.json";

json OptionalJson(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}
json OptionalJson(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

/// "min_reward >= -200.5; min_episodes >= 10", or "" when no criterion is set.
std::string CriteriaText(const config::SuccessCriteria& criteria) {
  std::string text;
  if (criteria.min_reward) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "min_reward >= %g", *criteria.min_reward);
    text += buffer;
  }
  if (criteria.min_episodes) {
    text += (text.empty() ? "" : "; ") + std::string("min_episodes >= ") +
            std::to_string(*criteria.min_episodes);
  }
  return text;
}

json SettingsToJson(const ReportSettings& settings) {
  json sessions = json::object();
  for (const auto& [name, s] : settings.sessions) {
    sessions[name] = {{"description", s.description},
                      {"environment", s.environment},
                      {"algorithm", s.algorithm},
                      {"success_criteria", s.criteria}};
  }
  return {{"track_metrics", settings.monitoring.track_metrics},
          {"report_format", config::ToString(settings.monitoring.report_format)},
          {"generate_plots", settings.monitoring.generate_plots},
          {"save_report", settings.monitoring.save_report},
          {"compare_sessions", settings.compare_sessions},
          {"sessions", sessions}};
}

ReportSettings SettingsFromJson(const json& report) {
  ReportSettings settings;
  settings.description = report.value("description", std::string());
  if (!report.contains("settings") || !report["settings"].is_object()) return settings;
  const json& s = report["settings"];
  if (s.contains("track_metrics") && s["track_metrics"].is_array()) {
    settings.monitoring.track_metrics.clear();
    for (const json& name : s["track_metrics"]) {
      if (name.is_string()) settings.monitoring.track_metrics.push_back(name);
    }
  }
  const std::string format = s.value("report_format", std::string("both"));
  settings.monitoring.report_format = format == "json"   ? config::ReportFormat::kJson
                                      : format == "html" ? config::ReportFormat::kHtml
                                                         : config::ReportFormat::kBoth;
  settings.monitoring.generate_plots = s.value("generate_plots", true);
  settings.monitoring.save_report = s.value("save_report", true);
  settings.compare_sessions = s.value("compare_sessions", false);
  if (s.contains("sessions") && s["sessions"].is_object()) {
    for (const auto& [name, entry] : s["sessions"].items()) {
      settings.sessions[name] = {
          entry.value("description", std::string()), entry.value("environment", std::string()),
          entry.value("algorithm", std::string()), entry.value("success_criteria", std::string())};
    }
  }
  return settings;
}

}  // namespace

ReportSettings MakeReportSettings(const config::PipelineConfig& pipeline,
                                  const std::vector<config::ExperimentConfig>& sessions) {
  ReportSettings settings;
  settings.description = pipeline.description;
  settings.monitoring = pipeline.monitoring;
  settings.compare_sessions = pipeline.post_pipeline.compare_sessions;
  for (size_t i = 0; i < pipeline.sessions.size(); ++i) {
    const config::SessionSpec& spec = pipeline.sessions[i];
    ReportSettings::Session& s = settings.sessions[spec.name];
    s.description = spec.description;
    s.criteria = CriteriaText(spec.success_criteria);
    if (i < sessions.size()) {
      s.environment = sessions[i].environment.name;
      s.algorithm = config::ToString(sessions[i].agent.algorithm());
    }
  }
  return settings;
}

std::string RenderReportJson(const PipelineState& state, const ReportSettings& settings,
                             const fs::path& output_dir, const std::string& finished_at) {
  // Final evaluations (post_pipeline.evaluate_final_models), by session, when they ran.
  json evaluations = json::object();
  if (fs::exists(output_dir / kFinalEvaluationFile)) {
    evaluations = json::parse(ReadFile(output_dir / kFinalEvaluationFile), nullptr, false);
    if (evaluations.is_discarded()) evaluations = json::object();
  }

  // Per-session rows, in pipeline order.
  json sessions = json::array();
  std::map<std::string, int> counts;
  double total_duration = 0.0;
  int64_t total_timesteps = 0;
  for (const auto& r : state.sessions) {
    json s;
    s["name"] = r.name;
    s["status"] = ToString(r.status);
    s["started_at"] = OptionalJson(r.started_at);
    s["finished_at"] = OptionalJson(r.finished_at);
    s["duration_seconds"] = r.duration_seconds;
    s["attempts"] = r.attempts;
    s["timesteps"] = r.timesteps;
    s["episodes"] = r.episodes;
    s["best_mean_return"] = OptionalJson(r.best_mean_return);
    s["final_mean_return"] = OptionalJson(r.final_mean_return);
    s["init_checkpoint"] = OptionalJson(r.init_checkpoint);
    s["checkpoint"] = OptionalJson(r.checkpoint);
    s["error"] = OptionalJson(r.error);
    s["stop_reason"] = OptionalJson(r.stop_reason);
    // Task statistics: each info key at episode end over the last 100 training episodes.
    json stats = json::object();
    for (const auto& [key, stat] : r.task_stats) {
      stats[key] = {{"mean", stat.mean}, {"max", stat.max}};
    }
    s["task_stats"] = stats;
    s["resumed_from"] = OptionalJson(r.resumed_from);
    s["resumed_from_timesteps"] =
        r.resumed_from_timesteps ? json(*r.resumed_from_timesteps) : json(nullptr);
    s["steps_lost"] = r.steps_lost;
    // The success criteria and their verdict: met when the session completed.
    const auto info = settings.sessions.find(r.name);
    const std::string criteria = info != settings.sessions.end() ? info->second.criteria : "";
    s["success_criteria"] = criteria.empty() ? json(nullptr) : json(criteria);
    s["success_criteria_met"] = criteria.empty() || (r.status != SessionStatus::kCompleted &&
                                                     r.status != SessionStatus::kFailedCriteria)
                                    ? json(nullptr)
                                    : json(r.status == SessionStatus::kCompleted);
    s["final_evaluation"] = evaluations.contains(r.name) ? evaluations[r.name] : json(nullptr);
    sessions.push_back(s);
    counts[ToString(r.status)]++;
    total_duration += r.duration_seconds;
    total_timesteps += r.timesteps;
  }
  // Summary counts over every status, so consumers never miss a key.
  json summary;
  summary["total_sessions"] = state.sessions.size();
  for (const char* status :
       {"completed", "failed", "failed_criteria", "interrupted", "running", "pending"}) {
    summary[status] = counts[status];
  }
  summary["total_duration_seconds"] = total_duration;
  summary["total_timesteps"] = total_timesteps;

  json report;
  report["pipeline_name"] = state.pipeline_name;
  report["description"] = settings.description;
  report["pipeline_file"] = state.pipeline_file;
  report["seed"] = state.seed;
  report["run_id"] = OptionalJson(state.run_id);
  report["started_at"] = state.started_at;
  report["finished_at"] = finished_at;
  report["sessions"] = sessions;
  report["summary"] = summary;
  report["settings"] = SettingsToJson(settings);
  return report.dump(2) + "\n";
}

std::vector<fs::path> WriteReports(const fs::path& output_dir, const PipelineState& state,
                                   const ReportSettings& settings) {
  std::vector<fs::path> written;
  if (!settings.monitoring.save_report) return written;
  const std::string now = NowIso8601();
  const config::ReportFormat format = settings.monitoring.report_format;
  if (format != config::ReportFormat::kHtml) {
    WriteFileAtomic(output_dir / kReportJsonFile,
                    RenderReportJson(state, settings, output_dir, now));
    written.push_back(output_dir / kReportJsonFile);
  }
  if (format != config::ReportFormat::kJson) {
    WriteFileAtomic(output_dir / kReportHtmlFile,
                    RenderReportHtml(state, settings, output_dir, now));
    written.push_back(output_dir / kReportHtmlFile);
  }
  return written;
}

std::vector<fs::path> RebuildReports(const fs::path& output_dir) {
  if (!fs::exists(output_dir / kStateFile)) {
    throw IoError(output_dir.string() + ": no " + kStateFile +
                  " (not the output folder of an rlpipe run)");
  }
  const PipelineState state = LoadState(output_dir / kStateFile);
  // The settings: from the JSON report, else from the pipeline file if it is still there, else
  // the defaults.
  ReportSettings settings;
  if (fs::exists(output_dir / kReportJsonFile)) {
    const json report = json::parse(ReadFile(output_dir / kReportJsonFile), nullptr, false);
    if (report.is_discarded()) {
      throw IoError((output_dir / kReportJsonFile).string() + ": not valid JSON");
    }
    settings = SettingsFromJson(report);
  } else if (!state.pipeline_file.empty() && fs::exists(state.pipeline_file)) {
    settings = MakeReportSettings(config::LoadPipeline(state.pipeline_file), {});
  }
  settings.monitoring.save_report = true;  // asked for explicitly
  return WriteReports(output_dir, state, settings);
}

}  // namespace rlpipe::pipeline
