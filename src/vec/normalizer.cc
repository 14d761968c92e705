#include "vec/normalizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "core/error.h"

namespace rlpipe::vec {
namespace {

using nlohmann::json;

// SB3's RunningMeanStd starts with this count, so the first batch dominates the prior.
constexpr double kInitialCount = 1e-4;

std::string Hex(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%a", value);
  return buffer;
}

double FromHex(const json& value, const std::string& origin) {
  const std::string text = value.get<std::string>();
  char* end = nullptr;
  const double parsed = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    throw IoError(origin + ": expected a hex float like 0x1.8p+1 in the normaliser state, found '" +
                  text + "'");
  }
  return parsed;
}

json HexArray(const std::vector<double>& values) {
  json array = json::array();
  for (double v : values) array.push_back(Hex(v));
  return array;
}

std::vector<double> FromHexArray(const json& array, const std::string& origin) {
  std::vector<double> values;
  for (const json& v : array) values.push_back(FromHex(v, origin));
  return values;
}

json RmsJson(const RunningMeanStdState& s) {
  return {{"mean", HexArray(s.mean)}, {"var", HexArray(s.var)}, {"count", Hex(s.count)}};
}

RunningMeanStdState RmsFromJson(const json& j, const std::string& origin) {
  RunningMeanStdState s;
  s.mean = FromHexArray(j.at("mean"), origin);
  s.var = FromHexArray(j.at("var"), origin);
  s.count = FromHex(j.at("count"), origin);
  return s;
}

}  // namespace

RunningMeanStd::RunningMeanStd(int dim) {
  state_.mean.assign(static_cast<size_t>(dim), 0.0);
  state_.var.assign(static_cast<size_t>(dim), 1.0);
  state_.count = kInitialCount;
}

void RunningMeanStd::Update(std::span<const float> batch, int64_t rows) {
  if (rows <= 0) return;
  const size_t dim = state_.mean.size();

  // The batch's mean and population variance per dimension (two passes, in double).
  std::vector<double> mean(dim, 0.0), var(dim, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t d = 0; d < dim; ++d) mean[d] += batch[static_cast<size_t>(r) * dim + d];
  }
  for (double& m : mean) m /= static_cast<double>(rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t d = 0; d < dim; ++d) {
      const double delta = batch[static_cast<size_t>(r) * dim + d] - mean[d];
      var[d] += delta * delta;
    }
  }
  for (double& v : var) v /= static_cast<double>(rows);
  UpdateFromMoments(mean, var, static_cast<double>(rows));
}

void RunningMeanStd::UpdateFromMoments(const std::vector<double>& batch_mean,
                                       const std::vector<double>& batch_var, double batch_count) {
  // Chan et al.: M2 = M2_a + M2_b + δ² n_a n_b / (n_a + n_b), δ = mean_b − mean_a.
  const double total = state_.count + batch_count;
  for (size_t d = 0; d < state_.mean.size(); ++d) {
    const double delta = batch_mean[d] - state_.mean[d];
    const double m_a = state_.var[d] * state_.count;
    const double m_b = batch_var[d] * batch_count;
    const double m2 = m_a + m_b + delta * delta * state_.count * batch_count / total;
    state_.mean[d] += delta * batch_count / total;
    state_.var[d] = m2 / total;
  }
  state_.count = total;
}

void RunningMeanStd::Restore(const RunningMeanStdState& state) {
  if (state.mean.size() != state_.mean.size() || state.var.size() != state_.var.size()) {
    throw std::invalid_argument("normaliser statistics: expected dimension " +
                                std::to_string(state_.mean.size()) + ", found " +
                                std::to_string(state.mean.size()));
  }
  state_ = state;
}

VecNormalizer::VecNormalizer(const config::NormalizeConfig& config, double gamma, int n_envs,
                             int obs_dim)
    : config_(config),
      gamma_(gamma),
      obs_dim_(obs_dim),
      obs_rms_(obs_dim),
      ret_rms_(1),
      returns_(static_cast<size_t>(n_envs), 0.0) {}

void VecNormalizer::ObserveReset(std::span<const float> obs) {
  if (config_.obs) obs_rms_.Update(obs, static_cast<int64_t>(obs.size()) / obs_dim_);
  std::fill(returns_.begin(), returns_.end(), 0.0);
}

void VecNormalizer::ObserveStep(std::span<const float> obs, std::span<const float> rewards,
                                std::span<const uint8_t> dones) {
  // Observation statistics over every env's next observation.
  if (config_.obs) obs_rms_.Update(obs, static_cast<int64_t>(obs.size()) / obs_dim_);
  if (!config_.reward) return;

  // Discounted returns from raw rewards; their spread over the envs is merged as one batch.
  const double n = static_cast<double>(returns_.size());
  double mean = 0.0;
  for (size_t i = 0; i < returns_.size(); ++i) {
    returns_[i] = returns_[i] * gamma_ + static_cast<double>(rewards[i]);
    mean += returns_[i];
  }
  mean /= n;
  double var = 0.0;
  for (double r : returns_) var += (r - mean) * (r - mean);
  ret_rms_.UpdateFromMoments({mean}, {var / n}, n);

  // A finished episode starts its return over.
  for (size_t i = 0; i < returns_.size(); ++i) {
    if (dones[i] != 0) returns_[i] = 0.0;
  }
}

