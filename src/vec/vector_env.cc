#include "vec/vector_env.h"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>

#include "core/byte_stream.h"
#include "core/error.h"
#include "core/seed.h"

namespace rlpipe::vec {

VectorEnv::VectorEnv(int n, const Factory& factory) {
  if (n < 1) throw std::invalid_argument("VectorEnv: expected n >= 1, got " + std::to_string(n));

  // Build the envs; every one must share the first env's spaces.
  envs_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    envs_.push_back(factory());
    const envs::EnvSpec& spec = envs_.back()->Spec();
    if (i == 0) {
      obs_dim_ = spec.observation_space.Dim();
      act_dim_ = spec.action_space.Dim();
    } else if (spec.observation_space.Dim() != obs_dim_ || spec.action_space.Dim() != act_dim_) {
      throw std::invalid_argument("VectorEnv: env " + std::to_string(i) + " of task '" + spec.name +
                                  "' has different space dimensions than env 0");
    }
  }

  // Preallocate every per-step buffer once.
  const auto count = static_cast<size_t>(n);
  step_.obs.assign(count * static_cast<size_t>(obs_dim_), 0.0f);
  step_.rewards.assign(count, 0.0f);
  step_.terminated.assign(count, 0);
  step_.truncated.assign(count, 0);
  step_.final_obs.assign(count * static_cast<size_t>(obs_dim_), 0.0f);
  step_.finished.reserve(count);
  running_return_.assign(count, 0.0);
  running_length_.assign(count, 0);
  ended_.assign(count, std::nullopt);
}

void VectorEnv::RunSlices(const std::function<void(int, int)>& body) { body(0, Size()); }

void VectorEnv::ResetOne(size_t i, std::optional<uint64_t> seed) {
  std::span<float> obs(step_.obs.data() + i * static_cast<size_t>(obs_dim_),
                       static_cast<size_t>(obs_dim_));
  envs_[i]->Reset(seed, obs);
}

const std::vector<float>& VectorEnv::Reset(uint64_t seed) {
  // Env i gets its own derived seed; episode statistics start over.
  RunSlices([this, seed](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      ResetOne(static_cast<size_t>(i), DeriveSeed(seed, static_cast<uint64_t>(i)));
    }
  });
  std::fill(running_return_.begin(), running_return_.end(), 0.0);
  std::fill(running_length_.begin(), running_length_.end(), 0);
  std::fill(step_.rewards.begin(), step_.rewards.end(), 0.0f);
  std::fill(step_.terminated.begin(), step_.terminated.end(), 0);
  std::fill(step_.truncated.begin(), step_.truncated.end(), 0);
  step_.finished.clear();
  return step_.obs;
}

const BatchStep& VectorEnv::Step(const std::vector<float>& actions) {
  const size_t act_dim = static_cast<size_t>(act_dim_);
  if (actions.size() != envs_.size() * act_dim) {
    throw std::invalid_argument("VectorEnv::Step: expected " +
                                std::to_string(envs_.size() * act_dim) + " actions ([" +
                                std::to_string(envs_.size()) + ", " + std::to_string(act_dim) +
                                "]), got " + std::to_string(actions.size()));
  }
  step_.finished.clear();

  // Every env steps in its own rows; finished episodes are gathered in env order afterwards.
  RunSlices([this, &actions](int begin, int end) {
    for (int i = begin; i < end; ++i) StepOne(static_cast<size_t>(i), actions);
  });
  for (auto& ended : ended_) {
    if (!ended) continue;
    step_.finished.push_back(std::move(*ended));
    ended.reset();
  }
  return step_;
}

void VectorEnv::StepOne(size_t i, const std::vector<float>& actions) {
  const size_t obs_dim = static_cast<size_t>(obs_dim_);
  const size_t act_dim = static_cast<size_t>(act_dim_);

  // Step env i in place in its row of the batch.
  std::span<float> obs(step_.obs.data() + i * obs_dim, obs_dim);
  std::span<const float> action(actions.data() + i * act_dim, act_dim);
  envs::StepResult result = envs_[i]->Step(action, obs);
  step_.rewards[i] = static_cast<float>(result.reward);
  step_.terminated[i] = result.terminated ? 1 : 0;
  step_.truncated[i] = result.truncated ? 1 : 0;
  running_return_[i] += result.reward;
  running_length_[i] += 1;
  if (!result.terminated && !result.truncated) return;

  // Episode over: keep the final observation and statistics, then auto-reset (no seed).
  std::copy(obs.begin(), obs.end(), step_.final_obs.begin() + static_cast<ptrdiff_t>(i * obs_dim));
  ended_[i] = EpisodeStats{running_return_[i], running_length_[i], std::move(result.info)};
  running_return_[i] = 0.0;
  running_length_[i] = 0;
  envs_[i]->Reset(std::nullopt, obs);
}

