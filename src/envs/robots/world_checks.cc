#include "envs/robots/world_checks.h"

#include <algorithm>
#include <random>

namespace rlpipe::envs::robots {

namespace {

/// Every robot parked `height` m up, 3 m apart along a row at y = 5.
void ParkInTheAir(MultiRobotWorld& world, double height) {
  for (int robot = 0; robot < world.NumRobots(); ++robot)
    world.PlaceRobot(robot, {-6.0 + 3.0 * robot, 5.0, height});
}

}  // namespace

double KineticEnergy(const MultiRobotWorld& world) {
  const mjModel& m = world.model();
  const mjData& d = world.data();
  std::vector<mjtNum> m_qvel(static_cast<size_t>(m.nv));
  mj_mulM(&m, &d, m_qvel.data(), d.qvel);
  double energy = 0.0;
  for (int i = 0; i < m.nv; ++i) energy += 0.5 * d.qvel[i] * m_qvel[static_cast<size_t>(i)];
  return energy;
}

TumbleEnergy TumbleBarRobot(MultiRobotWorld& world, const std::array<double, 3>& spin, int steps) {
  world.mutable_model().opt.gravity[2] = 0.0;
  std::mt19937_64 rng(1);
  world.Reset(rng);
  ParkInTheAir(world, 3.0);
  world.SetArmOrientation(0, 0, {0.9659, 0.0, 0.2588, 0.0});
  world.SetArmOrientation(0, 1, {0.9659, 0.0, -0.2588, 0.0});
  const int root_dof = world.model().jnt_dofadr[0];  // bar robot 0's free joint comes first
  for (int a = 0; a < 3; ++a)
    world.mutable_data().qvel[root_dof + 3 + a] = spin[static_cast<size_t>(a)];
  mj_forward(&world.model(), &world.mutable_data());
  TumbleEnergy energy;
  energy.start_j = KineticEnergy(world);
  energy.most_j = energy.start_j;
  const std::vector<float> idle(static_cast<size_t>(world.ActDim()), 0.0f);
  for (int t = 0; t < steps; ++t) {
    world.ApplyAction(idle);
    world.Simulate();
    energy.most_j = std::max(energy.most_j, KineticEnergy(world));
  }
  return energy;
}

std::vector<double> FreeFallComAccelerations(MultiRobotWorld& world, uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  world.Reset(rng);
  ParkInTheAir(world, 50.0);
  const mjModel& m = world.model();
  mjData& d = world.mutable_data();
  const int body = mj_name2id(&m, mjOBJ_BODY, "bar0");
  std::vector<float> action(static_cast<size_t>(world.ActDim()), 0.0f);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<double> com_z;
  for (int t = 0; t < steps; ++t) {
    for (size_t k = 0; k < 6; ++k) action[k] = unit(rng);  // bar robot 0's two arms
    world.ApplyAction(action);
    world.Simulate();
    mj_forward(&m, &d);  // subtree_com of the state after the step
    com_z.push_back(d.subtree_com[3 * body + 2]);
  }
  const double dt = world.ControlDt();
  std::vector<double> accelerations;
  for (size_t t = 2; t < com_z.size(); ++t)
    accelerations.push_back((com_z[t] - 2.0 * com_z[t - 1] + com_z[t - 2]) / (dt * dt));
  return accelerations;
}

}  // namespace rlpipe::envs::robots
