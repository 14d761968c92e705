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
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
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

/// The digests of one task's rollout.
struct Digests {
  std::string spec;        // spaces, layouts, horizon
  std::string trajectory;  // observations, rewards, end flags
  std::string info;        // info keys and values
  std::string state;       // saved states, and the steps after restoring one
};

struct GoldenRow {
  const char* task;
  Digests digests;
};

/// Recorded on main 6876e10 (before RobotTask) by this test's rollout; the state digests again
/// once the saved world state zeroed mjContact's padding (until then those bytes held whatever
/// MuJoCo's stack held: the only bytes that changed). crush_resistance and object_displacement
/// join when they move onto RobotTask.
const std::vector<GoldenRow>& GoldenRows() {
  static const std::vector<GoldenRow> rows = {
      {"height_maximize",
       {"187cfe43adbf5389073c034a69685c0ac15188c369b2193431cf22c91ce39fb0",
        "b07d59a958360f10b11543008762a723f40e6cf7a9bf55ee37099fc11a89b7ed",
        "32660c3e41077d50e615aabfbaa7c6363a918fa8726c7785ad32ac87b0e5bfa3",
        "9e90895d06588db05fdb295c86f6b47d59c9bdb103f7766b314e4e830e50ee3d"}},
      {"object_manipulation",
       {"6eef675e003ecbca5b3ad3b3992e30f6e2b8a52d2e8fa2c66381aad50ec7ad31",
        "0e0b7d7b34f42682a6d936f0095f9b8a5eb4c6eb5c3b07fe22e4608a117c92dc",
        "e8db49c2a75c33173c9dbaa8b1851e6ab251aaaa2a3c0ff6244fe2da13ef2ca4",
        "f6f47e7edd6975b908dfecafb20fb86dbea14cbc2a027626cfb80439099602b9"}},
      {"terrain_traversal",
       {"4fc2ee10f0f801d1ba4ccdd9f2debcc4dc2f4156e328dc7bcf65b343741e67a9",
        "60ec7d652c645a96052a1e8f1a4d67c911d7fbf6bc1173e7fc90d27b8c1b9888",
        "f2ba19a1ec6606197ab5ae2c749a54024f53fb4f4ff3a77a68236443e1ec415c",
        "69008d9cd10aaeee25c250d1602365fd330339b6c9a99fd4b4e5f3aa3ec59752"}},
      {"obstacle_navigation",
       {"bec576073098a113db0cec72853d818c3b4e9a257d7fa30608f1e83e626151aa",
        "e99f56321220e0b3d57ff043c2f4fb762099a8d39b36f782754ff2657222f3a4",
        "9b05bde8b9bf31f4864fee2924e7836667e1358a096e7dbfa561c38ac0b18309",
        "28eddea65955cd563dd7b288992c8e0b205fd96073247a698249342d410d0e77"}},
      {"narrow_passage",
       {"9d822de7318ca984069d0d98838fa51989048ec9d2a8d4be856daa627679a376",
        "9379d8e75821ec64cf35e08692298cdbf1208cda9674c314b5f84f0bbe1464e4",
        "ea7da5e7aacefe2daf370a73fd209bb229b9e79beacbed7527e78669546f4019",
        "6d31a0a14d9b167201ec23b9d69a2c7397df1d3db8310dd70a0eac2a506c3802"}},
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

std::unique_ptr<Env> MakeTask(const std::string& name) {
  config::EnvironmentConfig cfg;
  cfg.name = name;
  cfg.max_episode_steps = kHorizon;
  return MakeEnv(cfg);
}

/// Steps env with actions [from, from + steps), resetting (without a seed) after each episode end;
/// observations, rewards and flags go to `trajectory`, infos to `info`.
/// Returns the number of episode ends.
int Run(Env& env, const std::vector<float>& actions, int from, int steps, std::string& trajectory,
        std::string& info, std::string* state, std::string* resume_state) {
  const size_t act_dim = static_cast<size_t>(env.Spec().action_space.Dim());
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  int ends = 0;
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
    }
    if (r.terminated || r.truncated) {
      ++ends;
      env.Reset(std::nullopt, obs);
      AppendAll(trajectory, obs);
    }
    if (state != nullptr && (t + 1) % kStateEvery == 0) AppendText(*state, *env.SaveState());
    if (resume_state != nullptr && t + 1 == kResumeStep) *resume_state = *env.SaveState();
  }
  return ends;
}

/// The digests of `name`'s rollout; `episode_ends` counts the episodes it ended.
Digests Record(const std::string& name, int& episode_ends) {
  // Spaces, layouts and horizon.
  std::unique_ptr<Env> env = MakeTask(name);
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
  episode_ends = Run(*env, actions, 0, kSteps, trajectory, info, &state, &resume_state);

  // A fresh env restored from the state saved at kResumeStep continues from there.
  std::unique_ptr<Env> resumed = MakeTask(name);
  resumed->RestoreState(resume_state);
  std::string resumed_info;
  Run(*resumed, actions, kResumeStep, kResumeSteps, state, resumed_info, nullptr, nullptr);
  state += resumed_info;
  return {Sha256Hex(spec_bytes), Sha256Hex(trajectory), Sha256Hex(info), Sha256Hex(state)};
}

TEST(RobotTaskGoldenTest, EveryRecordedTaskReproducesItsRollout) {
  const bool print = std::getenv("RLPIPE_PRINT_GOLDEN") != nullptr;
  for (const GoldenRow& row : GoldenRows()) {
    int episode_ends = 0;
    const Digests found = Record(row.task, episode_ends);
    EXPECT_GE(episode_ends, kSteps / kHorizon)
        << row.task << ": the rollout must cross episode ends";
    if (print) {
      std::cout << "      {\"" << row.task << "\",\n       {\"" << found.spec << "\",\n        \""
                << found.trajectory << "\",\n        \"" << found.info << "\",\n        \""
                << found.state << "\"}},\n";
    }
    EXPECT_EQ(found.spec, row.digests.spec) << row.task << ": spaces or layout changed";
    EXPECT_EQ(found.trajectory, row.digests.trajectory)
        << row.task << ": observations, rewards or end flags changed";
    EXPECT_EQ(found.info, row.digests.info) << row.task << ": infos changed";
    EXPECT_EQ(found.state, row.digests.state)
        << row.task << ": saved state bytes or the future of a restored state changed";
  }
}

}  // namespace
}  // namespace rlpipe::envs
