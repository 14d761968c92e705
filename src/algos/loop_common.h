#pragma once
/// What the on-policy and off-policy training loops share while they run: counters and
/// recent-episode statistics, deterministic evaluation with best-model saving, periodic and
/// interrupt checkpoints, progress events and the final result. Before the first step:
/// session_start.h.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "core/byte_stream.h"
#include "envs/env.h"
#include "vec/normalizer.h"
#include "vec/vector_env.h"

namespace rlpipe::algos {

/// The bookkeeping every training loop shares. The loop steps envs and learns; it tells this
/// object what happened (AfterStep) and asks it whether to stop (CheckStop).
class LoopCommon {
 public:
  /// The deterministic env action (inside the action box) for one observation.
  using ActFn = std::function<void(std::span<const float> obs, std::vector<float>& action)>;
  /// Writes a model archive at the path; with `training_state` (periodic and interrupt
  /// checkpoints) it also holds everything an exact resume needs (training_state.h).
  using SaveFn = std::function<void(const std::filesystem::path& path, bool training_state)>;

  /// `normalizer` (not owned, may be null) normalises evaluation observations with its frozen
  /// statistics; `act` then sees normalised observations.
  /// Evaluations run on `eval_threads` envs made by `eval_env_factory` at once (at most
  /// training.eval_episodes; episodes split round-robin, results independent of the split), so
  /// `act` must be safe to call from several threads at once.
  LoopCommon(const TrainingRequest& request,
             const std::function<std::unique_ptr<envs::Env>()>& eval_env_factory, int eval_threads,
             ActFn act, SaveFn save, const vec::VecNormalizer* normalizer = nullptr);

  /// Polls the stop hook; when it fires, saves an interrupt checkpoint and returns true.
  bool CheckStop();
  /// Counts `env_steps` new steps and the finished episodes, then runs the evaluation whose
  /// cadence (training.eval_freq) was crossed and notes a periodic checkpoint (save_freq) as due;
  /// an evaluation may end the session early (early_stopped()).
  void AfterStep(int64_t env_steps, const std::vector<vec::EpisodeStats>& finished);
  /// Writes the due periodic checkpoint. Loops call it where they can restart exactly (between
  /// batched env steps, after any training that step triggers).
  void SaveDueCheckpoint();
  /// Exact resume: counters, recent episodes (with task statistics), evaluation results, the
  /// early-stopping count, timings and the checkpoints written, and back. Restore
  /// keeps the best evaluation only while models_dir/best_model.zip is the one it recorded.
  void SaveState(ByteWriter& writer) const;
  void RestoreState(ByteReader& reader);
  /// The head of the rlpipe_training_state member every loop writes first: layout version and
  /// algorithm, SaveState, the normaliser, the loop's sampler generator, torch's default CPU
  /// generator and the envs. The loop appends its own part after it.
  void SaveSharedState(ByteWriter& writer, const torch::Generator& sampler,
                       const vec::VecNormalizer& normalizer, const vec::VectorEnv& envs) const;
  /// Opens `model`'s training state (IoError naming `origin` when it holds none, or was written
  /// for another seed, layout version or algorithm), restores the head SaveSharedState wrote and
  /// returns a reader at the loop's own part. `model` must outlive the reader. `restarted_envs`
  /// receives the number of envs that followed the restart rule.
  ByteReader RestoreSharedState(const checkpoint::LoadedModel& model, const std::string& origin,
                                torch::Generator& sampler, vec::VecNormalizer& normalizer,
                                vec::VectorEnv& envs, int& restarted_envs);
  /// Sends a ProgressEvent with `losses` (SB3 names) to the progress hook.
  void EmitProgress(const std::map<std::string, double>& losses);
  /// Unless interrupted: a final evaluation (if none ran at this step) and final_model.zip; then
  /// a last progress event and the result.
  TrainingResult Finish(const std::map<std::string, double>& losses);

  void AddCollectSeconds(double seconds) { collect_seconds_ += seconds; }
  void AddUpdateSeconds(double seconds) { update_seconds_ += seconds; }
  int64_t timesteps() const { return timesteps_; }
  int64_t episodes() const { return episodes_; }
  bool interrupted() const { return result_.interrupted; }
  /// True once an early-stopping rule (training.stop_on_reward, stop_after_no_improvement) fired.
  bool early_stopped() const { return result_.stop_reason.has_value(); }
  /// Interrupted or early-stopped: the loop should end.
  bool Done() const { return interrupted() || early_stopped(); }
  /// The session's time split; the loops add to it.
  TimeSplit& time_split() { return result_.time_split; }
  void Message(const std::string& line) const;

 private:
  /// Mean and population spread of one evaluation.
  struct Evaluation {
    double mean_return = 0.0;
    double std_return = 0.0;
    double mean_length = 0.0;
  };
  Evaluation Evaluate();
  void RunEvaluation();
  /// Applies the early-stopping rules after an evaluation.
  void CheckEarlyStop(double mean_return, bool new_best);
  /// Deletes all but the newest training.keep_checkpoints of the checkpoints this run wrote.
  void PruneCheckpoints();
  /// Means of the task statistics over the recent episodes.
  std::map<std::string, double> RecentTaskMeans() const;
  std::filesystem::path StepCheckpointPath() const;
  std::filesystem::path Save(const std::filesystem::path& path, bool training_state);

  const TrainingRequest& request_;
  std::vector<std::unique_ptr<envs::Env>> eval_envs_;  // one per evaluation thread
  ActFn act_;
  SaveFn save_;
  const vec::VecNormalizer* normalizer_;
  std::deque<std::string> written_checkpoints_;  // file names of this session's, oldest first
  int evaluations_without_best_ = 0;
  int64_t timesteps_ = 0;
  int64_t episodes_ = 0;
  std::deque<vec::EpisodeStats> recent_;
  std::optional<int64_t> last_eval_timesteps_;
  std::optional<int64_t> last_progress_timesteps_;  // the step of the last progress event
  std::optional<int64_t> best_timesteps_;           // when best_model.zip was written
  bool checkpoint_due_ = false;
  double elapsed_before_ = 0.0;  // wall seconds of the attempts before a resume
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double collect_seconds_ = 0.0;
  double update_seconds_ = 0.0;
  TrainingResult result_;
};

}  // namespace rlpipe::algos
