// End-to-end tests of `rlpipe evaluate` and session videos through the real binary: a tiny
// height_maximize session with `render_mode: rgb_array`, then its models evaluated, rendered
// (EGL surfaceless on this headless machine, ffmpeg) and fed bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e_process.h"

namespace fs = std::filesystem;
using nlohmann::json;
using rlpipe::e2e::Outcome;
using rlpipe::e2e::Quote;
using rlpipe::e2e::Rlpipe;
using rlpipe::e2e::Slurp;

namespace {

void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// A tiny PPO session on height_maximize with N sphere robots: 256 steps, 24-step episodes, an
// evaluation of 2 episodes at 100 and 200 steps and a final one after the last update (256 is no
// multiple of 100), so the recorded final evaluation is the final model's.
std::string TinyHeightConfig(int n, const std::string& extra_environment = "") {
  return "environment:\n"
         "  name: height_maximize\n"
         "  num_type_b_robots: " +
         std::to_string(n) +
         "\n"
         "  max_episode_steps: 24\n" +
         extra_environment +
         "agent:\n"
         "  algorithm: PPO\n"
         "  n_steps: 64\n"
         "  batch_size: 64\n"
         "  n_epochs: 1\n"
         "network:\n"
         "  policy_layers: [16, 16]\n"
         "  value_layers: [16, 16]\n"
         "training:\n"
         "  total_timesteps: 256\n"
         "  eval_freq: 100\n"
         "  eval_episodes: 2\n"
         "  n_envs: 2\n";
}

// The number of lines of `text`.
int Lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

// Video frames as ffprobe counts them (-1 when it cannot).
int FfprobeFrames(const fs::path& path) {
  const std::string command =
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames "
      "-of csv=p=0 " +
      Quote(path.string());
  std::FILE* pipe = popen(command.c_str(), "r");
  int frames = -1;
  if (pipe == nullptr) return frames;
  if (std::fscanf(pipe, "%d", &frames) != 1) frames = -1;
  pclose(pipe);
  return frames;
}

// One trained pipeline shared by the tests of this file (each test runs in its own process
// under ctest, so each trains its own copy; a few seconds).
class EvaluateE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlpipe_evaluate_e2e_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write(dir_ / "height.yaml", TinyHeightConfig(1, "  render_mode: rgb_array\n"));
    Write(dir_ / "height3.yaml", TinyHeightConfig(3));
    Write(dir_ / "pipeline.yaml",
          "name: evaluate_e2e\nseed: 11\nsessions:\n  - name: height\n    config: height.yaml\n");
    out_ = dir_ / "out";
    run_ = Rlpipe(
        {"run", "--config", (dir_ / "pipeline.yaml").string(), "--output-dir", out_.string()});
    ASSERT_EQ(run_.exit_code, 0) << run_.output;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The session's record in pipeline_state.json.
  json SessionRecord() const {
    const json state = json::parse(Slurp(out_ / "pipeline_state.json"));
    return state["sessions"]["height"];
  }

  fs::path dir_;
  fs::path out_;
  Outcome run_;
};

TEST_F(EvaluateE2E, SessionVideoAndPosterAreWrittenWithOneFramePerStep) {
  const fs::path videos = out_ / "height" / "videos";
  ASSERT_TRUE(fs::exists(videos / "best_model.mp4")) << run_.output;
  ASSERT_TRUE(fs::exists(videos / "best_model.png")) << run_.output;
  EXPECT_NE(run_.output.find("rendered"), std::string::npos) << run_.output;
  // The reset state plus one frame per control step of the 24-step episode.
  EXPECT_EQ(FfprobeFrames(videos / "best_model.mp4"), 25);
  EXPECT_EQ(Slurp(videos / "best_model.png").substr(1, 3), "PNG");
  EXPECT_FALSE(fs::exists(videos / "best_model.mp4.partial.mp4"));
}

