#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "algos/evaluate_model.h"
#include "cli/commands.h"
#include "cli/session_video.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "render/episode_recorder.h"

namespace rlpipe::cli {
namespace {

namespace fs = std::filesystem;

/// Flags of `rlpipe evaluate`.
struct EvaluateFlags {
  std::string model;   // MODEL.zip (or --output-dir + --session)
  std::string config;  // another training config to run the model in
  int episodes = 10;
  bool stochastic = false;
  int64_t seed = -1;  // < 0: the model's training seed
  int n_envs = 1;
  std::string json;        // write the results here too
  std::string output_dir;  // with --session: OUT/<session>/models/<best|final>_model.zip
  std::string session;
  std::string which = "best";  // best | final
  std::string render;          // FILE.mp4 or DIR/
  int render_episodes = 1;
  int width = 640;
  int height = 480;
  double fps = 0.0;  // 0: the task's control rate
  std::string camera = "track";
};

/// The model zip the flags name. ConfigError for a missing name or an unknown session.
fs::path ModelPath(const EvaluateFlags& flags) {
  if (!flags.model.empty()) {
    if (!flags.session.empty())
      throw ConfigError("evaluate: pass MODEL.zip or --session, not both");
    return flags.model;
  }
  if (flags.session.empty()) {
    throw ConfigError("evaluate: expected MODEL.zip, or --output-dir OUT --session NAME");
  }
  if (flags.which != "best" && flags.which != "final") {
    throw ConfigError("--model: expected best or final, found '" + flags.which + "'");
  }
  const fs::path out =
      flags.output_dir.empty() ? fs::path("pipeline_output") : fs::path(flags.output_dir);
  const fs::path models = out / flags.session / "models";
  if (!fs::is_directory(models)) {
    // Name the sessions that do have models.
    std::string found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(out, ec)) {
      if (fs::is_directory(entry.path() / "models")) {
        found += (found.empty() ? "" : ", ") + entry.path().filename().string();
      }
    }
    throw ConfigError("--session: no completed session '" + flags.session + "' in " + out.string() +
                      " (sessions with models: " + (found.empty() ? "none" : found) + ")");
  }
  const fs::path path = models / (flags.which + "_model.zip");
  if (!fs::exists(path) && flags.which == "best") return models / "final_model.zip";
  return path;
}

/// IoError when `path` cannot be created (checked before any episode runs).
void CheckWritable(const fs::path& path, const std::string& flag) {
  const bool existed = fs::exists(path);
  std::ofstream probe(path, std::ios::app);
  if (!probe) throw IoError(flag + ": cannot write " + path.string());
  probe.close();
  if (!existed) fs::remove(path);
}

/// "max_height 1.23, connections 2" from an episode's task statistics.
std::string InfoText(const std::map<std::string, double>& info) {
  std::string text;
  char value[64];
  for (const auto& [key, v] : info) {
    std::snprintf(value, sizeof(value), "%.4g", v);
    text += ", " + key + " " + value;
  }
  return text;
}

int Evaluate(const EvaluateFlags& flags) {
  // The request: the model, the experiment it runs in, the episodes.
  algos::EvaluateModelRequest request;
  request.model = ModelPath(flags);
  if (!flags.config.empty()) {
    request.config = config::ParseExperimentConfig(config::LoadYamlFile(flags.config));
  }
  request.episodes = flags.episodes;
  request.deterministic = !flags.stochastic;
  if (flags.seed >= 0) request.seed = static_cast<uint64_t>(flags.seed);
  request.n_envs = flags.n_envs;
  if (flags.episodes < 1) {
    throw ConfigError("--episodes: expected at least 1, found " + std::to_string(flags.episodes));
  }
  if (!flags.json.empty()) CheckWritable(flags.json, "--json");

  // Rendering: the first --render-episodes episodes, recorded as they run.
  std::unique_ptr<EpisodeRendering> rendering;
  algos::EpisodeObserver observer;
  if (!flags.render.empty()) {
    render::RecordingOptions recording;
    recording.output = flags.render;
    recording.size = {flags.width, flags.height};
    if (flags.fps > 0.0) recording.fps = flags.fps;
    recording.camera = render::ParseCameraMode(flags.camera);
    if (flags.render_episodes < 1) {
      throw ConfigError("--render-episodes: expected at least 1, found " +
                        std::to_string(flags.render_episodes));
    }
    rendering = std::make_unique<EpisodeRendering>(recording);
    observer = rendering->Observer();
    request.observer = &observer;
    request.observed_episodes = flags.render_episodes;
  }

  const algos::EvaluateModelResult result = algos::EvaluateModel(request);
  int frames = 0;
  if (rendering) frames = rendering->Finish();

  // One line per episode, then the summary (and the same as JSON).
  std::printf("evaluating %s on %s (%s, seed %llu, %s)\n", request.model.c_str(),
              result.config.environment.name.c_str(),
              request.config ? flags.config.c_str() : "its stored config",
              static_cast<unsigned long long>(result.seed),
              request.deterministic ? "deterministic" : "stochastic");
  if (!result.transfer_summary.empty()) std::printf("%s\n", result.transfer_summary.c_str());
  nlohmann::json episodes = nlohmann::json::array();
  for (size_t e = 0; e < result.episodes.size(); ++e) {
    const algos::EpisodeOutcome& episode = result.episodes[e];
    std::printf("episode %zu: return %.2f, length %lld%s%s\n", e + 1, episode.episode_return,
                static_cast<long long>(episode.length), InfoText(episode.info).c_str(),
                episode.truncated ? " (time limit)" : "");
    episodes.push_back({{"episode", e + 1},
                        {"return", episode.episode_return},
                        {"length", episode.length},
                        {"truncated", episode.truncated},
                        {"info", episode.info}});
  }
  const algos::EvaluationSummary& s = result.summary;
  std::printf(
      "mean return %.2f +/- %.2f, mean length %.1f +/- %.1f over %d episodes "
      "(%.2f s, %.2f episodes/s)\n",
      s.mean_return, s.std_return, s.mean_length, s.std_length, flags.episodes, result.seconds,
      result.seconds > 0.0 ? flags.episodes / result.seconds : 0.0);
  if (rendering) {
    std::printf("rendered %d frames of %d episode(s) to %s\n", frames,
                std::min(flags.render_episodes, flags.episodes), flags.render.c_str());
  }
  if (!flags.json.empty()) {
    nlohmann::json json = {{"model", request.model.string()},
                           {"task", result.config.environment.name},
                           {"config", request.config ? flags.config : ""},
                           {"seed", result.seed},
                           {"deterministic", request.deterministic},
                           {"episodes", episodes},
                           {"mean_return", s.mean_return},
                           {"std_return", s.std_return},
                           {"mean_length", s.mean_length},
                           {"std_length", s.std_length},
                           {"seconds", result.seconds}};
    if (rendering) json["render"] = flags.render;
    WriteFileAtomic(flags.json, json.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

void AddEvaluateCommand(CLI::App& app, CommandFn* run) {
  auto flags = std::make_shared<EvaluateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate",
      "Run a trained model for some episodes and report returns (deterministic actions and the "
      "model's training seed by default, which reproduces the session's own evaluations); "
      "optionally render them to an MP4 or PNG frames, headless. Exit code 0, 1 on failure, 2 "
      "on bad input.");
  cmd->add_option("MODEL", flags->model, "model zip (rlpipe's, or one saved by Stable-Baselines3)");
  cmd->add_option("--config,-c", flags->config,
                  "training config to run the model in (another task or robot count, through "
                  "the session transfer rules); default: the config stored in the model");
  cmd->add_option("--episodes,-n", flags->episodes, "episodes to run (default 10)");
  cmd->add_flag("--stochastic", flags->stochastic, "sample actions instead of the mean action");
  cmd->add_option("--seed", flags->seed,
                  "seed of the evaluation episodes (default: the model's training seed)");
  cmd->add_option("--n-envs", flags->n_envs,
                  "envs evaluating episodes in parallel threads (default 1; same results)");
  cmd->add_option("--json", flags->json, "also write per-episode results and the summary here");
  cmd->add_option("--output-dir,-o", flags->output_dir,
                  "with --session: the pipeline's output folder (default pipeline_output)");
  cmd->add_option("--session", flags->session, "evaluate this session's model instead of MODEL");
  cmd->add_option("--model", flags->which, "with --session: best (default) or final");
  cmd->add_option("--render", flags->render,
                  "record episodes: FILE.mp4 (needs ffmpeg) or DIR/ for numbered PNG frames");
  cmd->add_option("--render-episodes", flags->render_episodes,
                  "episodes recorded, from the first (default 1)");
  cmd->add_option("--width", flags->width, "frame width in pixels (default 640)");
  cmd->add_option("--height", flags->height, "frame height in pixels (default 480)");
  cmd->add_option("--fps", flags->fps, "video frame rate (default: the task's control rate)");
  cmd->add_option("--camera", flags->camera,
                  "track (default: follows the robots' centroid and spread), free (fixed on the "
                  "spawn area) or top (from above)");
  cmd->callback([flags, run] { *run = [flags] { return Evaluate(*flags); }; });
}

}  // namespace rlpipe::cli
