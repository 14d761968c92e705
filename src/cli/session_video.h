#pragma once
/// Rendering evaluation episodes from the CLI: `rlpipe evaluate --render` and the session videos
/// of `environment.render_mode: rgb_array` (the post-session hook `rlpipe run` installs).
#include <memory>
#include <string>

#include "algos/evaluation.h"
#include "pipeline/runner.h"
#include "render/episode_recorder.h"

namespace rlpipe::cli {

/// Records evaluation episodes as they run. The recorder starts at the first episode's reset
/// (it needs the env), before that episode's first step, and records the reset state and every
/// step. Lives on the thread that runs the observed episodes (its GL context is current there).
class EpisodeRendering {
 public:
  explicit EpisodeRendering(render::RecordingOptions options);
  ~EpisodeRendering();
  /// Observer callbacks that feed the recorder; valid while this object lives.
  algos::EpisodeObserver Observer();
  /// Finishes the recording (the video gets its final name now); returns the frames written.
  int Finish();

 private:
  render::RecordingOptions options_;
  std::unique_ptr<render::EpisodeRecorder> recorder_;
};

/// The session video folder and files (the HTML report links them when present).
inline constexpr const char* kVideosFolder = "videos";
inline constexpr const char* kSessionVideo = "best_model.mp4";
inline constexpr const char* kSessionPoster = "best_model.png";

/// Post-session work. With `environment.render_mode: rgb_array` the session's best model (final
/// when it has none) runs its first evaluation episode (the session's seed, deterministic) into
/// <session>/videos/best_model.mp4 with the episode's last frame as best_model.png. With
/// `session2_metrics.save_collapse_videos: true` its evaluation episodes that end before the time
/// limit (crush_resistance: crushed) are rendered to collapse_episode_<n>.mp4 + .png (at most 3).
/// Returns the log line ("" when the session renders nothing). Throws RenderError / ConfigError.
std::string RenderSessionVideo(const pipeline::CompletedSession& session);

}  // namespace rlpipe::cli
