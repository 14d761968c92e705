// The rendering package against the real thing: MuJoCo's renderer in an offscreen EGL (or
// OSMesa) context on this machine, PNGs through lodepng, MP4s through ffmpeg and ffprobe.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/experiment_config.h"
#include "core/error.h"
#include "envs/env.h"
#include "envs/robots/multi_robot_world.h"
#include "render/episode_recorder.h"
#include "render/gl_context.h"
#include "render/image.h"
#include "render/render_error.h"
#include "render/scene_renderer.h"
#include "render/video_writer.h"
#include "sim/mujoco_model.h"

namespace rlpipe::render {
namespace {

namespace fs = std::filesystem;

// A floor and a red ball of radius 0.5 m at (0, 0, 1), lit from above.
constexpr const char* kBallXml = R"(
<mujoco>
  <worldbody>
    <light pos="0 0 6" dir="0 0 -1"/>
    <geom name="floor" type="plane" size="5 5 0.1" rgba="0.5 0.5 0.5 1"/>
    <body name="ball" pos="0 0 1">
      <freejoint/>
      <geom type="sphere" size="0.5" rgba="1 0 0 1"/>
    </body>
  </worldbody>
</mujoco>)";
// The same scene without the ball.
constexpr const char* kEmptyXml = R"(
<mujoco>
  <worldbody>
    <light pos="0 0 6" dir="0 0 -1"/>
    <geom name="floor" type="plane" size="5 5 0.1" rgba="0.5 0.5 0.5 1"/>
  </worldbody>
</mujoco>)";

// Looks at the ball's centre from 4 m, so it projects onto the image centre.
CameraView BallView() {
  CameraView view;
  view.lookat = {0.0, 0.0, 1.0};
  view.distance_m = 4.0;
  view.azimuth_deg = 90.0;
  view.elevation_deg = -20.0;
  return view;
}

// Distinct colours in an image (a blank frame has one).
size_t DistinctColors(const Image& image) {
  std::set<int> colors;
  for (size_t i = 0; i + 2 < image.rgb.size(); i += 3) {
    colors.insert(image.rgb[i] << 16 | image.rgb[i + 1] << 8 | image.rgb[i + 2]);
  }
  return colors.size();
}

