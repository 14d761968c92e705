#include "render/episode_recorder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "envs/robots/multi_robot_world.h"
#include "envs/observation_scale.h"
#include "render/render_error.h"
#include "render/video_writer.h"

namespace rlpipe::render {
namespace fs = std::filesystem;
using envs::robots::MultiRobotWorld;

namespace {

// Colours by robot type and for the scenery (RGBA).
constexpr std::array<float, 4> kBarColor{0.95f, 0.55f, 0.15f, 1.0f};
constexpr std::array<float, 4> kSphereColor{0.2f, 0.45f, 0.95f, 1.0f};
constexpr std::array<float, 4> kPressColor{0.6f, 0.6f, 0.65f, 0.35f};
constexpr std::array<float, 4> kFloorColor{0.78f, 0.8f, 0.82f, 1.0f};
constexpr std::array<float, 4> kConnectionColor{0.1f, 0.85f, 0.25f, 1.0f};
constexpr double kConnectionRadius = 0.02;
// The tracking camera: fixed elevation and azimuth; distance grows with the robots' spread.
constexpr double kTrackElevation = -30.0;
constexpr double kAzimuth = 135.0;
constexpr double kMinDistance = 1.5;
constexpr double kDistancePerSpread = 2.0;
// Share of the way a frame's camera moves towards the robots' current centroid and spread.
constexpr double kCameraSmoothing = 0.15;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Colours the robot types, the press and the floor in the renderer's model copy, and brightens
// the headlight (the robot worlds define no lights of their own).
void Colorize(mjModel& model) {
  const float ambient[3] = {0.35f, 0.35f, 0.35f};
  const float diffuse[3] = {0.65f, 0.65f, 0.65f};
  std::copy(ambient, ambient + 3, model.vis.headlight.ambient);
  std::copy(diffuse, diffuse + 3, model.vis.headlight.diffuse);
  for (int g = 0; g < model.ngeom; ++g) {
    const char* body = mj_id2name(&model, mjOBJ_BODY, model.geom_bodyid[g]);
    const char* geom = mj_id2name(&model, mjOBJ_GEOM, g);
    const std::string_view body_name = body != nullptr ? body : "";
    const std::array<float, 4>* color = nullptr;
    if (StartsWith(body_name, "bar")) color = &kBarColor;
    if (StartsWith(body_name, "sphere")) color = &kSphereColor;
    if (body_name == "press") color = &kPressColor;
    if (geom != nullptr && std::string_view(geom) == "floor") color = &kFloorColor;
    if (color != nullptr) std::copy(color->begin(), color->end(), model.geom_rgba + 4 * g);
  }
}

// Every live connection as a capsule from the bar tip to the sphere's centre.
std::vector<Segment> ConnectionSegments(const MultiRobotWorld& world) {
  std::vector<Segment> segments;
  for (const envs::robots::Connection& c : world.Connections()) {
    Segment s;
    s.from = world.TipPosition(c.bar, c.arm);
    const mjtNum* sphere = world.RobotPosition(world.NumBars() + c.sphere);
    s.to = {sphere[0], sphere[1], sphere[2]};
    s.radius_m = kConnectionRadius;
    s.rgba = kConnectionColor;
    segments.push_back(s);
  }
  return segments;
}

// The robots' centroid and their largest distance from it.
void CentroidAndSpread(const MultiRobotWorld& world, std::array<double, 3>& centroid,
                       double& spread) {
  centroid = {0.0, 0.0, 0.0};
  const int n = world.NumRobots();
  for (int r = 0; r < n; ++r) {
    for (int k = 0; k < 3; ++k) centroid[k] += world.RobotPosition(r)[k] / n;
  }
  spread = 0.0;
  for (int r = 0; r < n; ++r) {
    const mjtNum* p = world.RobotPosition(r);
    spread =
        std::max(spread, std::hypot(p[0] - centroid[0], p[1] - centroid[1], p[2] - centroid[2]));
  }
}

}  // namespace

/// Where frames go: a video, or numbered PNGs in a folder.
class EpisodeRecorder::Output {
 public:
  Output(const fs::path& output, int width, int height, double fps) {
    if (IsFrameFolder(output)) {
      folder_ = output;
      std::error_code ec;
      fs::create_directories(folder_, ec);
      CheckWritable(folder_ / ".rlpipe-write-test");
    } else {
      if (!output.parent_path().empty()) {
        std::error_code ec;
        fs::create_directories(output.parent_path(), ec);
      }
      CheckWritable(output.string() + ".partial.mp4");
      video_ = std::make_unique<VideoWriter>(output, width, height, fps);
    }
  }
  void Write(const Image& frame) {
    if (video_) {
      video_->Write(frame);
    } else {
      char name[32];
      std::snprintf(name, sizeof(name), "frame_%06d.png", frames_);
      WritePng(folder_ / name, frame);
    }
    ++frames_;
  }
  void Close() {
    if (video_) video_->Close();
  }

