#pragma once
/// Pipeline task 6: cross a course of slopes, stairs, rough blocks, gaps and platforms (see
/// docs/environments.md). Every robot spawns on a raised start platform; the course runs along +x
/// for `target_distance` m from the platform's front edge to a finish platform. A new course is
/// drawn at every reset (deterministic per seed) with feature sizes set by `terrain_difficulty`.
/// Per step the reward is 10 × the forward progress of the robots' centre (mean of the robot
/// centres); `stuck_steps` control steps without a new best centre position end the episode.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/object_task_util.h"
#include "envs/robots/robot_task.h"

namespace rlpipe::envs::robots {

/// Task parameters (keys of the `environment:` section).
struct TerrainParams {
  double difficulty = 0.5;          // 0 (gentle) to 1 (hard): heights, slopes and gap widths
  double target_distance_m = 20.0;  // course length from the start platform's edge to the finish
  int stuck_steps = 300;            // control steps without progress that end the episode
};

/// Course segment kinds, each kSegmentLength long.
enum class TerrainFeature { kSlope, kStairs, kRoughBlocks, kGap, kPlatform };
inline constexpr int kNumTerrainFeatures = 5;

/// The terrain_traversal task on the shared multi-robot world.
class TerrainTraversal : public RobotTask {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 2000;
  static constexpr double kProgressScale = 10.0;    // per m of centre progress along +x
  static constexpr double kMinProgress = 0.05;      // m beyond the best centre x that counts
  static constexpr double kPlatformHeight = 0.2;    // start and finish platform tops (m)
  static constexpr double kPlatformMargin = 1.0;    // platform beyond the spawn disc (m)
  static constexpr double kFinishLength = 3.0;      // finish platform length (m)
  static constexpr double kSegmentLength = 2.5;     // one feature (m)
  static constexpr double kRoughBlockLength = 0.5;  // rough blocks along x (m)
  static constexpr double kRoughBlockWidth = 1.0;   // rough blocks along y, at most (m)
  static constexpr double kOffCourseMargin = 2.0;   // beyond the course's sides or ends (m)
  static constexpr int kHeightProbes = 8;           // terrain heights ahead of the centre
  static constexpr double kProbeSpacing = 0.5;      // m between probes, the first 0.5 m ahead
  /// Task block: centre progress (m), progress / target distance, stuck fraction [0, 1], centre
  /// y (m), centre z (m), terrain heights at 0.5 ... 4 m ahead of the centre (m).
  static constexpr int kTaskObsDim = 5 + kHeightProbes;

  TerrainTraversal(const WorldParams& world, const TerrainParams& params,
                   int max_episode_steps = kDefaultMaxEpisodeSteps);

  /// This episode's features, in course order.
  const std::vector<TerrainFeature>& features() const { return features_; }
  /// Every course box as (x, y, z, half sizes x, y, z, quaternion w, x, y, z) of the current
  /// episode, hidden boxes included (a fingerprint of the course).
  std::vector<double> CourseGeometry() const;
  /// Mean robot centre (x, y, z).
  std::array<double, 3> Centre() const;
  /// Terrain height (m) under the point (x, y) (0 on the bare floor).
  double TerrainHeight(double x, double y) const;
  /// x of the start platform's front edge and of the finish line.
  double CourseStartX() const { return course_start_x_; }
  double FinishX() const { return course_start_x_ + params_.target_distance_m; }
  int stuck_count() const { return stuck_count_; }

 private:
  /// Draws this episode's course (the world's reset then places its boxes).
  void BeforeWorldReset() override;
  void ResetTask() override;
  StepResult StepTask(bool at_horizon) override;
  void ObserveTask(std::span<float> task_obs) const override;
  void AppendTaskScales(std::vector<float>& scales) const override;
  /// The progress and stuck variables and the episode's course (features and the pool boxes'
  /// model fields).
  void SaveTaskState(ByteWriter& writer) const override;
  std::function<void()> ReadTaskState(ByteReader& reader) override;

  /// Draws this episode's course into the pool of box geoms.
  void BuildCourse();
  /// Sets pool box `slot` of segment `segment` (centre, half sizes, pitch about y in rad).
  void SetBox(int segment, int slot, double x, double z, double half_x, double half_z,
              double pitch = 0.0, double y = 0.0, double half_y = -1.0);
  /// True when a robot is beyond the course's sides or ends.
  bool AnyRobotOffCourse() const;

  TerrainParams params_;
  int num_segments_;
  int rough_rows_;  // rough blocks across the course
  int boxes_per_segment_;
  double half_width_;  // course half width (m)
  double course_start_x_;
  std::vector<int> box_geoms_;            // [segments * boxes_per_segment] pool geom ids
  std::vector<TerrainFeature> features_;  // [segments]
  double start_x_ = 0.0;                  // centre x at reset
  double last_x_ = 0.0;                   // centre x after the previous step
  double best_x_ = 0.0;                   // best centre x that counted as progress
  int stuck_count_ = 0;
};

/// Registered parameters (the world's, terrain_difficulty, target_distance, stuck_steps) and the
/// registry row's factory.
std::vector<ParamSpec> TerrainTraversalParamSpecs();
std::unique_ptr<Env> MakeTerrainTraversal(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
