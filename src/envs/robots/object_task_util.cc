#include "envs/robots/object_task_util.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace rlpipe::envs::robots::object_tasks {

double ReadTaskReal(const TaskParams& params, const std::string& key, double lo, double hi) {
  const double value = params.at(key);
  if (!(value >= lo && value <= hi)) {
    throw ConfigError("environment." + key + ": expected a number in [" + ShownNumber(lo) + ", " +
                      ShownNumber(hi) + "], found " + ShownNumber(value));
  }
  return value;
}

int ReadTaskInt(const TaskParams& params, const std::string& key, int lo, int hi) {
  const double value = params.at(key);
  if (value != std::floor(value) || value < lo || value > hi) {
    throw ConfigError("environment." + key + ": expected an integer in [" + std::to_string(lo) +
                      ", " + std::to_string(hi) + "], found " + ShownNumber(value));
  }
  return static_cast<int>(value);
}

std::string ShownNumber(double value) {
  std::ostringstream out;
  out.precision(12);
  out << value;
  return out.str();
}

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

}  // namespace rlpipe::envs::robots::object_tasks