std::string VectorEnv::SaveState() const {
  // Sizes first (checked on restore), then the batch's own rows, then every env's bytes.
  ByteWriter writer;
  writer.Put<int32_t>(Size());
  writer.Put<int32_t>(obs_dim_);
  writer.PutVector<float>(step_.obs);
  writer.PutVector<double>(running_return_);
  writer.PutVector<int64_t>(running_length_);
  for (const auto& env : envs_) {
    const std::optional<std::string> state = env->SaveState();
    writer.Put<uint8_t>(state ? 1 : 0);
    if (state) writer.PutString(*state);
  }
  return writer.Take();
}

int VectorEnv::RestoreState(std::string_view state, uint64_t restart_seed) {
  ByteReader reader(state, "vector env state of " + Spec().name);
  const auto size = reader.Get<int32_t>();
  const auto obs_dim = reader.Get<int32_t>();
  if (size != Size() || obs_dim != obs_dim_) {
    throw IoError("vector env state of " + Spec().name + ": expected " + std::to_string(Size()) +
                  " envs with " + std::to_string(obs_dim_) + " observations, found " +
                  std::to_string(size) + " with " + std::to_string(obs_dim));
  }
  step_.obs = reader.GetVector<float>();
  running_return_ = reader.GetVector<double>();
  running_length_ = reader.GetVector<int64_t>();
  if (step_.obs.size() != envs_.size() * static_cast<size_t>(obs_dim_) ||
      running_return_.size() != envs_.size() || running_length_.size() != envs_.size()) {
    throw IoError("vector env state of " + Spec().name + ": expected rows for " +
                  std::to_string(Size()) + " envs, found other sizes");
  }

  // Each env: its exact state, or the restart rule (a fresh, deterministically seeded episode).
  int restarted = 0;
  for (size_t i = 0; i < envs_.size(); ++i) {
    if (reader.Get<uint8_t>() != 0) {
      envs_[i]->RestoreState(reader.GetString());
      continue;
    }
    ResetOne(i, DeriveSeed(restart_seed, static_cast<uint64_t>(i)));
    running_return_[i] = 0.0;
    running_length_[i] = 0;
    ++restarted;
  }
  reader.Finish();
  step_.finished.clear();
  return restarted;
}

ThreadedVectorEnv::ThreadedVectorEnv(int n, int threads, const Factory& factory)
    : VectorEnv(n, factory) {
  // Contiguous slices of near-equal size; thread 0 is the caller, the others are started here.
  const int count = std::clamp(threads, 1, n);
  for (int t = 0; t < count; ++t) slices_.emplace_back(t * n / count, (t + 1) * n / count);
  for (size_t w = 1; w < slices_.size(); ++w) workers_.emplace_back([this, w] { Work(w); });
}

ThreadedVectorEnv::~ThreadedVectorEnv() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadedVectorEnv::RunSlices(const std::function<void(int, int)>& body) {
  // Publish the work, run slice 0 here, then wait for the workers' slices.
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    pending_ = static_cast<int>(workers_.size());
    error_ = nullptr;
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr own_error;
  try {
    body(slices_[0].first, slices_[0].second);
  } catch (...) {
    own_error = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  body_ = nullptr;

  // The first error (the caller's, then a worker's) propagates from here.
  if (own_error) std::rethrow_exception(own_error);
  if (error_) std::rethrow_exception(error_);
}

void ThreadedVectorEnv::Work(size_t worker) {
  uint64_t seen = 0;
  while (true) {
    const std::function<void(int, int)>* body = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      body = body_;
    }
    // Run this worker's slice outside the lock; keep the first error for the caller.
    std::exception_ptr error;
    try {
      (*body)(slices_[worker].first, slices_[worker].second);
    } catch (...) {
      error = std::current_exception();
    }
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) error_ = error;
      --pending_;
    }
    done_.notify_one();
  }
}

}  // namespace rlpipe::vec
