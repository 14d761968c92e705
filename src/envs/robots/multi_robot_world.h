#pragma once
/// The multi-robot MuJoCo world every robot task shares: 2N bar robots (type A) and N sphere
/// robots (type B) on a plane, dynamic ball-socket connections between bar tips and spheres, one
/// observation layout and one action layout (docs/environments.md has both tables). A task owns a
/// world, adds its reward, termination and its own observation block, and nothing else.
#include <mujoco/mujoco.h>

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/byte_stream.h"
#include "envs/env.h"
#include "envs/registry.h"
#include "sim/mujoco_model.h"

namespace rlpipe::envs::robots {

/// Parameters of the world (keys of the `environment:` section; defaults as registered).
struct WorldParams {
  int num_type_b_robots = 2;                // N: N sphere robots and 2N bar robots, >= 1
  double spawn_radius_m = 3.0;              // robots spawn uniformly over a disc of this radius
  double timestep_s = 1.0 / 240.0;          // physics step
  int frame_skip = 4;                       // physics steps per control step
  double connect_distance_m = 0.2;          // bar tip to sphere surface distance that connects
  double connection_break_force_n = 500.0;  // a connection breaks above this constraint force
  double sphere_max_speed_mps = 3.0;        // a sphere's drive gives no force beyond this speed
  bool with_press = false;                  // adds the press plate (crush_resistance)
  double press_reference_height_m = 5.0;    // where the press plate's underside starts
  /// Task scenery: MJCF placed inside <worldbody> after the robots (static geoms, or bodies with
  /// free joints for movable objects). Names must not start with "bar", "sphere" or "press".
  std::string extra_worldbody_xml = {};
  int extra_contacts = 0;                   // contact buffer room the scenery needs (nconmax)
  double spawn_center_x_m = 0.0;            // centre of the spawn disc
  double spawn_center_y_m = 0.0;
  double spawn_height_m = 0.0;              // floor height under the spawn disc (a platform)
};

/// The world's registered parameters (name, default, description), shared by every robot task.
std::vector<ParamSpec> WorldParamSpecs();

/// Reads and checks the world's parameters. Throws ConfigError naming the `environment.` key.
WorldParams ReadWorldParams(const TaskParams& params);

/// A sphere drive's force as a fraction of command × kSphereForce on one world axis: 1 at rest or
/// against the motion, falling linearly to 0 at `max_speed` along the pushed direction (a
/// motor's force-speed curve); 0 for no command.
double SphereDriveFactor(double command, double velocity, double max_speed);

/// Builds the MJCF text of a world with these parameters (deterministic).
std::string BuildWorldXml(const WorldParams& params);

/// Robot kinds, in observation and action order: all bar robots first, then all spheres.
enum class RobotKind { kBar, kSphere };

/// Geometry and actuation constants (SI units).
struct RobotConstants {
  static constexpr double kBallRadius = 0.025;  // bar robot centre ball
  static constexpr double kBallMass = 0.1;
  static constexpr double kBarLength = 0.5;  // end to end, caps included
  static constexpr double kBarRadius = 0.015;
  static constexpr double kBarMass = 0.5;
  static constexpr double kBarTip = kBallRadius + kBarLength;  // joint to true tip
  static constexpr double kJointTorque = 21.6;  // N m per arm joint axis at |action| = 1
  static constexpr double kSphereRadius = 0.167;
  static constexpr double kSphereMass = 1.0;
  static constexpr double kSphereForce = 20.0;    // N per world axis at |action| = 1
  static constexpr double kSphereLiftFraction = 0.8;  // upward force cap, × the sphere's weight
  static constexpr double kMinSeparation = 0.4;   // between robot centres at spawn
  static constexpr double kPressMass = 10.0;      // gravity-compensated plate
  static constexpr double kPressHalfSize = 10.0;  // 20 x 20 m
  static constexpr double kPressHalfThickness = 0.05;
};

/// Sizes of the shared layout.
struct WorldLayout {
  static constexpr int kBarObsDim = 29;     // pos 3, quat 4, linvel 3, angvel 3, arm quats 8, arm
                                            // angular velocities 6, tip flags 2
  static constexpr int kSphereObsDim = 14;  // pos 3, quat 4, linvel 3, angvel 3, connections 1
  static constexpr int kBarActDim = 6;      // arm torques: arm 0 (x, y, z), arm 1 (x, y, z)
  static constexpr int kSphereActDim = 3;   // world-frame force x, y, z
};

/// The units the registered robot tasks present observations in (docs/environments.md,
/// "Observation scales"): an observed value is its SI value divided by its unit, so typical values
/// are O(1) for any algorithm, with or without `training.normalize`. One table for every task, so
/// a value means the same in every task and weights move between tasks by name and shape.
struct ObservationUnits {
  static constexpr double kHorizontalM = 3.0;      // x, y positions, horizontal offsets, distances
  static constexpr double kHeightM = 1.0;          // z positions, heights
  static constexpr double kSpeedMps = 2.0;         // linear velocities
  static constexpr double kSpinRadps = 10.0;       // free-joint (body) angular velocities
  static constexpr double kJointSpinRadps = 10.0;  // arm joint angular velocities
  static constexpr double kTimeS = 10.0;           // durations
  static constexpr double kMassKg = 5.0;           // masses
};

/// Appends `count` copies of 1 / `unit` to `scales` (observation scale factors).
void AppendUnit(std::vector<float>& scales, double unit, int count = 1);
/// Appends the factors of a position (x, y horizontal, z height).
void AppendPositionUnits(std::vector<float>& scales);

/// One live connection: bar robot `bar`, its arm `arm` (0 or 1), sphere `sphere`.
struct Connection {
  int bar = 0;
  int arm = 0;
  int sphere = 0;
};

/// The world: MuJoCo model and data plus the robots' bookkeeping. Not thread-safe.
class MultiRobotWorld {
 public:
  /// Compiles (or reuses a process-wide compiled copy of) the world for `params` and makes this
  /// instance's own mjModel copy (connections switch m->eq_active, which is per model in 2.2.2).
  /// Throws ConfigError when the robots cannot fit into the spawn disc.
  explicit MultiRobotWorld(const WorldParams& params);

