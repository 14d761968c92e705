#include "envs/robots/object_displacement.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>
#include <vector>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::envs::robots {

using object_tasks::AppendBounds;
using object_tasks::FindFreeBody;
using object_tasks::MjcfNumber;
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

ObjectDisplacement::ObjectDisplacement(const WorldParams& world,
                                       const ObjectDisplacementParams& params,
                                       int max_episode_steps)
    : world_params_(world),
      params_(params),
      world_(std::make_unique<MultiRobotWorld>(WorldFor(ObjectShape::kSphere))),
      object_(FindFreeBody(world_->model(), "object", "object_root")),
      max_episode_steps_(max_episode_steps) {
  // Spaces: the shared robot blocks, then this task's block.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  spec_.name = "object_displacement";
  spec_.observation_space = world_->RobotObservationSpace();
  Box& box = spec_.observation_space;
  AppendBounds(box, 3, -kInf, kInf);                // object position
  AppendBounds(box, 4, -1.0f, 1.0f);                // object quaternion
  AppendBounds(box, 6, -kInf, kInf);                // object velocities
  AppendBounds(box, 2, -1.0f, 1.0f);                // target direction
  AppendBounds(box, 1, -kInf, kInf);                // displacement
  AppendBounds(box, 1, 0.0f, kInf);                 // best displacement
  AppendBounds(box, kNumObjectShapes, 0.0f, 1.0f);  // shape one-hot
  AppendBounds(box, 1, 0.0f, 1.0f);                 // elapsed fraction
  AppendBounds(box, 2, -kInf, kInf);                // push point
  AppendBounds(box, 1, 0.0f, kInf);                 // the spheres' mean distance to it
  spec_.action_space = world_->RobotActionSpace();
  world_->DescribeLayout(spec_);
}

WorldParams ObjectDisplacement::WorldFor(ObjectShape shape) const {
  WorldParams world = world_params_;
  world.extra_worldbody_xml = ObjectBodyXml(shape);
  world.extra_contacts = kObjectContacts;
  return world;
}

sim::WarningCounts ObjectDisplacement::Warnings() const {
  sim::WarningCounts total = retired_warnings_;
  total.Add(world_->Warnings());
  return total;
}

double ObjectDisplacement::ArenaRadius() const {
  return world_params_.spawn_radius_m + kObjectClearance + params_.max_object_distance_m +
         kArenaMargin;
}

void ObjectDisplacement::Reset(std::optional<uint64_t> seed, std::span<float> obs) {
  // The episode's shape and direction; a new shape needs its own compiled world.
  if (seed) rng_.seed(*seed);
  std::uniform_int_distribution<int> pick_shape(0, kNumObjectShapes - 1);
  std::uniform_int_distribution<int> pick_direction(0, 3);
  const auto shape = static_cast<ObjectShape>(pick_shape(rng_));
  direction_ = static_cast<Direction>(pick_direction(rng_));
  if (shape != shape_) {
    retired_warnings_.Add(world_->Warnings());
    world_ = std::make_unique<MultiRobotWorld>(WorldFor(shape));
    object_ = FindFreeBody(world_->model(), "object", "object_root");
    shape_ = shape;
  }
  world_->Reset(rng_);

  // The object: random bearing, 2..max_object_distance m beyond the spawn disc, random heading.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double bearing = 2.0 * std::numbers::pi * unit(rng_);
  const double distance = world_params_.spawn_radius_m + kObjectClearance + kMinObjectDistance +
                          (params_.max_object_distance_m - kMinObjectDistance) * unit(rng_);
  const double yaw = 2.0 * std::numbers::pi * unit(rng_);
  const mjtNum pos[3] = {world_params_.spawn_center_x_m + distance * std::cos(bearing),
                         world_params_.spawn_center_y_m + distance * std::sin(bearing),
                         RestHeight(shape_) + kPlacementClearance};
  const mjtNum quat[4] = {std::cos(yaw / 2.0), 0.0, 0.0, std::sin(yaw / 2.0)};
  SetFreeBodyPose(object_, world_->mutable_data(), pos, quat);
  sim::Forward(world_->model(), world_->mutable_data());

  // Displacement is measured from here.
  start_xy_ = {pos[0], pos[1]};
  steps_ = 0;
  last_displacement_ = 0.0;
  best_displacement_ = 0.0;
  Observe(obs);
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
  const mjtNum* pos = world_->data().qpos + object_.qpos;
  return (pos[0] - start_xy_[0]) * dir[0] + (pos[1] - start_xy_[1]) * dir[1];
}

std::array<double, 2> ObjectDisplacement::PushPoint() const {
  const std::array<double, 2> dir = DirectionVector();
  const mjtNum* pos = world_->data().qpos + object_.qpos;
  return {pos[0] - kPushPointOffset * dir[0], pos[1] - kPushPointOffset * dir[1]};
}

double ObjectDisplacement::ApproachPotential(double x, double y) const {
  // Polar coordinates around the object's centre, the angle measured from the backward direction.
  const std::array<double, 2> dir = DirectionVector();
  const mjtNum* centre = world_->data().qpos + object_.qpos;
  const double rx = x - centre[0];
  const double ry = y - centre[1];
  const double angle =
      std::atan2(std::abs(rx * dir[1] - ry * dir[0]), -(rx * dir[0] + ry * dir[1]));
  return std::hypot(rx, ry) + kApproachArcRadius * angle;
}

double ObjectDisplacement::ApproachDistance() const {
  double sum = 0.0;
  for (int j = 0; j < world_->NumSpheres(); ++j) {
    const mjtNum* p = world_->RobotPosition(world_->NumBars() + j);
    sum += ApproachPotential(p[0], p[1]);
  }
  return sum / world_->NumSpheres();
}

