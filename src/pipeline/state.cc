#include "pipeline/state.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::pipeline {
namespace {

using nlohmann::json;

constexpr int kStateVersion = 1;

struct StatusName {
  SessionStatus status;
  const char* name;
};
constexpr StatusName kStatusNames[] = {
    {SessionStatus::kPending, "pending"},
    {SessionStatus::kRunning, "running"},
    {SessionStatus::kCompleted, "completed"},
    {SessionStatus::kFailed, "failed"},
    {SessionStatus::kFailedCriteria, "failed_criteria"},
    {SessionStatus::kInterrupted, "interrupted"},
};

template <typename T>
void PutOptional(json& j, const char* key, const std::optional<T>& value) {
  j[key] = value ? json(*value) : json(nullptr);
}

template <typename T>
std::optional<T> GetOptional(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

}  // namespace

std::string ToString(SessionStatus status) {
  for (const auto& entry : kStatusNames) {
    if (entry.status == status) return entry.name;
  }
  return "unknown";
}

SessionStatus ParseSessionStatus(const std::string& word, const std::string& origin) {
  for (const auto& entry : kStatusNames) {
    if (word == entry.name) return entry.status;
  }
  throw IoError(origin + ": unknown session status '" + word + "'");
}

bool IsFailure(SessionStatus status) {
  return status == SessionStatus::kFailed || status == SessionStatus::kFailedCriteria;
}

SessionRecord* PipelineState::Find(const std::string& name) {
  for (auto& record : sessions) {
    if (record.name == name) return &record;
  }
  return nullptr;
}

const SessionRecord* PipelineState::Find(const std::string& name) const {
  return const_cast<PipelineState*>(this)->Find(name);
}

std::string StateToJson(const PipelineState& state) {
  json j;
  j["version"] = kStateVersion;
  j["pipeline_name"] = state.pipeline_name;
  j["pipeline_file"] = state.pipeline_file;
  j["seed"] = state.seed;
  j["sessions_completed"] = state.sessions_completed;
  PutOptional(j, "current_session", state.current_session);
  j["started_at"] = state.started_at;
  j["last_updated"] = state.last_updated;
  j["checkpoints"] = state.checkpoints;
  json sessions = json::object();
  json order = json::array();
  for (const auto& r : state.sessions) {
    json s;
    s["status"] = ToString(r.status);
    s["config_fingerprint"] = r.config_fingerprint;
    PutOptional(s, "started_at", r.started_at);
    PutOptional(s, "finished_at", r.finished_at);
    s["duration_seconds"] = r.duration_seconds;
    s["attempts"] = r.attempts;
    s["timesteps"] = r.timesteps;
    s["episodes"] = r.episodes;
    PutOptional(s, "best_mean_return", r.best_mean_return);
    PutOptional(s, "final_mean_return", r.final_mean_return);
    PutOptional(s, "init_checkpoint", r.init_checkpoint);
    PutOptional(s, "checkpoint", r.checkpoint);
    PutOptional(s, "error", r.error);
    PutOptional(s, "stop_reason", r.stop_reason);
    if (!r.task_stats.empty()) {
      json stats = json::object();
      for (const auto& [key, stat] : r.task_stats)
        stats[key] = {{"mean", stat.mean}, {"max", stat.max}};
      s["task_stats"] = stats;
    }
    PutOptional(s, "job", r.job);
    PutOptional(s, "resumed_from", r.resumed_from);
    PutOptional(s, "resumed_from_timesteps", r.resumed_from_timesteps);
    s["steps_lost"] = r.steps_lost;
    sessions[r.name] = s;
    order.push_back(r.name);
  }
  PutOptional(j, "run_id", state.run_id);
  PutOptional(j, "run_uri", state.run_uri);
  j["pending_uploads"] = state.pending_uploads;
  j["session_order"] = order;
  j["sessions"] = sessions;
  return j.dump(2) + "\n";
}

PipelineState StateFromJson(const std::string& text, const std::string& origin) {
  PipelineState state;
  try {
    const json j = json::parse(text);
    if (!j.is_object()) throw IoError(origin + ": expected a JSON object");
    const int version = j.value("version", kStateVersion);
    if (version > kStateVersion) {
      throw IoError(origin + ": state version " + std::to_string(version) +
                    " is newer than this rlpipe understands (" + std::to_string(kStateVersion) +
                    ")");
    }
    state.pipeline_name = j.value("pipeline_name", "");
    state.pipeline_file = j.value("pipeline_file", "");
    state.seed = j.value("seed", uint64_t{0});
    state.sessions_completed = j.value("sessions_completed", std::vector<std::string>{});
    state.current_session = GetOptional<std::string>(j, "current_session");
    state.started_at = j.value("started_at", "");
    state.last_updated = j.value("last_updated", "");
    state.checkpoints = j.value("checkpoints", std::map<std::string, std::string>{});
    state.run_id = GetOptional<std::string>(j, "run_id");
    state.run_uri = GetOptional<std::string>(j, "run_uri");
    state.pending_uploads = j.value("pending_uploads", std::vector<std::string>{});
    const json sessions = j.value("sessions", json::object());
    for (const auto& name : j.value("session_order", std::vector<std::string>{})) {
      const json& s = sessions.at(name);
      SessionRecord r;
      r.name = name;
      r.status = ParseSessionStatus(s.value("status", "pending"), origin);
      r.config_fingerprint = s.value("config_fingerprint", "");
      r.started_at = GetOptional<std::string>(s, "started_at");
      r.finished_at = GetOptional<std::string>(s, "finished_at");
      r.duration_seconds = s.value("duration_seconds", 0.0);
      r.attempts = s.value("attempts", 0);
      r.timesteps = s.value("timesteps", int64_t{0});
      r.episodes = s.value("episodes", int64_t{0});
      r.best_mean_return = GetOptional<double>(s, "best_mean_return");
      r.final_mean_return = GetOptional<double>(s, "final_mean_return");
      r.init_checkpoint = GetOptional<std::string>(s, "init_checkpoint");
      r.checkpoint = GetOptional<std::string>(s, "checkpoint");
      r.error = GetOptional<std::string>(s, "error");
      r.stop_reason = GetOptional<std::string>(s, "stop_reason");
      const json task_stats = s.value("task_stats", json::object());
      for (const auto& [key, stat] : task_stats.items()) {
        r.task_stats[key] = {stat.at("mean").get<double>(), stat.at("max").get<double>()};
      }
      r.job = GetOptional<std::string>(s, "job");
      r.resumed_from = GetOptional<std::string>(s, "resumed_from");
      r.resumed_from_timesteps = GetOptional<int64_t>(s, "resumed_from_timesteps");
      r.steps_lost = s.value("steps_lost", int64_t{0});
      state.sessions.push_back(std::move(r));
    }
  } catch (const json::exception& e) {
    throw IoError(origin + ": malformed state file (" + e.what() + ")");
  }
  return state;
}

PipelineState LoadState(const std::filesystem::path& path) {
  return StateFromJson(ReadFile(path), path.string());
}

void SaveState(const std::filesystem::path& path, PipelineState& state) {
  state.last_updated = NowIso8601();
  WriteFileAtomic(path, StateToJson(state));
}

std::string Fingerprint(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

}  // namespace rlpipe::pipeline
