#include "envs/robots/object_manipulation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>
#include <string>

#include "core/error.h"

namespace rlpipe::envs::robots {

using object_tasks::AppendBounds;
using object_tasks::AppendSphereGuideBounds;
using object_tasks::AppendSphereGuideScales;
using object_tasks::FindFreeBody;
using object_tasks::FreeBodyInertials;
using object_tasks::MjcfNumber;
using object_tasks::ObserveSphereGuides;
using object_tasks::SetFreeBodyPose;
namespace {

/// Contact buffer room per object (a box resting on the floor makes 4, more when pushed).
constexpr int kContactsPerObject = 16;
/// Rejection sampling: draws per object (position and target), full restarts before giving up.
constexpr int kDrawsPerObject = 2000;
constexpr int kRestarts = 100;
/// Targets keep this gap between their circles, and their circles inside the arena (m).
constexpr double kTargetGap = 0.2;
/// Gap between an object and the floor at placement (m).
constexpr double kPlacementClearance = 0.002;

/// The objects as scenery: free bodies of 1 kg (rescaled per episode), parked until placed; their
/// friction governs their contacts (priority).
std::string ObjectsXml(int num_objects) {
  const std::string half = MjcfNumber(ObjectManipulation::kObjectHalfSize);
  const std::string friction = MjcfNumber(ObjectManipulation::kObjectFriction);
  std::ostringstream xml;
  for (int k = 0; k < num_objects; ++k) {
    const std::string name = "object" + std::to_string(k);
    xml << "    <body name=\"" << name << "\" pos=\"" << 100 + 2 * k << " 100 " << half << "\">\n"
        << "      <freejoint name=\"" << name << "_root\"/>\n"
        << "      <geom type=\"" << (k % 2 == 0 ? "box" : "cylinder") << "\" size=\"" << half << " "
        << half << (k % 2 == 0 ? " " + half : "") << "\" mass=\"1\" friction=\"" << friction
        << " 0.005 0.0001\" priority=\"1\" rgba=\"0.2 0.5 0.9 1\"/>\n"
        << "    </body>\n";
  }
  return xml.str();
}

}  // namespace

ObjectManipulation::ObjectManipulation(const WorldParams& world,
                                       const ObjectManipulationParams& params,
                                       int max_episode_steps)
    : RobotTask(
          "object_manipulation",
          [&world, &params] {
            WorldParams with_objects = world;
            with_objects.extra_worldbody_xml = ObjectsXml(params.num_objects);
            with_objects.extra_contacts = kContactsPerObject * params.num_objects;
            return with_objects;
          }(),
          max_episode_steps),
      params_(params) {
  // The objects' addresses and their compiled (1 kg) inertia and inverse weights, rescaled per
  // episode from these values (never from the previous episode's, so resets stay bitwise exact).
  const mjModel& m = this->world().model();
  for (int k = 0; k < params_.num_objects; ++k) {
    const std::string name = "object" + std::to_string(k);
    objects_.push_back(FindFreeBody(m, name, name + "_root"));
    const mjtNum* inertia = m.body_inertia + 3 * objects_.back().body;
    unit_inertia_.push_back({inertia[0], inertia[1], inertia[2]});
    const mjtNum* body_invweight = m.body_invweight0 + 2 * objects_.back().body;
    unit_body_invweight_.push_back({body_invweight[0], body_invweight[1]});
    const mjtNum* dof_invweight = m.dof_invweight0 + objects_.back().dof;
    unit_dof_invweight_.push_back({dof_invweight[0], dof_invweight[1], dof_invweight[2],
                                   dof_invweight[3], dof_invweight[4], dof_invweight[5]});
  }
  targets_.assign(static_cast<size_t>(params_.num_objects), {0.0, 0.0});
  last_distance_.assign(static_cast<size_t>(params_.num_objects), 0.0);
  entered_.assign(static_cast<size_t>(params_.num_objects), 0);

  // Task block: one block per object, then each sphere's guide (direction, potential).
  constexpr float kInf = std::numeric_limits<float>::infinity();
  Box box;
  for (int k = 0; k < params_.num_objects; ++k) {
    AppendBounds(box, 3, -kInf, kInf);  // position
    AppendBounds(box, 4, -1.0f, 1.0f);  // quaternion
    AppendBounds(box, 3, -kInf, kInf);  // linear velocity
    AppendBounds(box, 4, -kInf, kInf);  // target centre, offset to it
    AppendBounds(box, 1, 0.0f, kInf);   // distance to the target
    AppendBounds(box, 1, 0.0f, 1.0f);   // inside flag
    AppendBounds(box, 1, static_cast<float>(kMinMass), static_cast<float>(kMaxMass));  // mass
  }
  AppendSphereGuideBounds(box, this->world().NumSpheres());  // each sphere's way to its object
  SetTaskObservation(box);
}

double ObjectManipulation::ObjectMass(int k) const {
  return world().model().body_mass[object(k).body];
}

double ObjectManipulation::TargetDistance(int k) const {
  const mjtNum* pos = world().data().qpos + object(k).qpos;
  const std::array<double, 2>& t = target(k);
  return std::hypot(pos[0] - t[0], pos[1] - t[1]);
}

double ObjectManipulation::ApproachPotential(double x, double y) const {
  // Per object not inside its target: polar coordinates around its centre, the angle measured
  // from the direction away from the target; the smallest potential.
  double potential = std::numeric_limits<double>::infinity();
  for (int k = 0; k < NumObjects(); ++k) {
    const double distance = TargetDistance(k);
    if (distance <= kTargetRadius) continue;
    const mjtNum* centre = world().data().qpos + object(k).qpos;
    const std::array<double, 2>& t = target(k);
    const double dx = (t[0] - centre[0]) / distance;
    const double dy = (t[1] - centre[1]) / distance;
    potential = std::min(potential,
                         object_tasks::ApproachPotential(x, y, centre, dx, dy, kApproachArcRadius));
  }
  return std::isfinite(potential) ? potential : 0.0;
}

double ObjectManipulation::ApproachDistance() const {
  return object_tasks::MeanSpherePotential(
      world(), [this](double x, double y) { return ApproachPotential(x, y); });
}

bool ObjectManipulation::OutsideArena(double x, double y) const {
  const WorldParams& w = world().params();
  const double limit = params_.arena_size_m / 2.0 + kArenaExitMargin;
  return std::abs(x - w.spawn_center_x_m) > limit || std::abs(y - w.spawn_center_y_m) > limit;
}

void ObjectManipulation::PlaceObjects() {
  mjModel& m = world().mutable_model();
  const WorldParams& w = world().params();
  std::uniform_real_distribution<double> unit(0.0, 1.0);

  // Masses: uniform in [kMinMass, kMaxMass]; inertia scales with mass, inverse weights inversely
  // (each object is a lone free body), and subtree masses are summed again.
  for (int k = 0; k < NumObjects(); ++k) {
    const int body = object(k).body;
    const double mass = kMinMass + (kMaxMass - kMinMass) * unit(rng());
    const size_t i = static_cast<size_t>(k);
    m.body_mass[body] = mass;
    for (size_t a = 0; a < 3; ++a) m.body_inertia[3 * body + a] = unit_inertia_[i][a] * mass;
    for (size_t a = 0; a < 2; ++a)
      m.body_invweight0[2 * body + a] = unit_body_invweight_[i][a] / mass;
    for (size_t a = 0; a < 6; ++a)
      m.dof_invweight0[object(k).dof + a] = unit_dof_invweight_[i][a] / mass;
  }
  for (int b = 0; b < m.nbody; ++b) m.body_subtreemass[b] = m.body_mass[b];
  for (int b = m.nbody - 1; b > 0; --b) {
    m.body_subtreemass[m.body_parentid[b]] += m.body_subtreemass[b];
  }

  // Start positions: inside the arena's edge, outside the spawn disc, apart from each other;
  // targets: circles inside the arena, apart from each other, away from their object's start.
  const double half = params_.arena_size_m / 2.0;
  const double keep_out = w.spawn_radius_m + kSpawnMargin;
  const auto in_square = [&](double margin) {
    return std::array<double, 2>{(2.0 * unit(rng()) - 1.0) * (half - margin),
                                 (2.0 * unit(rng()) - 1.0) * (half - margin)};
  };
  std::vector<std::array<double, 2>> starts;
  for (int restart = 0; starts.size() < static_cast<size_t>(NumObjects()); ++restart) {
    if (restart == kRestarts) {
      throw TrainingError("object_manipulation: could not place " + std::to_string(NumObjects()) +
                          " objects and targets in the arena");
    }
    starts.clear();
    for (int k = 0; k < NumObjects(); ++k) {
      for (int draw = 0; draw < kDrawsPerObject; ++draw) {
        const std::array<double, 2> s = in_square(kEdgeMargin);
        const std::array<double, 2> t = in_square(kTargetRadius + kTargetGap);
        bool clear = std::hypot(s[0], s[1]) >= keep_out &&
                     std::hypot(t[0] - s[0], t[1] - s[1]) >= kTargetStartDistance;
        for (size_t o = 0; clear && o < starts.size(); ++o) {
          clear = std::hypot(s[0] - starts[o][0], s[1] - starts[o][1]) >= kObjectSpacing &&
                  std::hypot(t[0] - targets_[o][0], t[1] - targets_[o][1]) >=
                      2.0 * kTargetRadius + kTargetGap;
        }
        if (clear) {
          starts.push_back(s);
          targets_[static_cast<size_t>(k)] = t;
          break;
        }
      }
      if (starts.size() != static_cast<size_t>(k + 1)) break;
    }
  }

  // Objects upright at rest with a random heading; coordinates relative to the spawn centre.
  mjData& d = world().mutable_data();
  for (int k = 0; k < NumObjects(); ++k) {
    const size_t i = static_cast<size_t>(k);
    targets_[i] = {targets_[i][0] + w.spawn_center_x_m, targets_[i][1] + w.spawn_center_y_m};
    const double yaw = 2.0 * std::numbers::pi * unit(rng());
    const mjtNum pos[3] = {starts[i][0] + w.spawn_center_x_m, starts[i][1] + w.spawn_center_y_m,
                           kObjectHalfSize + kPlacementClearance};
    const mjtNum quat[4] = {std::cos(yaw / 2.0), 0.0, 0.0, std::sin(yaw / 2.0)};
    SetFreeBodyPose(object(k), d, pos, quat);
  }
  sim::Forward(m, d);
}

void ObjectManipulation::ResetTask() {
  // This episode's objects and targets (the robots are spawned).
  PlaceObjects();
  for (int k = 0; k < NumObjects(); ++k) {
    last_distance_[static_cast<size_t>(k)] = TargetDistance(k);
    entered_[static_cast<size_t>(k)] = 0;
  }
}

void ObjectManipulation::SimulateStep() {
  approach_before_ = ApproachDistance();
  world().Simulate();
}

StepResult ObjectManipulation::StepTask(bool /*at_horizon*/) {
  // Progress towards each target this step; a bonus the first time an object gets inside.
  StepResult result;
  double progress = 0.0;
  int inside = 0;
  int entered = 0;
  for (int k = 0; k < NumObjects(); ++k) {
    const size_t i = static_cast<size_t>(k);
    const double distance = TargetDistance(k);
    progress += last_distance_[i] - distance;
    last_distance_[i] = distance;
    if (distance <= kTargetRadius) {
      ++inside;
      if (!entered_[i]) result.reward += kEnterBonus;
      entered_[i] = 1;
    }
    entered += entered_[i];
  }
  result.reward += kProgressScale * progress;

  // Every sphere's approach towards the back of its nearest object not yet inside (the only term
  // before a robot pushes an object).
  const double approach = ApproachDistance();
  result.reward += kApproachScale * world().NumSpheres() * (approach_before_ - approach);

  // All objects inside at once: success. A robot or object leaving the arena also terminates.
  const bool success = inside == NumObjects();
  if (success) result.reward += kAllInBonus;
  bool left = false;
  for (int robot = 0; robot < world().NumRobots(); ++robot) {
    const mjtNum* p = world().RobotPosition(robot);
    left = left || OutsideArena(p[0], p[1]);
  }
  for (int k = 0; k < NumObjects(); ++k) {
    const mjtNum* p = world().data().qpos + object(k).qpos;
    left = left || OutsideArena(p[0], p[1]);
  }
  result.terminated = success || left;

  result.info = {{"progress", progress},
                 {"objects_inside", static_cast<double>(inside)},
                 {"objects_entered", static_cast<double>(entered)},
                 {"success", success ? 1.0 : 0.0},
                 {"left_arena", left ? 1.0 : 0.0},
                 {"approach_distance", approach}};
  return result;
}

void ObjectManipulation::ObserveTask(std::span<float> task_obs) const {
  // One block per object, then the sphere guides.
  size_t i = 0;
  const auto put = [&task_obs, &i](double value) { task_obs[i++] = static_cast<float>(value); };
  for (int k = 0; k < NumObjects(); ++k) {
    const mjtNum* qpos = world().data().qpos + object(k).qpos;
    const mjtNum* qvel = world().data().qvel + object(k).dof;
    const std::array<double, 2>& t = target(k);
    const double distance = TargetDistance(k);
    for (int a = 0; a < 3; ++a) put(qpos[a]);
    for (int a = 3; a < 7; ++a) put(std::clamp(qpos[a], -1.0, 1.0));
    for (int a = 0; a < 3; ++a) put(qvel[a]);
    put(t[0]);
    put(t[1]);
    put(t[0] - qpos[0]);
    put(t[1] - qpos[1]);
    put(distance);
    put(distance <= kTargetRadius ? 1.0 : 0.0);
    put(std::clamp(ObjectMass(k), kMinMass, kMaxMass));
  }

  // Every sphere's own way to the back of its nearest object not yet inside its target.
  ObserveSphereGuides(
      world(), [this](double x, double y) { return ApproachPotential(x, y); }, task_obs.subspan(i));
}

std::vector<ParamSpec> ObjectManipulationParamSpecs() {
  const ObjectManipulationParams d;
  std::vector<ParamSpec> specs = WorldParamSpecs();
  specs.push_back(
      IntParam("num_objects", d.num_objects, 1, 8, "objects to push into their target circles"));
  specs.push_back(RealParam("arena_size", d.arena_size_m, 1.0, 200.0, "m",
                            "side of the square arena; at least 2 × (spawn_radius + 3)"));
  return specs;
}

std::unique_ptr<Env> MakeObjectManipulation(const TaskParams& params, int max_episode_steps) {
  // The arena must leave room for objects between the spawn disc and its edge.
  CheckParamValues(ObjectManipulationParamSpecs(), params);
  const WorldParams world = ReadWorldParams(params);
  ObjectManipulationParams task;
  task.num_objects = ParamInt(params, "num_objects");
  task.arena_size_m = params.at("arena_size");
  const double min_arena = 2.0 * (world.spawn_radius_m + 3.0);
  if (task.arena_size_m < min_arena) {
    throw ConfigError("environment.arena_size: expected at least 2 × (spawn_radius + 3) = " +
                      ShownNumber(min_arena) + " m so that objects fit between the spawn disc " +
                      "and the arena's edge, found " + ShownNumber(task.arena_size_m));
  }

  // Random placement must always succeed: object discs (0.6 m) and target discs (1.1 m) may cover
  // at most 40% of the area they can use (random sequential placement jams near 55%).
  using M = ObjectManipulation;
  constexpr double kMaxCoverage = 0.4;
  const double pi = std::numbers::pi;
  const double object_room =
      std::pow(task.arena_size_m - 2.0 * M::kEdgeMargin + M::kObjectSpacing, 2) -
      pi * std::pow(world.spawn_radius_m + M::kSpawnMargin, 2);
  const double target_room = std::pow(task.arena_size_m - 2.0 * (M::kTargetRadius + kTargetGap) +
                                          2.0 * M::kTargetRadius + kTargetGap,
                                      2);
  const double object_need = task.num_objects * pi * std::pow(M::kObjectSpacing / 2.0, 2);
  const double target_need =
      task.num_objects * pi * std::pow(M::kTargetRadius + kTargetGap / 2.0, 2);
  if (object_need > kMaxCoverage * object_room || target_need > kMaxCoverage * target_room) {
    throw ConfigError(
        "environment.num_objects / environment.arena_size: " + std::to_string(task.num_objects) +
        " objects and their 1 m target circles do not fit an arena of side " +
        ShownNumber(task.arena_size_m) + " m around a spawn disc of radius " +
        ShownNumber(world.spawn_radius_m) + " m; lower num_objects or raise arena_size");
  }
  return std::make_unique<ObjectManipulation>(world, task, max_episode_steps);
}

void ObjectManipulation::SaveTaskState(ByteWriter& writer) const {
  writer.PutVector<std::array<double, 2>>(targets_);
  writer.PutVector<double>(last_distance_);
  writer.PutVector<uint8_t>(entered_);
  FreeBodyInertials::Capture(world().model(), objects_).Write(writer);
}

std::function<void()> ObjectManipulation::ReadTaskState(ByteReader& reader) {
  std::vector<std::array<double, 2>> targets = reader.GetVector<std::array<double, 2>>();
  std::vector<double> last_distance = reader.GetVector<double>();
  std::vector<uint8_t> entered = reader.GetVector<uint8_t>();
  const size_t objects = objects_.size();
  if (targets.size() != objects || last_distance.size() != objects || entered.size() != objects) {
    throw IoError("object_manipulation state: expected " + std::to_string(objects) +
                  " objects, found " + std::to_string(targets.size()));
  }
  const FreeBodyInertials inertials = FreeBodyInertials::Read(reader, world().model(), objects_);
  return [this, targets, last_distance, entered, inertials] {
    inertials.Apply(world().mutable_model(), objects_);
    targets_ = targets;
    last_distance_ = last_distance;
    entered_ = entered;
  };
}

void ObjectManipulation::AppendTaskScales(std::vector<float>& scales) const {
  // Per object: pose, velocity, target, offset to it, distance, inside flag, mass.
  for (int k = 0; k < NumObjects(); ++k) {
    AppendPositionUnits(scales);
    AppendUnit(scales, 1.0, 4);
    AppendUnit(scales, ObservationUnits::kSpeedMps, 3);
    AppendUnit(scales, ObservationUnits::kHorizontalM, 5);
    AppendUnit(scales, 1.0);
    AppendUnit(scales, ObservationUnits::kMassKg);
  }
  AppendSphereGuideScales(scales, world().NumSpheres());
}

}  // namespace rlpipe::envs::robots