double ObjectDisplacement::VelocityAlong() const {
  const std::array<double, 2> dir = DirectionVector();
  const mjtNum* vel = world_->data().qvel + object_.dof;
  return vel[0] * dir[0] + vel[1] * dir[1];
}

StepResult ObjectDisplacement::Step(std::span<const float> action, std::span<float> obs) {
  // Physics for one control step.
  const double approach_before = ApproachDistance();
  world_->ApplyAction(action);
  world_->Simulate();
  ++steps_;

  // Displacement progress this step plus a velocity term, every sphere's approach (the only term
  // before a robot touches the object); the best displacement so far.
  StepResult result;
  const double displacement = Displacement();
  const double velocity = VelocityAlong();
  const double approach = ApproachDistance();
  result.reward = kProgressScale * (displacement - last_displacement_) + kVelocityScale * velocity +
                  kApproachScale * world_->NumSpheres() * (approach_before - approach);
  last_displacement_ = displacement;
  best_displacement_ = std::max(best_displacement_, displacement);

  // A robot leaving the arena ends the episode; the horizon truncates it; either pays the bonus.
  result.terminated = world_->MaxRobotRadius() > ArenaRadius();
  result.truncated = !result.terminated && max_episode_steps_ > 0 && steps_ >= max_episode_steps_;
  if (result.terminated || result.truncated) {
    result.reward += kBestDisplacementBonus * best_displacement_;
  }

  result.info = {{"displacement", displacement},
                 {"velocity_along", velocity},
                 {"best_displacement", best_displacement_},
                 {"approach_distance", approach},
                 {"shape", static_cast<double>(shape_)},
                 {"direction", static_cast<double>(direction_)},
                 {"connections", static_cast<double>(world_->Connections().size())}};
  Observe(obs);
  return result;
}

void ObjectDisplacement::Observe(std::span<float> obs) const {
  // Shared robot blocks first.
  const size_t robot_dim = static_cast<size_t>(world_->ObsDim());
  world_->Observe(obs.first(robot_dim));
  size_t k = robot_dim;
  const auto put = [&obs, &k](double value) { obs[k++] = static_cast<float>(value); };

  // The object's pose and velocities (quaternion clamped against rounding).
  const mjtNum* qpos = world_->data().qpos + object_.qpos;
  const mjtNum* qvel = world_->data().qvel + object_.dof;
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
  put(max_episode_steps_ > 0 ? std::min(1.0, static_cast<double>(steps_) / max_episode_steps_)
                             : 0.0);

  // Where the spheres should go: the push point, and their mean approach potential.
  const std::array<double, 2> push = PushPoint();
  put(push[0]);
  put(push[1]);
  put(ApproachDistance());
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

std::optional<std::string> ObjectDisplacement::SaveState() const {
  // The RNG, the episode variables, warnings of replaced worlds, then the world.
  ByteWriter writer;
  writer.PutRng(rng_);
  writer.Put<int32_t>(static_cast<int32_t>(steps_));
  writer.Put<int32_t>(static_cast<int32_t>(shape_));
  writer.Put<int32_t>(static_cast<int32_t>(direction_));
  writer.Put(start_xy_);
  writer.Put<double>(last_displacement_);
  writer.Put<double>(best_displacement_);
  writer.PutVector<int64_t>(retired_warnings_.number);
  world_->SaveState(writer);
  return writer.Take();
}

void ObjectDisplacement::RestoreState(std::string_view state) {
  // Episode variables first; the shape says which world the rest belongs to.
  ByteReader reader(state, "object_displacement state");
  const std::mt19937_64 rng = reader.GetRng();
  const auto steps = reader.Get<int32_t>();
  const auto shape = reader.Get<int32_t>();
  const auto direction = reader.Get<int32_t>();
  const auto start_xy = reader.Get<std::array<double, 2>>();
  const auto last_displacement = reader.Get<double>();
  const auto best_displacement = reader.Get<double>();
  const std::vector<int64_t> retired = reader.GetVector<int64_t>();
  if (shape < 0 || shape >= kNumObjectShapes || direction < 0 || direction > 3 ||
      retired.size() != retired_warnings_.number.size()) {
    throw IoError("object_displacement state: expected a shape in [0, " +
                  std::to_string(kNumObjectShapes) + "), a direction in [0, 3] and " +
                  std::to_string(retired_warnings_.number.size()) + " warning counts, found " +
                  std::to_string(shape) + ", " + std::to_string(direction) + " and " +
                  std::to_string(retired.size()));
  }

  // The saved shape's world (this one when the shape matches), restored before anything changes.
  const auto saved_shape = static_cast<ObjectShape>(shape);
  std::unique_ptr<MultiRobotWorld> rebuilt;
  if (saved_shape != shape_) rebuilt = std::make_unique<MultiRobotWorld>(WorldFor(saved_shape));
  MultiRobotWorld& world = rebuilt ? *rebuilt : *world_;
  world.RestoreState(reader);
  reader.Finish();
  if (rebuilt) {
    world_ = std::move(rebuilt);
    object_ = FindFreeBody(world_->model(), "object", "object_root");
  }
  std::copy(retired.begin(), retired.end(), retired_warnings_.number.begin());
  rng_ = rng;
  steps_ = steps;
  shape_ = saved_shape;
  direction_ = static_cast<Direction>(direction);
  start_xy_ = start_xy;
  last_displacement_ = last_displacement;
  best_displacement_ = best_displacement;
}

std::vector<float> ObjectDisplacement::ObservationScales() const {
  std::vector<float> scales = world_->ObservationScales();
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
  return scales;
}

}  // namespace rlpipe::envs::robots
