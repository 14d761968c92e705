#include "envs/robots/crush_resistance.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::envs::robots {
namespace {

/// The world's parameters with the press plate at the reference height.
WorldParams WithPress(const WorldParams& world, const PressParams& press) {
  WorldParams with_press = world;
  with_press.with_press = true;
  with_press.press_reference_height_m = press.reference_height_m;
  return with_press;
}

}  // namespace

CrushResistance::CrushResistance(const WorldParams& world, const PressParams& press,
                                 int max_episode_steps)
    : RobotTask("crush_resistance", WithPress(world, press), max_episode_steps),
      press_(press),
      positioning_steps_(
          static_cast<int>(std::lround(press.positioning_seconds / this->world().ControlDt()))) {
  // Task block: press height, vertical speed, force, active flag, positioning left, survival.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  SetTaskObservation(
      {{-kInf, -kInf, 0.0f, 0.0f, 0.0f, 0.0f}, {kInf, kInf, kInf, 1.0f, kInf, kInf}});
}

void CrushResistance::ResetTask() {
  // Robots spawn as in every task; the press waits at the reference height.
  mjData& data = world().mutable_data();
  data.qpos[world().press_qpos_adr()] = press_.reference_height_m;
  data.qvel[world().press_dof_adr()] = 0.0;
  sim::Forward(world().model(), data);
  active_ = positioning_steps_ <= 0;
  press_force_ = active_ ? press_.force_increment_n : 0.0;
}

void CrushResistance::DrivePress(const mjModel& model, mjData& data) const {
  const double z = data.qpos[world().press_qpos_adr()];
  const double v = data.qvel[world().press_dof_adr()];
  const double weight = RobotConstants::kPressMass * -model.opt.gravity[2];

  // Positioning: hold the reference height with no force limit. Active: descend at the set
  // speed, pushing down with at most press_force (braking is not limited).
  double target_speed = -press_.descent_speed_mps;
  double push_limit = press_force_;
  if (!active_) {
    target_speed = (press_.reference_height_m - z) / kServoTimeConstant;
    push_limit = std::numeric_limits<double>::infinity();
  }
  const double servo = RobotConstants::kPressMass * (target_speed - v) / kServoTimeConstant;
  data.qfrc_applied[world().press_dof_adr()] = weight + std::max(servo, -push_limit);
}

void CrushResistance::SimulateStep() {
  // The press activates once the positioning time has passed.
  if (!active_ && steps() >= positioning_steps_) {
    active_ = true;
    press_force_ = press_.force_increment_n;
  }
  was_active_ = active_;

  // Physics for one control step, the press driven before every physics step.
  world().Simulate([this](const mjModel& model, mjData& data) { DrivePress(model, data); });
}

StepResult CrushResistance::StepTask(bool at_horizon) {
  // While robots hold the plate up, its push grows.
  if (active_ && PressHeld()) press_force_ += press_.force_increment_n;

  // Reward: height while positioning; survival and mean height once the press is active.
  StepResult result;
  result.reward = was_active_
                      ? kActiveRewardBase + press_.height_reward_scale * world().MeanRobotHeight()
                      : kPositioningRewardScale * world().MaxRobotHeight();

  // Crushed when the plate's underside reaches the crush height; the last step pays survival.
  const double press_height = PressHeight();
  result.terminated = press_height <= press_.crush_height_m;
  if (result.terminated || at_horizon) result.reward += kSurvivalBonus * SurvivalSeconds();

  result.info = {{"survival_seconds", SurvivalSeconds()},
                 {"press_height", press_height},
                 {"press_force", press_force_}};
  return result;
}

double CrushResistance::PressHeight() const {
  return world().data().qpos[world().press_qpos_adr()];
}

double CrushResistance::SurvivalSeconds() const {
  return active_ ? std::max(0, steps() - positioning_steps_) * world().ControlDt() : 0.0;
}

bool CrushResistance::PressHeld() const {
  const mjData& data = world().data();
  const int press = world().press_geom();
  for (int c = 0; c < data.ncon; ++c) {
    const mjContact& contact = data.contact[c];
    if (contact.geom1 == press && world().IsRobotGeom(contact.geom2)) return true;
    if (contact.geom2 == press && world().IsRobotGeom(contact.geom1)) return true;
  }
  return false;
}

