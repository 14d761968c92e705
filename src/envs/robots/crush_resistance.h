#pragma once
/// Session 2 of the robot pipeline: hold up a descending press (see docs/environments.md). A
/// 20 × 20 m plate waits at `reference_height` for `positioning_seconds`, then descends at
/// `press_descent_speed`; while robots hold it up its push grows by `press_force_increment` per
/// step. The episode terminates when the plate's underside reaches `crush_height`.
#include <cstdint>
#include <optional>
#include <random>
#include <span>

#include "envs/env.h"
#include "envs/observation_scale.h"
#include "envs/registry.h"
#include "envs/robots/multi_robot_world.h"
#include "sim/warning_source.h"

namespace rlpipe::envs::robots {

/// The press schedule (keys of the `environment:` section).
struct PressParams {
  double reference_height_m = 5.0;    // underside height while positioning
  double positioning_seconds = 30.0;  // time before the press starts to descend
  double descent_speed_mps = 0.5;     // descent speed while unobstructed
  double force_increment_n = 50.0;    // push growth per control step while held up
  double crush_height_m = 0.3;        // the episode terminates when the underside gets here
};

/// The crush_resistance task on the shared multi-robot world (with the press plate).
class CrushResistance : public Env,
                        public sim::WarningSource,
                        public WorldHolder,
                        public ObservationScaleSource {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 3000;     // 50 s: positioning + descent + crush
  static constexpr double kPositioningRewardScale = 0.01;  // per step, per m of highest robot
  static constexpr double kActiveRewardBase = 1.0;         // per step once the press is active
  static constexpr double kActiveRewardHeightScale = 0.5;  // per step, per m of mean robot height
  static constexpr double kSurvivalBonus = 10.0;           // on the last step, per survival second
  /// The press servo reaches its target speed with this time constant (s).
  static constexpr double kServoTimeConstant = 1.0 / 60.0;
  /// Task block: press height (m), press vertical speed (m/s), press force (kN), active (0/1),
  /// positioning seconds left, survival seconds.
  static constexpr int kTaskObsDim = 6;

  CrushResistance(const WorldParams& world, const PressParams& press,
                  int max_episode_steps = kDefaultMaxEpisodeSteps);

  const EnvSpec& Spec() const override { return spec_; }
  /// The world\'s robot-block scales, then this task\'s block (ObservationUnits).
  std::vector<float> ObservationScales() const override;
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) override;
  StepResult Step(std::span<const float> action, std::span<float> obs) override;
  /// The world's state, the episode variables and the reset RNG, bit for bit.
  std::optional<std::string> SaveState() const override;
  void RestoreState(std::string_view state) override;
  int64_t WarningCount() const override { return world_.Warnings().Total(); }
  std::string WarningSummary() const override { return world_.Warnings().ToString(); }

  /// The episode length at which the survival bonus is paid (and the episode truncated).
  void SetMaxEpisodeSteps(int steps) { max_episode_steps_ = steps; }
  /// Writes the observation of the current state.
  void Observe(std::span<float> obs) const;
  MultiRobotWorld& world() { return world_; }
  const MultiRobotWorld& World() const override { return world_; }
  /// Underside height of the press plate (m) and its current push limit (N).
  double PressHeight() const;
  double press_force() const { return press_force_; }
  bool active() const { return active_; }
  double SurvivalSeconds() const;
  /// True when the press touches any robot (from the last physics step's contacts).
  bool PressHeld() const;

 private:
  /// Sets the press's applied force for one physics step (gravity compensation + servo).
  void DrivePress(const mjModel& model, mjData& data) const;

  MultiRobotWorld world_;
  PressParams press_;
  EnvSpec spec_;
  std::mt19937_64 rng_;
  int max_episode_steps_;
  int positioning_steps_;
  int steps_ = 0;
  bool active_ = false;
  double press_force_ = 0.0;
};

/// Registered parameters (the world's and the press's) and the registry row's factory.
std::vector<ParamSpec> CrushResistanceParamSpecs();
std::unique_ptr<Env> MakeCrushResistance(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
