#include "envs/robots/object_displacement.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::envs::robots {

using object_tasks::AppendBounds;
using object_tasks::AppendSphereGuideBounds;
using object_tasks::AppendSphereGuideScales;
using object_tasks::FindFreeBody;
using object_tasks::MjcfNumber;
using object_tasks::ObserveSphereGuides;
using object_tasks::SetFreeBodyPose;
namespace {

/// Contact buffer room for the object (the mug's wall and the torus touch the floor in many
/// places) and the robots pushing it.
constexpr int kObjectContacts = 80;
/// Gap between the object and the floor at placement (m).
constexpr double kPlacementClearance = 0.002;

/// One primitive geom of an object (MJCF attributes without the mass).
struct GeomPart {
  std::string attributes;
};

/// The geoms of `shape` with the object's centre at the body origin, and the height of that
/// origin above the floor when the object rests upright.
std::vector<GeomPart> ShapeParts(ObjectShape shape, double& rest_height) {
  const auto num = MjcfNumber;
  std::vector<GeomPart> parts;
  switch (shape) {
    case ObjectShape::kSphere:
      rest_height = 0.25;
      parts.push_back({"type=\"sphere\" size=\"0.25\""});
      break;
    case ObjectShape::kCube:
      rest_height = 0.2;
      parts.push_back({"type=\"box\" size=\"0.2 0.2 0.2\""});
      break;
    case ObjectShape::kCylinder:
      rest_height = 0.2;
      parts.push_back({"type=\"cylinder\" size=\"0.2 0.2\""});
      break;
    case ObjectShape::kCapsule:
      // Lying along x.
      rest_height = 0.15;
      parts.push_back({"type=\"capsule\" size=\"0.15\" fromto=\"-0.25 0 0 0.25 0 0\""});
      break;
    case ObjectShape::kMug: {
      // A 0.3 m tall cup: a base disc, a ring of 12 wall boxes and a three-box handle on +x.
      rest_height = 0.15;
      parts.push_back({"type=\"cylinder\" size=\"0.18 0.015\" pos=\"0 0 -0.135\""});
      constexpr int kWallBoxes = 12;
      for (int k = 0; k < kWallBoxes; ++k) {
        const double angle = 2.0 * std::numbers::pi * k / kWallBoxes;
        parts.push_back({"type=\"box\" size=\"0.015 0.048 0.135\" pos=\"" +
                         num(0.165 * std::cos(angle)) + " " + num(0.165 * std::sin(angle)) +
                         " 0.015\" euler=\"0 0 " + num(angle) + "\""});
      }
      parts.push_back({"type=\"box\" size=\"0.05 0.015 0.015\" pos=\"0.23 0 0.08\""});
      parts.push_back({"type=\"box\" size=\"0.05 0.015 0.015\" pos=\"0.23 0 -0.06\""});
      parts.push_back({"type=\"box\" size=\"0.015 0.015 0.085\" pos=\"0.265 0 0.01\""});
      break;
    }
    case ObjectShape::kTorus: {
      // A flat ring (radius 0.25 m, tube radius 0.06 m) of 12 capsules.
      rest_height = 0.06;
      constexpr int kSegments = 12;
      for (int k = 0; k < kSegments; ++k) {
        const double a0 = 2.0 * std::numbers::pi * k / kSegments;
        const double a1 = 2.0 * std::numbers::pi * (k + 1) / kSegments;
        parts.push_back({"type=\"capsule\" size=\"0.06\" fromto=\"" + num(0.25 * std::cos(a0)) +
                         " " + num(0.25 * std::sin(a0)) + " 0 " + num(0.25 * std::cos(a1)) + " " +
                         num(0.25 * std::sin(a1)) + " 0\""});
      }
      break;
    }
    case ObjectShape::kRectangularPrism:
      rest_height = 0.1;
      parts.push_back({"type=\"box\" size=\"0.4 0.15 0.1\""});
      break;
    case ObjectShape::kTallCylinder:
      rest_height = 0.45;
      parts.push_back({"type=\"cylinder\" size=\"0.12 0.45\""});
      break;
  }
  return parts;
}

/// Resting height of `shape`'s centre above the floor (m).
double RestHeight(ObjectShape shape) {
  double rest_height = 0.0;
  ShapeParts(shape, rest_height);
  return rest_height;
}

}  // namespace

