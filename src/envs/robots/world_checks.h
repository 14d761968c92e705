#pragma once
/// Physical soundness checks of the multi-robot world's integration, shared by its tests and by
/// bench/envs (which runs them under each MuJoCo integrator). Each one stages a throwaway world.
#include <array>
#include <cstdint>
#include <vector>

#include "envs/robots/multi_robot_world.h"

namespace rlpipe::envs::robots {

/// Kinetic energy of the whole world (J): ½ qvelᵀ M qvel.
double KineticEnergy(const MultiRobotWorld& world);

/// Kinetic energy of a tumbling bar robot: at the start and the most seen since.
struct TumbleEnergy {
  double start_j = 0.0;
  double most_j = 0.0;
};

/// Switches gravity off, parks every robot apart in the air and spins bar robot 0 (arms in a
/// narrow V) at `spin` (rad/s about its root's axes), then runs `steps` control steps with idle
/// motors. Nothing does work on the robot, so its energy may only fall.
TumbleEnergy TumbleBarRobot(MultiRobotWorld& world, const std::array<double, 3>& spin, int steps);

/// Parks every robot 50 m up and lets them fall for `steps` control steps while bar robot 0's
/// arms get uniform random torques (seeded). Returns the vertical acceleration of bar robot 0's
/// centre of mass at each control step from the third on (m/s², second differences): only gravity
/// acts on it, so every value should be -g.
std::vector<double> FreeFallComAccelerations(MultiRobotWorld& world, uint64_t seed, int steps);

}  // namespace rlpipe::envs::robots
