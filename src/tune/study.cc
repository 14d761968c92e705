#include "tune/study.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::tune {
namespace {

using nlohmann::json;

template <typename T>
json OptionalJson(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <typename T>
std::optional<T> OptionalFrom(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<T>();
}

std::string FormatNumber(const std::optional<double>& value) {
  if (!value) return "";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", *value);
  return buf;
}

// A CSV field, quoted when it holds a comma, quote or newline.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Why a trial was stopped, as JSON.
json StopJson(const StopDecision& stop) {
  return {{"timesteps", stop.timesteps},
          {"best_eval_return", stop.best},
          {"median", stop.median},
          {"other_trials", stop.others}};
}

// A parameter value as JSON: numbers stay numbers (integers integers), the rest strings/bools.
json ValueJson(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_discarded() && (parsed.is_number() || parsed.is_boolean())) return parsed;
  return text;
}

}  // namespace

std::string ToString(RunStatus status) {
  switch (status) {
    case RunStatus::kPending:
      return "pending";
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
    case RunStatus::kStopped:
      return "stopped";
  }
  return "?";
}

RunStatus ParseRunStatus(const std::string& word, const std::string& origin) {
  for (RunStatus s : {RunStatus::kPending, RunStatus::kRunning, RunStatus::kCompleted,
                      RunStatus::kFailed, RunStatus::kInterrupted, RunStatus::kStopped}) {
    if (ToString(s) == word) return s;
  }
  throw IoError(origin + ": unknown run status '" + word + "'");
}

RunRecord* StudyState::FindRun(const std::string& dir) {
  for (RunRecord& r : runs) {
    if (r.dir == dir) return &r;
  }
  return nullptr;
}