void CrushResistance::ObserveTask(std::span<float> task_obs) const {
  // The press block.
  const double seconds_left =
      active_ ? 0.0 : std::max(0, positioning_steps_ - steps()) * world().ControlDt();
  task_obs[0] = static_cast<float>(PressHeight());
  task_obs[1] = static_cast<float>(world().data().qvel[world().press_dof_adr()]);
  task_obs[2] = static_cast<float>(press_force_ / 1000.0);
  task_obs[3] = active_ ? 1.0f : 0.0f;
  task_obs[4] = static_cast<float>(seconds_left);
  task_obs[5] = static_cast<float>(SurvivalSeconds());
}

void CrushResistance::AppendTaskScales(std::vector<float>& scales) const {
  // Press height, vertical speed, force (kN), active flag, positioning left, survival (s).
  AppendUnit(scales, ObservationUnits::kHeightM);
  AppendUnit(scales, ObservationUnits::kSpeedMps);
  AppendUnit(scales, 1.0, 2);
  AppendUnit(scales, ObservationUnits::kTimeS, 2);
}

void CrushResistance::SaveTaskState(ByteWriter& writer) const {
  writer.Put<uint8_t>(static_cast<uint8_t>(active_));
  writer.Put<double>(press_force_);
  writer.Put<int32_t>(static_cast<int32_t>(positioning_steps_));
}

std::function<void()> CrushResistance::ReadTaskState(ByteReader& reader) {
  const auto active = reader.Get<uint8_t>();
  const auto press_force = reader.Get<double>();
  const auto positioning_steps = reader.Get<int32_t>();
  return [this, active, press_force, positioning_steps] {
    active_ = active != 0;
    press_force_ = press_force;
    positioning_steps_ = positioning_steps;
  };
}

std::vector<ParamSpec> CrushResistanceParamSpecs() {
  // The world's parameters, then the press's.
  const PressParams d;
  std::vector<ParamSpec> specs = WorldParamSpecs();
  specs.push_back(PositiveParam("reference_height", d.reference_height_m, 100.0, "m",
                                "height of the press plate's underside while positioning"));
  specs.push_back(RealParam("positioning_seconds", d.positioning_seconds, 0.0, 3600.0, "s",
                            "time the press holds still before it descends"));
  specs.push_back(PositiveParam("press_descent_speed", d.descent_speed_mps, 100.0, "m/s",
                                "descent speed of the unobstructed press"));
  specs.push_back(PositiveParam("press_force_increment", d.force_increment_n, 1e6, "N",
                                "push growth per control step while robots hold the press up"));
  specs.push_back(RealParam("crush_height", d.crush_height_m, 0.0, 100.0, "m",
                            "the episode terminates when the press underside reaches this height; "
                            "below reference_height"));
  specs.push_back(RealParam("height_reward_scale", d.height_reward_scale, 0.0, 1000.0, "",
                            "once the press is active, the reward per step is 1 + this × the mean "
                            "robot height (m)"));
  return specs;
}

std::unique_ptr<Env> MakeCrushResistance(const TaskParams& params, int max_episode_steps) {
  // Each value in range, and the crush below the plate's start.
  CheckParamValues(CrushResistanceParamSpecs(), params);
  PressParams press;
  press.reference_height_m = params.at("reference_height");
  press.positioning_seconds = params.at("positioning_seconds");
  press.descent_speed_mps = params.at("press_descent_speed");
  press.force_increment_n = params.at("press_force_increment");
  press.crush_height_m = params.at("crush_height");
  press.height_reward_scale = params.at("height_reward_scale");
  if (press.crush_height_m >= press.reference_height_m) {
    throw ConfigError("environment.crush_height: expected below reference_height (" +
                      std::to_string(press.reference_height_m) + " m), found " +
                      std::to_string(press.crush_height_m));
  }
  return std::make_unique<CrushResistance>(ReadWorldParams(params), press, max_episode_steps);
}

}  // namespace rlpipe::envs::robots