TEST_F(EvaluateE2E, SessionModelsWithTheSessionSeedReproduceTheRecordedEvaluations) {
  // The final model: exactly the return of the session's final evaluation; the best model: of
  // the evaluation that saved it.
  const fs::path report = dir_ / "final.json";
  const Outcome eval = Rlpipe({"evaluate", "--output-dir", out_.string(), "--session", "height",
                               "--model", "final", "--episodes", "2", "--json", report.string()});
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  const json result = json::parse(Slurp(report));
  const json record = SessionRecord();
  ASSERT_TRUE(record.contains("final_mean_return")) << record.dump();
  EXPECT_EQ(result["mean_return"].get<double>(), record["final_mean_return"].get<double>());
  const fs::path best = dir_ / "best.json";
  ASSERT_EQ(Rlpipe({"evaluate", "--output-dir", out_.string(), "--session", "height", "--episodes",
                    "2", "--json", best.string()})
                .exit_code,
            0);
  EXPECT_EQ(json::parse(Slurp(best))["mean_return"].get<double>(),
            record["best_mean_return"].get<double>());
  // One line per episode, with the task statistics, and a summary.
  EXPECT_NE(eval.output.find("episode 1: return "), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("max_height"), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("mean return "), std::string::npos) << eval.output;
  ASSERT_EQ(result["episodes"].size(), 2u);
  EXPECT_EQ(result["episodes"][0]["length"], 24);
}

TEST_F(EvaluateE2E, RenderingChangesNoReturnAndWritesPngFramesAndVideos) {
  const fs::path model = out_ / "height" / "models" / "best_model.zip";
  const Outcome plain = Rlpipe({"evaluate", model.string(), "--episodes", "3", "--n-envs", "2",
                                "--json", (dir_ / "plain.json").string()});
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const fs::path frames = dir_ / "frames" / "";
  const Outcome rendered = Rlpipe({"evaluate", model.string(), "--episodes", "3", "--render",
                                   frames.string(), "--width", "96", "--height", "64", "--camera",
                                   "top", "--json", (dir_ / "rendered.json").string()});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.output;
  const json a = json::parse(Slurp(dir_ / "plain.json"));
  const json b = json::parse(Slurp(dir_ / "rendered.json"));
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(a["episodes"][e]["return"].get<double>(), b["episodes"][e]["return"].get<double>());
  }
  EXPECT_TRUE(fs::exists(dir_ / "frames" / "frame_000024.png"));
  EXPECT_FALSE(fs::exists(dir_ / "frames" / "frame_000025.png"));

  // Two episodes into one MP4 at 30 fps.
  const fs::path video = dir_ / "two.mp4";
  const Outcome mp4 =
      Rlpipe({"evaluate", model.string(), "--episodes", "2", "--render", video.string(),
              "--render-episodes", "2", "--fps", "30", "--width", "96", "--height", "64"});
  ASSERT_EQ(mp4.exit_code, 0) << mp4.output;
  EXPECT_EQ(FfprobeFrames(video), 50);
}

TEST_F(EvaluateE2E, AnotherRobotCountRunsThroughTransferAndAMismatchIsNamed) {
  const fs::path model = out_ / "height" / "models" / "best_model.zip";
  const Outcome three = Rlpipe({"evaluate", model.string(), "--config",
                                (dir_ / "height3.yaml").string(), "--episodes", "1"});
  ASSERT_EQ(three.exit_code, 0) << three.output;
  EXPECT_NE(three.output.find("sliced"), std::string::npos) << three.output;

  Write(
      dir_ / "sac.yaml",
      "environment:\n  name: height_maximize\n  max_episode_steps: 24\nagent:\n  algorithm: SAC\n");
  const Outcome sac = Rlpipe(
      {"evaluate", model.string(), "--config", (dir_ / "sac.yaml").string(), "--episodes", "1"});
  EXPECT_EQ(sac.exit_code, 2) << sac.output;
  EXPECT_NE(sac.output.find("PPO"), std::string::npos) << sac.output;
  EXPECT_NE(sac.output.find("SAC"), std::string::npos) << sac.output;
  EXPECT_EQ(Lines(sac.output), 1) << sac.output;
}

