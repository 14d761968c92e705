#include "envs/robots/multi_robot_world.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <sstream>

#include "core/error.h"

namespace rlpipe::envs::robots {
namespace {

using C = RobotConstants;

/// Arms point up at this angle from vertical at spawn (a narrow V), so that robots 0.4 m apart
/// do not overlap: a bar robot's footprint radius is then 0.525 sin 15° + 0.015 ≈ 0.15 m.
constexpr double kSpawnArmTiltRad = 15.0 * std::numbers::pi / 180.0;
/// Gap between a robot and the floor at spawn (m).
constexpr double kSpawnClearance = 0.002;
/// Rejection sampling budget per robot, and full restarts before giving up.
constexpr int kSpawnDrawsPerRobot = 10000;
constexpr int kSpawnRestarts = 100;
/// Spawn capacity: robots fit when their exclusion discs cover at most this fraction of the
/// (centre disc + margin) area; random sequential placement jams near 0.547, so 0.4 always fits.
constexpr double kSpawnMaxCoverage = 0.4;
/// Arm joint armature (kg m^2) and damping (N m s/rad): a bar spun about its own axis has almost
/// no inertia (5.6e-5 kg m^2); the armature keeps 21.6 N m from giving 4e5 rad/s^2, and the
/// damping limits an arm to 21.6 rad/s under full torque.
constexpr double kHingeArmature = 0.01;
constexpr double kHingeDamping = 1.0;
/// Bar robot root armature (kg m^2, and kg along the free joint's translations): the centre ball
/// alone has 2.5e-5 kg m^2, and the arms' reaction torques spin it up until the integrator
/// diverges; 0.002 regularises it (2 g of extra mass, ~4% of the robot's own inertia).
/// The world uses MuJoCo's RK4 integrator. Semi-implicit Euler treats the gyroscopic terms
/// explicitly and a tumbling bar robot (almost no inertia about its arms' axis) gains energy by
/// itself — +10-14% in 5 s at 100-200 rad/s with idle motors — which trained policies pumped into
/// 10-30 km "heights". The implicit integrator cures that, but both are first order: a flailing
/// bar robot's centre of mass in free fall is off g by up to 12-13 m/s² per control step, and a
/// policy learned to hover on that error. RK4 keeps it within 0.5 m/s² (tests
/// ASpinningRobotDoesNotGainEnergy, AFlailingRobotFallsLikeAStone).
constexpr double kRootArmature = 0.002;
/// Constraint impedance of press-robot contacts (MuJoCo solimp dmin = dmax). Rigid robots would
/// hold the plate above the crush height forever (a resting sphere is 0.334 m tall, the crush
/// height 0.3 m): with impedance 0.5 instead of MuJoCo's 0.9-0.95 a press contact yields about
/// 1 cm per 1000 N of push, so robots are crushed once the growing push is large enough.
constexpr double kPressImpedance = 0.5;

/// A double as MJCF text (round-trips exactly).
std::string Num(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

/// Throws ConfigError when 3N robots cannot be spawned 0.4 m apart within the disc.
void CheckSpawnFits(int num_type_b, double spawn_radius_m) {
  const int robots = 3 * num_type_b;
  const double half = C::kMinSeparation / 2.0;
  const double capacity =
      kSpawnMaxCoverage * (spawn_radius_m + half) * (spawn_radius_m + half) / (half * half);
  if (robots > capacity) {
    throw ConfigError(
        "environment.num_type_b_robots / environment.spawn_radius: " + std::to_string(robots) +
        " robots (num_type_b_robots " + std::to_string(num_type_b) + ") do not fit " +
        ShownNumber(C::kMinSeparation) + " m apart in a spawn disc of radius " +
        ShownNumber(spawn_radius_m) + " m (at most " + std::to_string(static_cast<int>(capacity)) +
        "); raise spawn_radius or lower num_type_b_robots");
  }
}

/// Compiled worlds by MJCF text, shared read-only between instances (each copies it).
std::shared_ptr<const mjModel> CompiledWorld(const std::string& xml) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const mjModel>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& entry = cache[xml];
  if (!entry)
    entry = std::shared_ptr<const mjModel>(sim::CompileXml(xml).release(), sim::ModelDeleter());
  return entry;
}

/// Name lookup that must succeed (the names come from BuildWorldXml).
int Id(const mjModel& model, mjtObj type, const std::string& name) {
  const int id = mj_name2id(&model, type, name.c_str());
  if (id < 0) throw TrainingError("multi-robot world: no object named '" + name + "'");
  return id;
}

}  // namespace

double SphereDriveFactor(double command, double velocity, double max_speed) {
  if (command == 0.0) return 0.0;
  const double along = command > 0.0 ? velocity : -velocity;  // speed in the pushed direction
  return std::clamp(1.0 - along / max_speed, 0.0, 1.0);
}

std::vector<ParamSpec> WorldParamSpecs() {
  const WorldParams d;
  return {
      IntParam("num_type_b_robots", d.num_type_b_robots, 1, 64,
               "N: sphere robots (type B); bar robots (type A) are 2N"),
      RealParam("spawn_radius", d.spawn_radius_m, 0.0, 1000.0, "m",
                "robots spawn uniformly over a disc of this radius"),
      PositiveParam("timestep", d.timestep_s, 0.1, "s", "physics step"),
      IntParam("frame_skip", d.frame_skip, 1, 1000, "physics steps per control step"),
      RealParam("connect_distance", d.connect_distance_m, 0.0, 10.0, "m",
                "a bar tip this close to a sphere's surface connects to it"),
      PositiveParam("connection_break_force", d.connection_break_force_n, 1e9, "N",
                    "a connection breaks when its constraint force exceeds this"),
      PositiveParam("sphere_max_speed", d.sphere_max_speed_mps, 1000.0, "m/s",
                    "a sphere's drive fades linearly to zero force at this speed along its push"),
      FlagParam("scale_observations", true,
                "1: observations in the documented units (O(1)); 0: raw SI values"),
  };
}

WorldParams ReadWorldParams(const TaskParams& params) {
  // Each value in its declared range, then the cross-field rule.
  CheckParamValues(WorldParamSpecs(), params);
  WorldParams world;
  world.num_type_b_robots = ParamInt(params, "num_type_b_robots");
  world.spawn_radius_m = params.at("spawn_radius");
  world.timestep_s = params.at("timestep");
  world.frame_skip = ParamInt(params, "frame_skip");
  world.connect_distance_m = params.at("connect_distance");
  world.connection_break_force_n = params.at("connection_break_force");
  world.sphere_max_speed_mps = params.at("sphere_max_speed");
  CheckSpawnFits(world.num_type_b_robots, world.spawn_radius_m);
  return world;
}

std::string BuildWorldXml(const WorldParams& params) {
  const int bars = 2 * params.num_type_b_robots;
  const int spheres = params.num_type_b_robots;
  const int robots = bars + spheres;
  const int neq = bars * 2 * spheres;
  // Fixed-size constraint buffers (MuJoCo 2.2.2): generous per robot, plus the press's contacts.
  const int nconmax =
      20 + 20 * robots + (params.with_press ? 10 * robots : 0) + params.extra_contacts;
  const int njmax = 4 * nconmax + 3 * neq;
  std::ostringstream xml;

  // Header: units, physics step, buffer sizes.
  xml << "<mujoco model=\"multi_robot_world\">\n"
      << "  <compiler angle=\"radian\" inertiafromgeom=\"true\"/>\n"
      << "  <option timestep=\"" << Num(params.timestep_s) << "\" integrator=\"RK4\"/>\n"
      << "  <size nconmax=\"" << nconmax << "\" njmax=\"" << njmax << "\"/>\n"
      << "  <default>\n"
      << "    <joint armature=\"" << Num(kHingeArmature) << "\" damping=\"" << Num(kHingeDamping)
      << "\"/>\n"
      << "    <motor ctrllimited=\"true\" ctrlrange=\"-1 1\"/>\n"
      << "  </default>\n"
      << "  <worldbody>\n"
      << "    <geom name=\"floor\" type=\"plane\" size=\"30 30 0.1\"/>\n";

  // Bar robots: a centre ball and two arms, each on a ball joint at the ball's centre (3 DoF, no
  // gimbal lock); arm 1 is arm 0 turned half a turn about z. MuJoCo computes inertias from the
  // geoms and their masses.
  for (int i = 0; i < bars; ++i) {
    const std::string name = "bar" + std::to_string(i);
    xml << "    <body name=\"" << name << "\">\n"
        << "      <joint name=\"" << name << "_root\" type=\"free\" armature=\""
        << Num(kRootArmature) << "\" damping=\"0\"/>\n"
        << "      <geom type=\"sphere\" size=\"" << Num(C::kBallRadius) << "\" mass=\""
        << Num(C::kBallMass) << "\"/>\n";
    for (int arm = 0; arm < 2; ++arm) {
      const std::string arm_name = name + "_arm" + std::to_string(arm);
      xml << "      <body name=\"" << arm_name << "\""
          << (arm == 1 ? " euler=\"0 0 3.141592653589793\"" : "") << ">\n"
          << "        <joint name=\"" << arm_name << "_ball\" type=\"ball\"/>\n"
          << "        <geom type=\"capsule\" size=\"" << Num(C::kBarRadius) << "\" fromto=\""
          << Num(C::kBallRadius + C::kBarRadius) << " 0 0 " << Num(C::kBarTip - C::kBarRadius)
          << " 0 0\" mass=\"" << Num(C::kBarMass) << "\"/>\n"
          << "      </body>\n";
    }
    xml << "    </body>\n";
  }

  // Sphere robots: a free 1 kg ball, driven by world-frame forces (xfrc_applied).
  for (int j = 0; j < spheres; ++j) {
    xml << "    <body name=\"sphere" << j << "\">\n"
        << "      <freejoint name=\"sphere" << j << "_root\"/>\n"
        << "      <geom type=\"sphere\" size=\"" << Num(C::kSphereRadius) << "\" mass=\""
        << Num(C::kSphereMass) << "\"/>\n"
        << "    </body>\n";
  }

  // The press: a horizontal plate on a vertical slide; qpos is the height of its underside.
  if (params.with_press) {
    xml << "    <body name=\"press\">\n"
        << "      <joint name=\"press_z\" type=\"slide\" axis=\"0 0 1\" armature=\"0\" "
           "damping=\"0\"/>\n"
        << "      <geom name=\"press_plate\" type=\"box\" priority=\"1\" solimp=\""
        << Num(kPressImpedance) << " " << Num(kPressImpedance) << " 0.001\" size=\""
        << Num(C::kPressHalfSize) << " " << Num(C::kPressHalfSize) << " "
        << Num(C::kPressHalfThickness) << "\" pos=\"0 0 " << Num(C::kPressHalfThickness)
        << "\" mass=\"" << Num(C::kPressMass) << "\"/>\n"
        << "    </body>\n";
  }
  xml << params.extra_worldbody_xml;
  xml << "  </worldbody>\n";

  // Contacts: a robot's two arms meet at its centre, so they never collide with each other; the
  // press never touches the floor.
  xml << "  <contact>\n";
  for (int i = 0; i < bars; ++i) {
    xml << "    <exclude body1=\"bar" << i << "_arm0\" body2=\"bar" << i << "_arm1\"/>\n";
  }
  if (params.with_press) xml << "    <exclude body1=\"world\" body2=\"press\"/>\n";
  xml << "  </contact>\n";

  // One switchable ball-socket connection per (bar tip, sphere) pair, all off at first; the
  // anchor on the sphere is set when a connection forms.
  xml << "  <equality>\n";
  for (int i = 0; i < bars; ++i) {
    for (int arm = 0; arm < 2; ++arm) {
      for (int j = 0; j < spheres; ++j) {
        xml << "    <connect body1=\"bar" << i << "_arm" << arm << "\" body2=\"sphere" << j
            << "\" anchor=\"" << Num(C::kBarTip) << " 0 0\" active=\"false\"/>\n";
      }
    }
  }
  xml << "  </equality>\n";

  // Three torque motors per ball joint, about the arm's own x, y, z axes; action order: bar i,
  // arm 0 (x, y, z), arm 1 (x, y, z).
  xml << "  <actuator>\n";
  for (int i = 0; i < bars; ++i) {
    for (int arm = 0; arm < 2; ++arm) {
      for (int axis = 0; axis < 3; ++axis) {
        xml << "    <motor joint=\"bar" << i << "_arm" << arm << "_ball\" gear=\"";
        for (int k = 0; k < 6; ++k)
          xml << (k > 0 ? " " : "") << (k == axis ? Num(C::kJointTorque) : "0");
        xml << "\"/>\n";
      }
    }
  }
  xml << "  </actuator>\n"
      << "</mujoco>\n";
  return xml.str();
}

MultiRobotWorld::MultiRobotWorld(const WorldParams& params) : params_(params) {
  // Fail early on worlds that cannot spawn, then compile once per parameter set and copy.
  CheckSpawnFits(params_.num_type_b_robots, params_.spawn_radius_m);
  const std::shared_ptr<const mjModel> compiled = CompiledWorld(BuildWorldXml(params_));
  model_ = sim::CopyModel(*compiled);
  data_ = sim::MakeData(*model_);

  // Addresses of every robot's joints and bodies, resolved once by name.
  const mjModel& m = *model_;
  for (int i = 0; i < NumBars(); ++i) {
    const std::string name = "bar" + std::to_string(i);
    const int root = Id(m, mjOBJ_JOINT, name + "_root");
    root_qpos_.push_back(m.jnt_qposadr[root]);
    root_dof_.push_back(m.jnt_dofadr[root]);
    for (int arm = 0; arm < 2; ++arm) {
      const std::string arm_name = name + "_arm" + std::to_string(arm);
      arm_body_.push_back(Id(m, mjOBJ_BODY, arm_name));
      const int joint = Id(m, mjOBJ_JOINT, arm_name + "_ball");
      ball_qpos_.push_back(m.jnt_qposadr[joint]);
      ball_dof_.push_back(m.jnt_dofadr[joint]);
    }
  }
  for (int j = 0; j < NumSpheres(); ++j) {
    const int root = Id(m, mjOBJ_JOINT, "sphere" + std::to_string(j) + "_root");
    root_qpos_.push_back(m.jnt_qposadr[root]);
    root_dof_.push_back(m.jnt_dofadr[root]);
    sphere_body_.push_back(Id(m, mjOBJ_BODY, "sphere" + std::to_string(j)));
  }
  int press_body = -1;
  if (params_.with_press) {
    const int joint = Id(m, mjOBJ_JOINT, "press_z");
    press_qpos_adr_ = m.jnt_qposadr[joint];
    press_dof_adr_ = m.jnt_dofadr[joint];
    press_geom_ = Id(m, mjOBJ_GEOM, "press_plate");
    press_body = Id(m, mjOBJ_BODY, "press");
  }
  robot_geom_.assign(static_cast<size_t>(m.ngeom), 0);
  for (int g = 0; g < m.ngeom; ++g) {
    const int body = m.geom_bodyid[g];
    robot_geom_[static_cast<size_t>(g)] = body != 0 && body != press_body ? 1 : 0;
  }

  // Connection bookkeeping.
  connected_.assign(static_cast<size_t>(NumBars() * 2 * NumSpheres()), 0);
  armed_.assign(static_cast<size_t>(NumBars() * 2), 1);
  eq_force_.assign(static_cast<size_t>(m.neq), 0.0);
}

int MultiRobotWorld::ObsDim() const {
  return NumBars() * WorldLayout::kBarObsDim + NumSpheres() * WorldLayout::kSphereObsDim;
}

int MultiRobotWorld::ActDim() const {
  return NumBars() * WorldLayout::kBarActDim + NumSpheres() * WorldLayout::kSphereActDim;
}

void AppendUnit(std::vector<float>& scales, double unit, int count) {
  scales.insert(scales.end(), static_cast<size_t>(count), static_cast<float>(1.0 / unit));
}

void AppendPositionUnits(std::vector<float>& scales) {
  AppendUnit(scales, ObservationUnits::kHorizontalM, 2);
  AppendUnit(scales, ObservationUnits::kHeightM);
}

std::vector<float> MultiRobotWorld::ObservationScales() const {
  // Per robot, in Observe's order: pose, velocities, (bars) arm joints and tip flags.
  std::vector<float> scales;
  const auto add_root = [&scales] {
    AppendPositionUnits(scales);
    AppendUnit(scales, 1.0, 4);
    AppendUnit(scales, ObservationUnits::kSpeedMps, 3);
    AppendUnit(scales, ObservationUnits::kSpinRadps, 3);
  };
  for (int i = 0; i < NumBars(); ++i) {
    add_root();
    AppendUnit(scales, 1.0, 8);
    AppendUnit(scales, ObservationUnits::kJointSpinRadps, 6);
    AppendUnit(scales, 1.0, 2);
  }
  for (int j = 0; j < NumSpheres(); ++j) {
    add_root();
    AppendUnit(scales, 1.0);
  }
  return scales;
}

Box MultiRobotWorld::RobotObservationSpace() const {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  Box box;
  const auto add = [&box](int count, float lo, float hi) {
    box.low.insert(box.low.end(), static_cast<size_t>(count), lo);
    box.high.insert(box.high.end(), static_cast<size_t>(count), hi);
  };
  // Bars: position, quaternion, velocities, arm joint quaternions, arm angular speeds, tip flags.
  for (int i = 0; i < NumBars(); ++i) {
    add(3, -kInf, kInf);
    add(4, -1.0f, 1.0f);
    add(6, -kInf, kInf);
    add(8, -1.0f, 1.0f);
    add(6, -kInf, kInf);
    add(2, 0.0f, 1.0f);
  }
  // Spheres: position, quaternion, velocities, connection count.
  for (int j = 0; j < NumSpheres(); ++j) {
    add(3, -kInf, kInf);
    add(4, -1.0f, 1.0f);
    add(6, -kInf, kInf);
    add(1, 0.0f, static_cast<float>(2 * NumBars()));
  }
  return box;
}

RobotLayout MultiRobotWorld::Layout(int task_obs_dim) const {
  // Bar robots first, then spheres, each robot's values contiguous; the task block last.
  RobotLayout layout;
  layout.groups.push_back({.type = "bar",
                           .count = NumBars(),
                           .obs_offset = 0,
                           .obs_dim = WorldLayout::kBarObsDim,
                           .act_offset = 0,
                           .act_dim = WorldLayout::kBarActDim});
  layout.groups.push_back({.type = "sphere",
                           .count = NumSpheres(),
                           .obs_offset = NumBars() * WorldLayout::kBarObsDim,
                           .obs_dim = WorldLayout::kSphereObsDim,
                           .act_offset = NumBars() * WorldLayout::kBarActDim,
                           .act_dim = WorldLayout::kSphereActDim});
  layout.task_obs_offset = ObsDim();
  layout.task_obs_dim = task_obs_dim;
  return layout;
}

void MultiRobotWorld::DescribeLayout(EnvSpec& spec) const {
  // Robot blocks in observation order, then whatever the task appended.
  spec.observation_layout.clear();
  spec.action_layout.clear();
  for (int i = 0; i < NumBars(); ++i) {
    spec.observation_layout.push_back(
        {"bar_robot[" + std::to_string(i) + "]", WorldLayout::kBarObsDim});
    spec.action_layout.push_back({"bar_robot[" + std::to_string(i) + "]", WorldLayout::kBarActDim});
  }
  for (int j = 0; j < NumSpheres(); ++j) {
    spec.observation_layout.push_back(
        {"sphere[" + std::to_string(j) + "]", WorldLayout::kSphereObsDim});
    spec.action_layout.push_back({"sphere[" + std::to_string(j) + "]", WorldLayout::kSphereActDim});
  }
  const int task_dim = spec.observation_space.Dim() - LayoutSize(spec.observation_layout);
  if (task_dim > 0) spec.observation_layout.push_back({"task:" + spec.name, task_dim});
  spec.robot_layout = Layout(task_dim);
}

Box MultiRobotWorld::RobotActionSpace() const {
  return {std::vector<float>(static_cast<size_t>(ActDim()), -1.0f),
          std::vector<float>(static_cast<size_t>(ActDim()), 1.0f)};
}

void MultiRobotWorld::Reset(std::mt19937_64& rng) {
  // Physics back to the model's initial state; keep the warning counts the reset clears.
  past_warnings_.Add(sim::ReadWarnings(*data_));
  mj_resetData(model_.get(), data_.get());
  std::fill(model_->eq_active, model_->eq_active + model_->neq, mjtByte{0});
  std::fill(connected_.begin(), connected_.end(), uint8_t{0});
  std::fill(armed_.begin(), armed_.end(), uint8_t{1});
  std::fill(eq_force_.begin(), eq_force_.end(), 0.0);
  connections_.clear();

  // Centres uniform over the disc's area (r = R sqrt(u)), at least kMinSeparation apart.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::array<double, 2>> centres;
  for (int restart = 0; centres.size() < static_cast<size_t>(NumRobots()); ++restart) {
    if (restart == kSpawnRestarts) {
      throw TrainingError("multi-robot world: could not spawn " + std::to_string(NumRobots()) +
                          " robots in the spawn disc");
    }
    centres.clear();
    for (int robot = 0; robot < NumRobots(); ++robot) {
      for (int draw = 0; draw < kSpawnDrawsPerRobot; ++draw) {
        const double r = params_.spawn_radius_m * std::sqrt(unit(rng));
        const double phi = 2.0 * std::numbers::pi * unit(rng);
        const std::array<double, 2> c = {r * std::cos(phi), r * std::sin(phi)};
        const bool clear = std::all_of(centres.begin(), centres.end(), [&](const auto& o) {
          return std::hypot(c[0] - o[0], c[1] - o[1]) >= C::kMinSeparation;
        });
        if (clear) {
          centres.push_back(c);
          break;
        }
      }
      if (centres.size() != static_cast<size_t>(robot + 1)) break;
    }
  }

  // Bar robots: random heading, arms raised in a narrow V; spheres: resting on the floor.
  mjtNum* qpos = data_->qpos;
  for (int robot = 0; robot < NumRobots(); ++robot) {
    const bool bar = robot < NumBars();
    mjtNum* root = qpos + RootQpos(robot);
    const double yaw = bar ? 2.0 * std::numbers::pi * unit(rng) : 0.0;
    root[0] = params_.spawn_center_x_m + centres[static_cast<size_t>(robot)][0];
    root[1] = params_.spawn_center_y_m + centres[static_cast<size_t>(robot)][1];
    root[2] = params_.spawn_height_m + (bar ? C::kBallRadius : C::kSphereRadius) + kSpawnClearance;
    root[3] = std::cos(yaw / 2.0);
    root[4] = 0.0;
    root[5] = 0.0;
    root[6] = std::sin(yaw / 2.0);
    if (bar) {
      // Both arms pitched about their own y axis from horizontal to kSpawnArmTiltRad off vertical.
      const double pitch = -(std::numbers::pi / 2.0 - kSpawnArmTiltRad);
      for (int arm = 0; arm < 2; ++arm) {
        mjtNum* quat = qpos + ball_qpos_[static_cast<size_t>(robot * 2 + arm)];
        quat[0] = std::cos(pitch / 2.0);
        quat[1] = 0.0;
        quat[2] = std::sin(pitch / 2.0);
        quat[3] = 0.0;
      }
    }
  }
  sim::Forward(*model_, *data_);
}

void MultiRobotWorld::ApplyAction(std::span<const float> action) {
  // Non-finite entries count as 0; everything else is clipped to [-1, 1].
  const auto clip = [](float a) -> double {
    return std::isfinite(a) ? std::clamp(static_cast<double>(a), -1.0, 1.0) : 0.0;
  };
  const size_t bar_actions = static_cast<size_t>(NumBars() * WorldLayout::kBarActDim);
  for (size_t k = 0; k < bar_actions; ++k) data_->ctrl[k] = clip(action[k]);
  // A sphere's drive is a motor with a linear force-speed curve per world axis: full force at
  // rest or against the motion, fading to zero at the top speed along the pushed direction (a
  // bare 20 N on a frictionless rolling ball accelerates without bound: 24 m/s within the arena).
  // Upwards it pushes at most kSphereLiftFraction of its own weight: it can lighten itself and
  // help lift what it is connected to, but not fly (the full 20 N is twice its weight).
  const double max_lift =
      C::kSphereLiftFraction * C::kSphereMass * std::abs(model_->opt.gravity[2]);
  for (int j = 0; j < NumSpheres(); ++j) {
    mjtNum* force = data_->xfrc_applied + 6 * SphereBody(j);
    const mjtNum* velocity = data_->qvel + RootDof(NumBars() + j);
    for (size_t axis = 0; axis < 3; ++axis) {
      const double command = clip(action[bar_actions + static_cast<size_t>(3 * j) + axis]);
      force[axis] = C::kSphereForce * command *
                    SphereDriveFactor(command, velocity[axis], params_.sphere_max_speed_mps);
    }
    force[2] = std::min(force[2], max_lift);
  }
}

void MultiRobotWorld::Simulate(const std::function<void(const mjModel&, mjData&)>& before_substep) {
  // frame_skip physics steps with the same controls, then connections from the final state.
  for (int s = 0; s < params_.frame_skip; ++s) {
    if (before_substep) before_substep(*model_, *data_);
    sim::Step(*model_, *data_);
  }
  UpdateConnections();
}

void MultiRobotWorld::Observe(std::span<float> obs) const {
  const mjtNum* qpos = data_->qpos;
  const mjtNum* qvel = data_->qvel;
  size_t k = 0;
  const auto put = [&obs, &k](double value) { obs[k++] = static_cast<float>(value); };
  // One block per robot: free-joint pose (quaternion clamped against rounding) and velocities.
  const auto put_root = [&](int robot) {
    const mjtNum* root = qpos + RootQpos(robot);
    for (int a = 0; a < 3; ++a) put(root[a]);
    for (int a = 3; a < 7; ++a) put(std::clamp(root[a], -1.0, 1.0));
    for (int a = 0; a < 6; ++a) put(qvel[RootDof(robot) + a]);
  };
  for (int i = 0; i < NumBars(); ++i) {
    put_root(i);
    for (int arm = 0; arm < 2; ++arm) {
      const mjtNum* quat = qpos + ball_qpos_[static_cast<size_t>(i * 2 + arm)];
      for (int a = 0; a < 4; ++a) put(std::clamp(quat[a], -1.0, 1.0));
    }
    for (int arm = 0; arm < 2; ++arm) {
      for (int a = 0; a < 3; ++a) put(qvel[ball_dof_[static_cast<size_t>(i * 2 + arm)] + a]);
    }
    for (int arm = 0; arm < 2; ++arm) {
      bool any = false;
      for (int j = 0; j < NumSpheres(); ++j)
        any = any || connected_[static_cast<size_t>(EqualityId(i, arm, j))];
      put(any ? 1.0 : 0.0);
    }
  }
  for (int j = 0; j < NumSpheres(); ++j) {
    put_root(NumBars() + j);
    put(SphereConnectionCount(j));
  }
}

const mjtNum* MultiRobotWorld::RobotPosition(int robot) const {
  return data_->qpos + RootQpos(robot);
}

double MultiRobotWorld::MaxRobotHeight() const {
  double best = -std::numeric_limits<double>::infinity();
  for (int robot = 0; robot < NumRobots(); ++robot) best = std::max(best, RobotPosition(robot)[2]);
  return best;
}

double MultiRobotWorld::MeanRobotHeight() const {
  double sum = 0.0;
  for (int robot = 0; robot < NumRobots(); ++robot) sum += RobotPosition(robot)[2];
  return sum / NumRobots();
}

double MultiRobotWorld::MaxRobotRadius() const {
  double radius = 0.0;
  for (int robot = 0; robot < NumRobots(); ++robot) {
    const mjtNum* p = RobotPosition(robot);
    radius = std::max(radius, std::hypot(p[0], p[1]));
  }
  return radius;
}

std::array<double, 3> MultiRobotWorld::TipPosition(int bar, int arm) const {
  // tip = xpos + xmat · (kBarTip, 0, 0): the first column of the arm's rotation, scaled.
  const int body = arm_body_[static_cast<size_t>(bar * 2 + arm)];
  const mjtNum* xpos = data_->xpos + 3 * body;
  const mjtNum* xmat = data_->xmat + 9 * body;
  return {xpos[0] + C::kBarTip * xmat[0], xpos[1] + C::kBarTip * xmat[3],
          xpos[2] + C::kBarTip * xmat[6]};
}

int MultiRobotWorld::EqualityId(int bar, int arm, int sphere) const {
  // Declared in BuildWorldXml's order: bar, arm, sphere.
  return (bar * 2 + arm) * NumSpheres() + sphere;
}

int MultiRobotWorld::SphereConnectionCount(int sphere) const {
  int count = 0;
  for (const Connection& c : connections_) count += c.sphere == sphere ? 1 : 0;
  return count;
}

double MultiRobotWorld::ConnectionForce(int bar, int arm, int sphere) const {
  const int eq = EqualityId(bar, arm, sphere);
  return connected_[static_cast<size_t>(eq)] ? eq_force_[static_cast<size_t>(eq)] : 0.0;
}

void MultiRobotWorld::UpdateConnections() {
  const mjData& d = *data_;

  // Constraint force of each equality in the last step: the norm of its three rows (world-frame
  // force components of a connect constraint).
  std::fill(eq_force_.begin(), eq_force_.end(), 0.0);
  for (int row = 0; row < d.nefc; ++row) {
    if (d.efc_type[row] != mjCNSTR_EQUALITY) continue;
    eq_force_[static_cast<size_t>(d.efc_id[row])] += d.efc_force[row] * d.efc_force[row];
  }
  for (double& f : eq_force_) f = std::sqrt(f);

  for (int bar = 0; bar < NumBars(); ++bar) {
    for (int arm = 0; arm < 2; ++arm) {
      const size_t tip = static_cast<size_t>(bar * 2 + arm);
      const std::array<double, 3> p = TipPosition(bar, arm);

      // A connection under too much force breaks; the tip must leave before it reconnects.
      bool connected = false;
      for (int j = 0; j < NumSpheres(); ++j) {
        const int eq = EqualityId(bar, arm, j);
        if (!connected_[static_cast<size_t>(eq)]) continue;
        if (eq_force_[static_cast<size_t>(eq)] > params_.connection_break_force_n) {
          connected_[static_cast<size_t>(eq)] = 0;
          model_->eq_active[eq] = 0;
          armed_[tip] = 0;
        } else {
          connected = true;
        }
      }
      if (connected) continue;

      // The nearest sphere surface to the true tip.
      int nearest = -1;
      double nearest_gap = std::numeric_limits<double>::infinity();
      for (int j = 0; j < NumSpheres(); ++j) {
        const mjtNum* c = d.xpos + 3 * SphereBody(j);
        const double gap = std::hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2]) - C::kSphereRadius;
        if (gap < nearest_gap) {
          nearest_gap = gap;
          nearest = j;
        }
      }
      if (!armed_[tip]) {
        armed_[tip] = nearest_gap > params_.connect_distance_m ? 1 : 0;
        continue;
      }
      if (nearest < 0 || nearest_gap > params_.connect_distance_m) continue;

      // Connect: the anchor on the sphere is the surface point facing the tip, in the sphere's
      // frame (local = xmat^T · world offset), so the constraint pulls the tip onto the surface.
      const int eq = EqualityId(bar, arm, nearest);
      const int body = SphereBody(nearest);
      const mjtNum* c = d.xpos + 3 * body;
      const mjtNum* xmat = d.xmat + 9 * body;
      const double dist = std::hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2]);
      std::array<double, 3> offset = {0.0, 0.0, C::kSphereRadius};
      if (dist > 1e-9) {
        for (int a = 0; a < 3; ++a)
          offset[static_cast<size_t>(a)] =
              (p[static_cast<size_t>(a)] - c[a]) * C::kSphereRadius / dist;
      }
      mjtNum* anchor = model_->eq_data + mjNEQDATA * eq + 3;
      for (int a = 0; a < 3; ++a) {
        anchor[a] = xmat[a] * offset[0] + xmat[3 + a] * offset[1] + xmat[6 + a] * offset[2];
      }
      model_->eq_active[eq] = 1;
      connected_[static_cast<size_t>(eq)] = 1;
    }
  }

  // The live list, in (bar, arm, sphere) order.
  connections_.clear();
  for (int bar = 0; bar < NumBars(); ++bar) {
    for (int arm = 0; arm < 2; ++arm) {
      for (int j = 0; j < NumSpheres(); ++j) {
        if (connected_[static_cast<size_t>(EqualityId(bar, arm, j))])
          connections_.push_back({bar, arm, j});
      }
    }
  }
}

