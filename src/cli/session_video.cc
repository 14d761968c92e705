#include "cli/session_video.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "algos/evaluate_model.h"
#include "config/tree.h"

namespace rlpipe::cli {
namespace fs = std::filesystem;

EpisodeRendering::EpisodeRendering(render::RecordingOptions options)
    : options_(std::move(options)) {}

EpisodeRendering::~EpisodeRendering() = default;

algos::EpisodeObserver EpisodeRendering::Observer() {
  algos::EpisodeObserver observer;
  observer.on_reset = [this](int, const envs::Env& env) {
    if (!recorder_) recorder_ = std::make_unique<render::EpisodeRecorder>(env, options_);
    recorder_->Frame();
  };
  observer.on_step = [this](int, const envs::Env&) { recorder_->Frame(); };
  return observer;
}

int EpisodeRendering::Finish() { return recorder_ ? recorder_->Finish() : 0; }

namespace {

// Collapse videos per session at most (a long evaluation would otherwise render for minutes).
constexpr int kMaxCollapseVideos = 3;

// Records episode `episode` of `model` in `session` into `video` with `poster`; returns the
// episode's outcome and sets `frames`.
algos::EpisodeOutcome RecordEpisode(const pipeline::CompletedSession& session,
                                    const fs::path& model, int episode, const fs::path& video,
                                    const fs::path& poster, int& frames) {
  render::RecordingOptions recording;
  recording.output = video;
  recording.poster = poster;
  EpisodeRendering rendering(recording);
  const algos::EpisodeObserver observer = rendering.Observer();
  algos::EvaluateModelRequest request;
  request.model = model;
  request.config = *session.experiment;
  request.seed = session.seed;
  request.first_episode = episode;
  request.episodes = 1;
  request.observer = &observer;
  request.observed_episodes = 1;
  const algos::EvaluateModelResult result = algos::EvaluateModel(request);
  frames = rendering.Finish();
  return result.episodes.front();
}

}  // namespace

std::string RenderSessionVideo(const pipeline::CompletedSession& session) {
  // What the session asks for: ParseExperimentConfig leaves render_mode "" or "rgb_array"
  // (`human` is a config error); session2_metrics.save_collapse_videos is a boolean.
  const bool best_video = session.experiment->environment.render_mode == "rgb_array";
  bool collapse_videos = false;
  if (const config::Tree* metrics = session.experiment->resolved.Find("session2_metrics")) {
    config::MapReader(metrics, "session2_metrics").Get("save_collapse_videos", &collapse_videos);
  }
  if (!best_video && !collapse_videos) return "";

  // The model the next session starts from: best, else final.
  fs::path model = session.models_dir / "best_model.zip";
  if (!fs::exists(model)) model = session.models_dir / "final_model.zip";
  const fs::path videos = session.session_dir / kVideosFolder;
  fs::create_directories(videos);
  std::string line = "session '" + session.name + "':";
  char text[512];

  // Its first evaluation episode, as the session evaluated it, with the last frame as poster.
  if (best_video) {
    int frames = 0;
    const algos::EpisodeOutcome outcome =
        RecordEpisode(session, model, 0, videos / kSessionVideo, videos / kSessionPoster, frames);
    std::snprintf(text, sizeof(text), " rendered %s (%d frames, return %.2f) and %s",
                  (videos / kSessionVideo).c_str(), frames, outcome.episode_return,
                  (videos / kSessionPoster).c_str());
    line += text;
  }

  // Collapses: the evaluation episodes that end before their time limit (crush_resistance: the
  // press reached the crush height), found without rendering, then each rerun on camera.
  if (collapse_videos) {
    algos::EvaluateModelRequest request;
    request.model = model;
    request.config = *session.experiment;
    request.seed = session.seed;
    request.episodes = session.experiment->training.eval_episodes;
    const algos::EvaluateModelResult result = algos::EvaluateModel(request);
    int rendered = 0;
    for (size_t e = 0; e < result.episodes.size() && rendered < kMaxCollapseVideos; ++e) {
      if (result.episodes[e].truncated) continue;
      const std::string stem = "collapse_episode_" + std::to_string(e + 1);
      int frames = 0;
      RecordEpisode(session, model, static_cast<int>(e), videos / (stem + ".mp4"),
                    videos / (stem + ".png"), frames);
      ++rendered;
    }
    std::snprintf(text, sizeof(text), " %d of %zu evaluation episodes collapsed; %d rendered to %s",
                  static_cast<int>(
                      std::count_if(result.episodes.begin(), result.episodes.end(),
                                    [](const algos::EpisodeOutcome& o) { return !o.truncated; })),
                  result.episodes.size(), rendered, (videos / "collapse_episode_*.mp4").c_str());
    line += text;
  }
  return line;
}

}  // namespace rlpipe::cli