void VecNormalizer::NormalizeObs(std::span<float> obs) const {
  if (!config_.obs) return;
  const RunningMeanStdState& s = obs_rms_.State();
  const auto dim = static_cast<size_t>(obs_dim_);
  for (size_t k = 0; k < obs.size(); ++k) {
    const size_t d = k % dim;
    const double z = (static_cast<double>(obs[k]) - s.mean[d]) / std::sqrt(s.var[d] + kEpsilon);
    obs[k] = static_cast<float>(std::clamp(z, -config_.clip_obs, config_.clip_obs));
  }
}

void VecNormalizer::NormalizeRewards(std::span<float> rewards) const {
  if (!config_.reward) return;
  const double scale = std::sqrt(ret_rms_.State().var[0] + kEpsilon);
  for (float& r : rewards) {
    r = static_cast<float>(
        std::clamp(static_cast<double>(r) / scale, -config_.clip_reward, config_.clip_reward));
  }
}

NormalizerState VecNormalizer::State() const {
  NormalizerState state;
  state.config = config_;
  state.gamma = gamma_;
  state.epsilon = kEpsilon;
  state.obs = obs_rms_.State();
  state.ret = ret_rms_.State();
  state.returns = returns_;
  return state;
}

void VecNormalizer::Restore(const NormalizerState& state) {
  if (state.returns.size() != returns_.size()) {
    throw std::invalid_argument("normaliser state: expected returns of " +
                                std::to_string(returns_.size()) + " envs, found " +
                                std::to_string(state.returns.size()));
  }
  obs_rms_.Restore(state.obs);
  ret_rms_.Restore(state.ret);
  config_ = state.config;
  gamma_ = state.gamma;
  returns_ = state.returns;
}

void VecNormalizer::AdoptStatistics(const NormalizerState& state) {
  obs_rms_.Restore(state.obs);
  ret_rms_.Restore(state.ret);
  std::fill(returns_.begin(), returns_.end(), 0.0);
}

NormalizerState RemapObservations(const NormalizerState& state, const std::vector<int64_t>& map) {
  NormalizerState moved = state;
  moved.obs.mean.assign(map.size(), 0.0);
  moved.obs.var.assign(map.size(), 1.0);
  for (size_t i = 0; i < map.size(); ++i) {
    if (map[i] < 0) continue;
    const auto from = static_cast<size_t>(map[i]);
    if (from >= state.obs.mean.size() || from >= state.obs.var.size()) {
      throw std::invalid_argument("normaliser statistics: column " + std::to_string(from) +
                                  " is outside the saved dimension " +
                                  std::to_string(state.obs.mean.size()));
    }
    moved.obs.mean[i] = state.obs.mean[from];
    moved.obs.var[i] = state.obs.var[from];
  }
  return moved;
}

std::string NormalizerStateToJson(const NormalizerState& state) {
  const json j = {{"format", "rlpipe_normalizer"},
                  {"version", 1},
                  {"obs", state.config.obs},
                  {"reward", state.config.reward},
                  {"clip_obs", Hex(state.config.clip_obs)},
                  {"clip_reward", Hex(state.config.clip_reward)},
                  {"gamma", Hex(state.gamma)},
                  {"epsilon", Hex(state.epsilon)},
                  {"obs_rms", RmsJson(state.obs)},
                  {"ret_rms", RmsJson(state.ret)},
                  {"returns", HexArray(state.returns)}};
  return j.dump(2);
}

NormalizerState NormalizerStateFromJson(const std::string& text, const std::string& origin) {
  try {
    const json j = json::parse(text);
    NormalizerState state;
    state.config.obs = j.at("obs").get<bool>();
    state.config.reward = j.at("reward").get<bool>();
    state.config.clip_obs = FromHex(j.at("clip_obs"), origin);
    state.config.clip_reward = FromHex(j.at("clip_reward"), origin);
    state.gamma = FromHex(j.at("gamma"), origin);
    state.epsilon = FromHex(j.at("epsilon"), origin);
    state.obs = RmsFromJson(j.at("obs_rms"), origin);
    state.ret = RmsFromJson(j.at("ret_rms"), origin);
    state.returns = FromHexArray(j.at("returns"), origin);
    return state;
  } catch (const json::exception& e) {
    throw IoError(origin + ": expected a valid normaliser state (rlpipe_normalizer.json), found: " +
                  e.what());
  }
}

}  // namespace rlpipe::vec
