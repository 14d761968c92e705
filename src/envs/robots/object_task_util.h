#pragma once
/// Small pieces shared by the object and terrain tasks (object_displacement,
/// object_manipulation, terrain_traversal): strict reading of task parameters, MJCF number text,
/// free-body addresses and observation-box building.
#include <mujoco/mujoco.h>

#include <string>

#include "envs/env.h"
#include "envs/registry.h"

namespace rlpipe::envs::robots::object_tasks {

/// A real task parameter in [lo, hi]; throws ConfigError naming `environment.<key>` otherwise.
double ReadTaskReal(const TaskParams& params, const std::string& key, double lo, double hi);

/// An integer task parameter in [lo, hi]; throws ConfigError naming `environment.<key>` otherwise.
int ReadTaskInt(const TaskParams& params, const std::string& key, int lo, int hi);

/// A number as people write it, for error messages (0.1, not 0.10000000000000001).
std::string ShownNumber(double value);

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

/// Appends `count` dimensions with bounds [lo, hi] to `box`.
void AppendBounds(Box& box, int count, float lo, float hi);

/// Puts a free body at rest at `pos` with orientation `quat` (w, x, y, z); no kinematics pass.
void SetFreeBodyPose(const FreeBody& free_body, mjData& data, const mjtNum pos[3],
                     const mjtNum quat[4]);

}  // namespace rlpipe::envs::robots::object_tasks
