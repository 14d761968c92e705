#pragma once
/// Small pieces shared by the object and terrain tasks (object_displacement,
/// object_manipulation, terrain_traversal): strict reading of task parameters, MJCF number text,
/// free-body addresses, observation-box building and the saved state of the model fields they
/// change per episode.
#include <mujoco/mujoco.h>

#include <array>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/byte_stream.h"
#include "envs/env.h"
#include "envs/registry.h"

namespace rlpipe::envs::robots {
class MultiRobotWorld;
}  // namespace rlpipe::envs::robots

namespace rlpipe::envs::robots::object_tasks {

/// A double as MJCF text (round-trips exactly).
std::string MjcfNumber(double value);

/// Addresses of a body with a free joint: body id, qpos address (position, then quaternion) and
/// dof address (world linear velocity, then body-frame angular velocity).
struct FreeBody {
  int body = -1;
  int qpos = -1;
  int dof = -1;
};

/// The free body named `body_name` whose free joint is named `joint_name`; throws TrainingError
/// when either is missing.
FreeBody FindFreeBody(const mjModel& model, const std::string& body_name,
                      const std::string& joint_name);

/// The approach potential of a robot at (x, y) to an object centred at `centre` (x, y) that is to
/// be pushed along the unit vector (dir_x, dir_y): the horizontal distance to the centre plus
/// `arc_radius` × the angle (rad) between the robot's bearing from the centre and the backward
/// direction, so smallest for a robot touching the object from behind (object_displacement's and
/// object_manipulation's approach terms).
double ApproachPotential(double x, double y, const mjtNum* centre, double dir_x, double dir_y,
                         double arc_radius);

/// An approach potential as a function of a robot's horizontal position.
using PotentialField = std::function<double(double x, double y)>;

/// The unit vector (x, y) against the gradient of `potential` at (x, y), by central differences
/// over `step` m; (0, 0) where the field is flat.
std::array<double, 2> DescentDirection(const PotentialField& potential, double x, double y,
                                       double step = 1e-3);

/// The mean of `potential` over `world`'s spheres (the object tasks' approach distance a).
double MeanSpherePotential(const MultiRobotWorld& world, const PotentialField& potential);

/// Values per sphere in the sphere-guide block: the direction that lowers the potential fastest
/// (a unit vector in x, y) and the potential's value.
inline constexpr int kSphereGuideValues = 3;

/// The sphere-guide block of `world`'s spheres: per sphere its DescentDirection (1 mm steps) and
/// the potential's value. The object tasks observe it so a policy sees each sphere's own way to
/// the back of its object instead of deriving it from absolute positions (docs/learning.md, "The
/// per-robot guides").
void ObserveSphereGuides(const MultiRobotWorld& world, const PotentialField& potential,
                         std::span<float> out);

/// Appends `count` dimensions with bounds [lo, hi] to `box`.
void AppendBounds(Box& box, int count, float lo, float hi);

/// Appends the sphere-guide block's bounds for `num_spheres` spheres to `box`.
void AppendSphereGuideBounds(Box& box, int num_spheres);

/// Appends the sphere-guide block's observation units (1 for the direction, metres for the
/// potential) for `num_spheres` spheres.
void AppendSphereGuideScales(std::vector<float>& scales, int num_spheres);

/// Puts a free body at rest at `pos` with orientation `quat` (w, x, y, z); no kinematics pass.
void SetFreeBodyPose(const FreeBody& free_body, mjData& data, const mjtNum pos[3],
                     const mjtNum quat[4]);

/// Exact resume of model fields a task changes per episode. mjModel is per env instance and
/// MultiRobotWorld::SaveState carries only its connection fields, so a task that rescales objects
/// or moves scenery carries those fields in its own state: Capture from the model, Write, Read back
/// (sizes checked, IoError), then Apply once everything else of the state has been read.

/// Mass, inertia and inverse weights of some free bodies (rescaled per episode), and every body's
/// subtree mass.
struct FreeBodyInertials {
  std::vector<mjtNum> per_body;      // [bodies * 12]: mass, inertia 3, body_invweight0 2,
                                     // dof_invweight0 6
  std::vector<mjtNum> subtree_mass;  // [nbody]

  static FreeBodyInertials Capture(const mjModel& model, std::span<const FreeBody> bodies);
  void Write(ByteWriter& writer) const;
  static FreeBodyInertials Read(ByteReader& reader, const mjModel& model,
                                std::span<const FreeBody> bodies);
  void Apply(mjModel& model, std::span<const FreeBody> bodies) const;
};

/// Placement and collision switches of some geoms (a pool of scenery boxes laid out per episode).
struct GeomLayout {
  std::vector<mjtNum> reals;  // [geoms * 11]: pos 3, size 3, quat 4, rbound
  std::vector<int> ints;      // [geoms * 3]: contype, conaffinity, group

  static GeomLayout Capture(const mjModel& model, std::span<const int> geoms);
  void Write(ByteWriter& writer) const;
  static GeomLayout Read(ByteReader& reader, std::span<const int> geoms);
  void Apply(mjModel& model, std::span<const int> geoms) const;
};

}  // namespace rlpipe::envs::robots::object_tasks
