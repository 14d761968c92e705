#pragma once
/// Recording robot-task episodes: the task's world rendered after every control step into an MP4
/// (through ffmpeg) or numbered PNGs, seen by a camera that keeps the robots in view, with robots
/// coloured by type and connections drawn.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "envs/env.h"
#include "render/image.h"
#include "render/scene_renderer.h"

namespace rlpipe::envs::robots {
class MultiRobotWorld;
}

namespace rlpipe::render {

/// How the camera moves.
enum class CameraMode {
  kFree,   // fixed: the spawn area from the side, as MuJoCo's viewer opens it
  kTrack,  // follows the robots' centroid and backs off with their spread, fixed elevation
  kTop,    // straight down on the robots' centroid
};

/// "free" | "track" | "top" → the mode; ConfigError listing the valid names otherwise.
CameraMode ParseCameraMode(const std::string& name);

/// What and where to record.
struct RecordingOptions {
  /// A `.mp4` file, or a folder (an existing one, or a path ending in `/`) for numbered PNGs
  /// frame_000000.png, frame_000001.png, ...
  std::filesystem::path output;
  RenderOptions size;         // 640x480 by default
  std::optional<double> fps;  // video frame rate; default: the task's control rate
  CameraMode camera = CameraMode::kTrack;
  /// Also write the last frame of the recording here as a PNG (a poster), when not empty.
  std::filesystem::path poster;
};

/// True when `output` names a folder of PNG frames: it ends in `/`, is a folder, or has no
/// extension.
bool IsFrameFolder(const std::filesystem::path& output);

/// The robot world of `env` (through MakeEnv's wrappers), or null for tasks without one.
const envs::robots::MultiRobotWorld* WorldOf(const envs::Env& env);

/// The camera for `mode` over `world` (no smoothing).
CameraView CameraFor(CameraMode mode, const envs::robots::MultiRobotWorld& world);

/// Records frames of one env. Create, use and destroy on one thread (it owns a GL context).
class EpisodeRecorder {
 public:
  /// Checks the output (ffmpeg present for an MP4, the folder writable) before any frame is
  /// rendered. Throws ConfigError when `env` is not a robot task (nothing to render), RenderError
  /// when no OpenGL context can be had or the output cannot be written.
  EpisodeRecorder(const envs::Env& env, const RecordingOptions& options);
  ~EpisodeRecorder();

  /// Renders the env's current state and appends it to the recording.
  void Frame();
  /// Finishes the recording (the video gets its final name only now) and writes the poster.
  /// Returns the number of frames.
  int Finish();
  /// The backend rendering the frames ("EGL surfaceless (llvmpipe ...)").
  std::string Backend() const;

 private:
  class Output;
  const envs::Env& env_;
  RecordingOptions options_;
  std::unique_ptr<SceneRenderer> renderer_;
  const mjModel* rendered_model_ = nullptr;  // the world model renderer_ was built from
  std::unique_ptr<Output> output_;
  std::optional<CameraView> view_;  // the smoothed camera
  Image last_;
  int frames_ = 0;
};

}  // namespace rlpipe::render
