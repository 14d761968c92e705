#include "algos/rollout_buffer.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::algos {
namespace {

// Copies `src` into row `row` of a row-major buffer whose rows hold src.size() values.
template <typename T>
void CopyRow(std::span<const T> src, std::vector<T>& dst, int row) {
  std::copy(src.begin(), src.end(), dst.begin() + static_cast<ptrdiff_t>(row) * src.size());
}

double Variance(std::span<const double> x) {
  double mean = 0.0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double var = 0.0;
  for (double v : x) var += (v - mean) * (v - mean);
  return var / static_cast<double>(x.size());
}

}  // namespace

void AddTruncationBootstrap(std::span<float> rewards, std::span<const uint8_t> terminated,
                            std::span<const uint8_t> truncated, std::span<const float> final_values,
                            double gamma) {
  for (size_t i = 0; i < rewards.size(); ++i) {
    if (truncated[i] && !terminated[i]) {
      rewards[i] = static_cast<float>(rewards[i] + gamma * final_values[i]);
    }
  }
}

void ComputeGae(int num_steps, int num_envs, std::span<const float> rewards,
                std::span<const float> values, std::span<const uint8_t> dones,
                std::span<const float> last_values, double gamma, double gae_lambda,
                std::span<float> advantages, std::span<float> returns) {
  const auto n = static_cast<size_t>(num_envs);
  for (size_t i = 0; i < n; ++i) {
    // Backwards in time per env; a done cuts both the bootstrap and the GAE trace.
    double last_gae = 0.0;
    for (int t = num_steps - 1; t >= 0; --t) {
      const size_t k = static_cast<size_t>(t) * n + i;
      const double next_value = t == num_steps - 1 ? last_values[i] : values[k + n];
      const double next_non_terminal = dones[k] ? 0.0 : 1.0;
      const double delta = rewards[k] + gamma * next_value * next_non_terminal - values[k];
      last_gae = delta + gamma * gae_lambda * next_non_terminal * last_gae;
      advantages[k] = static_cast<float>(last_gae);
      returns[k] = static_cast<float>(last_gae + values[k]);
    }
  }
}

RolloutBuffer::RolloutBuffer(int num_steps, int num_envs, int obs_dim, int act_dim)
    : num_steps_(num_steps), num_envs_(num_envs), obs_dim_(obs_dim), act_dim_(act_dim) {
  const auto size = static_cast<size_t>(num_steps) * static_cast<size_t>(num_envs);
  obs_.resize(size * static_cast<size_t>(obs_dim));
  actions_.resize(size * static_cast<size_t>(act_dim));
  rewards_.resize(size);
  dones_.resize(size);
  values_.resize(size);
  log_probs_.resize(size);
  advantages_.resize(size);
  returns_.resize(size);
}

void RolloutBuffer::Add(std::span<const float> obs, std::span<const float> actions,
                        std::span<const float> rewards, std::span<const uint8_t> dones,
                        std::span<const float> values, std::span<const float> log_probs) {
  if (Full()) {
    throw std::logic_error("RolloutBuffer::Add: buffer already holds " +
                           std::to_string(num_steps_) + " steps");
  }
  CopyRow(obs, obs_, pos_);
  CopyRow(actions, actions_, pos_);
  CopyRow(rewards, rewards_, pos_);
  CopyRow(dones, dones_, pos_);
  CopyRow(values, values_, pos_);
  CopyRow(log_probs, log_probs_, pos_);
  ++pos_;
}

void RolloutBuffer::ComputeReturnsAndAdvantage(std::span<const float> last_values, double gamma,
                                               double gae_lambda) {
  ComputeGae(pos_, num_envs_, rewards_, values_, dones_, last_values, gamma, gae_lambda,
             advantages_, returns_);
}

std::string RolloutBuffer::Serialize() const {
  // Sizes and position, then the first pos_ steps of every stored array.
  ByteWriter writer;
  for (int v : {num_steps_, num_envs_, obs_dim_, act_dim_, pos_}) writer.Put<int32_t>(v);
  const auto steps = static_cast<size_t>(pos_) * static_cast<size_t>(num_envs_);
  writer.PutVector<float>(std::span(obs_).first(steps * static_cast<size_t>(obs_dim_)));
  writer.PutVector<float>(std::span(actions_).first(steps * static_cast<size_t>(act_dim_)));
  writer.PutVector<float>(std::span(rewards_).first(steps));
  writer.PutVector<uint8_t>(std::span(dones_).first(steps));
  writer.PutVector<float>(std::span(values_).first(steps));
  writer.PutVector<float>(std::span(log_probs_).first(steps));
  return writer.Take();
}

void RolloutBuffer::Restore(std::string_view bytes) {
  const std::string origin = "rollout buffer state";
  ByteReader reader(bytes, origin);
  int sizes[5];
  for (int& v : sizes) v = reader.Get<int32_t>();
  if (sizes[0] != num_steps_ || sizes[1] != num_envs_ || sizes[2] != obs_dim_ ||
      sizes[3] != act_dim_ || sizes[4] < 0 || sizes[4] > num_steps_) {
    throw IoError(origin + ": expected n_steps " + std::to_string(num_steps_) + ", n_envs " +
                  std::to_string(num_envs_) + ", obs_dim " + std::to_string(obs_dim_) +
                  ", act_dim " + std::to_string(act_dim_) + ", found " + std::to_string(sizes[0]) +
                  ", " + std::to_string(sizes[1]) + ", " + std::to_string(sizes[2]) + ", " +
                  std::to_string(sizes[3]));
  }
  const auto steps = static_cast<size_t>(sizes[4]) * static_cast<size_t>(num_envs_);

  // Each array must hold exactly the stored steps' rows.
  auto read_rows = [&](auto& into, size_t dim) {
    using T = typename std::decay_t<decltype(into)>::value_type;
    const std::vector<T> values = reader.template GetVector<T>();
    if (values.size() != steps * dim) {
      throw IoError(origin + ": expected " + std::to_string(steps * dim) + " values, found " +
                    std::to_string(values.size()));
    }
    std::copy(values.begin(), values.end(), into.begin());
  };
  read_rows(obs_, static_cast<size_t>(obs_dim_));
  read_rows(actions_, static_cast<size_t>(act_dim_));
  read_rows(rewards_, 1);
  read_rows(dones_, 1);
  read_rows(values_, 1);
  read_rows(log_probs_, 1);
  reader.Finish();
  pos_ = sizes[4];
}

double ExplainedVariance(std::span<const float> values, std::span<const float> returns) {
  std::vector<double> y(returns.begin(), returns.end());
  std::vector<double> residual(returns.size());
  for (size_t i = 0; i < returns.size(); ++i) residual[i] = y[i] - values[i];
  const double var_y = Variance(y);
  if (var_y == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - Variance(residual) / var_y;
}

}  // namespace rlpipe::algos
