#include "cli/session_video.h"

#include <cstdio>
#include <filesystem>
#include <utility>

#include "algos/evaluate_model.h"

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

std::string RenderSessionVideo(const pipeline::CompletedSession& session) {
  // ParseExperimentConfig leaves render_mode "" or "rgb_array" (`human` is a config error).
  if (session.experiment->environment.render_mode != "rgb_array") return "";
  // The model the next session starts from: best, else final.
  fs::path model = session.models_dir / "best_model.zip";
  if (!fs::exists(model)) model = session.models_dir / "final_model.zip";
  const fs::path videos = session.session_dir / kVideosFolder;
  fs::create_directories(videos);

  // Its first evaluation episode, as the session evaluated it, recorded with the poster.
  render::RecordingOptions recording;
  recording.output = videos / kSessionVideo;
  recording.poster = videos / kSessionPoster;
  EpisodeRendering rendering(recording);
  const algos::EpisodeObserver observer = rendering.Observer();
  algos::EvaluateModelRequest request;
  request.model = model;
  request.config = *session.experiment;
  request.seed = session.seed;
  request.episodes = 1;
  request.observer = &observer;
  request.observed_episodes = 1;
  const algos::EvaluateModelResult result = algos::EvaluateModel(request);
  const int frames = rendering.Finish();
  char line[512];
  std::snprintf(line, sizeof(line), "session '%s': rendered %s (%d frames, return %.2f) and %s",
                session.name.c_str(), recording.output.c_str(), frames,
                result.episodes.front().episode_return, recording.poster.c_str());
  return line;
}

}  // namespace rlpipe::cli