std::string ObjectBodyXml(ObjectShape shape) {
  // A free body, parked far from the spawn disc until Reset places it; mass shared by its geoms.
  double rest_height = 0.0;
  const std::vector<GeomPart> parts = ShapeParts(shape, rest_height);
  const double part_mass = ObjectDisplacement::kObjectMass / static_cast<double>(parts.size());
  std::ostringstream xml;
  xml << "    <body name=\"object\" pos=\"100 100 " << MjcfNumber(rest_height) << "\">\n"
      << "      <freejoint name=\"object_root\"/>\n";
  for (const GeomPart& part : parts) {
    xml << "      <geom " << part.attributes << " mass=\"" << MjcfNumber(part_mass)
        << "\" rgba=\"0.9 0.5 0.1 1\"/>\n";
  }
  xml << "    </body>\n";
  return xml.str();
}

namespace {

/// The world's parameters with `shape`'s object as scenery.
WorldParams WorldFor(const WorldParams& world, ObjectShape shape) {
  WorldParams with_object = world;
  with_object.extra_worldbody_xml = ObjectBodyXml(shape);
  with_object.extra_contacts = kObjectContacts;
  return with_object;
}

}  // namespace

ObjectDisplacement::ObjectDisplacement(const WorldParams& world,
                                       const ObjectDisplacementParams& params,
                                       int max_episode_steps)
    : RobotTask("object_displacement", WorldFor(world, ObjectShape::kSphere), max_episode_steps),
      world_params_(world),
      params_(params),
      object_(FindFreeBody(this->world().model(), "object", "object_root")) {
  // Task block: object pose and velocities, direction, displacement and best, shape, time, push
  // point and the spheres' approach potential, then each sphere's guide (direction, potential).
  constexpr float kInf = std::numeric_limits<float>::infinity();
  Box task_block;
  AppendBounds(task_block, 3, -kInf, kInf);                // object position
  AppendBounds(task_block, 4, -1.0f, 1.0f);                // object quaternion
  AppendBounds(task_block, 6, -kInf, kInf);                // object velocities
  AppendBounds(task_block, 2, -1.0f, 1.0f);                // target direction
  AppendBounds(task_block, 1, -kInf, kInf);                // displacement
  AppendBounds(task_block, 1, 0.0f, kInf);                 // best displacement
  AppendBounds(task_block, kNumObjectShapes, 0.0f, 1.0f);  // shape one-hot
  AppendBounds(task_block, 1, 0.0f, 1.0f);                 // elapsed fraction
  AppendBounds(task_block, 2, -kInf, kInf);                // push point
  AppendBounds(task_block, 1, 0.0f, kInf);                 // the spheres' mean distance to it
  AppendSphereGuideBounds(task_block, this->world().NumSpheres());  // each sphere's way there
  SetTaskObservation(task_block);
}

double ObjectDisplacement::ArenaRadius() const {
  return world_params_.spawn_radius_m + kObjectClearance + params_.max_object_distance_m +
         kArenaMargin;
}

void ObjectDisplacement::BeforeWorldReset() {
  std::uniform_int_distribution<int> pick_shape(0, kNumObjectShapes - 1);
  std::uniform_int_distribution<int> pick_direction(0, 3);
  const auto shape = static_cast<ObjectShape>(pick_shape(rng()));
  direction_ = static_cast<Direction>(pick_direction(rng()));
  if (shape != shape_) {
    ReplaceWorld(WorldFor(world_params_, shape));
    object_ = FindFreeBody(world().model(), "object", "object_root");
    shape_ = shape;
  }
}

void ObjectDisplacement::ResetTask() {
  // The object: random bearing, 2..max_object_distance m beyond the spawn disc, random heading.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double bearing = 2.0 * std::numbers::pi * unit(rng());
  const double distance = world_params_.spawn_radius_m + kObjectClearance + kMinObjectDistance +
                          (params_.max_object_distance_m - kMinObjectDistance) * unit(rng());
  const double yaw = 2.0 * std::numbers::pi * unit(rng());
  const mjtNum pos[3] = {world_params_.spawn_center_x_m + distance * std::cos(bearing),
                         world_params_.spawn_center_y_m + distance * std::sin(bearing),
                         RestHeight(shape_) + kPlacementClearance};
  const mjtNum quat[4] = {std::cos(yaw / 2.0), 0.0, 0.0, std::sin(yaw / 2.0)};
  SetFreeBodyPose(object_, world().mutable_data(), pos, quat);
  sim::Forward(world().model(), world().mutable_data());

  // Displacement is measured from here.
  start_xy_ = {pos[0], pos[1]};
  last_displacement_ = 0.0;
  best_displacement_ = 0.0;
}

