#include "envs/robots/crush_resistance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::envs::robots {

CrushResistance::CrushResistance(const WorldParams& world, const PressParams& press,
                                 int max_episode_steps)
    : world_([&world, &press] {
        WorldParams with_press = world;
        with_press.with_press = true;
        with_press.press_reference_height_m = press.reference_height_m;
        return with_press;
      }()),
      press_(press),
      max_episode_steps_(max_episode_steps),
      positioning_steps_(
          static_cast<int>(std::lround(press.positioning_seconds / world_.ControlDt()))) {
  // Spaces: the shared robot blocks, then this task's block.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  spec_.name = "crush_resistance";
  spec_.observation_space = world_.RobotObservationSpace();
  spec_.observation_space.low.insert(spec_.observation_space.low.end(),
                                     {-kInf, -kInf, 0.0f, 0.0f, 0.0f, 0.0f});
  spec_.observation_space.high.insert(spec_.observation_space.high.end(),
                                      {kInf, kInf, kInf, 1.0f, kInf, kInf});
  spec_.action_space = world_.RobotActionSpace();
  world_.DescribeLayout(spec_);
}

void CrushResistance::Reset(std::optional<uint64_t> seed, std::span<float> obs) {
  // Robots spawn as in every task; the press waits at the reference height.
  if (seed) rng_.seed(*seed);
  world_.Reset(rng_);
  mjData& data = world_.mutable_data();
  data.qpos[world_.press_qpos_adr()] = press_.reference_height_m;
  data.qvel[world_.press_dof_adr()] = 0.0;
  sim::Forward(world_.model(), data);
  steps_ = 0;
  active_ = positioning_steps_ <= 0;
  press_force_ = active_ ? press_.force_increment_n : 0.0;
  Observe(obs);
}

void CrushResistance::DrivePress(const mjModel& model, mjData& data) const {
  const double z = data.qpos[world_.press_qpos_adr()];
  const double v = data.qvel[world_.press_dof_adr()];
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
  data.qfrc_applied[world_.press_dof_adr()] = weight + std::max(servo, -push_limit);
}

StepResult CrushResistance::Step(std::span<const float> action, std::span<float> obs) {
  // The press activates once the positioning time has passed.
  if (!active_ && steps_ >= positioning_steps_) {
    active_ = true;
    press_force_ = press_.force_increment_n;
  }
  const bool was_active = active_;

  // Physics for one control step, the press driven before every physics step.
  world_.ApplyAction(action);
  world_.Simulate([this](const mjModel& model, mjData& data) { DrivePress(model, data); });
  ++steps_;

  // While robots hold the plate up, its push grows.
  if (active_ && PressHeld()) press_force_ += press_.force_increment_n;

  // Reward: height while positioning; survival and mean height once the press is active.
  StepResult result;
  result.reward = was_active
                      ? kActiveRewardBase + kActiveRewardHeightScale * world_.MeanRobotHeight()
                      : kPositioningRewardScale * world_.MaxRobotHeight();

  // Crushed when the plate's underside reaches the crush height; the horizon truncates.
  const double press_height = PressHeight();
  result.terminated = press_height <= press_.crush_height_m;
  result.truncated = !result.terminated && max_episode_steps_ > 0 && steps_ >= max_episode_steps_;
  if (result.terminated || result.truncated) result.reward += kSurvivalBonus * SurvivalSeconds();

  result.info = {{"survival_seconds", SurvivalSeconds()},
                 {"press_height", press_height},
                 {"press_force", press_force_},
                 {"connections", static_cast<double>(world_.Connections().size())}};
  Observe(obs);
  return result;
}

double CrushResistance::PressHeight() const { return world_.data().qpos[world_.press_qpos_adr()]; }

double CrushResistance::SurvivalSeconds() const {
  return active_ ? std::max(0, steps_ - positioning_steps_) * world_.ControlDt() : 0.0;
}

bool CrushResistance::PressHeld() const {
  const mjData& data = world_.data();
  const int press = world_.press_geom();
  for (int c = 0; c < data.ncon; ++c) {
    const mjContact& contact = data.contact[c];
    if (contact.geom1 == press && world_.IsRobotGeom(contact.geom2)) return true;
    if (contact.geom2 == press && world_.IsRobotGeom(contact.geom1)) return true;
  }
  return false;
}

void CrushResistance::Observe(std::span<float> obs) const {
  // Shared robot blocks, then the press block.
  const size_t robot_dim = static_cast<size_t>(world_.ObsDim());
  world_.Observe(obs.first(robot_dim));
  const double seconds_left =
      active_ ? 0.0 : std::max(0, positioning_steps_ - steps_) * world_.ControlDt();
  obs[robot_dim + 0] = static_cast<float>(PressHeight());
  obs[robot_dim + 1] = static_cast<float>(world_.data().qvel[world_.press_dof_adr()]);
  obs[robot_dim + 2] = static_cast<float>(press_force_ / 1000.0);
  obs[robot_dim + 3] = active_ ? 1.0f : 0.0f;
  obs[robot_dim + 4] = static_cast<float>(seconds_left);
  obs[robot_dim + 5] = static_cast<float>(SurvivalSeconds());
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
  if (press.crush_height_m >= press.reference_height_m) {
    throw ConfigError("environment.crush_height: expected below reference_height (" +
                      std::to_string(press.reference_height_m) + " m), found " +
                      std::to_string(press.crush_height_m));
  }
  return std::make_unique<CrushResistance>(ReadWorldParams(params), press, max_episode_steps);
}

std::optional<std::string> CrushResistance::SaveState() const {
  // The RNG in the standard's text form (exact), the episode variables, then the world.
  std::ostringstream rng_text;
  rng_text << rng_;
  ByteWriter writer;
  writer.PutString(rng_text.str());
  writer.Put<int32_t>(static_cast<int32_t>(steps_));
  writer.Put<uint8_t>(static_cast<uint8_t>(active_));
  writer.Put<double>(press_force_);
  writer.Put<int32_t>(static_cast<int32_t>(positioning_steps_));
  world_.SaveState(writer);
  return writer.Take();
}

void CrushResistance::RestoreState(std::string_view state) {
  ByteReader reader(state, "crush_resistance state");
  std::istringstream rng_text(reader.GetString());
  std::mt19937_64 rng;
  rng_text >> rng;
  if (rng_text.fail())
    throw IoError("crush_resistance state: expected an mt19937_64 state, found garbage");
  const auto steps = reader.Get<int32_t>();
  const auto active = reader.Get<uint8_t>();
  const auto press_force = reader.Get<double>();
  const auto positioning_steps = reader.Get<int32_t>();
  world_.RestoreState(reader);
  reader.Finish();
  rng_ = rng;
  steps_ = steps;
  active_ = active != 0;
  press_force_ = press_force;
  positioning_steps_ = positioning_steps;
}

std::vector<float> CrushResistance::ObservationScales() const {
  std::vector<float> scales = world_.ObservationScales();
  // Press height, vertical speed, force (kN), active flag, positioning left, survival (s).
  AppendUnit(scales, ObservationUnits::kHeightM);
  AppendUnit(scales, ObservationUnits::kSpeedMps);
  AppendUnit(scales, 1.0, 2);
  AppendUnit(scales, ObservationUnits::kTimeS, 2);
  return scales;
}

}  // namespace rlpipe::envs::robots
