// Golden trajectories of the robot tasks: for each task, SHA-256 digests of what a seeded rollout
// under random actions produces (spaces and scales, observations, rewards and end flags, infos,
// saved states, and the future of a restored state), recorded from the code before the tasks were
// moved onto RobotTask. A refactor that changes none of these must leave every digest equal; a
// deliberate change of a task's behaviour or state bytes updates its row (RLPIPE_PRINT_GOLDEN=1
// prints the current rows).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/sha256.h"
#include "envs/env.h"

namespace rlpipe::envs {
namespace {

/// Steps of the rollout, the horizon (short, so that episodes end by truncation too) and the
/// seeds.
constexpr int kSteps = 200;
constexpr int kHorizon = 60;
constexpr uint64_t kResetSeed = 20261207;
constexpr uint64_t kActionSeed = 77;
/// Every kStateEvery steps the saved state joins the state digest; the state saved at kResumeStep
/// is restored into a fresh env, whose next kResumeSteps steps join it too.
constexpr int kStateEvery = 25;
constexpr int kResumeStep = 100;
constexpr int kResumeSteps = 40;
/// object_displacement's object shapes.
constexpr int kNumShapes = 8;

/// The digests of one task's rollout.
struct Digests {
  std::string spec;        // spaces, layouts, horizon
  std::string trajectory;  // observations, rewards, end flags
  std::string info;        // info keys and values
  std::string state;       // saved states, and the steps after restoring one
};

/// What a row's rollout must reach, so that its digests cover the settings it is there for.
struct Coverage {
  int min_terminations = 0;  // episodes ended by the task (not the horizon)
  /// Info keys and the least number of distinct values each takes over the rollout.
  std::vector<std::pair<std::string, int>> min_distinct_info;
};

struct GoldenRow {
  const char* task;
  Digests digests;
  /// Task parameters over the defaults (key, YAML text), the horizon and what the rollout reaches.
  std::vector<std::pair<std::string, std::string>> params = {};
  int horizon = kHorizon;
  Coverage coverage = {};
};

/// Recorded by this test's rollout: the first five on main 6876e10 (before RobotTask), their state
/// digests again on ba4bf24 once the saved world state zeroed mjContact's padding (until then
/// those bytes held whatever MuJoCo's stack held: the only bytes that changed);
/// crush_resistance's and object_displacement's on ba4bf24, before they moved onto RobotTask;
/// object_displacement's spec, trajectory and state digests again when its task block gained the
/// sphere guides (with the guide values left out, every digest but the spec's was equal).
const std::vector<GoldenRow>& GoldenRows() {
  static const std::vector<GoldenRow> rows = {
      {"height_maximize",
       {"187cfe43adbf5389073c034a69685c0ac15188c369b2193431cf22c91ce39fb0",
        "b07d59a958360f10b11543008762a723f40e6cf7a9bf55ee37099fc11a89b7ed",
        "32660c3e41077d50e615aabfbaa7c6363a918fa8726c7785ad32ac87b0e5bfa3",
        "9e90895d06588db05fdb295c86f6b47d59c9bdb103f7766b314e4e830e50ee3d"}},
      // Re-recorded when the objects got friction 0.3 and the approach term (issue 15), and when
      // the task block gained the sphere guides (spec, trajectory and state digests: with the
      // guide values left out of the digest the trajectory, info and state digests were equal).
      {"object_manipulation",
       {"8e01879e2f35282e3ae4aaf3e33c513252331f298c663964d8eb9055412d9287",
        "1a497a2b57ccb1c1d34944c765613d9cecc628c599dff2fa7023b07bf913778c",
        "cb08dfe83bc67afa273bcf1cb8299b2c93c55abb8b2e2a7fbed52869a6bc32ee",
        "286260b2d1184b657d9090a1f35c39a9fffe91d7104c90854d977026a82aaa07"}},
      {"terrain_traversal",
       {"4fc2ee10f0f801d1ba4ccdd9f2debcc4dc2f4156e328dc7bcf65b343741e67a9",
        "60ec7d652c645a96052a1e8f1a4d67c911d7fbf6bc1173e7fc90d27b8c1b9888",
        "f2ba19a1ec6606197ab5ae2c749a54024f53fb4f4ff3a77a68236443e1ec415c",
        "69008d9cd10aaeee25c250d1602365fd330339b6c9a99fd4b4e5f3aa3ec59752"}},
      // obstacle_navigation and narrow_passage: spec, trajectory and state digests re-recorded when
      // their task blocks gained every robot's offset to the target / next point (with those
      // values left out of the digest, the trajectory, info and state digests were equal).
      {"obstacle_navigation",
       {"ee1d9bf531094a1dc1f9e9739639b4ad579f08f2ef0877d7487ec1b1e0ff0c33",
        "e84f276f9b01723d9341f73b4e234753fd2132721a4f4a4b5107ba319b41f99d",
        "9b05bde8b9bf31f4864fee2924e7836667e1358a096e7dbfa561c38ac0b18309",
        "718407b3ce72a9034dd8a50896d44dda7b43ea83eefcf26fe5f34f3bdc5b7d6a"}},
      {"narrow_passage",
       {"8cf45217ffea36bb56c3c972ce8ca19e194599f17d62b9c6cfb194a617f93234",
        "9a331e2f150afb01c5a3142f5817c57f9ef4e4fadc5897b5b65472501acbdea4",
        "ea7da5e7aacefe2daf370a73fd209bb229b9e79beacbed7527e78669546f4019",
        "f512ccbebe7c2c5eb69d2aa7d2daa147e051ba1a08d2b7bea6e14758f200281d"}},
      // The press stays at its reference height for the whole horizon (positioning only).
      {"crush_resistance",
       {"f222ea925cf4ab840b9ec77acb145f460e304adb5563f0bb40b00aa704afd401",
        "51d8131acaa6deffd56cba17cc8b7c37743dc8c9b50852a47ea37dce2d921193",
        "84796ca8e7591258f7160cbe6810d0ec37e8ceeb28020642af2000bfcbc73126",
        "469564174988c0f676275a902d496cb0c768ea905630e659d0fb58e1158b6108"}},
      // The press starts 0.9 m up after 0.25 s, lands on the robots, pushes harder while they
      // hold it and crushes them before the horizon (every episode ends by termination).
      {"crush_resistance",
       {"f222ea925cf4ab840b9ec77acb145f460e304adb5563f0bb40b00aa704afd401",
        "d20da24aa9a02c385eaf883ac6ba4c82a8c5f919294cc1b9e6933a4a39c9e0c2",
        "b3d82543b9fe546893260dbc746ad4eb24333757476ab75155b3729637f137cd",
        "499f5fdf1fce51b9764350bc9b5745a1832183d90d9e5e5d22ee2901024bf6c0"},
       {{"positioning_seconds", "0.25"},
        {"reference_height", "0.9"},
        {"press_descent_speed", "1"},
        {"press_force_increment", "200"}},
       kHorizon,
       {.min_terminations = 3, .min_distinct_info = {{"press_force", 4}}}},
      // From 1 m the robots hold the press to the horizon (the survival bonus at truncation).
      {"crush_resistance",
       {"f222ea925cf4ab840b9ec77acb145f460e304adb5563f0bb40b00aa704afd401",
        "0e9b76211f9859accf8606bec9b44491d2eead60ab268d07e3574e2fb869e70e",
        "8e3dd188f969296c29cc9ef6e004b4bded5a3dc38b1c174ce426b1d1753c1152",
        "5d4f8b37ed8f0dc1b9de6ef89641e7707876259179460045ed1c6f88f96dc7ab"},
       {{"positioning_seconds", "0.25"},
        {"reference_height", "1.0"},
        {"press_descent_speed", "1"},
        {"press_force_increment", "200"}},
       kHorizon,
       {.min_distinct_info = {{"press_force", 4}}}},
      {"object_displacement",
       {"b540ac601df3e9752cda3287f54d32f60274ab7cbb2d7b0ba169bafe11ce1e71",
        "76c9009245ba45e1de668c3694716f81c2721b10cca9e4548e2132fc62f03d4e",
        "0a1875ce4c445af3b40db204bfdd3b8f6ffbf4f8d1245f16e4b406f746330ca9",
        "4abd2b9aa014b0c29726946ba867ffb19cbde25c8541ffdf6e887678928d3837"}},
      // 8-step episodes: every shape (each its own compiled world) within the rollout; the
      // restored state is a torus's (another world than a fresh env's sphere).
      {"object_displacement",
       {"5c4f92123803150dcb4ce71a0452d29000ff0fba368cb03d84e614c451a211c6",
        "20612239809ea9d5e688609cac0279dc60032ba7991c251c5cb56fcb26c7b1c9",
        "0c1c521724d7fecc8474abb1b3b05ddc7978b9a33c92fed987fc0378fe51cfc3",
        "866add79c1e7495b160c5517b4ced6fc748037f60efe5815e18a8deed638cb97"},
       {},
       8,
       {.min_distinct_info = {{"shape", kNumShapes}}}},
  };
  return rows;
}

/// Appends the bytes of trivially copyable values.
template <typename T>
void Append(std::string& bytes, const T& value) {
  bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
}
template <typename T>
void AppendAll(std::string& bytes, const std::vector<T>& values) {
  Append(bytes, values.size());
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}
void AppendText(std::string& bytes, const std::string& text) {
  Append(bytes, text.size());
  bytes += text;
}

/// One action in [-1.25, 1.25] per value (beyond the box: the env clips), from a portable
/// transformation of the engine's output.
std::vector<float> Actions(int steps, int act_dim) {
  std::mt19937_64 rng(kActionSeed);
  std::vector<float> actions(static_cast<size_t>(steps * act_dim));
  for (float& a : actions) {
    const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    a = static_cast<float>(2.5 * unit - 1.25);
  }
  return actions;
}

std::unique_ptr<Env> MakeTask(const GoldenRow& row) {
  config::EnvironmentConfig cfg;
  cfg.name = row.task;
  cfg.max_episode_steps = row.horizon;
  for (const auto& [key, value] : row.params) cfg.params.Set(key, config::Tree::Scalar(value));
  return MakeEnv(cfg);
}

/// What a rollout reached (for the row's Coverage).
struct Reached {
  int episode_ends = 0;
  int terminations = 0;
  std::map<std::string, std::set<double>> info_values;
};

/// Steps env with actions [from, from + steps), resetting (without a seed) after each episode end;
/// observations, rewards and flags go to `trajectory`, infos to `info`, what it reached to
/// `reached`.
void Run(Env& env, const std::vector<float>& actions, int from, int steps, std::string& trajectory,
         std::string& info, std::string* state, std::string* resume_state, Reached& reached) {
  const size_t act_dim = static_cast<size_t>(env.Spec().action_space.Dim());
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  for (int t = from; t < from + steps; ++t) {
    const StepResult r =
        env.Step(std::span(actions.data() + static_cast<size_t>(t) * act_dim, act_dim), obs);
    AppendAll(trajectory, obs);
    Append(trajectory, r.reward);
    Append(trajectory, static_cast<uint8_t>(r.terminated * 2 + r.truncated));
    Append(info, r.info.size());
    for (const auto& [key, value] : r.info) {
      AppendText(info, key);
      Append(info, value);
      reached.info_values[key].insert(value);
    }
    if (r.terminated) ++reached.terminations;
    if (r.terminated || r.truncated) {
      ++reached.episode_ends;
      env.Reset(std::nullopt, obs);
      AppendAll(trajectory, obs);
    }
    if (state != nullptr && (t + 1) % kStateEvery == 0) AppendText(*state, *env.SaveState());
    if (resume_state != nullptr && t + 1 == kResumeStep) *resume_state = *env.SaveState();
  }
}

/// The digests of `row`'s rollout; `reached` says what the rollout (before the restore) reached.
Digests Record(const GoldenRow& row, Reached& reached) {
  // Spaces, layouts and horizon.
  std::unique_ptr<Env> env = MakeTask(row);
  const EnvSpec& spec = env->Spec();
  std::string spec_bytes;
  AppendText(spec_bytes, spec.name);
  AppendAll(spec_bytes, spec.observation_space.low);
  AppendAll(spec_bytes, spec.observation_space.high);
  AppendAll(spec_bytes, spec.action_space.low);
  AppendAll(spec_bytes, spec.action_space.high);
  Append(spec_bytes, spec.max_episode_steps);
  for (const auto* layout : {&spec.observation_layout, &spec.action_layout}) {
    for (const auto& part : *layout) {
      AppendText(spec_bytes, part.name);
      Append(spec_bytes, part.size);
    }
  }
  if (spec.robot_layout) {
    for (const RobotGroupLayout& g : spec.robot_layout->groups) {
      AppendText(spec_bytes, g.type);
      for (int v : {g.count, g.obs_offset, g.obs_dim, g.act_offset, g.act_dim}) {
        Append(spec_bytes, v);
      }
    }
    Append(spec_bytes, spec.robot_layout->task_obs_offset);
    Append(spec_bytes, spec.robot_layout->task_obs_dim);
  }

  // The rollout from a seeded reset.
  const std::vector<float> actions = Actions(kSteps, spec.action_space.Dim());
  std::string trajectory, info, state, resume_state;
  std::vector<float> obs(static_cast<size_t>(spec.observation_space.Dim()));
  env->Reset(kResetSeed, obs);
  AppendAll(trajectory, obs);
  Run(*env, actions, 0, kSteps, trajectory, info, &state, &resume_state, reached);

  // A fresh env restored from the state saved at kResumeStep continues from there.
  std::unique_ptr<Env> resumed = MakeTask(row);
  resumed->RestoreState(resume_state);
  std::string resumed_info;
  Reached after_restore;
  Run(*resumed, actions, kResumeStep, kResumeSteps, state, resumed_info, nullptr, nullptr,
      after_restore);
  state += resumed_info;
  return {Sha256Hex(spec_bytes), Sha256Hex(trajectory), Sha256Hex(info), Sha256Hex(state)};
}

TEST(RobotTaskGoldenTest, EveryRecordedTaskReproducesItsRollout) {
  const bool print = std::getenv("RLPIPE_PRINT_GOLDEN") != nullptr;
  for (const GoldenRow& row : GoldenRows()) {
    std::string label = row.task;
    for (const auto& [key, value] : row.params) label += " " + key + "=" + value;
    Reached reached;
    const Digests found = Record(row, reached);
    EXPECT_GE(reached.episode_ends, kSteps / row.horizon)
        << label << ": the rollout must cross episode ends";
    EXPECT_GE(reached.terminations, row.coverage.min_terminations) << label;
    for (const auto& [key, least] : row.coverage.min_distinct_info) {
      EXPECT_GE(reached.info_values[key].size(), static_cast<size_t>(least))
          << label << ": distinct values of info " << key;
    }
    if (print) {
      std::cout << "      // " << label << " (horizon " << row.horizon << "; "
                << reached.episode_ends << " episode ends, " << reached.terminations
                << " terminations)\n       {\"" << found.spec << "\",\n        \""
                << found.trajectory << "\",\n        \"" << found.info << "\",\n        \""
                << found.state << "\"},\n";
    }
    EXPECT_EQ(found.spec, row.digests.spec) << label << ": spaces or layout changed";
    EXPECT_EQ(found.trajectory, row.digests.trajectory)
        << label << ": observations, rewards or end flags changed";
    EXPECT_EQ(found.info, row.digests.info) << label << ": infos changed";
    EXPECT_EQ(found.state, row.digests.state)
        << label << ": saved state bytes or the future of a restored state changed";
  }
}

}  // namespace
}  // namespace rlpipe::envs