std::array<double, 2> ObjectDisplacement::DirectionVector() const {
  switch (direction_) {
    case Direction::kEast:
      return {1.0, 0.0};
    case Direction::kNorth:
      return {0.0, 1.0};
    case Direction::kWest:
      return {-1.0, 0.0};
    case Direction::kSouth:
      return {0.0, -1.0};
  }
  return {1.0, 0.0};
}

double ObjectDisplacement::Displacement() const {
  const std::array<double, 2> dir = DirectionVector();
  const mjtNum* pos = world().data().qpos + object_.qpos;
  return (pos[0] - start_xy_[0]) * dir[0] + (pos[1] - start_xy_[1]) * dir[1];
}

std::array<double, 2> ObjectDisplacement::PushPoint() const {
  const std::array<double, 2> dir = DirectionVector();
  const mjtNum* pos = world().data().qpos + object_.qpos;
  return {pos[0] - kPushPointOffset * dir[0], pos[1] - kPushPointOffset * dir[1]};
}

double ObjectDisplacement::ApproachPotential(double x, double y) const {
  const std::array<double, 2> dir = DirectionVector();
  return object_tasks::ApproachPotential(x, y, world().data().qpos + object_.qpos, dir[0], dir[1],
                                         kApproachArcRadius);
}

double ObjectDisplacement::ApproachDistance() const {
  return object_tasks::MeanSpherePotential(
      world(), [this](double x, double y) { return ApproachPotential(x, y); });
}

double ObjectDisplacement::VelocityAlong() const {
  const std::array<double, 2> dir = DirectionVector();
  const mjtNum* vel = world().data().qvel + object_.dof;
  return vel[0] * dir[0] + vel[1] * dir[1];
}

void ObjectDisplacement::SimulateStep() {
  approach_before_ = ApproachDistance();
  world().Simulate();
}

StepResult ObjectDisplacement::StepTask(bool at_horizon) {
  // Displacement progress this step plus a velocity term, every sphere's approach (the only term
  // before a robot touches the object); the best displacement so far.
  StepResult result;
  const double displacement = Displacement();
  const double velocity = VelocityAlong();
  const double approach = ApproachDistance();
  result.reward = kProgressScale * (displacement - last_displacement_) + kVelocityScale * velocity +
                  kApproachScale * world().NumSpheres() * (approach_before_ - approach);
  last_displacement_ = displacement;
  best_displacement_ = std::max(best_displacement_, displacement);

  // A robot leaving the arena ends the episode; so does the horizon; either pays the bonus.
  result.terminated = world().MaxRobotRadius() > ArenaRadius();
  if (result.terminated || at_horizon) result.reward += kBestDisplacementBonus * best_displacement_;

  result.info = {{"displacement", displacement},
                 {"velocity_along", velocity},
                 {"best_displacement", best_displacement_},
                 {"approach_distance", approach},
                 {"shape", static_cast<double>(shape_)},
                 {"direction", static_cast<double>(direction_)}};
  return result;
}

void ObjectDisplacement::ObserveTask(std::span<float> task_obs) const {
  size_t k = 0;
  const auto put = [&task_obs, &k](double value) { task_obs[k++] = static_cast<float>(value); };

  // The object's pose and velocities (quaternion clamped against rounding).
  const mjtNum* qpos = world().data().qpos + object_.qpos;
  const mjtNum* qvel = world().data().qvel + object_.dof;
  for (int a = 0; a < 3; ++a) put(qpos[a]);
  for (int a = 3; a < 7; ++a) put(std::clamp(qpos[a], -1.0, 1.0));
  for (int a = 0; a < 6; ++a) put(qvel[a]);

  // The target direction, the displacement along it, the best so far, the shape, the time.
  const std::array<double, 2> dir = DirectionVector();
  put(dir[0]);
  put(dir[1]);
  put(last_displacement_);
  put(best_displacement_);
  for (int s = 0; s < kNumObjectShapes; ++s) put(static_cast<int>(shape_) == s ? 1.0 : 0.0);
  put(max_episode_steps() > 0 ? std::min(1.0, static_cast<double>(steps()) / max_episode_steps())
                              : 0.0);

  // Where the spheres should go: the push point, and their mean approach potential.
  const std::array<double, 2> push = PushPoint();
  put(push[0]);
  put(push[1]);
  put(ApproachDistance());

  // Every sphere's own way to the object's back.
  ObserveSphereGuides(
      world(), [this](double x, double y) { return ApproachPotential(x, y); }, task_obs.subspan(k));
}