void MultiRobotWorld::PlaceRobot(int robot, const std::array<double, 3>& pos,
                                 const std::array<double, 4>& quat) {
  mjtNum* root = data_->qpos + RootQpos(robot);
  std::copy(pos.begin(), pos.end(), root);
  std::copy(quat.begin(), quat.end(), root + 3);
  std::fill(data_->qvel + RootDof(robot), data_->qvel + RootDof(robot) + 6, 0.0);
  sim::Forward(*model_, *data_);
}

void MultiRobotWorld::SetArmOrientation(int bar, int arm, const std::array<double, 4>& quat) {
  const size_t joint = static_cast<size_t>(bar * 2 + arm);
  std::copy(quat.begin(), quat.end(), data_->qpos + ball_qpos_[joint]);
  std::fill(data_->qvel + ball_dof_[joint], data_->qvel + ball_dof_[joint] + 3, 0.0);
  sim::Forward(*model_, *data_);
}

void MultiRobotWorld::SaveState(ByteWriter& writer) const {
  const mjData& d = *data_;
  // mjData: every array lives in one buffer, the header holds sizes, time and statistics.
  // mjContact ends in padding that MuJoCo copies, with each contact, from its own stack: zeroed
  // in the saved bytes (in every contact slot) so that equal states save equal bytes.
  std::string buffer(static_cast<const char*>(d.buffer), static_cast<size_t>(d.nbuffer));
  constexpr size_t kContactEnd = offsetof(mjContact, efc_address) + sizeof(mjContact::efc_address);
  static_assert(kContactEnd <= sizeof(mjContact));
  const size_t contacts = static_cast<size_t>(reinterpret_cast<const char*>(d.contact) -
                                              static_cast<const char*>(d.buffer));
  for (size_t c = 0; c < static_cast<size_t>(model_->nconmax); ++c) {
    std::fill_n(buffer.begin() +
                    static_cast<std::ptrdiff_t>(contacts + c * sizeof(mjContact) + kContactEnd),
                sizeof(mjContact) - kContactEnd, '\0');
  }
  writer.Put<int32_t>(d.nbuffer);
  writer.PutString(buffer);
  for (int v : {d.ne, d.nf, d.nefc, d.ncon, d.solver_iter, d.solver_nnz}) writer.Put<int32_t>(v);
  writer.Put<mjtNum>(d.time);
  for (mjtNum v : {d.energy[0], d.energy[1], d.solver_fwdinv[0], d.solver_fwdinv[1]}) {
    writer.Put<mjtNum>(v);
  }
  for (const mjWarningStat& w : d.warning) writer.Put(w);
  for (const mjSolverStat& s : d.solver) writer.Put(s);

  // The model's per-instance connection fields.
  writer.PutVector<mjtByte>(std::span(model_->eq_active, static_cast<size_t>(model_->neq)));
  writer.PutVector<mjtNum>(
      std::span(model_->eq_data, static_cast<size_t>(model_->neq) * mjNEQDATA));

  // Connection bookkeeping and warnings of earlier episodes.
  writer.PutVector<uint8_t>(connected_);
  writer.PutVector<uint8_t>(armed_);
  writer.PutVector<double>(eq_force_);
  writer.PutVector<int64_t>(past_warnings_.number);
}

