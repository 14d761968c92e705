// pipeline_report.html: one self-contained page (inline CSS and SVG; no script, font or image
// fetched) built from the output folder's files. See report.h.
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "config/tree.h"
#include "core/files.h"
#include "metrics/sinks.h"
#include "metrics/svg_chart.h"
#include "pipeline/report.h"
#include "storage/crypto.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;
using metrics::EscapeHtml;
using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Posters larger than this are linked, not embedded, so the page stays small.
constexpr size_t kMaxInlinePosterBytes = 400 * 1024;

constexpr char kCss[] = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
  margin:24px auto;max-width:1320px;padding:0 16px;color:#1d1d1f;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.3em;margin:32px 0 6px;border-bottom:1px solid #ddd;
  padding-bottom:4px}h3{font-size:1.05em;margin:18px 0 6px}
.meta{color:#555;font-size:.9em;margin:2px 0}
table{border-collapse:collapse;font-size:.88em;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600;padding:1px 6px;border-radius:4px;font-size:.85em;white-space:nowrap}
.s-completed{background:#e3f4e1;color:#1e6b1b}.s-failed,.s-failed_criteria{background:#fde2e1;
  color:#9b1c18}.s-interrupted,.s-running{background:#fff3d6;color:#7a5300}
.s-pending{background:#eee;color:#555}
.charts{display:flex;flex-wrap:wrap;gap:12px}.small{display:flex;flex-wrap:wrap;gap:8px}
svg.chart{background:#fff;border:1px solid #e5e5e5;border-radius:4px}
svg.chart .chart-title{font-size:13px;font-weight:600;fill:#222}
svg.chart .tick{font-size:10px;fill:#555}svg.chart .axis-label{font-size:11px;fill:#333}
svg.chart .grid{stroke:#eee}svg.chart .axis,svg.chart .tickmark{stroke:#888}
svg.chart .series{fill:none;stroke-width:1.6;stroke-linejoin:round}
svg.chart .band{opacity:.18;stroke:none}svg.chart .legend text{font-size:11px;fill:#333}
svg.chart .mark{stroke:#999;stroke-dasharray:3,3}svg.chart .mark-label{font-size:10px;fill:#666}
svg.chart .no-data{font-size:12px;fill:#999}
.poster img{max-width:320px;border:1px solid #ddd;border-radius:4px}
.note{color:#666;font-size:.85em}
)css";

std::string Number(std::optional<double> value, const char* format = "%.2f") {
  if (!value || !std::isfinite(*value)) return "&ndash;";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, *value);
  return buffer;
}

std::string Duration(double seconds) {
  const long long total = std::llround(std::max(0.0, seconds));
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%lld:%02lld:%02lld", total / 3600, total / 60 % 60,
                total % 60);
  return buffer;
}

std::string Cell(const std::string& html, bool numeric = false) {
  return std::string(numeric ? "<td class=\"num\">" : "<td>") + html + "</td>";
}

/// The task and algorithm of a session: from the settings, else from the resolved
/// training_config.yaml the runner wrote beside its outputs.
std::pair<std::string, std::string> TaskAndAlgorithm(const ReportSettings& settings,
                                                     const std::string& session,
                                                     const fs::path& session_dir) {
  const auto it = settings.sessions.find(session);
  if (it != settings.sessions.end() && !it->second.environment.empty()) {
    return {it->second.environment, it->second.algorithm};
  }
  std::pair<std::string, std::string> out;
  const fs::path config = session_dir / "training_config.yaml";
  if (!fs::exists(config)) return out;
  try {
    const config::Tree tree = config::LoadYamlFile(config);
    if (const config::Tree* env = tree.Find("environment")) {
      if (const config::Tree* name = env->Find("name")) out.first = name->scalar;
    }
    if (const config::Tree* agent = tree.Find("agent")) {
      if (const config::Tree* algorithm = agent->Find("algorithm")) out.second = algorithm->scalar;
    }
  } catch (const std::exception&) {
    // A report never fails over a file it only decorates with.
  }
  return out;
}

/// (x, y) for every row with an x; a missing y is NaN (drawn as a gap).
std::vector<std::pair<double, double>> SeriesWithGaps(const metrics::CsvTable& table,
                                                      const std::string& x, const std::string& y) {
  std::vector<std::pair<double, double>> points;
  const std::optional<size_t> xi = table.Column(x), yi = table.Column(y);
  if (!xi || !yi) return points;
  for (const auto& row : table.rows) {
    if (!row[*xi]) continue;
    points.emplace_back(*row[*xi], row[*yi] ? *row[*yi] : kNaN);
  }
  return points;
}

/// Everything the page shows about one session, read from its folder.
struct SessionFiles {
  metrics::CsvTable progress;     // logs/metrics.csv
  metrics::CsvTable evaluations;  // logs/evaluations.csv
  json transfer;                  // transfer_report.json (null when absent)
};

SessionFiles ReadSessionFiles(const fs::path& session_dir) {
  SessionFiles files;
  files.progress = metrics::ReadCsvTable(session_dir / "logs" / "metrics.csv");
  files.evaluations = metrics::ReadCsvTable(session_dir / "logs" / "evaluations.csv");
  if (fs::exists(session_dir / "transfer_report.json")) {
    files.transfer = json::parse(ReadFile(session_dir / "transfer_report.json"), nullptr, false);
    if (files.transfer.is_discarded()) files.transfer = nullptr;
  }
  return files;
}

/// Training return and eval mean ± std against timesteps.
std::string LearningCurve(const std::string& session, const SessionFiles& files) {
  metrics::ChartSeries train{"training episode return (mean of last 100)",
                             SeriesWithGaps(files.progress, "timesteps", "mean_episode_return"),
                             metrics::PaletteColor(0)};
  metrics::ChartSeries eval{"eval mean return (± std)",
                            files.evaluations.Series("timesteps", "mean_return"),
                            metrics::PaletteColor(1)};
  const auto std_points = files.evaluations.Series("timesteps", "std_return");
  if (std_points.size() == eval.points.size()) {
    for (size_t i = 0; i < eval.points.size(); ++i) {
      eval.band.emplace_back(eval.points[i].second - std_points[i].second,
                             eval.points[i].second + std_points[i].second);
    }
  }
  metrics::LineChartOptions options{session + "/learning-curve", "Learning curve: " + session,
                                    "timesteps (env steps)", "episode return"};
  options.width_px = 760;
  options.height_px = 320;
  return metrics::RenderLineChart(options, {train, eval});
}

/// One small chart per tracked metric.
std::string SmallMultiples(const std::string& session, const SessionFiles& files,
                           const std::vector<std::string>& track_metrics) {
  std::string html = "<div class=\"small\">";
  for (size_t i = 0; i < track_metrics.size(); ++i) {
    const std::optional<config::TrackableMetric> metric =
        config::FindTrackableMetric(track_metrics[i]);
    if (!metric) continue;
    metrics::LineChartOptions options{session + "/metric/" + metric->name, metric->name,
                                      "timesteps", metric->label};
    options.width_px = 320;
    options.height_px = 200;
    options.max_points = 400;
    html += metrics::RenderLineChart(
        options, {metrics::ChartSeries{metric->name,
                                       SeriesWithGaps(files.progress, "timesteps", metric->column),
                                       metrics::PaletteColor(i + 2)}});
  }
  return html + "</div>";
}

/// Collect / update / other seconds from the last metrics row (cumulative columns).
std::optional<metrics::StackedBar> TimeSplit(const std::string& session,
                                             const SessionFiles& files) {
  const auto& t = files.progress;
  const auto elapsed = t.Column("elapsed_s"), collect = t.Column("collect_s"),
             update = t.Column("update_s");
  if (t.rows.empty() || !elapsed || !collect || !update) return std::nullopt;
  const auto& last = t.rows.back();
  if (!last[*elapsed] || !last[*collect] || !last[*update]) return std::nullopt;
  const double other = std::max(0.0, *last[*elapsed] - *last[*collect] - *last[*update]);
  return metrics::StackedBar{
      session, {{"collect", *last[*collect]}, {"update", *last[*update]}, {"other", other}}};
}

/// Every session's eval curve (training curve where a session has no evaluation) on one global
/// step axis: each session starts where the previous one ended; boundaries marked.
std::string CrossSessionChart(const PipelineState& state,
                              const std::map<std::string, SessionFiles>& files) {
  std::vector<metrics::ChartSeries> series;
  std::vector<metrics::ChartMark> marks;
  double offset = 0.0;
  for (size_t i = 0; i < state.sessions.size(); ++i) {
    const SessionRecord& r = state.sessions[i];
    const SessionFiles& f = files.at(r.name);
    std::vector<std::pair<double, double>> points =
        f.evaluations.Series("timesteps", "mean_return");
    const bool eval = !points.empty();
    if (!eval) points = SeriesWithGaps(f.progress, "timesteps", "mean_episode_return");
    for (auto& p : points) p.first += offset;
    marks.push_back({offset, r.name});
    series.emplace_back(r.name + (eval ? "" : " (training)"), points, metrics::PaletteColor(i),
                        !eval);
    offset += static_cast<double>(r.timesteps);
  }
  metrics::LineChartOptions options{"compare-sessions", "All sessions (eval mean return)",
                                    "pipeline timesteps (env steps, sessions end to end)",
                                    "episode return"};
  options.width_px = 1100;
  options.height_px = 340;
  options.marks = marks;
  return metrics::RenderLineChart(options, series);
}

std::string SummaryTable(const PipelineState& state, const ReportSettings& settings) {
  std::string html =
      "<table class=\"summary\"><thead><tr><th>#</th><th>session</th><th>task</th>"
      "<th>status</th><th>started</th><th>finished</th><th>duration</th><th>timesteps</th>"
      "<th>best eval</th><th>final eval</th><th>success criteria</th><th>stop reason / error"
      "</th><th>steps lost on resume</th><th>attempts</th></tr></thead><tbody>";
  for (size_t i = 0; i < state.sessions.size(); ++i) {
    const SessionRecord& r = state.sessions[i];
    const auto info = settings.sessions.find(r.name);
    const std::string criteria = info != settings.sessions.end() ? info->second.criteria : "";
    std::string verdict = "none set";
    if (!criteria.empty()) {
      verdict = EscapeHtml(criteria) + ": " +
                (r.status == SessionStatus::kCompleted        ? std::string("<b>met</b>")
                 : r.status == SessionStatus::kFailedCriteria ? std::string("<b>not met</b>")
                                                              : std::string("not judged"));
    }
    const std::string note = r.stop_reason ? *r.stop_reason : (r.error ? *r.error : std::string());
    html += "<tr>" + Cell(std::to_string(i + 1), true) +
            Cell("<a href=\"#session-" + EscapeHtml(r.name) + "\">" + EscapeHtml(r.name) + "</a>") +
            Cell(EscapeHtml(info != settings.sessions.end() ? info->second.environment : "")) +
            Cell("<span class=\"status s-" + ToString(r.status) + "\">" + ToString(r.status) +
                 "</span>") +
            Cell(EscapeHtml(r.started_at.value_or(""))) +
            Cell(EscapeHtml(r.finished_at.value_or(""))) +
            Cell(Duration(r.duration_seconds), true) + Cell(std::to_string(r.timesteps), true) +
            Cell(Number(r.best_mean_return), true) + Cell(Number(r.final_mean_return), true) +
            Cell(verdict) + Cell(EscapeHtml(note)) + Cell(std::to_string(r.steps_lost), true) +
            Cell(std::to_string(r.attempts), true) + "</tr>";
  }
  return html + "</tbody></table>";
}

/// post_pipeline.evaluate_final_models: one row per session and model.
std::string FinalEvaluationTable(const json& evaluations) {
  std::string html =
      "<table class=\"final-evaluation\"><thead><tr><th>session</th><th>model</th>"
      "<th>episodes</th><th>mean return</th><th>std</th><th>mean length</th>"
      "<th>task statistics (mean)</th></tr></thead><tbody>";
  for (const auto& [session, models] : evaluations.items()) {
    if (!models.is_object()) continue;
    for (const auto& [model, e] : models.items()) {
      std::string stats;
      if (e.contains("task_stats") && e["task_stats"].is_object()) {
        for (const auto& [key, value] : e["task_stats"].items()) {
          if (!value.is_number()) continue;
          stats += (stats.empty() ? "" : ", ") + EscapeHtml(key) + " " +
                   Number(value.get<double>(), "%.3g");
        }
      }
      const auto num = [&](const char* key) -> std::optional<double> {
        return e.contains(key) && e[key].is_number() ? std::optional(e[key].get<double>())
                                                     : std::nullopt;
      };
      html += "<tr>" + Cell(EscapeHtml(session)) + Cell(EscapeHtml(model)) +
              Cell(Number(num("episodes"), "%.0f"), true) + Cell(Number(num("mean_return")), true) +
              Cell(Number(num("std_return")), true) +
              Cell(Number(num("mean_length"), "%.1f"), true) + Cell(stats) + "</tr>";
    }
  }
  return html + "</tbody></table>";
}

std::string SessionSection(const SessionRecord& r, const ReportSettings& settings,
                           const fs::path& output_dir) {
  const fs::path session_dir = output_dir / r.name;
  const auto [task, algorithm] = TaskAndAlgorithm(settings, r.name, session_dir);
  const auto info = settings.sessions.find(r.name);
  std::string html = "<section class=\"session\" id=\"session-" + EscapeHtml(r.name) + "\"><h2>" +
                     EscapeHtml(r.name) + " <span class=\"status s-" + ToString(r.status) + "\">" +
                     ToString(r.status) + "</span></h2>";
  if (info != settings.sessions.end() && !info->second.description.empty()) {
    html += "<p>" + EscapeHtml(info->second.description) + "</p>";
  }
  html += "<p class=\"meta\">task <b>" + EscapeHtml(task.empty() ? "?" : task) +
          "</b> &middot; algorithm <b>" + EscapeHtml(algorithm.empty() ? "?" : algorithm) +
          "</b> &middot; " + std::to_string(r.timesteps) + " steps &middot; " +
          std::to_string(r.episodes) + " episodes &middot; " + Duration(r.duration_seconds) +
          (r.init_checkpoint ? " &middot; started from " + EscapeHtml(*r.init_checkpoint) : "") +
          (r.resumed_from_timesteps
               ? " &middot; resumed at " + std::to_string(*r.resumed_from_timesteps) + " steps (" +
                     std::to_string(r.steps_lost) + " steps lost)"
               : "") +
          "</p>";

  // Video poster (a session rendered with environment.render_mode: rgb_array).
  const fs::path poster = session_dir / "videos" / "best_model.png";
  const fs::path video = session_dir / "videos" / "best_model.mp4";
  if (fs::exists(poster)) {
    const std::string link = (fs::path(r.name) / "videos" / "best_model.mp4").generic_string();
    const std::string image =
        fs::file_size(poster) <= kMaxInlinePosterBytes
            ? "data:image/png;base64," + Base64Encode(ReadFile(poster))
            : (fs::path(r.name) / "videos" / "best_model.png").generic_string();
    html += "<div class=\"poster\"><a href=\"" + EscapeHtml(link) + "\"><img src=\"" + image +
            "\" alt=\"first evaluation episode of " + EscapeHtml(r.name) + "'s best model\"></a>" +
            (fs::exists(video) ? "<div class=\"note\">click for the video (best_model.mp4)</div>"
                               : "") +
            "</div>";
  }
  return html;
}

}  // namespace

std::string RenderReportHtml(const PipelineState& state, const ReportSettings& settings,
                             const fs::path& output_dir, const std::string& finished_at) {
  const bool plots = settings.monitoring.generate_plots;
  std::map<std::string, SessionFiles> files;
  for (const SessionRecord& r : state.sessions)
    files[r.name] = ReadSessionFiles(output_dir / r.name);

  // Head and the pipeline's summary.
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>rlpipe report: " +
      EscapeHtml(state.pipeline_name) + "</title><style>" + kCss + "</style></head><body>";
  html += "<h1>Pipeline " + EscapeHtml(state.pipeline_name) + "</h1>";
  if (!settings.description.empty()) html += "<p>" + EscapeHtml(settings.description) + "</p>";
  int64_t total_steps = 0;
  double total_seconds = 0.0;
  int completed = 0;
  for (const SessionRecord& r : state.sessions) {
    total_steps += r.timesteps;
    total_seconds += r.duration_seconds;
    completed += r.status == SessionStatus::kCompleted;
  }
  html += "<p class=\"meta\">" + std::to_string(completed) + "/" +
          std::to_string(state.sessions.size()) + " sessions completed &middot; " +
          std::to_string(total_steps) + " steps &middot; " + Duration(total_seconds) +
          " training &middot; seed " + std::to_string(state.seed) + " &middot; started " +
          EscapeHtml(state.started_at) + " &middot; report written " + EscapeHtml(finished_at) +
          (state.run_uri ? " &middot; " + EscapeHtml(*state.run_uri) : "") + "</p>";
  html += "<p class=\"meta\">pipeline file " + EscapeHtml(state.pipeline_file) + "</p>";
  html += "<h2>Sessions</h2>" + SummaryTable(state, settings);

  // Cross-session views.
  if (plots && settings.compare_sessions && !state.sessions.empty()) {
    html +=
        "<h2>All sessions</h2><div class=\"charts\">" + CrossSessionChart(state, files) + "</div>";
  }
  std::vector<metrics::StackedBar> bars;
  for (const SessionRecord& r : state.sessions) {
    if (auto bar = TimeSplit(r.name, files[r.name])) bars.push_back(*bar);
  }
  if (plots && !bars.empty()) {
    html +=
        "<h3>Where the wall time went</h3>" +
        metrics::RenderStackedBars("time-split", "Wall time per session", "seconds", bars, 760) +
        "<p class=\"note\">collect: stepping the envs and acting; update: gradient steps; "
        "other: evaluations, checkpoints, bookkeeping.</p>";
  }
  if (fs::exists(output_dir / kFinalEvaluationFile)) {
    const json evaluations =
        json::parse(ReadFile(output_dir / kFinalEvaluationFile), nullptr, false);
    if (!evaluations.is_discarded() && evaluations.is_object()) {
      html += "<h2>Final evaluation</h2>" + FinalEvaluationTable(evaluations);
    }
  }

  // One section per session: curves, tracked metrics, task statistics, transfer, time split.
  for (const SessionRecord& r : state.sessions) {
    const SessionFiles& f = files[r.name];
    html += SessionSection(r, settings, output_dir);
    if (plots) {
      html += "<div class=\"charts\">" + LearningCurve(r.name, f) + "</div>";
      html +=
          "<h3>Tracked metrics</h3>" + SmallMultiples(r.name, f, settings.monitoring.track_metrics);
    }
    if (!r.task_stats.empty()) {
      html +=
          "<h3>Task statistics</h3><table class=\"task-stats\"><thead><tr><th>statistic</th>"
          "<th>mean (last 100 episodes)</th><th>max</th></tr></thead><tbody>";
      for (const auto& [key, stat] : r.task_stats) {
        html += "<tr>" + Cell(EscapeHtml(key)) + Cell(Number(stat.mean, "%.4g"), true) +
                Cell(Number(stat.max, "%.4g"), true) + "</tr>";
      }
      html += "</tbody></table>";
    }
    if (f.transfer.is_object() && f.transfer.contains("summary")) {
      const json& s = f.transfer["summary"];
      html +=
          "<h3>Transfer</h3><p>from " + EscapeHtml(f.transfer.value("source", std::string("?"))) +
          ": " + std::to_string(s.value("copied", 0)) + " tensors copied, " +
          std::to_string(s.value("sliced", 0)) + " sliced, " + std::to_string(s.value("fresh", 0)) +
          " fresh, " + std::to_string(s.value("frozen", 0)) + " frozen, " +
          std::to_string(s.value("skipped", 0)) + " skipped (details in " + EscapeHtml(r.name) +
          "/transfer_report.json)</p>";
    }
    if (auto bar = TimeSplit(r.name, f)) {
      const double total = bar->parts[0].second + bar->parts[1].second + bar->parts[2].second;
      html += "<p class=\"meta\">wall time: collect " + Number(bar->parts[0].second, "%.1f") +
              " s, update " + Number(bar->parts[1].second, "%.1f") + " s, other " +
              Number(bar->parts[2].second, "%.1f") + " s (" + Number(total, "%.1f") + " s)</p>";
    }
    html += "</section>";
  }
  html +=
      "<p class=\"note\">Written by rlpipe. Curves are decimated for drawing (per series at "
      "most 800 points: the minimum and maximum of each of 400 equal step ranges), so "
      "spikes stay visible; metrics.csv and evaluations.csv hold every point.</p>";
  return html + "</body></html>\n";
}

}  // namespace rlpipe::pipeline