std::vector<ParamSpec> ObjectDisplacementParamSpecs() {
  std::vector<ParamSpec> specs = WorldParamSpecs();
  specs.push_back(RealParam("max_object_distance", ObjectDisplacementParams{}.max_object_distance_m,
                            ObjectDisplacement::kMinObjectDistance, 100.0, "m",
                            "farthest object placement beyond the spawn disc's edge"));
  return specs;
}

std::unique_ptr<Env> MakeObjectDisplacement(const TaskParams& params, int max_episode_steps) {
  CheckParamValues(ObjectDisplacementParamSpecs(), params);
  ObjectDisplacementParams task;
  task.max_object_distance_m = params.at("max_object_distance");
  return std::make_unique<ObjectDisplacement>(ReadWorldParams(params), task, max_episode_steps);
}

void ObjectDisplacement::SaveTaskState(ByteWriter& writer) const {
  writer.Put<int32_t>(static_cast<int32_t>(shape_));
  writer.Put<int32_t>(static_cast<int32_t>(direction_));
  writer.Put(start_xy_);
  writer.Put<double>(last_displacement_);
  writer.Put<double>(best_displacement_);
  writer.PutVector<int64_t>(retired_warnings().number);
}

std::function<void()> ObjectDisplacement::ReadTaskState(ByteReader& reader) {
  const auto shape = reader.Get<int32_t>();
  const auto direction = reader.Get<int32_t>();
  const auto start_xy = reader.Get<std::array<double, 2>>();
  const auto last_displacement = reader.Get<double>();
  const auto best_displacement = reader.Get<double>();
  const std::vector<int64_t> retired = reader.GetVector<int64_t>();
  sim::WarningCounts retired_counts;
  if (shape < 0 || shape >= kNumObjectShapes || direction < 0 || direction > 3 ||
      retired.size() != retired_counts.number.size()) {
    throw IoError("object_displacement state: expected a shape in [0, " +
                  std::to_string(kNumObjectShapes) + "), a direction in [0, 3] and " +
                  std::to_string(retired_counts.number.size()) + " warning counts, found " +
                  std::to_string(shape) + ", " + std::to_string(direction) + " and " +
                  std::to_string(retired.size()));
  }
  std::copy(retired.begin(), retired.end(), retired_counts.number.begin());

  // The saved shape's world takes the world's state (this one when the shape matches).
  const auto saved_shape = static_cast<ObjectShape>(shape);
  if (saved_shape != shape_) StageWorld(WorldFor(world_params_, saved_shape));
  return [=, this] {
    object_ = FindFreeBody(world().model(), "object", "object_root");
    set_retired_warnings(retired_counts);
    shape_ = saved_shape;
    direction_ = static_cast<Direction>(direction);
    start_xy_ = start_xy;
    last_displacement_ = last_displacement;
    best_displacement_ = best_displacement;
  };
}

void ObjectDisplacement::AppendTaskScales(std::vector<float>& scales) const {
  // Object pose and velocities, direction, displacement and best, shape, elapsed fraction, push
  // point offset and distance.
  AppendPositionUnits(scales);
  AppendUnit(scales, 1.0, 4);
  AppendUnit(scales, ObservationUnits::kSpeedMps, 3);
  AppendUnit(scales, ObservationUnits::kSpinRadps, 3);
  AppendUnit(scales, 1.0, 2);
  AppendUnit(scales, ObservationUnits::kHorizontalM, 2);
  AppendUnit(scales, 1.0, kNumObjectShapes + 1);
  AppendUnit(scales, ObservationUnits::kHorizontalM, 3);
  AppendSphereGuideScales(scales, world().NumSpheres());
}

}  // namespace rlpipe::envs::robots