TrialRecord* StudyState::FindTrial(const std::string& id) {
  for (TrialRecord& t : trials) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::string StudyToJson(const StudyState& state) {
  json trials = json::array();
  for (const TrialRecord& t : state.trials) {
    json params = json::object();
    json order = json::array();
    for (const auto& [key, value] : t.params) {
      params[key] = value;
      order.push_back(key);
    }
    json trial = {{"id", t.id}, {"params", params}, {"param_order", order}};
    if (t.early_stop) {
      trial["early_stop"] = StopJson(*t.early_stop);
      trial["early_stop"]["decided_at"] = OptionalJson(t.stopped_at);
    }
    trials.push_back(trial);
  }
  json runs = json::array();
  for (const RunRecord& r : state.runs) {
    runs.push_back({{"trial", r.trial},
                    {"seed_index", r.seed_index},
                    {"seed", r.seed},
                    {"dir", r.dir},
                    {"status", ToString(r.status)},
                    {"metric", OptionalJson(r.metric)},
                    {"exit_code", OptionalJson(r.exit_code)},
                    {"attempts", r.attempts},
                    {"threads", r.threads},
                    {"started_at", OptionalJson(r.started_at)},
                    {"finished_at", OptionalJson(r.finished_at)},
                    {"duration_seconds", r.duration_seconds}});
  }
  json j = {{"version", state.version},
            {"fingerprint", state.fingerprint},
            {"pipeline_file", state.pipeline_file},
            {"space_file", state.space_file},
            {"metric", state.metric},
            {"metric_session", state.metric_session},
            {"direction", ToString(state.direction)},
            {"strategy", state.strategy},
            {"seeds", state.seeds},
            {"started_at", state.started_at},
            {"last_updated", state.last_updated},
            {"trials", trials},
            {"runs", runs}};
  return j.dump(2) + "\n";
}

StudyState StudyFromJson(const std::string& text, const std::string& origin) {
  StudyState state;
  try {
    const json j = json::parse(text);
    state.version = j.at("version").get<int>();
    state.fingerprint = j.at("fingerprint").get<std::string>();
    state.pipeline_file = j.at("pipeline_file").get<std::string>();
    state.space_file = j.at("space_file").get<std::string>();
    state.metric = j.at("metric").get<std::string>();
    state.metric_session = j.at("metric_session").get<std::string>();
    state.direction = j.at("direction").get<std::string>() == "minimize" ? Direction::kMinimize
                                                                         : Direction::kMaximize;
    state.strategy = j.at("strategy").get<std::string>();
    state.seeds = j.at("seeds").get<int>();
    state.started_at = j.at("started_at").get<std::string>();
    state.last_updated = j.at("last_updated").get<std::string>();
    for (const json& t : j.at("trials")) {
      TrialRecord trial;
      trial.id = t.at("id").get<std::string>();
      for (const json& key : t.at("param_order")) {
        const std::string k = key.get<std::string>();
        trial.params.emplace_back(k, t.at("params").at(k).get<std::string>());
      }
      if (t.contains("early_stop") && !t["early_stop"].is_null()) {
        const json& stop = t["early_stop"];
        trial.early_stop = StopDecision{
            stop.at("timesteps").get<int64_t>(), stop.at("best_eval_return").get<double>(),
            stop.at("median").get<double>(), stop.at("other_trials").get<int>()};
        trial.stopped_at = OptionalFrom<std::string>(stop, "decided_at");
      }
      state.trials.push_back(std::move(trial));
    }
    for (const json& r : j.at("runs")) {
      RunRecord run;
      run.trial = r.at("trial").get<std::string>();
      run.seed_index = r.at("seed_index").get<int>();
      run.seed = r.at("seed").get<uint64_t>();
      run.dir = r.at("dir").get<std::string>();
      run.status = ParseRunStatus(r.at("status").get<std::string>(), origin);
      run.metric = OptionalFrom<double>(r, "metric");
      run.exit_code = OptionalFrom<int>(r, "exit_code");
      run.attempts = r.at("attempts").get<int>();
      run.threads = r.at("threads").get<int>();
      run.started_at = OptionalFrom<std::string>(r, "started_at");
      run.finished_at = OptionalFrom<std::string>(r, "finished_at");
      run.duration_seconds = r.at("duration_seconds").get<double>();
      state.runs.push_back(std::move(run));
    }
  } catch (const json::exception& e) {
    throw IoError(origin + ": not a valid study state: " + e.what());
  }
  return state;
}

StudyState LoadStudy(const std::filesystem::path& path) {
  return StudyFromJson(ReadFile(path), path.string());
}

void SaveStudy(const std::filesystem::path& path, StudyState& state) {
  state.last_updated = NowIso8601();
  WriteFileAtomic(path, StudyToJson(state));
}

std::vector<TrialResult> RankTrials(const StudyState& state) {
  std::vector<TrialResult> results;
  for (const TrialRecord& trial : state.trials) {
    TrialResult r;
    r.trial = trial.id;
    r.params = trial.params;
    r.early_stop = trial.early_stop;
    r.per_seed.assign(static_cast<size_t>(state.seeds), std::nullopt);
    // The worst status of the trial's runs names the trial's status.
    int worst = 0;
    const std::vector<RunStatus> order{RunStatus::kCompleted,   RunStatus::kPending,
                                       RunStatus::kRunning,     RunStatus::kStopped,
                                       RunStatus::kInterrupted, RunStatus::kFailed};
    std::vector<double> values;
    for (const RunRecord& run : state.runs) {
      if (run.trial != trial.id) continue;
      const int rank =
          static_cast<int>(std::find(order.begin(), order.end(), run.status) - order.begin());
      worst = std::max(worst, rank);
      if (run.seed_index >= 0 && run.seed_index < state.seeds) {
        r.per_seed[static_cast<size_t>(run.seed_index)] = run.metric;
      }
      if (run.metric) values.push_back(*run.metric);
    }
    r.status = ToString(order[static_cast<size_t>(worst)]);
    // Mean and sample standard deviation over the seeds that reported a value.
    if (!values.empty()) {
      double sum = 0.0;
      for (double v : values) sum += v;
      const double mean = sum / static_cast<double>(values.size());
      double ss = 0.0;
      for (double v : values) ss += (v - mean) * (v - mean);
      r.mean = mean;
      r.stddev = values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size() - 1)) : 0.0;
    }
    results.push_back(std::move(r));
  }
  // Complete trials with a mean first, best first; the rest after them in trial order.
  const bool maximize = state.direction == Direction::kMaximize;
  std::stable_sort(results.begin(), results.end(), [&](const TrialResult& a, const TrialResult& b) {
    const bool ra = a.mean && a.status == "completed";
    const bool rb = b.mean && b.status == "completed";
    if (ra != rb) return ra;
    if (!ra) return false;
    return maximize ? *a.mean > *b.mean : *a.mean < *b.mean;
  });
  int rank = 0;
  for (TrialResult& r : results) {
    if (r.mean && r.status == "completed") r.rank = ++rank;
  }
  return results;
}