  const WorldParams& params() const { return params_; }
  int NumBars() const { return 2 * params_.num_type_b_robots; }
  int NumSpheres() const { return params_.num_type_b_robots; }
  int NumRobots() const { return NumBars() + NumSpheres(); }
  int ObsDim() const;
  int ActDim() const;
  /// Scale factors of the shared robot blocks (ObsDim() values; ObservationUnits).
  std::vector<float> ObservationScales() const;
  /// Observation and action boxes of the shared robot blocks.
  Box RobotObservationSpace() const;
  Box RobotActionSpace() const;
  /// The per-robot blocks ("bar" robots, then "sphere" robots) followed by a task block of
  /// `task_obs_dim` values, for the task's EnvSpec::robot_layout.
  RobotLayout Layout(int task_obs_dim) const;
  /// Fills `spec`'s observation and action layouts: the robot blocks ("bar_robot[i]",
  /// "sphere[j]"), then one "task:<spec.name>" block for the rest of the observation; and
  /// spec.robot_layout (the same split by robot type, for MultiRobotPolicy). Call after the
  /// spaces are set.
  void DescribeLayout(EnvSpec& spec) const;
  /// Seconds per control step (timestep × frame_skip).
  double ControlDt() const { return params_.timestep_s * params_.frame_skip; }

  /// Resets physics and connections and spawns every robot at a random place of the disc.
  void Reset(std::mt19937_64& rng);
  /// Clips `action` to [-1, 1] and sets arm torques and sphere forces for the next step.
  void ApplyAction(std::span<const float> action);
  /// Runs frame_skip physics steps; `before_substep` (may be empty) runs before each one.
  /// Then updates connections. Throws TrainingError if MuJoCo reported an error.
  void Simulate(const std::function<void(const mjModel&, mjData&)>& before_substep = {});
  /// Writes the shared robot blocks (ObsDim() values).
  void Observe(std::span<float> obs) const;

  /// Robot centre position (bar robots 0..2N-1, then spheres).
  const mjtNum* RobotPosition(int robot) const;
  /// Highest and mean robot centre height (m).
  double MaxRobotHeight() const;
  double MeanRobotHeight() const;
  /// Largest horizontal distance of a robot centre from the origin (m).
  double MaxRobotRadius() const;
  /// Bar robot `bar`'s arm `arm` true tip in world coordinates (from the last kinematics pass).
  std::array<double, 3> TipPosition(int bar, int arm) const;