// Renders one frame of `xml` after mj_forward.
Image RenderXml(const char* xml, const RenderOptions& options, const CameraView& view,
                std::span<const Segment> segments = {}) {
  sim::ModelPtr model = sim::CompileXml(xml);
  sim::DataPtr data = sim::MakeData(*model);
  mj_forward(model.get(), data.get());
  SceneRenderer renderer(*model, options);
  return renderer.Render(*data, view, segments);
}

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() / (name + "_" + std::to_string(getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The number of video frames ffprobe counts in `path`.
int FfprobeFrames(const fs::path& path) {
  const std::string command =
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames "
      "-of csv=p=0 '" +
      path.string() + "'";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  int frames = -1;
  if (std::fscanf(pipe, "%d", &frames) != 1) frames = -1;
  pclose(pipe);
  return frames;
}

TEST(RenderTest, BallSceneShowsTheBallAtTheCentreAndDiffersFromTheEmptyScene) {
  const RenderOptions size{160, 120};
  const Image ball = RenderXml(kBallXml, size, BallView());
  const Image empty = RenderXml(kEmptyXml, size, BallView());
  ASSERT_EQ(ball.width, 160);
  ASSERT_EQ(ball.height, 120);
  ASSERT_EQ(ball.rgb.size(), 160u * 120u * 3u);

  // Not blank: the floor, the sky and the ball.
  EXPECT_GT(DistinctColors(ball), 10u);
  // The ball's red where its centre projects (the image centre): red dominates.
  const auto centre = ball.At(80, 60);
  EXPECT_GT(centre[0], 100) << int(centre[0]) << "," << int(centre[1]) << "," << int(centre[2]);
  EXPECT_LT(centre[1], centre[0] / 2);
  EXPECT_LT(centre[2], centre[0] / 2);
  // Without the ball the centre shows no red ball, and the images differ.
  const auto bare = empty.At(80, 60);
  EXPECT_FALSE(bare[0] > 100 && bare[1] < bare[0] / 2 && bare[2] < bare[0] / 2);
  EXPECT_NE(ball.rgb, empty.rgb);
}

TEST(RenderTest, RenderingIsDeterministicAndLeavesTheStateAlone) {
  sim::ModelPtr model = sim::CompileXml(kBallXml);
  sim::DataPtr data = sim::MakeData(*model);
  mj_forward(model.get(), data.get());
  const std::vector<mjtNum> qpos(data->qpos, data->qpos + model->nq);
  const double time = data->time;
  SceneRenderer renderer(*model, {64, 48});
  const Image first = renderer.Render(*data, BallView());
  const Image second = renderer.Render(*data, BallView());
  EXPECT_EQ(first.rgb, second.rgb);
  EXPECT_EQ(std::vector<mjtNum>(data->qpos, data->qpos + model->nq), qpos);
  EXPECT_EQ(data->time, time);
}

TEST(RenderTest, SegmentsAreDrawnOnTopOfTheScene) {
  // A thick green capsule across the empty scene's centre.
  Segment segment;
  segment.from = {-1.0, 0.0, 1.0};
  segment.to = {1.0, 0.0, 1.0};
  segment.radius_m = 0.2;
  segment.rgba = {0.0f, 1.0f, 0.0f, 1.0f};
  const Image image = RenderXml(kEmptyXml, {160, 120}, BallView(), {&segment, 1});
  const auto centre = image.At(80, 60);
  EXPECT_GT(centre[1], 100);
  EXPECT_LT(centre[0], centre[1] / 2);
}

TEST(RenderTest, OsMesaFallbackRendersTheBall) {
  // MUJOCO_GL=osmesa forces the fallback; a process renders through one backend, and each test
  // runs in its own process under ctest.
  if (GlContext::ProcessBackend() == GlBackend::kEgl) {
    GTEST_SKIP() << "this process already renders through EGL (run this test alone)";
  }
  setenv("MUJOCO_GL", "osmesa", 1);
  Image ball;
  EXPECT_NO_THROW(ball = RenderXml(kBallXml, {160, 120}, BallView()));
  unsetenv("MUJOCO_GL");
  ASSERT_EQ(ball.width, 160);
  const auto centre = ball.At(80, 60);
  EXPECT_GT(centre[0], 100);
  EXPECT_LT(centre[1], centre[0] / 2);
}

TEST(RenderTest, UnknownBackendIsAnError) {
  setenv("MUJOCO_GL", "glfw", 1);
  EXPECT_THROW(GlContext(64, 48), RenderError);
  unsetenv("MUJOCO_GL");
}

TEST(RenderTest, PngRoundTrip) {
  TempDir dir("rlpipe_render_png");
  const Image image = RenderXml(kBallXml, {64, 48}, BallView());
  WritePng(dir.path() / "ball.png", image);
  const Image back = ReadPng(dir.path() / "ball.png");
  EXPECT_EQ(back.width, 64);
  EXPECT_EQ(back.height, 48);
  EXPECT_EQ(back.rgb, image.rgb);
  EXPECT_FALSE(fs::exists(dir.path() / "ball.png.partial"));
  EXPECT_THROW(WritePng(dir.path() / "missing" / "x.png", image), RenderError);
}

TEST(RenderTest, VideoHasEveryFrameAndOnlyAppearsWhenComplete) {
  TempDir dir("rlpipe_render_video");
  sim::ModelPtr model = sim::CompileXml(kBallXml);
  sim::DataPtr data = sim::MakeData(*model);
  SceneRenderer renderer(*model, {64, 48});
  const fs::path video = dir.path() / "ball.mp4";
  {
    VideoWriter writer(video, 64, 48, 30.0);
    for (int i = 0; i < 12; ++i) {
      mj_step(model.get(), data.get());
      writer.Write(renderer.Render(*data, BallView()));
      EXPECT_FALSE(fs::exists(video)) << "the final name appears only once the video is done";
    }
    writer.Close();
  }
  ASSERT_TRUE(fs::exists(video));
  EXPECT_EQ(FfprobeFrames(video), 12);
  EXPECT_FALSE(fs::exists(video.string() + ".partial.mp4"));

  // Abandoned half way (an exception): nothing under the final name, no partial file left.
  const fs::path broken = dir.path() / "broken.mp4";
  {
    VideoWriter writer(broken, 64, 48, 30.0);
    writer.Write(renderer.Render(*data, BallView()));
  }
  EXPECT_FALSE(fs::exists(broken));
  EXPECT_FALSE(fs::exists(broken.string() + ".partial.mp4"));
}

TEST(RenderTest, MissingFfmpegSuggestsPngFrames) {
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path != nullptr ? old_path : "";
  setenv("PATH", "/nonexistent", 1);
  try {
    VideoWriter writer("/tmp/never.mp4", 64, 48, 30.0);
    ADD_FAILURE() << "expected a RenderError";
  } catch (const RenderError& e) {
    EXPECT_NE(std::string(e.what()).find("--render DIR/"), std::string::npos) << e.what();
  }
  setenv("PATH", saved.c_str(), 1);
}

// Every registered robot task renders: a frame of its first state is not blank and shows the
// robots' colours. Tasks without a MuJoCo world (pendulum) are a ConfigError.
TEST(RenderTest, EveryRobotTaskRendersAFrame) {
  TempDir dir("rlpipe_render_tasks");
  int rendered = 0;
  for (const envs::TaskInfo& task : envs::RegisteredTasks()) {
    config::EnvironmentConfig cfg;
    cfg.name = task.name;
    std::unique_ptr<envs::Env> env = envs::MakeEnv(cfg);
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    env->Reset(7, obs);
    RecordingOptions options;
    options.output = dir.path() / task.name / "";
    options.size = {160, 120};
    if (WorldOf(*env) == nullptr) {
      EXPECT_THROW(EpisodeRecorder(*env, options), ConfigError) << task.name;
      continue;
    }
    EpisodeRecorder recorder(*env, options);
    recorder.Frame();
    EXPECT_EQ(recorder.Finish(), 1);
    const Image frame = ReadPng(dir.path() / task.name / "frame_000000.png");
    EXPECT_GT(DistinctColors(frame), 10u) << task.name;
    ++rendered;
  }
  EXPECT_GE(rendered, 2);
}

// Pixels in the bar robots' orange and the spheres' blue.
struct RobotPixels {
  int orange = 0;
  int blue = 0;
};
RobotPixels CountRobotPixels(const Image& frame) {
  RobotPixels count;
  for (int y = 0; y < frame.height; ++y) {
    for (int x = 0; x < frame.width; ++x) {
      const auto [r, g, b] = frame.At(x, y);
      if (r > 120 && r > g + 30 && g > b + 15) ++count.orange;
      if (b > 100 && b > r + 40) ++count.blue;
    }
  }
  return count;
}

// Every robot task, every camera: the first frame after a reset shows both robot types. Tasks
// that park scenery far away (obstacle_navigation's obstacles at x = 1000 m until the reset places
// them) gave the model a scene extent of hundreds of metres, and MuJoCo's clip planes scale with
// it: the near plane was metres away and hid the robots (black frames until they spread out).
TEST(RenderTest, EveryCameraShowsTheRobotsOfEveryTask) {
  TempDir dir("rlpipe_render_cameras");
  for (const envs::TaskInfo& task : envs::RegisteredTasks()) {
    config::EnvironmentConfig cfg;
    cfg.name = task.name;
    std::unique_ptr<envs::Env> env = envs::MakeEnv(cfg);
    if (WorldOf(*env) == nullptr) continue;
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    env->Reset(7, obs);
    for (const char* camera : {"track", "top", "free"}) {
      RecordingOptions options;
      options.output = dir.path() / (task.name + "_" + camera) / "";
      options.size = {320, 240};
      options.camera = ParseCameraMode(camera);
      EpisodeRecorder recorder(*env, options);
      recorder.Frame();
      recorder.Finish();
      const RobotPixels pixels =
          CountRobotPixels(ReadPng(dir.path() / (task.name + "_" + camera) / "frame_000000.png"));
      // From above, crush_resistance's translucent press plate washes the thin arms' orange out
      // (the spheres stay blue).
      if (!(task.name == "crush_resistance" && std::string_view(camera) == "top")) {
        EXPECT_GT(pixels.orange, 5) << task.name << ", camera " << camera << ": bar robots";
      }
      EXPECT_GT(pixels.blue, 5) << task.name << ", camera " << camera << ": spheres";
    }
  }
}

TEST(RenderTest, TrackCameraKeepsEveryRobotInFront) {
  config::EnvironmentConfig cfg;
  cfg.name = "height_maximize";
  std::unique_ptr<envs::Env> env = envs::MakeEnv(cfg);
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  env->Reset(3, obs);
  const envs::robots::MultiRobotWorld& world = *WorldOf(*env);
  const CameraView view = CameraFor(CameraMode::kTrack, world);
  // Every robot lies within the camera distance of the point looked at.
  for (int r = 0; r < world.NumRobots(); ++r) {
    const mjtNum* p = world.RobotPosition(r);
    const double d =
        std::hypot(p[0] - view.lookat[0], p[1] - view.lookat[1], p[2] - view.lookat[2]);
    EXPECT_LT(d, view.distance_m);
  }
  EXPECT_EQ(ParseCameraMode("top"), CameraMode::kTop);
  EXPECT_THROW(ParseCameraMode("orbit"), ConfigError);
}

// Robots in their type colours (orange bars, blue spheres) on a light floor, seen by the tracking
// camera after a second of random actions. With RLPIPE_DOCS_FRAME=path the frame is also saved
// there (docs/images/evaluate_frame.png comes from this test).
TEST(RenderTest, RobotTypesHaveTheirColoursInATrackedFrame) {
  config::EnvironmentConfig cfg;
  cfg.name = "height_maximize";
  std::unique_ptr<envs::Env> env = envs::MakeEnv(cfg);
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(env->Spec().action_space.Dim()));
  env->Reset(5, obs);
  for (int t = 0; t < 60; ++t) {
    for (size_t k = 0; k < action.size(); ++k) action[k] = ((t * 7 + k * 3) % 11) / 5.0f - 1.0f;
    env->Step(action, obs);
  }
  TempDir dir("rlpipe_render_docs");
  RecordingOptions options;
  options.output = dir.path() / "frames" / "";
  options.size = {320, 240};
  EpisodeRecorder recorder(*env, options);
  recorder.Frame();
  recorder.Finish();
  const Image frame = ReadPng(dir.path() / "frames" / "frame_000000.png");
  const RobotPixels pixels = CountRobotPixels(frame);
  EXPECT_GT(pixels.orange, 20) << "bar robots";
  EXPECT_GT(pixels.blue, 20) << "spheres";
  if (const char* docs = std::getenv("RLPIPE_DOCS_FRAME")) WritePng(docs, frame);
}

}  // namespace
}  // namespace rlpipe::render
