#pragma once
/// Session 2 of the robot pipeline: hold up a descending press (see docs/environments.md). A
/// 20 × 20 m plate waits at `reference_height` for `positioning_seconds`, then descends at
/// `press_descent_speed`; while robots hold it up its push grows by `press_force_increment` per
/// step. The episode terminates when the plate's underside reaches `crush_height`.
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/robot_task.h"

namespace rlpipe::envs::robots {

/// The press schedule (keys of the `environment:` section).
struct PressParams {
  double reference_height_m = 5.0;    // underside height while positioning
  double positioning_seconds = 30.0;  // time before the press starts to descend
  double descent_speed_mps = 0.5;     // descent speed while unobstructed
  double force_increment_n = 50.0;    // push growth per control step while held up
  double crush_height_m = 0.3;        // the episode terminates when the underside gets here
  double height_reward_scale = 0.5;   // active reward per step per m of mean robot height
};

/// The crush_resistance task on the shared multi-robot world (with the press plate).
class CrushResistance : public RobotTask {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 3000;     // 50 s: positioning + descent + crush
  static constexpr double kPositioningRewardScale = 0.01;  // per step, per m of highest robot
  static constexpr double kActiveRewardBase = 1.0;         // per step once the press is active
  static constexpr double kSurvivalBonus = 10.0;           // on the last step, per survival second
  /// The press servo reaches its target speed with this time constant (s).
  static constexpr double kServoTimeConstant = 1.0 / 60.0;
  /// Task block: press height (m), press vertical speed (m/s), press force (kN), active (0/1),
  /// positioning seconds left, survival seconds.
  static constexpr int kTaskObsDim = 6;

  CrushResistance(const WorldParams& world, const PressParams& press,
                  int max_episode_steps = kDefaultMaxEpisodeSteps);

  /// Underside height of the press plate (m) and its current push limit (N).
  double PressHeight() const;
  double press_force() const { return press_force_; }
  bool active() const { return active_; }
  double SurvivalSeconds() const;
  /// True when the press touches any robot (from the last physics step's contacts).
  bool PressHeld() const;

 private:
  /// The press waits at the reference height.
  void ResetTask() override;
  /// Activates the press once the positioning time has passed, then runs the control step with
  /// the press driven before every physics step.
  void SimulateStep() override;
  StepResult StepTask(bool at_horizon) override;
  void ObserveTask(std::span<float> task_obs) const override;
  void AppendTaskScales(std::vector<float>& scales) const override;
  /// Active flag, press force and positioning steps.
  void SaveTaskState(ByteWriter& writer) const override;
  std::function<void()> ReadTaskState(ByteReader& reader) override;

  /// Sets the press's applied force for one physics step (gravity compensation + servo).
  void DrivePress(const mjModel& model, mjData& data) const;

  PressParams press_;
  int positioning_steps_;
  bool active_ = false;
  bool was_active_ = false;  // active at the start of the step being taken
  double press_force_ = 0.0;
};

/// Registered parameters (the world's and the press's) and the registry row's factory.
std::vector<ParamSpec> CrushResistanceParamSpecs();
std::unique_ptr<Env> MakeCrushResistance(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
