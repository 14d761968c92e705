#include "envs/robots/terrain_traversal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "core/error.h"

namespace rlpipe::envs::robots {

using object_tasks::AppendBounds;
using object_tasks::GeomLayout;
using object_tasks::MjcfNumber;
namespace {

/// Geom group of the course boxes (terrain probes see only it) and of unused pool boxes.
constexpr int kCourseGroup = 1;
constexpr int kHiddenGroup = 3;
/// Contact buffer room per robot for the course (a bar robot can rest on several blocks).
constexpr int kCourseContactsPerRobot = 10;
/// Rough blocks across the course at most (wide courses get wider blocks).
constexpr int kMaxRoughRows = 16;
/// Half thickness of a ramp (m).
constexpr double kRampHalfThickness = 0.05;
/// Terrain probes start this high above the floor (m).
constexpr double kProbeHeight = 10.0;

/// Course dimensions that depend only on the parameters.
struct CourseLayout {
  double half_width = 0.0;
  double start_x = 0.0;
  int segments = 0;
  int rough_rows = 0;
  int boxes_per_segment = 0;
};

CourseLayout Layout(const WorldParams& world, const TerrainParams& params) {
  using T = TerrainTraversal;
  CourseLayout layout;
  layout.half_width = world.spawn_radius_m + T::kPlatformMargin;
  layout.start_x = layout.half_width;
  layout.segments = static_cast<int>(std::ceil(params.target_distance_m / T::kSegmentLength));
  layout.rough_rows =
      std::min(kMaxRoughRows,
               static_cast<int>(std::ceil(2.0 * layout.half_width / T::kRoughBlockWidth - 1e-9)));
  const int rough_cols = static_cast<int>(std::lround(T::kSegmentLength / T::kRoughBlockLength));
  layout.boxes_per_segment = std::max(5, rough_cols * layout.rough_rows);
  return layout;
}

/// The course as scenery: start and finish platforms and a pool of boxes per segment, all hidden
/// until Reset draws a course into them.
std::string CourseXml(const CourseLayout& layout) {
  using T = TerrainTraversal;
  const auto num = MjcfNumber;
  const double half_z = T::kPlatformHeight / 2.0;
  const double finish_x =
      layout.start_x + layout.segments * T::kSegmentLength + T::kFinishLength / 2.0;
  std::ostringstream xml;
  xml << "    <geom name=\"course_start\" type=\"box\" group=\"" << kCourseGroup << "\" size=\""
      << num(layout.half_width) << " " << num(layout.half_width) << " " << num(half_z)
      << "\" pos=\"0 0 " << num(half_z) << "\" rgba=\"0.5 0.6 0.5 1\"/>\n"
      << "    <geom name=\"course_finish\" type=\"box\" group=\"" << kCourseGroup << "\" size=\""
      << num(T::kFinishLength / 2.0) << " " << num(layout.half_width) << " " << num(half_z)
      << "\" pos=\"" << num(finish_x) << " 0 " << num(half_z) << "\" rgba=\"0.5 0.6 0.5 1\"/>\n";
  for (int s = 0; s < layout.segments; ++s) {
    for (int k = 0; k < layout.boxes_per_segment; ++k) {
      xml << "    <geom name=\"course" << s << "_" << k << "\" type=\"box\" group=\""
          << kHiddenGroup << "\" contype=\"0\" conaffinity=\"0\" size=\"0.01 0.01 0.01\" "
          << "pos=\"0 0 -10\" rgba=\"0.6 0.5 0.4 1\"/>\n";
    }
  }
  return xml.str();
}

/// The world's parameters with the course as scenery and the spawn disc on the start platform.
WorldParams CourseWorld(const WorldParams& world, const TerrainParams& params) {
  const CourseLayout layout = Layout(world, params);
  WorldParams with_course = world;
  with_course.extra_worldbody_xml = CourseXml(layout);
  with_course.extra_contacts = kCourseContactsPerRobot * 3 * world.num_type_b_robots;
  with_course.spawn_center_x_m = 0.0;
  with_course.spawn_center_y_m = 0.0;
  with_course.spawn_height_m = TerrainTraversal::kPlatformHeight;
  return with_course;
}

}  // namespace

TerrainTraversal::TerrainTraversal(const WorldParams& world, const TerrainParams& params,
                                   int max_episode_steps)
    : RobotTask("terrain_traversal", CourseWorld(world, params), max_episode_steps),
      params_(params) {
  // The course layout and the pool's geom ids.
  const CourseLayout layout = Layout(world, params);
  num_segments_ = layout.segments;
  rough_rows_ = layout.rough_rows;
  boxes_per_segment_ = layout.boxes_per_segment;
  half_width_ = layout.half_width;
  course_start_x_ = layout.start_x;
  for (int s = 0; s < num_segments_; ++s) {
    for (int k = 0; k < boxes_per_segment_; ++k) {
      const std::string name = "course" + std::to_string(s) + "_" + std::to_string(k);
      const int geom = mj_name2id(&this->world().model(), mjOBJ_GEOM, name.c_str());
      if (geom < 0) throw TrainingError("terrain_traversal: no geom named '" + name + "'");
      box_geoms_.push_back(geom);
    }
  }
  features_.assign(static_cast<size_t>(num_segments_), TerrainFeature::kSlope);

  // Task block.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  Box box;
  AppendBounds(box, 2, -kInf, kInf);  // progress, progress fraction
  AppendBounds(box, 1, 0.0f, 1.0f);   // stuck fraction
  AppendBounds(box, 2, -kInf, kInf);  // centre y, z
  AppendBounds(box, kHeightProbes, 0.0f, kInf);
  SetTaskObservation(box);
}

void TerrainTraversal::SetBox(int segment, int slot, double x, double z, double half_x,
                              double half_z, double pitch, double y, double half_y) {
  mjModel& m = world().mutable_model();
  const int g = box_geoms_[static_cast<size_t>(segment * boxes_per_segment_ + slot)];
  if (half_y < 0.0) half_y = half_width_;
  const mjtNum pos[3] = {x, y, z};
  const mjtNum size[3] = {half_x, half_y, half_z};
  const mjtNum quat[4] = {std::cos(pitch / 2.0), 0.0, std::sin(pitch / 2.0), 0.0};
  std::copy(pos, pos + 3, m.geom_pos + 3 * g);
  std::copy(size, size + 3, m.geom_size + 3 * g);
  std::copy(quat, quat + 4, m.geom_quat + 4 * g);
  m.geom_rbound[g] = std::hypot(half_x, half_y, half_z);
  m.geom_contype[g] = 1;
  m.geom_conaffinity[g] = 1;
  m.geom_group[g] = kCourseGroup;
}

void TerrainTraversal::BuildCourse() {
  mjModel& m = world().mutable_model();
  std::uniform_int_distribution<int> pick_feature(0, kNumTerrainFeatures - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double d = params_.difficulty;

  // Every pool box hidden first: no contacts, out of the probes' group, under the floor.
  for (int g : box_geoms_) {
    const mjtNum pos[3] = {0.0, 0.0, -10.0};
    const mjtNum size[3] = {0.01, 0.01, 0.01};
    const mjtNum quat[4] = {1.0, 0.0, 0.0, 0.0};
    std::copy(pos, pos + 3, m.geom_pos + 3 * g);
    std::copy(size, size + 3, m.geom_size + 3 * g);
    std::copy(quat, quat + 4, m.geom_quat + 4 * g);
    m.geom_rbound[g] = std::hypot(0.01, 0.01, 0.01);
    m.geom_contype[g] = 0;
    m.geom_conaffinity[g] = 0;
    m.geom_group[g] = kHiddenGroup;
  }

  // One random feature per segment; its heights, slopes and widths grow with the difficulty.
  for (int s = 0; s < num_segments_; ++s) {
    const auto feature = static_cast<TerrainFeature>(pick_feature(rng()));
    features_[static_cast<size_t>(s)] = feature;
    const double x0 = course_start_x_ + s * kSegmentLength;
    switch (feature) {
      case TerrainFeature::kSlope: {
        // Ramp up over 1 m to h, 0.5 m on top, ramp down over 1 m (boxes pitched about y, their
        // top faces through the ramp's end points).
        const double h = 0.1 + 0.3 * d;
        const double angle = std::atan2(h, 1.0);
        const double half_len = std::hypot(1.0, h) / 2.0;
        const double t = kRampHalfThickness;
        SetBox(s, 0, x0 + 0.5 + t * std::sin(angle), h / 2.0 - t * std::cos(angle), half_len, t,
               -angle);
        SetBox(s, 1, x0 + 1.25, h / 2.0, 0.25, h / 2.0);
        SetBox(s, 2, x0 + 2.0 - t * std::sin(angle), h / 2.0 - t * std::cos(angle), half_len, t,
               angle);
        break;
      }
      case TerrainFeature::kStairs: {
        // Five 0.5 m treads: three steps up, two down.
        const double rise = 0.04 + 0.12 * d;
        const int levels[5] = {1, 2, 3, 2, 1};
        for (int k = 0; k < 5; ++k) {
          const double h = rise * levels[k];
          SetBox(s, k, x0 + 0.25 + 0.5 * k, h / 2.0, 0.25, h / 2.0);
        }
        break;
      }
      case TerrainFeature::kRoughBlocks: {
        // A grid of blocks of random height.
        const double max_h = 0.05 + 0.2 * d;
        const int cols = static_cast<int>(std::lround(kSegmentLength / kRoughBlockLength));
        const double block_w = 2.0 * half_width_ / rough_rows_;
        for (int c = 0; c < cols; ++c) {
          for (int r = 0; r < rough_rows_; ++r) {
            const double h = 0.02 + (max_h - 0.02) * unit(rng());
            SetBox(s, c * rough_rows_ + r, x0 + kRoughBlockLength * (c + 0.5), h / 2.0,
                   kRoughBlockLength / 2.0, h / 2.0, 0.0, -half_width_ + block_w * (r + 0.5),
                   block_w / 2.0);
          }
        }
        break;
      }
      case TerrainFeature::kGap: {
        // Two raised platforms with a gap down to the floor between them.
        const double h = 0.15 + 0.15 * d;
        const double gap = 0.2 + 0.6 * d;
        const double second = kSegmentLength - 1.0 - gap;
        SetBox(s, 0, x0 + 0.5, h / 2.0, 0.5, h / 2.0);
        SetBox(s, 1, x0 + 1.0 + gap + second / 2.0, h / 2.0, second / 2.0, h / 2.0);
        break;
      }
      case TerrainFeature::kPlatform: {
        // A raised platform with sheer edges in the middle of the segment.
        const double h = 0.1 + 0.3 * d;
        SetBox(s, 0, x0 + 1.25, h / 2.0, 0.75, h / 2.0);
        break;
      }
    }
  }
}

void TerrainTraversal::BeforeWorldReset() { BuildCourse(); }

void TerrainTraversal::ResetTask() {
  start_x_ = Centre()[0];
  last_x_ = start_x_;
  best_x_ = start_x_;
  stuck_count_ = 0;
}

std::vector<double> TerrainTraversal::CourseGeometry() const {
  const mjModel& m = world().model();
  std::vector<double> geometry;
  for (int g : box_geoms_) {
    geometry.insert(geometry.end(), m.geom_pos + 3 * g, m.geom_pos + 3 * g + 3);
    geometry.insert(geometry.end(), m.geom_size + 3 * g, m.geom_size + 3 * g + 3);
    geometry.insert(geometry.end(), m.geom_quat + 4 * g, m.geom_quat + 4 * g + 4);
  }
  return geometry;
}

std::array<double, 3> TerrainTraversal::Centre() const {
  std::array<double, 3> centre = {0.0, 0.0, 0.0};
  for (int robot = 0; robot < world().NumRobots(); ++robot) {
    const mjtNum* p = world().RobotPosition(robot);
    for (size_t a = 0; a < 3; ++a) centre[a] += p[a];
  }
  for (double& c : centre) c /= world().NumRobots();
  return centre;
}

double TerrainTraversal::TerrainHeight(double x, double y) const {
  // A ray straight down that sees only the course's boxes (the floor counts as height 0).
  const mjtNum pnt[3] = {x, y, kProbeHeight};
  const mjtNum down[3] = {0.0, 0.0, -1.0};
  mjtByte groups[mjNGROUP] = {};
  groups[kCourseGroup] = 1;
  int geom = -1;
  const mjtNum dist = mj_ray(&world().model(), &world().data(), pnt, down, groups, 1, -1, &geom);
  return dist < 0.0 ? 0.0 : std::max(0.0, kProbeHeight - dist);
}

bool TerrainTraversal::AnyRobotOffCourse() const {
  const double back = -half_width_ - kOffCourseMargin;
  const double front =
      course_start_x_ + num_segments_ * kSegmentLength + kFinishLength + kOffCourseMargin;
  for (int robot = 0; robot < world().NumRobots(); ++robot) {
    const mjtNum* p = world().RobotPosition(robot);
    if (p[0] < back || p[0] > front || std::abs(p[1]) > half_width_ + kOffCourseMargin) return true;
  }
  return false;
}

StepResult TerrainTraversal::StepTask(bool /*at_horizon*/) {
  // Progress of the centre this step.
  StepResult result;
  const std::array<double, 3> centre = Centre();
  result.reward = kProgressScale * (centre[0] - last_x_);
  last_x_ = centre[0];

  // Stuck counter: steps since the centre last beat its best x by kMinProgress.
  if (centre[0] > best_x_ + kMinProgress) {
    best_x_ = centre[0];
    stuck_count_ = 0;
  } else {
    ++stuck_count_;
  }

  // Ends: the centre crosses the finish line (success), a robot leaves the course, or stuck.
  const bool success = centre[0] >= FinishX();
  const bool off_course = AnyRobotOffCourse();
  const bool stuck = stuck_count_ >= params_.stuck_steps;
  result.terminated = success || off_course || stuck;

  result.info = {{"progress", centre[0] - start_x_},
                 {"stuck_count", static_cast<double>(stuck_count_)},
                 {"success", success ? 1.0 : 0.0},
                 {"off_course", off_course ? 1.0 : 0.0},
                 {"stuck", stuck ? 1.0 : 0.0}};
  return result;
}

void TerrainTraversal::ObserveTask(std::span<float> task_obs) const {
  // Progress, stuck fraction, centre and the terrain ahead.
  size_t k = 0;
  const auto put = [&task_obs, &k](double value) { task_obs[k++] = static_cast<float>(value); };
  const std::array<double, 3> centre = Centre();
  put(centre[0] - start_x_);
  put((centre[0] - start_x_) / params_.target_distance_m);
  put(std::min(1.0, static_cast<double>(stuck_count_) / params_.stuck_steps));
  put(centre[1]);
  put(centre[2]);
  for (int p = 1; p <= kHeightProbes; ++p) {
    put(TerrainHeight(centre[0] + kProbeSpacing * p, centre[1]));
  }
}

std::vector<ParamSpec> TerrainTraversalParamSpecs() {
  const TerrainParams d;
  std::vector<ParamSpec> specs = WorldParamSpecs();
  specs.push_back(RealParam("terrain_difficulty", d.difficulty, 0.0, 1.0, "",
                            "0 (gentle) to 1 (hard): feature heights, slopes and gap widths"));
  specs.push_back(RealParam("target_distance", d.target_distance_m, 5.0, 200.0, "m",
                            "course length from the start platform's edge to the finish line"));
  specs.push_back(IntParam("stuck_steps", d.stuck_steps, 1, 1000000,
                           "control steps without centre progress that end the episode"));
  return specs;
}

std::unique_ptr<Env> MakeTerrainTraversal(const TaskParams& params, int max_episode_steps) {
  CheckParamValues(TerrainTraversalParamSpecs(), params);
  TerrainParams task;
  task.difficulty = params.at("terrain_difficulty");
  task.target_distance_m = params.at("target_distance");
  task.stuck_steps = ParamInt(params, "stuck_steps");
  return std::make_unique<TerrainTraversal>(ReadWorldParams(params), task, max_episode_steps);
}

void TerrainTraversal::SaveTaskState(ByteWriter& writer) const {
  writer.Put<double>(start_x_);
  writer.Put<double>(last_x_);
  writer.Put<double>(best_x_);
  writer.Put<int32_t>(static_cast<int32_t>(stuck_count_));
  writer.PutVector<TerrainFeature>(features_);
  GeomLayout::Capture(world().model(), box_geoms_).Write(writer);
}

std::function<void()> TerrainTraversal::ReadTaskState(ByteReader& reader) {
  const auto start_x = reader.Get<double>();
  const auto last_x = reader.Get<double>();
  const auto best_x = reader.Get<double>();
  const auto stuck_count = reader.Get<int32_t>();
  std::vector<TerrainFeature> features = reader.GetVector<TerrainFeature>();
  const bool known = std::all_of(features.begin(), features.end(), [](TerrainFeature f) {
    return static_cast<int>(f) >= 0 && static_cast<int>(f) < kNumTerrainFeatures;
  });
  if (features.size() != features_.size() || !known) {
    throw IoError("terrain_traversal state: expected " + std::to_string(features_.size()) +
                  " known course features, found " + std::to_string(features.size()) +
                  (known ? "" : " with unknown kinds"));
  }
  const GeomLayout course = GeomLayout::Read(reader, box_geoms_);
  return [this, start_x, last_x, best_x, stuck_count, features, course] {
    course.Apply(world().mutable_model(), box_geoms_);
    start_x_ = start_x;
    last_x_ = last_x;
    best_x_ = best_x;
    stuck_count_ = stuck_count;
    features_ = features;
  };
}

void TerrainTraversal::AppendTaskScales(std::vector<float>& scales) const {
  // Progress (m), its fraction, stuck fraction, centre y, centre z, terrain heights ahead.
  AppendUnit(scales, ObservationUnits::kHorizontalM);
  AppendUnit(scales, 1.0, 2);
  AppendUnit(scales, ObservationUnits::kHorizontalM);
  AppendUnit(scales, ObservationUnits::kHeightM, 1 + kHeightProbes);
}

}  // namespace rlpipe::envs::robots
