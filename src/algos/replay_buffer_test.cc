// The replay buffer stores each observation once and still returns exactly the (s, a, r, s') it
// was given: checked against a plain copy of every transition over random env streams with
// episode ends, auto-reset and restarts, across wrap-around and capacities smaller than the
// number of envs; and its checkpoint segments (replay_segments.h) restore it bit for bit.
#include "algos/replay_buffer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "algos/replay_segments.h"
#include "algos/train.h"
#include "algos/training_state.h"
#include "checkpoint/checkpoint.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

constexpr int kObsDim = 3;
constexpr int kActDim = 2;

// Every transition as added, in serial order: the reference the buffer must reproduce.
struct Reference {
  std::vector<std::vector<float>> obs, next_obs, actions;
  std::vector<float> rewards, dones;
};

// N envs stepping with random episode ends: an ended episode's next observation is its final one,
// and the env's next observation is a fresh reset one (as the auto-resetting vector env does).
class Streams {
 public:
  Streams(int n_envs, uint64_t seed) : rng_(seed), current_(n_envs) {
    for (auto& obs : current_) obs = Fresh();
  }

  // One Add of all envs into `buffer` and `reference`.
  void Step(ReplayBuffer& buffer, Reference& reference) {
    const size_t n = current_.size();
    std::vector<float> obs, next, actions, rewards;
    std::vector<uint8_t> terminated;
    for (size_t i = 0; i < n; ++i) {
      std::vector<float> next_obs = Fresh();
      const bool ended = Uniform() < 0.2;
      const bool is_terminal = ended && Uniform() < 0.5;
      const std::vector<float> action = {Uniform(), -Uniform()};
      const float reward = Uniform();
      obs.insert(obs.end(), current_[i].begin(), current_[i].end());
      next.insert(next.end(), next_obs.begin(), next_obs.end());
      actions.insert(actions.end(), action.begin(), action.end());
      rewards.push_back(reward);
      terminated.push_back(is_terminal ? 1 : 0);
      reference.obs.push_back(current_[i]);
      reference.next_obs.push_back(next_obs);
      reference.actions.push_back(action);
      reference.rewards.push_back(reward);
      reference.dones.push_back(is_terminal ? 1.0f : 0.0f);
      // Auto-reset after an episode end; else the next step starts where this one ended.
      current_[i] = ended ? Fresh() : next_obs;
    }
    buffer.Add(obs, next, actions, rewards, terminated);
  }
  // An env restarts its episode without an episode end (as after a resume without env state).
  void Restart(size_t env) { current_[env] = Fresh(); }

 private:
  float Uniform() { return std::uniform_real_distribution<float>(0.0f, 1.0f)(rng_); }
  std::vector<float> Fresh() {
    std::vector<float> obs(kObsDim);
    for (float& v : obs) v = Uniform();
    return obs;
  }

  std::mt19937_64 rng_;
  std::vector<std::vector<float>> current_;
};

// Every stored row of `buffer` equals the reference transition with the row's serial.
void ExpectMatches(const ReplayBuffer& buffer, const Reference& reference) {
  ASSERT_EQ(buffer.Added(), static_cast<int64_t>(reference.obs.size()));
  if (buffer.Size() == 0) return;
  const ReplayBatch batch = buffer.Gather(torch::arange(buffer.Size(), torch::kLong));
  for (int64_t row = 0; row < buffer.Size(); ++row) {
    const int64_t first = buffer.FirstStored();
    const int64_t serial =
        first + (row - first % buffer.Capacity() + buffer.Capacity()) % buffer.Capacity();
    const auto s = static_cast<size_t>(serial);
    auto expect_row = [&](const torch::Tensor& got, const std::vector<float>& want,
                          const char* what) {
      for (size_t k = 0; k < want.size(); ++k) {
        ASSERT_EQ(got[row][static_cast<int64_t>(k)].item<float>(), want[k])
            << what << " of row " << row << " (serial " << serial << ")";
      }
    };
    expect_row(batch.obs, reference.obs[s], "obs");
    expect_row(batch.next_obs, reference.next_obs[s], "next_obs");
    expect_row(batch.actions, reference.actions[s], "actions");
    ASSERT_EQ(batch.rewards[row].item<float>(), reference.rewards[s]) << "reward of row " << row;
    ASSERT_EQ(batch.dones[row].item<float>(), reference.dones[s]) << "done of row " << row;
  }
}

TEST(ReplayBufferTest, ReturnsEveryTransitionAsAddedWithObservationsStoredOnce) {
  for (const int n_envs : {1, 2, 3}) {
    for (const int64_t capacity : {1, 2, 5, 16, 64}) {
      SCOPED_TRACE("n_envs " + std::to_string(n_envs) + ", capacity " + std::to_string(capacity));
      ReplayBuffer buffer(capacity, kObsDim, kActDim);
      Reference reference;
      Streams streams(n_envs, 7 + static_cast<uint64_t>(capacity * 10 + n_envs));
      for (int t = 0; t < 60; ++t) {
        if (t == 31) streams.Restart(0);
        streams.Step(buffer, reference);
        ExpectMatches(buffer, reference);
        if (HasFatalFailure()) return;
      }
      // Only final observations and the last Add's stay on the side (about 20% here, not all).
      if (capacity >= 16) {
        EXPECT_LT(buffer.SideObservations(), capacity / 2 + n_envs);
      }
    }
  }
}

