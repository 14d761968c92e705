#include "envs/robots/robot_task.h"

#include <utility>

namespace rlpipe::envs::robots {

RobotTask::RobotTask(std::string name, const WorldParams& world, std::optional<int> horizon)
    : world_(std::make_unique<MultiRobotWorld>(world)),
      counts_steps_(horizon.has_value()),
      max_episode_steps_(horizon.value_or(0)) {
  // Spaces: the shared robot blocks; the task's constructor appends its block.
  spec_.name = std::move(name);
  spec_.observation_space = world_->RobotObservationSpace();
  spec_.action_space = world_->RobotActionSpace();
  world_->DescribeLayout(spec_);
}

void RobotTask::SetTaskObservation(const Box& task_block) {
  Box& box = spec_.observation_space;
  box.low.insert(box.low.end(), task_block.low.begin(), task_block.low.end());
  box.high.insert(box.high.end(), task_block.high.begin(), task_block.high.end());
  world_->DescribeLayout(spec_);
}

void RobotTask::ReplaceWorld(const WorldParams& params) {
  retired_warnings_.Add(world_->Warnings());
  world_ = std::make_unique<MultiRobotWorld>(params);
}

void RobotTask::StageWorld(const WorldParams& params) {
  staged_world_ = std::make_unique<MultiRobotWorld>(params);
}

sim::WarningCounts RobotTask::Warnings() const {
  sim::WarningCounts total = retired_warnings_;
  total.Add(world_->Warnings());
  return total;
}

void RobotTask::Reset(std::optional<uint64_t> seed, std::span<float> obs) {
  if (seed) rng_.seed(*seed);
  BeforeWorldReset();
  world_->Reset(rng_);
  steps_ = 0;
  ResetTask();
  Observe(obs);
}

StepResult RobotTask::Step(std::span<const float> action, std::span<float> obs) {
  // Physics for one control step.
  world_->ApplyAction(action);
  SimulateStep();
  if (counts_steps_) ++steps_;

  // The task's reward, termination and info; the task's own horizon truncates.
  const bool at_horizon = counts_steps_ && max_episode_steps_ > 0 && steps_ >= max_episode_steps_;
  StepResult result = StepTask(at_horizon);
  result.truncated = !result.terminated && at_horizon;
  result.info["connections"] = static_cast<double>(world_->Connections().size());
  Observe(obs);
  return result;
}

void RobotTask::Observe(std::span<float> obs) const {
  const size_t robot_dim = static_cast<size_t>(world_->ObsDim());
  world_->Observe(obs.first(robot_dim));
  ObserveTask(obs.subspan(robot_dim));
}

std::vector<float> RobotTask::ObservationScales() const {
  std::vector<float> scales = world_->ObservationScales();
  AppendTaskScales(scales);
  return scales;
}

std::optional<std::string> RobotTask::SaveState() const {
  // The RNG, the step count, the task's variables, then the world.
  ByteWriter writer;
  writer.PutRng(rng_);
  if (counts_steps_) writer.Put<int32_t>(static_cast<int32_t>(steps_));
  SaveTaskState(writer);
  world_->SaveState(writer);
  return writer.Take();
}

void RobotTask::RestoreState(std::string_view state) {
  // Everything read and checked before the task's variables change.
  ByteReader reader(state, spec_.name + " state");
  const std::mt19937_64 rng = reader.GetRng();
  const int32_t steps = counts_steps_ ? reader.Get<int32_t>() : 0;
  staged_world_.reset();
  const std::function<void()> apply_task = ReadTaskState(reader);
  std::unique_ptr<MultiRobotWorld> staged = std::move(staged_world_);
  (staged ? *staged : *world_).RestoreState(reader);
  reader.Finish();
  if (staged) world_ = std::move(staged);
  apply_task();
  rng_ = rng;
  steps_ = steps;
}

}  // namespace rlpipe::envs::robots
