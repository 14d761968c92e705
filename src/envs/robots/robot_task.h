#pragma once
/// The frame every robot task shares, so that a task file holds only its own logic (DESIGN.md,
/// extension point 1). A RobotTask owns the multi-robot world, the spec, the reset RNG and, for a
/// task with its own horizon, the step counter; it runs Reset, Step, SaveState and RestoreState and
/// calls the task's hooks in between:
///
///   Reset:   seed the RNG · BeforeWorldReset · world reset · ResetTask · observe
///   Step:    apply the action · SimulateStep · count the step · StepTask · truncate at the
///            horizon · info "connections" · observe
///   observe: the world's robot blocks, then ObserveTask (the task block)
///   scales:  the world's robot-block scales, then AppendTaskScales
///   state:   RNG · step count (own horizon only) · SaveTaskState · the world's state
///
/// A task whose episodes need different models (object_displacement's shapes) replaces the world
/// with ReplaceWorld (in BeforeWorldReset); its warnings so far are kept as retired warnings. On
/// restore, ReadTaskState stages the saved episode's world with StageWorld; the frame restores the
/// world's state into it and swaps it in only once everything has been read.
///
/// A task supplies its parameters, its task observation block (SetTaskObservation, ObserveTask,
/// AppendTaskScales), its reset of task objects, its reward/termination/info (StepTask) and its
/// own state bytes (SaveTaskState, ReadTaskState).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_stream.h"
#include "envs/env.h"
#include "envs/observation_scale.h"
#include "envs/robots/multi_robot_world.h"
#include "sim/warning_source.h"

namespace rlpipe::envs::robots {

/// A task on the shared multi-robot world (see the file comment for the frame and its hooks).
class RobotTask : public Env,
                  public sim::WarningSource,
                  public WorldHolder,
                  public ObservationScaleSource {
 public:
  const EnvSpec& Spec() const final { return spec_; }
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) final;
  StepResult Step(std::span<const float> action, std::span<float> obs) final;
  /// The reset RNG, the step count (tasks with their own horizon), the task's state and the
  /// world's state, bit for bit.
  std::optional<std::string> SaveState() const final;
  /// Reads and checks everything (the task's part through ReadTaskState) before the task's
  /// variables change.
  void RestoreState(std::string_view state) final;
  int64_t WarningCount() const final { return Warnings().Total(); }
  std::string WarningSummary() const final { return Warnings().ToString(); }
  const MultiRobotWorld& World() const final { return *world_; }
  /// The world's robot-block scales, then the task block's (ObservationUnits).
  std::vector<float> ObservationScales() const final;

  /// Writes the observation of the current state: the robot blocks, then the task block.
  void Observe(std::span<float> obs) const;
  MultiRobotWorld& world() { return *world_; }
  const MultiRobotWorld& world() const { return *world_; }
  /// Tasks with their own horizon: the episode length at which the episode is truncated (and an
  /// end-of-episode bonus paid); 0 = never.
  void SetMaxEpisodeSteps(int steps) { max_episode_steps_ = steps; }

 protected:
  /// Builds the world and a spec named `name` holding the robot blocks (the task's constructor
  /// adds its block with SetTaskObservation). `horizon`: std::nullopt for a task that leaves
  /// truncation to the TimeLimit wrapper (it counts no steps and saves none); otherwise the task
  /// counts its steps, truncates at `*horizon` (0 = never) and saves the count.
  RobotTask(std::string name, const WorldParams& world, std::optional<int> horizon);

  /// Appends the task block's bounds to the observation space (called once, by the constructor).
  void SetTaskObservation(const Box& task_block);

  /// Hook: before the world's reset (which runs forward kinematics), e.g. to draw a course into
  /// the model. Default: nothing.
  virtual void BeforeWorldReset() {}
  /// Hook: after the world's reset (robots spawned): place the task's objects and reset the
  /// episode variables.
  virtual void ResetTask() = 0;
  /// Hook: one control step of physics after the action is applied. Default: world().Simulate().
  virtual void SimulateStep() { world_->Simulate(); }
  /// Hook: reward, termination and info of the step just simulated. `at_horizon`: this step
  /// reaches the task's own horizon (the frame then truncates the episode unless it terminated);
  /// always false without one. The frame adds info "connections".
  virtual StepResult StepTask(bool at_horizon) = 0;
  /// Hook: writes the task block (the observation after the robot blocks).
  virtual void ObserveTask(std::span<float> task_obs) const = 0;
  /// Hook: appends one scale per task block value.
  virtual void AppendTaskScales(std::vector<float>& scales) const = 0;
  /// Hook: writes the task's episode variables (and any model fields it changes).
  virtual void SaveTaskState(ByteWriter& writer) const = 0;
  /// Hook: reads and checks what SaveTaskState wrote, changing nothing; returns what puts it in
  /// place, which the frame calls once the world's state has been read too.
  virtual std::function<void()> ReadTaskState(ByteReader& reader) = 0;

  /// Replaces the world by one built from `params` (same robots: the spaces do not change); the
  /// old world's warnings are added to the retired warnings.
  void ReplaceWorld(const WorldParams& params);
  /// From ReadTaskState: the saved state belongs to a world built from `params`; the frame
  /// restores the world's state into it and replaces the world once everything has been read.
  void StageWorld(const WorldParams& params);
  /// Warnings of worlds replaced so far (a task that replaces worlds saves and restores them).
  const sim::WarningCounts& retired_warnings() const { return retired_warnings_; }
  void set_retired_warnings(const sim::WarningCounts& counts) { retired_warnings_ = counts; }

  /// The reset RNG (seeded by Reset with a seed; continued otherwise).
  std::mt19937_64& rng() { return rng_; }
  /// Steps taken in this episode and the horizon (tasks with their own horizon only).
  int steps() const { return steps_; }
  int max_episode_steps() const { return max_episode_steps_; }

 private:
  /// The retired warnings plus the current world's.
  sim::WarningCounts Warnings() const;

  std::unique_ptr<MultiRobotWorld> world_;
  std::unique_ptr<MultiRobotWorld> staged_world_;  // set by StageWorld during a restore
  sim::WarningCounts retired_warnings_;
  EnvSpec spec_;
  std::mt19937_64 rng_;
  bool counts_steps_;
  int max_episode_steps_;
  int steps_ = 0;
};

}  // namespace rlpipe::envs::robots