TEST(ReplayBufferTest, SerializedAndRestoredContinuesIdentically) {
  // Restored mid-stream, both buffers go on with the same Adds and stay equal (the restored one
  // still finds the next observations of the last Add by index).
  ReplayBuffer buffer(16, kObsDim, kActDim);
  Reference reference;
  Streams streams(2, 3);
  for (int t = 0; t < 13; ++t) streams.Step(buffer, reference);
  ReplayBuffer copy(16, kObsDim, kActDim);
  copy.Restore(buffer.Serialize());
  ExpectMatches(copy, reference);
  Reference copy_reference = reference;
  Streams copy_streams = streams;
  for (int t = 0; t < 20; ++t) {
    streams.Step(buffer, reference);
    copy_streams.Step(copy, copy_reference);
  }
  ExpectMatches(copy, reference);
  EXPECT_EQ(copy.SideObservations(), buffer.SideObservations());
  torch::Generator g1 = nn::MakeGenerator(4), g2 = nn::MakeGenerator(4);
  EXPECT_TRUE(torch::equal(buffer.Sample(8, g1).next_obs, copy.Sample(8, g2).next_obs));
}

class ReplaySegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlpipe_replay_segments_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> SegmentFiles(const fs::path& dir = {}) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.empty() ? dir_ : dir)) {
      const std::string name = entry.path().filename().string();
      if (name.ends_with(kReplaySegmentSuffix)) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST_F(ReplaySegmentsTest, SavesOnlyNewTransitionsAndRestoresBitForBit) {
  ReplayBuffer buffer(40, kObsDim, kActDim);
  Reference reference;
  Streams streams(2, 11);
  ReplaySegments segments;
  std::vector<std::pair<std::string, Reference>> saves;  // index, reference at that save
  for (int save = 0; save < 5; ++save) {
    for (int t = 0; t < 9; ++t) streams.Step(buffer, reference);
    saves.emplace_back(segments.Save(buffer, dir_), reference);
    // One new segment per save, holding only the transitions settled since the last one.
    EXPECT_EQ(SegmentFiles().size(), static_cast<size_t>(save + 1));
  }
  // A save with nothing new writes no segment.
  segments.Save(buffer, dir_);
  EXPECT_EQ(SegmentFiles().size(), 5u);

  // Every save restores exactly what the buffer held then (the later ones after wrap-around).
  for (const auto& [index, at_save] : saves) {
    ReplayBuffer restored(40, kObsDim, kActDim);
    ReplaySegments reader;
    reader.Restore(index, dir_, restored, "test");
    ExpectMatches(restored, at_save);
  }

  // A resumed session appends to the restored segments.
  ReplayBuffer resumed(40, kObsDim, kActDim);
  ReplaySegments resumed_segments;
  resumed_segments.Restore(saves.back().first, dir_, resumed, "test");
  Reference resumed_reference = reference;
  Streams resumed_streams = streams;
  for (int t = 0; t < 9; ++t) resumed_streams.Step(resumed, resumed_reference);
  const std::string index = resumed_segments.Save(resumed, dir_);
  EXPECT_EQ(SegmentFiles().size(), 6u);
  ReplayBuffer again(40, kObsDim, kActDim);
  ReplaySegments().Restore(index, dir_, again, "test");
  ExpectMatches(again, resumed_reference);

  // Segments no checkpoint archive names are pruned: with none, all go.
  PruneReplaySegments(dir_);
  EXPECT_TRUE(SegmentFiles().empty());
}

TEST_F(ReplaySegmentsTest, MissingOrDamagedSegmentsAreRefused) {
  ReplayBuffer buffer(40, kObsDim, kActDim);
  Reference reference;
  Streams streams(2, 5);
  ReplaySegments segments;
  for (int t = 0; t < 9; ++t) streams.Step(buffer, reference);
  const std::string index = segments.Save(buffer, dir_);
  ASSERT_EQ(SegmentFiles().size(), 1u);
  const fs::path segment = dir_ / SegmentFiles()[0];
  EXPECT_TRUE(ReplaySegmentsPresent(index, dir_));

  // One flipped byte: the CRC-32 says so.
  std::string bytes = ReadFile(segment);
  bytes[bytes.size() / 2] ^= 1;
  WriteFileAtomic(segment, bytes);
  ReplayBuffer restored(40, kObsDim, kActDim);
  EXPECT_THROW(ReplaySegments().Restore(index, dir_, restored, "test"), IoError);

  // Cut short or gone: refused, and not offered for resume.
  WriteFileAtomic(segment, bytes.substr(0, bytes.size() - 4));
  EXPECT_FALSE(ReplaySegmentsPresent(index, dir_));
  EXPECT_THROW(ReplaySegments().Restore(index, dir_, restored, "test"), IoError);
  fs::remove(segment);
  EXPECT_FALSE(ReplaySegmentsPresent(index, dir_));
  EXPECT_THROW(ReplaySegments().Restore(index, dir_, restored, "test"), IoError);

  // Another buffer size is refused.
  ReplayBuffer other(41, kObsDim, kActDim);
  EXPECT_THROW(ReplaySegments().Restore(index, dir_, other, "test"), IoError);
}

TEST_F(ReplaySegmentsTest, ACheckpointInAnotherFolderGetsItsOwnSegments) {
  ReplayBuffer buffer(40, kObsDim, kActDim);
  Reference reference;
  Streams streams(2, 9);
  ReplaySegments segments;
  for (int t = 0; t < 9; ++t) streams.Step(buffer, reference);
  segments.Save(buffer, dir_);
  for (int t = 0; t < 5; ++t) streams.Step(buffer, reference);
  const fs::path elsewhere = dir_ / "elsewhere";
  const std::string index = segments.Save(buffer, elsewhere);
  ReplayBuffer restored(40, kObsDim, kActDim);
  ReplaySegments().Restore(index, elsewhere, restored, "test");
  ExpectMatches(restored, reference);
}

TEST_F(ReplaySegmentsTest, PruningAndTheResumeChoiceFollowTheArchivesInTheFolder) {
  // Two checkpoint archives in models/checkpoints; by the second, the first segment's transitions
  // were all overwritten (ring of 10), so only the first archive names it.
  const fs::path models = dir_ / "models";
  const fs::path checkpoints = models / "checkpoints";
  fs::create_directories(checkpoints);
  torch::nn::Linear policy(2, 1);
  checkpoint::ModelData data;
  data.obs_dim = 2;
  data.act_dim = 1;
  data.obs_low.assign(2, -1.0f);
  data.obs_high.assign(2, 1.0f);
  data.act_low.assign(1, -1.0f);
  data.act_high.assign(1, 1.0f);
  ReplayBuffer buffer(10, kObsDim, kActDim);
  Reference reference;
  Streams streams(2, 13);
  ReplaySegments segments;
  auto checkpoint = [&](int64_t steps) {
    for (int t = 0; t < 9; ++t) streams.Step(buffer, reference);
    checkpoint::SaveOptions options;
    options.extra_members[kTrainingStateMember] = "state";
    options.extra_members[kReplayIndexMember] = segments.Save(buffer, checkpoints);
    data.num_timesteps = steps;
    const fs::path path = checkpoints / ("rl_model_" + std::to_string(steps) + "_steps.zip");
    checkpoint::SaveModel(path, *policy, data, config::Tree(), options);
    return path;
  };
  const fs::path first = checkpoint(100);
  const std::vector<std::string> first_segments = SegmentFiles(checkpoints);
  const fs::path second = checkpoint(200);
  ASSERT_EQ(first_segments.size(), 1u);
  ASSERT_EQ(SegmentFiles(checkpoints).size(), 2u);

  // An orphan segment (a kill between a segment and its archive) goes; the named ones stay.
  WriteFileAtomic(checkpoints / "replay_5_6_deadbeef.seg", "orphan");
  PruneReplaySegments(checkpoints);
  EXPECT_EQ(SegmentFiles(checkpoints).size(), 2u);
  EXPECT_FALSE(fs::exists(checkpoints / "replay_5_6_deadbeef.seg"));

  // A checkpoint whose segments did not all arrive is not the one to resume from.
  EXPECT_TRUE(CheckpointSegmentsPresent(second));
  for (const std::string& name : SegmentFiles(checkpoints)) {
    if (name != first_segments[0]) fs::rename(checkpoints / name, dir_ / name);
  }
  EXPECT_FALSE(CheckpointSegmentsPresent(second));
  EXPECT_TRUE(CheckpointSegmentsPresent(first));
  const std::optional<ResumePoint> point = FindResumePoint(models);
  ASSERT_TRUE(point);
  EXPECT_EQ(point->timesteps, 100);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().extension() == kReplaySegmentSuffix) {
      fs::rename(entry.path(), checkpoints / entry.path().filename());
    }
  }
  EXPECT_EQ(FindResumePoint(models)->timesteps, 200);

  // Without the first archive, its segment goes; the second's stay.
  fs::remove(first);
  PruneReplaySegments(checkpoints);
  EXPECT_EQ(SegmentFiles(checkpoints).size(), 1u);
  EXPECT_TRUE(CheckpointSegmentsPresent(second));
}

}  // namespace
}  // namespace rlpipe::algos
