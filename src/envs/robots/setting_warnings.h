#pragma once
/// Degenerate task settings (issue 15): valid parameters under which a task cannot do what it is
/// for within its horizon — a press that never reaches its crush height, a course or object no
/// robot can reach at top speed. The registry rows use these; each returns one SettingWarning per
/// problem with the keys and the numbers (docs/environments.md, "Settings that cannot work").
#include <vector>

#include "envs/registry.h"

namespace rlpipe::envs::robots {

/// positioning_seconds + (reference_height − crush_height) / press_descent_speed > horizon.
std::vector<SettingWarning> CrushResistanceWarnings(const TaskParams& params,
                                                    int max_episode_steps);
/// target_distance / sphere_max_speed > horizon.
std::vector<SettingWarning> TerrainTraversalWarnings(const TaskParams& params,
                                                     int max_episode_steps);
/// The farthest object (max_object_distance + 0.5 m beyond the spawn disc) / top speed > horizon.
std::vector<SettingWarning> ObjectDisplacementWarnings(const TaskParams& params,
                                                       int max_episode_steps);
/// The corridors' centre line from the doorway to the goal / top speed > horizon.
std::vector<SettingWarning> NarrowPassageWarnings(const TaskParams& params, int max_episode_steps);
/// The arena's diagonal / top speed > horizon (a target may lie that far).
std::vector<SettingWarning> ObstacleNavigationWarnings(const TaskParams& params,
                                                       int max_episode_steps);

}  // namespace rlpipe::envs::robots