void MultiRobotWorld::RestoreState(ByteReader& reader) {
  mjData& d = *data_;
  const auto nbuffer = reader.Get<int32_t>();
  const std::string buffer = reader.GetString();
  if (nbuffer != d.nbuffer || buffer.size() != static_cast<size_t>(d.nbuffer)) {
    throw IoError("multi-robot world state: expected an mjData buffer of " +
                  std::to_string(d.nbuffer) + " bytes, found " + std::to_string(buffer.size()) +
                  " (another world size?)");
  }
  int32_t sizes[6];
  for (int32_t& v : sizes) v = reader.Get<int32_t>();
  const auto time = reader.Get<mjtNum>();
  mjtNum stats[4];
  for (mjtNum& v : stats) v = reader.Get<mjtNum>();
  mjWarningStat warnings[mjNWARNING];
  for (mjWarningStat& w : warnings) w = reader.Get<mjWarningStat>();
  mjSolverStat solver[mjNSOLVER];
  for (mjSolverStat& s : solver) s = reader.Get<mjSolverStat>();
  const std::vector<mjtByte> eq_active = reader.GetVector<mjtByte>();
  const std::vector<mjtNum> eq_data = reader.GetVector<mjtNum>();
  std::vector<uint8_t> connected = reader.GetVector<uint8_t>();
  std::vector<uint8_t> armed = reader.GetVector<uint8_t>();
  std::vector<double> eq_force = reader.GetVector<double>();
  const std::vector<int64_t> past = reader.GetVector<int64_t>();
  if (eq_active.size() != static_cast<size_t>(model_->neq) ||
      eq_data.size() != static_cast<size_t>(model_->neq) * mjNEQDATA ||
      connected.size() != connected_.size() || armed.size() != armed_.size() ||
      eq_force.size() != eq_force_.size() || past.size() != past_warnings_.number.size()) {
    throw IoError("multi-robot world state: expected connection arrays of this world's sizes");
  }

  // Everything checked: copy it in.
  std::memcpy(d.buffer, buffer.data(), buffer.size());
  d.ne = sizes[0];
  d.nf = sizes[1];
  d.nefc = sizes[2];
  d.ncon = sizes[3];
  d.solver_iter = sizes[4];
  d.solver_nnz = sizes[5];
  d.time = time;
  d.energy[0] = stats[0];
  d.energy[1] = stats[1];
  d.solver_fwdinv[0] = stats[2];
  d.solver_fwdinv[1] = stats[3];
  std::copy(std::begin(warnings), std::end(warnings), d.warning);
  std::copy(std::begin(solver), std::end(solver), d.solver);
  std::copy(eq_active.begin(), eq_active.end(), model_->eq_active);
  std::copy(eq_data.begin(), eq_data.end(), model_->eq_data);
  connected_ = std::move(connected);
  armed_ = std::move(armed);
  eq_force_ = std::move(eq_force);
  std::copy(past.begin(), past.end(), past_warnings_.number.begin());

  // The live list follows from the switches, in (bar, arm, sphere) order.
  connections_.clear();
  for (int bar = 0; bar < NumBars(); ++bar) {
    for (int arm = 0; arm < 2; ++arm) {
      for (int j = 0; j < NumSpheres(); ++j) {
        if (connected_[static_cast<size_t>(EqualityId(bar, arm, j))])
          connections_.push_back({bar, arm, j});
      }
    }
  }
}

sim::WarningCounts MultiRobotWorld::Warnings() const {
  sim::WarningCounts total = past_warnings_;
  total.Add(sim::ReadWarnings(*data_));
  return total;
}

bool MultiRobotWorld::IsRobotGeom(int geom) const {
  return robot_geom_[static_cast<size_t>(geom)] != 0;
}

}  // namespace rlpipe::envs::robots