 private:
  // RenderError naming the path when a file cannot be created there.
  static void CheckWritable(const fs::path& probe) {
    {
      std::ofstream out(probe);
      if (!out) {
        throw RenderError("render: cannot write " + probe.parent_path().string() +
                          " (is the folder writable?)");
      }
    }
    std::error_code ignored;
    fs::remove(probe, ignored);
  }

  fs::path folder_;
  std::unique_ptr<VideoWriter> video_;
  int frames_ = 0;
};

CameraMode ParseCameraMode(const std::string& name) {
  if (name == "free") return CameraMode::kFree;
  if (name == "track") return CameraMode::kTrack;
  if (name == "top") return CameraMode::kTop;
  throw ConfigError("--camera: expected one of free, track, top; found '" + name + "'");
}

bool IsFrameFolder(const fs::path& output) {
  const std::string text = output.string();
  return (!text.empty() && text.back() == '/') || fs::is_directory(output) ||
         !output.has_extension();
}

const MultiRobotWorld* WorldOf(const envs::Env& env) {
  // The task under MakeEnv's wrappers (observation units, time limit).
  const auto* holder = dynamic_cast<const envs::robots::WorldHolder*>(&envs::UnwrapTask(env));
  return holder != nullptr ? &holder->World() : nullptr;
}

CameraView CameraFor(CameraMode mode, const MultiRobotWorld& world) {
  CameraView view;
  view.azimuth_deg = kAzimuth;
  const envs::robots::WorldParams& params = world.params();
  if (mode == CameraMode::kFree) {
    // The spawn disc from the side, whatever the robots do.
    view.lookat = {params.spawn_center_x_m, params.spawn_center_y_m, params.spawn_height_m + 0.5};
    view.distance_m = kMinDistance + kDistancePerSpread * params.spawn_radius_m;
    view.elevation_deg = kTrackElevation;
    return view;
  }
  std::array<double, 3> centroid;
  double spread = 0.0;
  CentroidAndSpread(world, centroid, spread);
  view.lookat = centroid;
  view.distance_m = kMinDistance + kDistancePerSpread * spread;
  view.elevation_deg = mode == CameraMode::kTop ? -89.0 : kTrackElevation;
  return view;
}

EpisodeRecorder::EpisodeRecorder(const envs::Env& env, const RecordingOptions& options)
    : env_(env), options_(options) {
  const MultiRobotWorld* world = WorldOf(env);
  if (world == nullptr) {
    throw ConfigError("render: task " + env.Spec().name +
                      " has no MuJoCo scene to render (only the robot tasks do)");
  }
  // The output first (a missing ffmpeg or an unwritable folder fails before any rendering).
  if (!IsFrameFolder(options.output) && options.output.extension() != ".mp4") {
    throw ConfigError("render: expected FILE.mp4 or a folder DIR/ for PNG frames, found " +
                      options.output.string());
  }
  const double fps = options.fps.value_or(1.0 / world->ControlDt());
  if (!(fps > 0.0)) throw ConfigError("render: expected --fps > 0");
  output_ = std::make_unique<Output>(options.output, options.size.width, options.size.height, fps);
}

EpisodeRecorder::~EpisodeRecorder() = default;

std::string EpisodeRecorder::Backend() const {
  return renderer_ ? renderer_->Backend() : "not started";
}

void EpisodeRecorder::Frame() {
  // A task may rebuild its world at reset (another object shape): the renderer follows.
  const MultiRobotWorld& world = *WorldOf(env_);
  if (rendered_model_ != &world.model()) {
    renderer_.reset();
    renderer_ = std::make_unique<SceneRenderer>(world.model(), options_.size);
    Colorize(renderer_->model());
    rendered_model_ = &world.model();
  }

  // The camera eases towards the robots (no jitter), starting where they are.
  const CameraView target = CameraFor(options_.camera, world);
  if (!view_ || options_.camera == CameraMode::kFree) {
    view_ = target;
  } else {
    for (int k = 0; k < 3; ++k) {
      view_->lookat[k] += kCameraSmoothing * (target.lookat[k] - view_->lookat[k]);
    }
    view_->distance_m += kCameraSmoothing * (target.distance_m - view_->distance_m);
  }
  const std::vector<Segment> segments = ConnectionSegments(world);
  const Image& frame = renderer_->Render(world.data(), *view_, segments);
  output_->Write(frame);
  if (!options_.poster.empty()) last_ = frame;
  ++frames_;
}

int EpisodeRecorder::Finish() {
  output_->Close();
  if (!options_.poster.empty() && frames_ > 0) WritePng(options_.poster, last_);
  return frames_;
}

}  // namespace rlpipe::render
