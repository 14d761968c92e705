#include "pipeline/report.h"

#include <nlohmann/json.hpp>

namespace rlpipe::pipeline {

std::string RenderReportJson(const PipelineState& state, const std::string& description,
                             const std::string& finished_at) {
  using nlohmann::json;
  json sessions = json::array();
  // Per-session rows, in pipeline order.
  std::map<std::string, int> counts;
  double total_duration = 0.0;
  int64_t total_timesteps = 0;
  for (const auto& r : state.sessions) {
    json s;
    s["name"] = r.name;
    s["status"] = ToString(r.status);
    s["started_at"] = r.started_at ? json(*r.started_at) : json(nullptr);
    s["finished_at"] = r.finished_at ? json(*r.finished_at) : json(nullptr);
    s["duration_seconds"] = r.duration_seconds;
    s["attempts"] = r.attempts;
    s["timesteps"] = r.timesteps;
    s["episodes"] = r.episodes;
    s["best_mean_return"] = r.best_mean_return ? json(*r.best_mean_return) : json(nullptr);
    s["final_mean_return"] = r.final_mean_return ? json(*r.final_mean_return) : json(nullptr);
    s["init_checkpoint"] = r.init_checkpoint ? json(*r.init_checkpoint) : json(nullptr);
    s["checkpoint"] = r.checkpoint ? json(*r.checkpoint) : json(nullptr);
    s["error"] = r.error ? json(*r.error) : json(nullptr);
    s["stop_reason"] = r.stop_reason ? json(*r.stop_reason) : json(nullptr);
    // Task statistics: each info key at episode end over the last 100 training episodes.
    json stats = json::object();
    for (const auto& [key, stat] : r.task_stats) {
      stats[key] = {{"mean", stat.mean}, {"max", stat.max}};
    }
    s["task_stats"] = stats;
    s["resumed_from"] = r.resumed_from ? json(*r.resumed_from) : json(nullptr);
    s["resumed_from_timesteps"] =
        r.resumed_from_timesteps ? json(*r.resumed_from_timesteps) : json(nullptr);
    s["steps_lost"] = r.steps_lost;
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
  report["description"] = description;
  report["pipeline_file"] = state.pipeline_file;
  report["seed"] = state.seed;
  report["started_at"] = state.started_at;
  report["finished_at"] = finished_at;
  report["sessions"] = sessions;
  report["summary"] = summary;
  return report.dump(2) + "\n";
}

}  // namespace rlpipe::pipeline
