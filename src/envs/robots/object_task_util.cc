#include "envs/robots/object_task_util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "envs/robots/multi_robot_world.h"

namespace rlpipe::envs::robots::object_tasks {

std::string MjcfNumber(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

FreeBody FindFreeBody(const mjModel& model, const std::string& body_name,
                      const std::string& joint_name) {
  const int body = mj_name2id(&model, mjOBJ_BODY, body_name.c_str());
  const int joint = mj_name2id(&model, mjOBJ_JOINT, joint_name.c_str());
  if (body < 0 || joint < 0 || model.jnt_type[joint] != mjJNT_FREE) {
    throw TrainingError("task scenery: no free body '" + body_name + "' with joint '" + joint_name +
                        "'");
  }
  return {.body = body, .qpos = model.jnt_qposadr[joint], .dof = model.jnt_dofadr[joint]};
}

double ApproachPotential(double x, double y, const mjtNum* centre, double dir_x, double dir_y,
                         double arc_radius) {
  // Polar coordinates around the centre, the angle measured from the backward direction.
  const double rx = x - centre[0];
  const double ry = y - centre[1];
  const double angle = std::atan2(std::abs(rx * dir_y - ry * dir_x), -(rx * dir_x + ry * dir_y));
  return std::hypot(rx, ry) + arc_radius * angle;
}

std::array<double, 2> DescentDirection(const PotentialField& potential, double x, double y,
                                       double step) {
  const double gx = (potential(x + step, y) - potential(x - step, y)) / (2.0 * step);
  const double gy = (potential(x, y + step) - potential(x, y - step)) / (2.0 * step);
  const double norm = std::hypot(gx, gy);
  if (!(norm > 1e-9)) return {0.0, 0.0};
  return {-gx / norm, -gy / norm};
}

double MeanSpherePotential(const MultiRobotWorld& world, const PotentialField& potential) {
  double sum = 0.0;
  for (int j = 0; j < world.NumSpheres(); ++j) {
    const mjtNum* p = world.RobotPosition(world.NumBars() + j);
    sum += potential(p[0], p[1]);
  }
  return sum / world.NumSpheres();
}

void ObserveSphereGuides(const MultiRobotWorld& world, const PotentialField& potential,
                         std::span<float> out) {
  size_t k = 0;
  for (int j = 0; j < world.NumSpheres(); ++j) {
    const mjtNum* p = world.RobotPosition(world.NumBars() + j);
    const std::array<double, 2> direction = DescentDirection(potential, p[0], p[1]);
    out[k++] = static_cast<float>(direction[0]);
    out[k++] = static_cast<float>(direction[1]);
    out[k++] = static_cast<float>(potential(p[0], p[1]));
  }
}

void AppendSphereGuideBounds(Box& box, int num_spheres) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (int j = 0; j < num_spheres; ++j) {
    AppendBounds(box, 2, -1.0f, 1.0f);
    AppendBounds(box, 1, 0.0f, kInf);
  }
}

void AppendSphereGuideScales(std::vector<float>& scales, int num_spheres) {
  for (int j = 0; j < num_spheres; ++j) {
    AppendUnit(scales, 1.0, 2);
    AppendUnit(scales, ObservationUnits::kHorizontalM);
  }
}

void AppendBounds(Box& box, int count, float lo, float hi) {
  box.low.insert(box.low.end(), static_cast<size_t>(count), lo);
  box.high.insert(box.high.end(), static_cast<size_t>(count), hi);
}

void SetFreeBodyPose(const FreeBody& free_body, mjData& data, const mjtNum pos[3],
                     const mjtNum quat[4]) {
  std::copy(pos, pos + 3, data.qpos + free_body.qpos);
  std::copy(quat, quat + 4, data.qpos + free_body.qpos + 3);
  std::fill(data.qvel + free_body.dof, data.qvel + free_body.dof + 6, 0.0);
}

namespace {

constexpr size_t kInertialsPerBody = 12;
constexpr size_t kGeomReals = 11;
constexpr size_t kGeomInts = 3;

/// Throws IoError unless `values` holds `expected` entries.
template <typename T>
void ExpectSize(const std::vector<T>& values, size_t expected, const std::string& what) {
  if (values.size() != expected) {
    throw IoError("object task state: expected " + std::to_string(expected) + " " + what +
                  ", found " + std::to_string(values.size()) + " (another task size?)");
  }
}

}  // namespace

FreeBodyInertials FreeBodyInertials::Capture(const mjModel& model,
                                             std::span<const FreeBody> bodies) {
  // Per body: mass, inertia, body inverse weights, then its six dofs' inverse weights.
  FreeBodyInertials inertials;
  for (const FreeBody& b : bodies) {
    std::vector<mjtNum>& out = inertials.per_body;
    out.push_back(model.body_mass[b.body]);
    out.insert(out.end(), model.body_inertia + 3 * b.body, model.body_inertia + 3 * b.body + 3);
    out.insert(out.end(), model.body_invweight0 + 2 * b.body,
               model.body_invweight0 + 2 * b.body + 2);
    out.insert(out.end(), model.dof_invweight0 + b.dof, model.dof_invweight0 + b.dof + 6);
  }
  inertials.subtree_mass.assign(model.body_subtreemass, model.body_subtreemass + model.nbody);
  return inertials;
}

void FreeBodyInertials::Write(ByteWriter& writer) const {
  writer.PutVector<mjtNum>(per_body);
  writer.PutVector<mjtNum>(subtree_mass);
}

FreeBodyInertials FreeBodyInertials::Read(ByteReader& reader, const mjModel& model,
                                          std::span<const FreeBody> bodies) {
  FreeBodyInertials inertials;
  inertials.per_body = reader.GetVector<mjtNum>();
  inertials.subtree_mass = reader.GetVector<mjtNum>();
  ExpectSize(inertials.per_body, bodies.size() * kInertialsPerBody, "free-body inertial values");
  ExpectSize(inertials.subtree_mass, static_cast<size_t>(model.nbody), "subtree masses");
  return inertials;
}

void FreeBodyInertials::Apply(mjModel& model, std::span<const FreeBody> bodies) const {
  // The same order as Capture.
  const mjtNum* in = per_body.data();
  const auto take = [&in](mjtNum* out, int count) {
    std::copy(in, in + count, out);
    in += count;
  };
  for (const FreeBody& b : bodies) {
    take(model.body_mass + b.body, 1);
    take(model.body_inertia + 3 * b.body, 3);
    take(model.body_invweight0 + 2 * b.body, 2);
    take(model.dof_invweight0 + b.dof, 6);
  }
  std::copy(subtree_mass.begin(), subtree_mass.end(), model.body_subtreemass);
}

GeomLayout GeomLayout::Capture(const mjModel& model, std::span<const int> geoms) {
  GeomLayout layout;
  for (int g : geoms) {
    std::vector<mjtNum>& r = layout.reals;
    r.insert(r.end(), model.geom_pos + 3 * g, model.geom_pos + 3 * g + 3);
    r.insert(r.end(), model.geom_size + 3 * g, model.geom_size + 3 * g + 3);
    r.insert(r.end(), model.geom_quat + 4 * g, model.geom_quat + 4 * g + 4);
    r.push_back(model.geom_rbound[g]);
    layout.ints.insert(layout.ints.end(),
                       {model.geom_contype[g], model.geom_conaffinity[g], model.geom_group[g]});
  }
  return layout;
}

void GeomLayout::Write(ByteWriter& writer) const {
  writer.PutVector<mjtNum>(reals);
  writer.PutVector<int>(ints);
}

GeomLayout GeomLayout::Read(ByteReader& reader, std::span<const int> geoms) {
  GeomLayout layout;
  layout.reals = reader.GetVector<mjtNum>();
  layout.ints = reader.GetVector<int>();
  ExpectSize(layout.reals, geoms.size() * kGeomReals, "geom placement values");
  ExpectSize(layout.ints, geoms.size() * kGeomInts, "geom collision values");
  return layout;
}

void GeomLayout::Apply(mjModel& model, std::span<const int> geoms) const {
  // The same order as Capture.
  const mjtNum* r = reals.data();
  const int* i = ints.data();
  const auto take = [&r](mjtNum* out, int count) {
    std::copy(r, r + count, out);
    r += count;
  };
  for (int g : geoms) {
    take(model.geom_pos + 3 * g, 3);
    take(model.geom_size + 3 * g, 3);
    take(model.geom_quat + 4 * g, 4);
    take(model.geom_rbound + g, 1);
    model.geom_contype[g] = *i++;
    model.geom_conaffinity[g] = *i++;
    model.geom_group[g] = *i++;
  }
}

}  // namespace rlpipe::envs::robots::object_tasks