  /// Live connections, and the connection count of one sphere.
  const std::vector<Connection>& Connections() const { return connections_; }
  int SphereConnectionCount(int sphere) const;
  /// Constraint force (N) of the last physics step in connection (bar, arm, sphere); 0 if inactive.
  double ConnectionForce(int bar, int arm, int sphere) const;

  /// Test and tool access: places robot `robot` at `pos` with orientation `quat` (w, x, y, z) and
  /// zero velocity, and recomputes kinematics.
  void PlaceRobot(int robot, const std::array<double, 3>& pos,
                  const std::array<double, 4>& quat = {1, 0, 0, 0});
  /// Sets bar robot `bar`'s arm `arm` joint orientation (w, x, y, z; identity = arm 0 along the
  /// robot's +x, arm 1 along -x) at rest, and recomputes kinematics.
  void SetArmOrientation(int bar, int arm, const std::array<double, 4>& quat);
  /// Re-evaluates connections from the current kinematics (done by Simulate too).
  void UpdateConnections();

  /// Exact resume: the whole simulation state (mjData's buffer — qpos, qvel, act,
  /// qacc_warmstart, ctrl, applied forces, the last step's kinematics, contacts and constraint
  /// forces — its sizes, time and statistics), the model fields connections switch (eq_active and
  /// the connect anchors in eq_data) and the connection bookkeeping. Restore expects a world built
  /// with the same parameters (IoError otherwise).
  void SaveState(ByteWriter& writer) const;
  void RestoreState(ByteReader& reader);

  /// Warnings since construction, across resets.
  sim::WarningCounts Warnings() const;

  const mjModel& model() const { return *model_; }
  mjModel& mutable_model() { return *model_; }
  const mjData& data() const { return *data_; }
  mjData& mutable_data() { return *data_; }
  /// The press slide joint's qpos / qvel address (-1 without a press).
  int press_qpos_adr() const { return press_qpos_adr_; }
  int press_dof_adr() const { return press_dof_adr_; }
  int press_geom() const { return press_geom_; }
  /// True when geom `geom` belongs to a robot.
  bool IsRobotGeom(int geom) const;

 private:
  /// Equality id of connection (bar, arm, sphere).
  int EqualityId(int bar, int arm, int sphere) const;
  /// Sphere robot `sphere`'s body id.
  int SphereBody(int sphere) const { return sphere_body_[static_cast<size_t>(sphere)]; }
  /// Robot `robot`'s free joint qpos / qvel addresses.
  int RootQpos(int robot) const { return root_qpos_[static_cast<size_t>(robot)]; }
  int RootDof(int robot) const { return root_dof_[static_cast<size_t>(robot)]; }

  WorldParams params_;
  sim::ModelPtr model_;
  sim::DataPtr data_;
  std::vector<int> root_qpos_;       // [robots]
  std::vector<int> root_dof_;        // [robots]
  std::vector<int> arm_body_;        // [bars * 2]
  std::vector<int> ball_qpos_;       // [bars * 2] arm ball joints
  std::vector<int> ball_dof_;        // [bars * 2]
  std::vector<int> sphere_body_;     // [spheres]
  std::vector<uint8_t> robot_geom_;  // [ngeom]: 1 if the geom belongs to a robot
  std::vector<uint8_t> connected_;   // [bars * 2 * spheres] connection switched on
  std::vector<uint8_t> armed_;       // [bars * 2] tip may connect (re-armed after leaving)
  std::vector<double> eq_force_;     // [neq] constraint force norm of the last step
  std::vector<Connection> connections_;
  int press_qpos_adr_ = -1;
  int press_dof_adr_ = -1;
  int press_geom_ = -1;
  sim::WarningCounts past_warnings_;  // counts of data cleared by earlier resets
};

/// Implemented by every robot task: read access to its world for code that only looks at it
/// (rendering, tools), without knowing the task.
class WorldHolder {
 public:
  virtual ~WorldHolder() = default;
  /// The world of the current episode.
  virtual const MultiRobotWorld& World() const = 0;
};

}  // namespace rlpipe::envs::robots