TEST_F(EvaluateE2E, BadInputIsOneLineAndANonZeroExit) {
  const fs::path model = out_ / "height" / "models" / "best_model.zip";
  Write(dir_ / "corrupt.zip", "PK\x03\x04 this is not a zip");
  // Under a regular file: no folder can be made there (root ignores permissions).
  const fs::path unwritable = dir_ / "corrupt.zip" / "r.json";
  const std::vector<std::vector<std::string>> cases = {
      {"evaluate", (dir_ / "missing.zip").string()},
      {"evaluate", (dir_ / "corrupt.zip").string()},
      {"evaluate", model.string(), "--episodes", "0"},
      {"evaluate", "--output-dir", out_.string(), "--session", "nope"},
      {"evaluate", model.string(), "--json", unwritable.string()},
      {"evaluate", model.string(), "--render", (dir_ / "corrupt.zip" / "v.mp4").string()},
      {"evaluate", model.string(), "--render", (dir_ / "v.avi").string()},
      {"evaluate", model.string(), "--camera", "orbit", "--render", (dir_ / "f" / "").string()},
  };
  for (const auto& args : cases) {
    const Outcome outcome = Rlpipe(args);
    EXPECT_NE(outcome.exit_code, 0) << args[1] << ": " << outcome.output;
    EXPECT_EQ(Lines(outcome.output), 1) << args[1] << ": " << outcome.output;
    EXPECT_EQ(outcome.output.rfind("rlpipe: error: ", 0), 0u) << outcome.output;
  }
  EXPECT_NE(Rlpipe({"evaluate", "--output-dir", out_.string(), "--session", "nope"})
                .output.find("sessions with models: height"),
            std::string::npos);

  // Without ffmpeg an MP4 is refused up front, suggesting PNG frames; nothing is left behind.
  const std::string command = "PATH=/nonexistent " + Quote(RLPIPE_BINARY) + " evaluate " +
                              Quote(model.string()) + " --render " +
                              Quote((dir_ / "x.mp4").string()) + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buf[512];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
  EXPECT_NE(pclose(pipe), 0);
  EXPECT_NE(output.find("--render DIR/"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(dir_ / "x.mp4"));
  EXPECT_FALSE(fs::exists(dir_ / "x.mp4.partial.mp4"));
}

// session2_metrics.save_collapse_videos: a press that crushes every robot within half a second,
// so each evaluation episode collapses and is rendered.
TEST(EvaluateCollapseE2E, CrushEpisodesAreRenderedAsCollapseVideos) {
  const fs::path dir =
      fs::temp_directory_path() / ("rlpipe_collapse_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Write(dir / "crush.yaml",
        "environment:\n  name: crush_resistance\n  num_type_b_robots: 1\n"
        "  max_episode_steps: 60\n  positioning_seconds: 0.0\n  reference_height: 0.6\n"
        "  press_descent_speed: 2.0\n  press_force_increment: 50.0\n"
        "agent:\n  algorithm: PPO\n  n_steps: 64\n  batch_size: 64\n  n_epochs: 1\n"
        "network:\n  policy_layers: [16, 16]\n  value_layers: [16, 16]\n"
        "training:\n  total_timesteps: 128\n  eval_freq: 0\n  eval_episodes: 2\n  n_envs: 2\n"
        "session2_metrics:\n  save_collapse_videos: true\n");
  Write(dir / "p.yaml", "name: c\nseed: 3\nsessions:\n  - name: crush\n    config: crush.yaml\n");
  const Outcome run = Rlpipe(
      {"run", "--config", (dir / "p.yaml").string(), "--output-dir", (dir / "out").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("2 of 2 evaluation episodes collapsed; 2 rendered"), std::string::npos)
      << run.output;
  const fs::path videos = dir / "out" / "crush" / "videos";
  for (const char* stem : {"collapse_episode_1", "collapse_episode_2"}) {
    EXPECT_GT(FfprobeFrames(videos / (std::string(stem) + ".mp4")), 1) << stem;
    EXPECT_TRUE(fs::exists(videos / (std::string(stem) + ".png"))) << stem;
  }
  // No render_mode: no best-model video.
  EXPECT_FALSE(fs::exists(videos / "best_model.mp4"));
  fs::remove_all(dir);
}

TEST(EvaluateConfigE2E, RenderModeHumanIsAConfigErrorSuggestingRgbArray) {
  const fs::path dir = fs::temp_directory_path() / ("rlpipe_human_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Write(dir / "c.yaml", "environment:\n  name: pendulum\n  render_mode: human\n");
  Write(dir / "p.yaml", "name: human\nsessions:\n  - name: s\n    config: c.yaml\n");
  const Outcome run = Rlpipe(
      {"run", "--config", (dir / "p.yaml").string(), "--output-dir", (dir / "out").string()});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("use rgb_array"), std::string::npos) << run.output;
  fs::remove_all(dir);
}

}  // namespace
