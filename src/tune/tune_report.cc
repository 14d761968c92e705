#include "tune/tune_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "core/files.h"
#include "metrics/sinks.h"
#include "metrics/svg_chart.h"

namespace rlpipe::tune {
namespace fs = std::filesystem;
namespace {

using metrics::EscapeHtml;

constexpr char kCss[] = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
  margin:24px auto;max-width:1320px;padding:0 16px;color:#1d1d1f;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.3em;margin:32px 0 6px;border-bottom:1px solid #ddd;
  padding-bottom:4px}
.meta{color:#555;font-size:.9em;margin:2px 0}
table{border-collapse:collapse;font-size:.88em;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600;padding:1px 6px;border-radius:4px;font-size:.85em;white-space:nowrap}
.s-completed{background:#e3f4e1;color:#1e6b1b}.s-failed{background:#fde2e1;color:#9b1c18}
.s-interrupted,.s-running{background:#fff3d6;color:#7a5300}.s-pending{background:#eee;color:#555}
.s-stopped{background:#e4ecfb;color:#1f4a8a}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{background:#fff;border:1px solid #e5e5e5;border-radius:4px}
svg.chart .chart-title{font-size:13px;font-weight:600;fill:#222}
svg.chart .tick{font-size:10px;fill:#555}svg.chart .axis-label{font-size:11px;fill:#333}
svg.chart .grid{stroke:#eee}svg.chart .axis,svg.chart .tickmark{stroke:#888}
svg.chart .series{fill:none;stroke-width:1.6;stroke-linejoin:round}
svg.chart .markers circle{opacity:.75}svg.chart .legend text{font-size:11px;fill:#333}
svg.chart .no-data{font-size:12px;fill:#999}
.note{color:#666;font-size:.85em}
)css";

std::string Number(const std::optional<double>& value) {
  if (!value || !std::isfinite(*value)) return "&ndash;";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g", *value);
  return buf;
}

// The number a parameter value holds, nullopt for a word (a categorical value).
std::optional<double> NumberOf(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// The metric against one parameter: every run (dots) and each trial's mean (larger dots).
// Words are placed at their index among the parameter's distinct values (named in the title).
std::string ParameterChart(const StudyState& state, size_t p) {
  const std::string& key = state.trials.front().params[p].first;
  std::vector<std::string> words;
  bool numeric = true;
  for (const TrialRecord& t : state.trials) {
    const std::string& v = t.params[p].second;
    if (!NumberOf(v)) numeric = false;
    if (std::find(words.begin(), words.end(), v) == words.end()) words.push_back(v);
  }
  auto x_of = [&](const std::string& v) {
    if (numeric) return *NumberOf(v);
    return static_cast<double>(std::find(words.begin(), words.end(), v) - words.begin());
  };
  // A log axis is not available: a range over several decades is drawn against log10(value).
  double lo = INFINITY, hi = -INFINITY;
  if (numeric) {
    for (const std::string& w : words) lo = std::min(lo, x_of(w)), hi = std::max(hi, x_of(w));
  }
  const bool log_x = numeric && lo > 0 && hi / lo >= 100;
  auto x = [&](const std::string& v) { return log_x ? std::log10(x_of(v)) : x_of(v); };

  std::vector<std::pair<double, double>> runs;
  std::vector<std::pair<double, double>> means;
  const std::vector<TrialResult> results = RankTrials(state);
  for (const TrialResult& r : results) {
    const double px = x(r.params[p].second);
    for (const auto& v : r.per_seed) {
      if (v) runs.emplace_back(px, *v);
    }
    if (r.mean) means.emplace_back(px, *r.mean);
  }
  std::sort(runs.begin(), runs.end());
  std::sort(means.begin(), means.end());
  std::string title = state.metric + " vs " + key;
  if (!numeric) {
    title += " (";
    for (size_t i = 0; i < words.size(); ++i) {
      title += (i ? ", " : "") + std::to_string(i) + " = " + words[i];
    }
    title += ")";
  }
  metrics::LineChartOptions options{"param/" + key, title, log_x ? "log10(" + key + ")" : key,
                                    state.metric};
  options.max_points = 0;
  metrics::ChartSeries run_series{"runs (one per seed)", runs, metrics::PaletteColor(0)};
  run_series.markers = true;
  metrics::ChartSeries mean_series{"trial mean over seeds", means, metrics::PaletteColor(1)};
  mean_series.markers = true;
  mean_series.marker_radius = 5;
  return metrics::RenderLineChart(options, {run_series, mean_series});
}

// Every run's evaluation curve, coloured by trial.
std::string CurvesChart(const StudyState& state, const fs::path& output_dir, size_t* curves) {
  std::vector<metrics::ChartSeries> series;
  std::map<std::string, size_t> trial_index;
  for (size_t i = 0; i < state.trials.size(); ++i) trial_index[state.trials[i].id] = i;
  for (const RunRecord& run : state.runs) {
    const fs::path csv = output_dir / run.dir / state.metric_session / "logs" / "evaluations.csv";
    if (!fs::exists(csv)) continue;
    const auto points = metrics::ReadCsvTable(csv).Series("timesteps", "mean_return");
    if (points.empty()) continue;
    const std::string label = fs::path(run.dir).filename().string();
    series.emplace_back(label, points, metrics::PaletteColor(trial_index[run.trial]),
                        run.seed_index % 2 == 1);
  }
  *curves = series.size();
  metrics::LineChartOptions options{"eval-curves",
                                    "Eval mean return of every run (" + state.metric_session + ")",
                                    "timesteps (env steps)", "eval mean return"};
  options.width_px = 960;
  options.height_px = 360;
  return metrics::RenderLineChart(options, series);
}

}  // namespace

std::string RenderTuneReport(const StudyState& state, const fs::path& output_dir) {
  const std::vector<TrialResult> results = RankTrials(state);
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>rlpipe "
      "tune: " +
      EscapeHtml(fs::path(state.pipeline_file).filename().string()) + "</title><style>" + kCss +
      "</style></head><body>";
  html += "<h1>Study of " + EscapeHtml(state.pipeline_file) + "</h1>";
  html += "<p class=\"meta\">space " + EscapeHtml(state.space_file) + " &middot; " +
          EscapeHtml(state.strategy) + " &middot; " + EscapeHtml(ToString(state.direction)) + " " +
          EscapeHtml(state.metric) + " of session " + EscapeHtml(state.metric_session) +
          " &middot; " + std::to_string(state.trials.size()) + " trials &times; " +
          std::to_string(state.seeds) + " seeds &middot; started " + EscapeHtml(state.started_at) +
          ", updated " + EscapeHtml(state.last_updated) + "</p>";

  // The ranked table.
  html += "<h2>Trials</h2><table><tr><th>rank</th><th>trial</th>";
  if (!state.trials.empty()) {
    for (const auto& [key, value] : state.trials.front().params) {
      html += "<th>" + EscapeHtml(key) + "</th>";
    }
  }
  html += "<th>" + EscapeHtml(state.metric) +
          " mean</th><th>std</th><th>per seed</th>"
          "<th>status</th></tr>";
  for (const TrialResult& r : results) {
    html += "<tr><td class=\"num\">" + (r.rank > 0 ? std::to_string(r.rank) : "&ndash;") +
            "</td><td>" + EscapeHtml(r.trial) + "</td>";
    for (const auto& [key, value] : r.params) html += "<td>" + EscapeHtml(value) + "</td>";
    std::string seeds;
    for (const auto& v : r.per_seed) seeds += (seeds.empty() ? "" : " ") + Number(v);
    html += "<td class=\"num\">" + Number(r.mean) + "</td><td class=\"num\">" + Number(r.stddev) +
            "</td><td class=\"num\">" + seeds + "</td><td><span class=\"status s-" +
            EscapeHtml(r.status) + "\">" + EscapeHtml(r.status) + "</span></td></tr>";
  }
  html += "</table>";
  // Why each stopped trial was stopped.
  std::string stops;
  for (const TrialResult& r : results) {
    if (r.status != "stopped" || !r.early_stop) continue;
    stops += "<li>" + EscapeHtml(r.trial) + " at " + std::to_string(r.early_stop->timesteps) +
             " steps: best eval return " + Number(r.early_stop->best) +
             (state.direction == Direction::kMaximize ? " &lt; " : " &gt; ") + "median " +
             Number(r.early_stop->median) + " of " + std::to_string(r.early_stop->others) +
             " other trials' running averages</li>";
  }
  if (!stops.empty()) {
    html +=
        "<p class=\"note\">Stopped by median early stopping (their partial results are "
        "shown, unranked):</p><ul class=\"note\">" +
        stops + "</ul>";
  }

  // The metric per parameter.
  if (!state.trials.empty()) {
    html += "<h2>" + EscapeHtml(state.metric) + " per parameter</h2><div class=\"charts\">";
    for (size_t p = 0; p < state.trials.front().params.size(); ++p) {
      html += ParameterChart(state, p);
    }
    html += "</div>";
  }

  // Every run's learning curve.
  size_t curves = 0;
  const std::string chart = CurvesChart(state, output_dir, &curves);
  if (curves > 0) {
    html += "<h2>Evaluation curves</h2><div class=\"charts\">" + chart +
            "</div><p class=\"note\">One line per run, one colour per trial; odd seeds "
            "dashed.</p>";
  }
  return html + "</body></html>\n";
}

fs::path WriteTuneReport(const StudyState& state, const fs::path& output_dir) {
  const fs::path path = output_dir / kTuneReportFile;
  WriteFileAtomic(path, RenderTuneReport(state, output_dir));
  return path;
}

}  // namespace rlpipe::tune
