#include "algos/session_start.h"

#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "algos/normalizer_members.h"
#include "checkpoint/transfer.h"
#include "config/algorithms.h"
#include "config/tree.h"
#include "core/error.h"
#include "nn/threads.h"

namespace rlpipe::algos {

namespace {

namespace fs = std::filesystem;

// The layouts of the env a checkpoint was trained on, rebuilt from the config it carries; unknown
// (overlapping prefixes are copied then) with a note when that is not possible.
checkpoint::ModelLayout SourceLayout(const checkpoint::LoadedModel& model,
                                     const std::string& origin, std::vector<std::string>& notes) {
  checkpoint::ModelLayout layout{model.data.obs_dim, model.data.act_dim, {}, {}};
  try {
    if (model.config_yaml.empty()) throw ConfigError("it holds no rlpipe_config.yaml");
    const config::ExperimentConfig source = config::ParseExperimentConfig(
        config::ParseYaml(model.config_yaml, origin + ":" + checkpoint::kConfigMember));
    const envs::EnvSpec spec = envs::MakeEnv(source.environment)->Spec();
    if (spec.observation_space.Dim() != layout.obs_dim ||
        spec.action_space.Dim() != layout.act_dim) {
      throw ConfigError("its env now has other sizes");
    }
    layout.observation = spec.observation_layout;
    layout.action = spec.action_layout;
    notes.push_back("source env: " + spec.name + " (observation " + std::to_string(layout.obs_dim) +
                    ", action " + std::to_string(layout.act_dim) + ")");
  } catch (const std::exception& e) {
    notes.push_back("source layout unknown (" + std::string(e.what()) +
                    "): overlapping prefixes copied");
  }
  return layout;
}

}  // namespace

void TransferInitialWeights(const TrainingRequest& request, const envs::EnvSpec& spec,
                            torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                            vec::VecNormalizer& normalizer) {
  // Weights move between networks of one algorithm only.
  const fs::path& path = *request.init_checkpoint;
  const checkpoint::LoadedModel loaded = checkpoint::LoadModel(path);
  checkpoint::RequireAlgorithm(loaded, request.config.agent.algorithm(), path.string());
  checkpoint::RequirePolicy(loaded, request.config.agent.common().policy, path.string());

  // Both sides' layouts: the source's from its own config, the target's from the live env.
  std::vector<std::string> notes;
  const checkpoint::ModelLayout source = SourceLayout(loaded, path.string(), notes);
  const checkpoint::ModelLayout target{spec.observation_space.Dim(), spec.action_space.Dim(),
                                       spec.observation_layout, spec.action_layout};
  notes.push_back("target env: " + spec.name + " (observation " + std::to_string(target.obs_dim) +
                  ", action " + std::to_string(target.act_dim) + ")");

  // Plan, then write weights and freeze.
  checkpoint::TransferPlan plan = checkpoint::PlanTransfer(loaded.state_dict, source, model, target,
                                                           request.transfer, path.string());
  checkpoint::ApplyTransfer(plan, model);

  // Optimizer state: carried for whole copies when asked and possible.
  if (!request.transfer.reset_optimizer) {
    std::string why;
    std::optional<checkpoint::AdamStateByName> state;
    auto* adam = dynamic_cast<torch::optim::Adam*>(optimizer);
    if (optimizer == nullptr) {
      why = config::ToString(request.config.agent.algorithm()) +
            " here keeps no single Adam optimizer to carry state into";
    } else if (adam == nullptr) {
      why = "only Adam state is carried over (agent.use_rms_prop is true)";
    } else {
      state = checkpoint::LoadAdamState(loaded, &why);
    }
    if (state) {
      checkpoint::CarryOptimizerState(plan, *state, model, *adam);
    } else {
      plan.report.optimizer = "reset: " + why;
    }
  }

  // Normaliser statistics (rlpipe_normalizer.json), their columns moved like the weights'.
  if (request.transfer.Loads(config::TransferPart::kNormaliser)) {
    const std::string line = AdoptSavedNormalizer(
        loaded, path.string(), checkpoint::ObservationIndexMap(source, target), normalizer);
    notes.push_back("normaliser: " + (line.empty() ? "neither side normalises" : line));
    if (!line.empty() && request.hooks.on_message) request.hooks.on_message(line);
  }
  plan.report.notes.insert(plan.report.notes.end(), notes.begin(), notes.end());
  if (request.hooks.on_transfer) {
    request.hooks.on_transfer(plan.report);
  } else if (request.hooks.on_message) {
    request.hooks.on_message(plan.report.SummaryLine(path.string()));
  }
}

void PrepareSession(const TrainingRequest& request, const LoopOptions& options) {
  const config::AgentConfig& agent = request.config.agent;
  const config::TrainingConfig& training = request.config.training;
  // Settings built in code pass the checks YAML passes: written out and read back strictly.
  const config::Tree written = config::AgentConfigToTree(agent);
  config::ReadAgentConfig(&written);
  auto require = [](bool ok, const std::string& what, int64_t found) {
    if (!ok) throw ConfigError(what + ", found " + std::to_string(found));
  };
  require(training.n_envs >= 1, "training.n_envs: expected >= 1", training.n_envs);
  require(training.total_timesteps >= 1, "training.total_timesteps: expected >= 1",
          training.total_timesteps);
  require(training.eval_episodes >= 1, "training.eval_episodes: expected >= 1",
          training.eval_episodes);
  require(training.log_interval >= 1, "training.log_interval: expected >= 1",
          training.log_interval);
  require(options.torch_threads >= 1, "torch threads: expected >= 1", options.torch_threads);
  require(options.env_threads >= 1, "env threads: expected >= 1", options.env_threads);
  require(options.eval_threads >= 1, "evaluation threads: expected >= 1", options.eval_threads);
  nn::SetIntraOpThreads(options.torch_threads);
}

checkpoint::ModelData MakeModelData(const TrainingRequest& request, const envs::EnvSpec& spec,
                                    int64_t timesteps, int64_t episodes) {
  checkpoint::ModelData data;
  data.obs_dim = spec.observation_space.Dim();
  data.act_dim = spec.action_space.Dim();
  data.obs_low = spec.observation_space.low;
  data.obs_high = spec.observation_space.high;
  data.act_low = spec.action_space.low;
  data.act_high = spec.action_space.high;
  data.num_timesteps = timesteps;
  data.episodes = episodes;
  data.agent = request.config.agent;
  data.network = request.config.network;
  data.seed = request.seed;
  data.n_envs = request.config.training.n_envs;
  return data;
}

}  // namespace rlpipe::algos