std::string ResultsCsv(const StudyState& state, const std::vector<TrialResult>& results) {
  std::string csv = "rank,trial";
  if (!state.trials.empty()) {
    for (const auto& [key, value] : state.trials.front().params) csv += "," + CsvField(key);
  }
  csv += "," + state.metric + "_mean," + state.metric + "_std";
  for (int s = 0; s < state.seeds; ++s) csv += ",s" + std::to_string(s);
  csv += ",status\n";
  for (const TrialResult& r : results) {
    csv += (r.rank > 0 ? std::to_string(r.rank) : std::string()) + "," + r.trial;
    for (const auto& [key, value] : r.params) csv += "," + CsvField(value);
    csv += "," + FormatNumber(r.mean) + "," + FormatNumber(r.stddev);
    for (const auto& v : r.per_seed) csv += "," + FormatNumber(v);
    csv += "," + r.status + "\n";
  }
  return csv;
}

std::string ResultsJson(const StudyState& state, const std::vector<TrialResult>& results) {
  json trials = json::array();
  for (const TrialResult& r : results) {
    json params = json::object();
    for (const auto& [key, value] : r.params) params[key] = ValueJson(value);
    json per_seed = json::array();
    for (const auto& v : r.per_seed) per_seed.push_back(OptionalJson(v));
    trials.push_back({{"rank", r.rank > 0 ? json(r.rank) : json(nullptr)},
                      {"trial", r.trial},
                      {"params", params},
                      {"mean", OptionalJson(r.mean)},
                      {"std", OptionalJson(r.stddev)},
                      {"per_seed", per_seed},
                      {"status", r.status},
                      {"early_stop", r.early_stop ? StopJson(*r.early_stop) : json(nullptr)}});
  }
  json j = {{"metric", state.metric},
            {"session", state.metric_session},
            {"direction", ToString(state.direction)},
            {"seeds", state.seeds},
            {"best", results.empty() || results.front().rank != 1 ? json(nullptr)
                                                                  : json(results.front().trial)},
            {"trials", trials}};
  return j.dump(2) + "\n";
}

std::string ResultsTable(const StudyState& state, const std::vector<TrialResult>& results) {
  // Columns as text first, then padded to their widest cell.
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"rank", "trial"};
  if (!state.trials.empty()) {
    for (const auto& [key, value] : state.trials.front().params) header.push_back(key);
  }
  header.push_back(state.metric + " (mean ± std)");
  header.push_back("per seed");
  header.push_back("status");
  rows.push_back(header);
  for (const TrialResult& r : results) {
    std::vector<std::string> row{r.rank > 0 ? std::to_string(r.rank) : "-", r.trial};
    for (const auto& [key, value] : r.params) row.push_back(value);
    row.push_back(r.mean ? FormatNumber(r.mean) + " ± " + FormatNumber(r.stddev) : "n/a");
    std::string seeds;
    for (const auto& v : r.per_seed)
      seeds += (seeds.empty() ? "" : " ") + (v ? FormatNumber(v) : "-");
    row.push_back(seeds);
    row.push_back(r.status);
    rows.push_back(row);
  }
  // "±" is two bytes in UTF-8 but one column wide.
  auto width = [](const std::string& s) {
    size_t w = 0;
    for (unsigned char c : s) w += (c & 0xC0) != 0x80;
    return w;
  };
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - width(row[i]) + 2, ' ');
    }
    out += line + "\n";
  }
  for (const TrialResult& r : results) {
    if (r.status != "stopped" || !r.early_stop) continue;
    out += r.trial + " stopped at " + std::to_string(r.early_stop->timesteps) +
           " steps: best eval return " + FormatNumber(r.early_stop->best) +
           (state.direction == Direction::kMaximize ? " < median " : " > median ") +
           FormatNumber(r.early_stop->median) + " of " + std::to_string(r.early_stop->others) +
           " other trials (early_stopping: median)\n";
  }
  return out;
}

}  // namespace rlpipe::tune
