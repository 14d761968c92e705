// Rendering and evaluation throughput on this machine:
//   (a) ms per frame of MuJoCo's renderer (offscreen EGL or OSMesa, whichever the machine gives)
//       on height_maximize states under random actions, at 640x480 and 1280x720 (render only,
//       and render + PNG encode);
//   (b) `rlpipe evaluate`'s episode rate without rendering: a briefly trained PPO model on
//       height_maximize, deterministic episodes through algos::EvaluateModel, 1 and 2 envs.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "algos/evaluate_model.h"
#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "envs/env.h"
#include "envs/robots/multi_robot_world.h"
#include "render/episode_recorder.h"
#include "render/image.h"
#include "render/scene_renderer.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Bench flags.
struct BenchOptions {
  int frames = 100;            // frames per size
  int episodes = 10;           // evaluation episodes
  int episode_steps = 1000;    // height_maximize max_episode_steps for (b)
  int64_t train_steps = 4096;  // PPO steps before (b)
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_render";
};

// (a) One size: random-action states of height_maximize rendered with the tracking camera.
void BenchFrames(int width, int height, const BenchOptions& options) {
  rlpipe::config::EnvironmentConfig cfg;
  cfg.name = "height_maximize";
  std::unique_ptr<rlpipe::envs::Env> env = rlpipe::envs::MakeEnv(cfg);
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(env->Spec().action_space.Dim()));
  env->Reset(1, obs);
  const rlpipe::envs::robots::MultiRobotWorld& world = *rlpipe::render::WorldOf(*env);
  const auto setup = Clock::now();
  rlpipe::render::SceneRenderer renderer(world.model(), {width, height});
  const double setup_s = SecondsSince(setup);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  double render_s = 0.0;
  double png_s = 0.0;
  for (int f = 0; f < options.frames; ++f) {
    for (float& a : action) a = unit(rng);
    env->Step(action, obs);
    const auto start = Clock::now();
    const rlpipe::render::Image& image = renderer.Render(
        world.data(), rlpipe::render::CameraFor(rlpipe::render::CameraMode::kTrack, world));
    render_s += SecondsSince(start);
    const auto png = Clock::now();
    rlpipe::render::WritePng(options.out / "frame.png", image);
    png_s += SecondsSince(png);
  }
  std::printf(
      "(a) %dx%d: %.1f ms/frame render, %.1f ms/frame PNG encode+write, setup %.0f ms "
      "(%d frames; %s)\n",
      width, height, 1e3 * render_s / options.frames, 1e3 * png_s / options.frames, 1e3 * setup_s,
      options.frames, renderer.Backend().c_str());
}

// (b) A short PPO session, then its final model evaluated with 1 and 2 envs.
void BenchEvaluate(const BenchOptions& options) {
  const std::string yaml = "environment:\n  name: height_maximize\n  max_episode_steps: " +
                           std::to_string(options.episode_steps) +
                           "\nagent:\n  algorithm: PPO\n  n_steps: 256\n  batch_size: 64\n"
                           "training:\n  total_timesteps: " +
                           std::to_string(options.train_steps) +
                           "\n  eval_freq: 0\n  eval_episodes: 1\n  n_envs: 2\n";
  rlpipe::algos::TrainingRequest train;
  train.config = rlpipe::config::ParseExperimentConfig(rlpipe::config::ParseYaml(yaml, "bench"));
  train.seed = 3;
  train.models_dir = options.out / "models";
  const rlpipe::algos::TrainingResult trained = rlpipe::algos::Train(train);
  for (int n_envs : {1, 2}) {
    rlpipe::algos::EvaluateModelRequest request;
    request.model = *trained.final_model;
    request.episodes = options.episodes;
    request.n_envs = n_envs;
    const rlpipe::algos::EvaluateModelResult result = rlpipe::algos::EvaluateModel(request);
    const double steps = result.summary.mean_length * options.episodes;
    std::printf(
        "(b) evaluate, %d env(s): %d episodes of %.0f steps in %.2f s = %.2f episodes/s "
        "(%.0f steps/s), mean return %.2f\n",
        n_envs, options.episodes, result.summary.mean_length, result.seconds,
        options.episodes / result.seconds, steps / result.seconds, result.summary.mean_return);
  }
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"Rendering ms/frame and evaluate's episode rate."};
  app.add_option("--frames", options.frames, "frames per size (default 100)");
  app.add_option("--episodes", options.episodes, "evaluation episodes (default 10)");
  app.add_option("--episode-steps", options.episode_steps, "evaluation episode length (1000)");
  app.add_option("--train-steps", options.train_steps, "PPO steps before evaluating (4096)");
  CLI11_PARSE(app, argc, argv);
  fs::remove_all(options.out);
  fs::create_directories(options.out);
  BenchFrames(640, 480, options);
  BenchFrames(1280, 720, options);
  BenchEvaluate(options);
  fs::remove_all(options.out);
  return 0;
}
