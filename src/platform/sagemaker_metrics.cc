#include "platform/sagemaker_metrics.h"

#include <cstdio>
#include <stdexcept>

namespace rlpipe::platform {
namespace {

constexpr char kLinePrefix[] = "[rlpipe-metric] ";
/// A decimal number as "%.10g" prints it: sign, digits, optional fraction, optional exponent.
constexpr char kNumberPattern[] = "([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)";

/// Escapes the regex metacharacters a metric name may contain ('/', '.', …).
std::string EscapeRegex(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

const std::vector<MetricSpec>& SageMakerMetrics() {
  static const std::vector<MetricSpec> kMetrics = {
      // Progress of training (printed with every progress update).
      {"timesteps", "environment steps taken so far"},
      {"episodes", "training episodes finished so far"},
      {"fps", "environment steps per second"},
      {"episode_reward_mean", "mean return of recent training episodes"},
      {"episode_length_mean", "mean length of recent training episodes"},
      // Evaluations (printed after each evaluation).
      {"eval_mean_reward", "mean return of the latest evaluation"},
      {"eval_std_reward", "standard deviation of the latest evaluation's returns"},
      {"eval_mean_length", "mean episode length of the latest evaluation"},
      {"best_mean_reward", "best evaluation mean return so far (best_model.zip)"},
      // Losses of the last update (names as Stable-Baselines3 logs them).
      {"train/policy_gradient_loss", "policy-gradient loss"},
      {"train/value_loss", "value-function loss"},
      {"train/entropy_loss", "entropy loss"},
      {"train/approx_kl", "approximate KL divergence between old and new policy"},
      {"train/clip_fraction", "fraction of clipped policy ratios (PPO)"},
      {"train/loss", "total loss"},
      {"train/explained_variance", "explained variance of the value function"},
      {"train/std", "mean standard deviation of the Gaussian policy"},
      {"train/actor_loss", "actor loss (SAC, TD3)"},
      {"train/critic_loss", "critic loss (SAC, TD3)"},
      {"train/ent_coef", "entropy coefficient (SAC)"},
      // Task statistics: episode-end values of the task's info, averaged over recent episodes.
      {"task/success", "fraction of episodes that reached the task's goal"},
      {"task/progress", "task progress (object_manipulation, terrain_traversal)"},
      {"task/max_height", "height reached (height_maximize)"},
      {"task/survival_seconds", "seconds survived under the press (crush_resistance)"},
      {"task/displacement", "object displacement in m (object_displacement)"},
      {"task/target_distance", "distance to the target in m (obstacle_navigation)"},
      {"task/next_distance", "distance to the next waypoint in m (narrow_passage)"},
      {"task/connections", "connections between robots at episode end"},
  };
  return kMetrics;
}

bool IsSageMakerMetric(std::string_view name) {
  for (const MetricSpec& metric : SageMakerMetrics()) {
    if (name == metric.name) return true;
  }
  return false;
}

std::string FormatMetricLine(std::string_view name, double value) {
  if (!IsSageMakerMetric(name)) {
    throw std::invalid_argument("FormatMetricLine: '" + std::string(name) +
                                "' is not in SageMakerMetrics()");
  }
  char number[64];
  std::snprintf(number, sizeof(number), "%.10g", value);
  return kLinePrefix + std::string(name) + "=" + number;
}

std::vector<MetricDefinition> MetricDefinitions() {
  std::vector<MetricDefinition> out;
  // The name must follow the prefix directly and be followed by '=' (no partial-name matches).
  for (const MetricSpec& metric : SageMakerMetrics()) {
    out.push_back(
        {metric.name, EscapeRegex(kLinePrefix) + EscapeRegex(metric.name) + "=" + kNumberPattern});
  }
  return out;
}

}  // namespace rlpipe::platform
