#include "checkpoint/transfer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "config/tree.h"
#include "core/error.h"
#include "nn/mlp_actor_critic.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::checkpoint {
namespace {

namespace fs = std::filesystem;
using config::TransferConfig;
using config::TransferPart;
using torch::indexing::Slice;

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (part) << "' not in: " << (text)

// The multi-robot layout (docs/environments.md): 2N bars of 29, N spheres of 14, the task block.
ModelLayout RobotLayout(int n, const std::string& task, int task_dim) {
  ModelLayout layout;
  for (int i = 0; i < 2 * n; ++i) {
    layout.observation.push_back({"bar_robot[" + std::to_string(i) + "]", 29});
    layout.action.push_back({"bar_robot[" + std::to_string(i) + "]", 6});
  }
  for (int j = 0; j < n; ++j) {
    layout.observation.push_back({"sphere[" + std::to_string(j) + "]", 14});
    layout.action.push_back({"sphere[" + std::to_string(j) + "]", 3});
  }
  layout.observation.push_back({"task:" + task, task_dim});
  layout.obs_dim = LayoutSize(layout.observation);
  layout.act_dim = LayoutSize(layout.action);
  return layout;
}

nn::MlpActorCritic MakePolicy(const ModelLayout& layout, uint64_t seed,
                              std::vector<int> policy_layers = {8, 8}) {
  nn::MlpActorCriticOptions options;
  options.obs_dim = layout.obs_dim;
  options.act_dim = layout.act_dim;
  options.policy_layers = std::move(policy_layers);
  options.value_layers = {8, 8};
  options.log_std_init = -0.5;
  options.init_seed = seed;
  return nn::MlpActorCritic(options);
}

// A trained-looking source: the fresh init moved away from it, so copies are recognisable.
StateDict TrainedState(const ModelLayout& layout) {
  nn::MlpActorCritic source = MakePolicy(layout, 11);
  StateDict state = ToStateDict(*source);
  for (auto& [name, tensor] : state) tensor += 0.25;
  return state;
}

torch::Tensor Param(torch::nn::Module& module, const std::string& name) {
  return module.named_parameters()[name];
}

const torch::Tensor& Source(const StateDict& state, const std::string& name) {
  for (const auto& [n, t] : state) {
    if (n == name) return t;
  }
  throw std::runtime_error("no " + name);
}

const TensorTransfer& Entry(const TransferReport& report, const std::string& name) {
  for (const TensorTransfer& t : report.tensors) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no report entry " + name);
}

bool Equal(const torch::Tensor& a, const torch::Tensor& b) { return torch::equal(a, b); }

// A freeze pattern (built field by field: GCC 12 warns falsely on braced lists of them).
config::ParameterPattern Pattern(const std::string& glob, const std::string& path,
                                 const config::SourceLoc& loc = {}) {
  config::ParameterPattern pattern;
  pattern.glob = glob;
  pattern.loc = loc;
  pattern.path = path;
  return pattern;
}

// The ConfigError PlanTransfer throws for `options` on a fresh network of `layout` ("" if none).
std::string PlanError(const StateDict& source, const ModelLayout& layout,
                      const TransferConfig& options) {
  nn::MlpActorCritic target = MakePolicy(layout, 7);
  try {
    PlanTransfer(source, layout, *target, layout, options, "a.zip");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// A location in a pipeline file.
config::SourceLoc At(int line, int column) {
  config::SourceLoc loc;
  loc.file = "p.yaml";
  loc.line = line;
  loc.column = column;
  return loc;
}

TEST(TransferTest, HeightTwoToThreeRobotsCopiesMatchingBlocksAndLeavesTheRestFresh) {
  const ModelLayout src = RobotLayout(2, "height_maximize", 2);  // obs 146, act 30
  const ModelLayout tgt = RobotLayout(3, "height_maximize", 2);  // obs 218, act 45
  const StateDict source = TrainedState(src);
  nn::MlpActorCritic target = MakePolicy(tgt, 7);
  nn::MlpActorCritic fresh = MakePolicy(tgt, 7);  // what a fresh session would start from

  TransferPlan plan = PlanTransfer(source, src, *target, tgt, TransferConfig{}, "a.zip");
  EXPECT_EQ(ApplyTransfer(plan, *target), 13);

  // First layers read the observation: bars 0-3 and spheres 0-1 and the task block are copied
  // into their new columns; bars 4-5 (116:174) and sphere 2 (202:216) are a fresh init.
  for (const std::string net : {"policy_net", "value_net"}) {
    const std::string name = "mlp_extractor." + net + ".0.weight";
    const torch::Tensor t = Param(*target, name);
    const torch::Tensor s = Source(source, name);
    const torch::Tensor f = Param(*fresh, name);
    EXPECT_TRUE(Equal(t.index({Slice(), Slice(0, 116)}), s.index({Slice(), Slice(0, 116)})));
    EXPECT_TRUE(Equal(t.index({Slice(), Slice(174, 202)}), s.index({Slice(), Slice(116, 144)})));
    EXPECT_TRUE(Equal(t.index({Slice(), Slice(216, 218)}), s.index({Slice(), Slice(144, 146)})));
    EXPECT_TRUE(Equal(t.index({Slice(), Slice(116, 174)}), f.index({Slice(), Slice(116, 174)})));
    EXPECT_TRUE(Equal(t.index({Slice(), Slice(202, 216)}), f.index({Slice(), Slice(202, 216)})));
    const TensorTransfer& entry = Entry(plan.report, name);
    EXPECT_EQ(entry.action, TensorAction::kSliced);
    EXPECT_EQ(entry.source_shape, (std::vector<int64_t>{8, 146}));
    EXPECT_EQ(entry.target_shape, (std::vector<int64_t>{8, 218}));
    ASSERT_EQ(entry.slices.size(), 1u);
    EXPECT_EQ(entry.slices[0].dim, 1);
    EXPECT_EQ(entry.slices[0].rule, "observation");
    ASSERT_EQ(entry.slices[0].runs.size(), 3u);
    EXPECT_EQ(entry.slices[0].runs[0].length, 116);  // bars 0-3
    EXPECT_EQ(entry.slices[0].runs[1].source_begin, 116);
    EXPECT_EQ(entry.slices[0].runs[1].target_begin, 174);
    EXPECT_EQ(entry.slices[0].runs[1].length, 28);  // spheres 0-1
    EXPECT_EQ(entry.slices[0].runs[2].source_begin, 144);
    EXPECT_EQ(entry.slices[0].runs[2].target_begin, 216);
    EXPECT_EQ(entry.slices[0].runs[2].length, 2);  // the task block
  }

  // action_net rows and log_std: bar actions 0:24 copied, spheres 0-1 moved to 36:42.
  const torch::Tensor w = Param(*target, "action_net.weight");
  const torch::Tensor sw = Source(source, "action_net.weight");
  EXPECT_TRUE(Equal(w.index({Slice(0, 24)}), sw.index({Slice(0, 24)})));
  EXPECT_TRUE(Equal(w.index({Slice(36, 42)}), sw.index({Slice(24, 30)})));
  EXPECT_TRUE(
      Equal(w.index({Slice(24, 36)}), Param(*fresh, "action_net.weight").index({Slice(24, 36)})));
  EXPECT_TRUE(
      Equal(w.index({Slice(42, 45)}), Param(*fresh, "action_net.weight").index({Slice(42, 45)})));
  const torch::Tensor log_std = Param(*target, "log_std");
  EXPECT_TRUE(
      Equal(log_std.index({Slice(36, 42)}), Source(source, "log_std").index({Slice(24, 30)})));
  EXPECT_TRUE(torch::allclose(log_std.index({Slice(24, 36)}), torch::full({12}, -0.5)));
  EXPECT_EQ(Entry(plan.report, "action_net.bias").slices[0].rule, "action");

  // Hidden layers and the value head do not depend on N: copied whole.
  for (const char* name : {"mlp_extractor.policy_net.2.weight", "mlp_extractor.value_net.2.bias",
                           "value_net.weight", "value_net.bias"}) {
    EXPECT_EQ(Entry(plan.report, name).action, TensorAction::kCopied) << name;
    EXPECT_TRUE(Equal(Param(*target, name), Source(source, name))) << name;
  }
  EXPECT_EQ(plan.report.Count(TensorAction::kCopied), 8);
  EXPECT_EQ(plan.report.Count(TensorAction::kSliced), 5);
  EXPECT_EQ(plan.report.Count(TensorAction::kFresh), 0);
  EXPECT_EQ(plan.report.SummaryLine("h/best_model.zip"),
            "transfer from h/best_model.zip: 8 copied, 5 sliced, 0 fresh, 0 frozen");
}

TEST(TransferTest, HeightToCrushKeepsRobotColumnsAndFreshInitsTheOtherTaskBlock) {
  const ModelLayout src = RobotLayout(2, "height_maximize", 2);   // obs 146
  const ModelLayout tgt = RobotLayout(2, "crush_resistance", 6);  // obs 150
  const StateDict source = TrainedState(src);
  nn::MlpActorCritic target = MakePolicy(tgt, 7);
  nn::MlpActorCritic fresh = MakePolicy(tgt, 7);
  TransferPlan plan = PlanTransfer(source, src, *target, tgt, TransferConfig{}, "a.zip");
  ApplyTransfer(plan, *target);

  // Columns 0:144 (robots) copied, 144:150 (crush's own block) as fresh.
  const std::string name = "mlp_extractor.policy_net.0.weight";
  const torch::Tensor t = Param(*target, name);
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(0, 144)}),
                    Source(source, name).index({Slice(), Slice(0, 144)})));
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(144, 150)}),
                    Param(*fresh, name).index({Slice(), Slice(144, 150)})));

  // Same N: the action head and log_std are copied whole.
  EXPECT_EQ(Entry(plan.report, "action_net.weight").action, TensorAction::kCopied);
  EXPECT_EQ(Entry(plan.report, "log_std").action, TensorAction::kCopied);
  EXPECT_EQ(plan.report.Count(TensorAction::kSliced), 2);
  EXPECT_EQ(plan.report.Count(TensorAction::kCopied), 11);
}

TEST(TransferTest, UnknownLayoutsAndHiddenWidthsCopyTheOverlappingPrefix) {
  // No layouts (e.g. pendulum): the first columns; wider hidden layer: the first rows.
  ModelLayout src{3, 1, {}, {}};
  ModelLayout tgt{5, 1, {}, {}};
  const StateDict source = TrainedState(src);
  nn::MlpActorCritic target = MakePolicy(tgt, 7, {12, 8});
  nn::MlpActorCritic fresh = MakePolicy(tgt, 7, {12, 8});
  TransferPlan plan = PlanTransfer(source, src, *target, tgt, TransferConfig{}, "a.zip");
  ApplyTransfer(plan, *target);

  // policy_net.0.weight [8, 3] → [12, 5]: rows and columns both sliced.
  const torch::Tensor t = Param(*target, "mlp_extractor.policy_net.0.weight");
  const torch::Tensor f = Param(*fresh, "mlp_extractor.policy_net.0.weight");
  EXPECT_TRUE(Equal(t.index({Slice(0, 8), Slice(0, 3)}),
                    Source(source, "mlp_extractor.policy_net.0.weight")));
  EXPECT_TRUE(Equal(t.index({Slice(8, 12)}), f.index({Slice(8, 12)})));
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(3, 5)}), f.index({Slice(), Slice(3, 5)})));
  const TensorTransfer& first = Entry(plan.report, "mlp_extractor.policy_net.0.weight");
  ASSERT_EQ(first.slices.size(), 2u);
  EXPECT_EQ(first.slices[0].rule, "prefix");
  EXPECT_EQ(first.slices[1].rule, "prefix");

  // policy_net.2.weight [8, 8] → [8, 12]: the input columns of the widened layer.
  const torch::Tensor second = Param(*target, "mlp_extractor.policy_net.2.weight");
  EXPECT_TRUE(Equal(second.index({Slice(), Slice(0, 8)}),
                    Source(source, "mlp_extractor.policy_net.2.weight")));
  EXPECT_TRUE(Equal(Param(*target, "mlp_extractor.policy_net.0.bias").index({Slice(0, 8)}),
                    Source(source, "mlp_extractor.policy_net.0.bias")));
}

TEST(TransferTest, LoadSelectsPartsAndResetLogStdStartsItAgain) {
  const ModelLayout layout = RobotLayout(1, "height_maximize", 2);
  const StateDict source = TrainedState(layout);
  nn::MlpActorCritic target = MakePolicy(layout, 7);
  nn::MlpActorCritic fresh = MakePolicy(layout, 7);
  TransferConfig options;
  options.load = {TransferPart::kValue};
  TransferPlan plan = PlanTransfer(source, layout, *target, layout, options, "a.zip");
  ApplyTransfer(plan, *target);

  // Value parts copied; policy parts (and log_std) exactly the fresh init.
  EXPECT_TRUE(Equal(Param(*target, "value_net.weight"), Source(source, "value_net.weight")));
  EXPECT_TRUE(Equal(Param(*target, "mlp_extractor.value_net.0.weight"),
                    Source(source, "mlp_extractor.value_net.0.weight")));
  for (const char* name : {"action_net.weight", "mlp_extractor.policy_net.0.weight", "log_std"}) {
    EXPECT_TRUE(Equal(Param(*target, name), Param(*fresh, name))) << name;
    EXPECT_EQ(Entry(plan.report, name).action, TensorAction::kSkipped) << name;
    EXPECT_EQ(Entry(plan.report, name).group, "policy") << name;
  }

  // reset_log_std: everything copied but log_std, which is back at log_std_init.
  nn::MlpActorCritic reset = MakePolicy(layout, 7);
  TransferConfig reset_options;
  reset_options.reset_log_std = true;
  TransferPlan reset_plan = PlanTransfer(source, layout, *reset, layout, reset_options, "a.zip");
  ApplyTransfer(reset_plan, *reset);
  EXPECT_TRUE(torch::allclose(Param(*reset, "log_std"),
                              torch::full({Param(*reset, "log_std").size(0)}, -0.5)));
  EXPECT_TRUE(Equal(Param(*reset, "action_net.weight"), Source(source, "action_net.weight")));
  EXPECT_EQ(Entry(reset_plan.report, "log_std").reason, "reset_log_std");
}

TEST(TransferTest, FreezeTurnsGradientsOffAndPatternsMustMatch) {
  const ModelLayout layout = RobotLayout(1, "height_maximize", 2);
  const StateDict source = TrainedState(layout);
  nn::MlpActorCritic target = MakePolicy(layout, 7);
  TransferConfig options;
  options.freeze.push_back(Pattern("mlp_extractor.policy_net.*", "f[0]"));
  options.freeze.push_back(Pattern("log_st?", "f[1]"));
  TransferPlan plan = PlanTransfer(source, layout, *target, layout, options, "a.zip");
  ApplyTransfer(plan, *target);
  for (const auto& item : target->named_parameters()) {
    const bool expect_frozen =
        item.key().rfind("mlp_extractor.policy_net.", 0) == 0 || item.key() == "log_std";
    EXPECT_EQ(item.value().requires_grad(), !expect_frozen) << item.key();
    EXPECT_EQ(Entry(plan.report, item.key()).frozen, expect_frozen) << item.key();
  }
  EXPECT_EQ(plan.report.FrozenCount(), 5);

  // A frozen parameter keeps its value through an optimizer step; the others move.
  torch::optim::Adam adam(target->parameters(), torch::optim::AdamOptions(1e-2));
  const torch::Tensor before_frozen = Param(*target, "mlp_extractor.policy_net.0.weight").clone();
  const torch::Tensor before_value = Param(*target, "value_net.weight").clone();
  nn::ActorCriticOutput out = target->forward(torch::ones({4, layout.obs_dim}));
  (out.mean.sum() + out.value.sum() + out.log_std.sum()).backward();
  adam.step();
  EXPECT_TRUE(Equal(Param(*target, "mlp_extractor.policy_net.0.weight"), before_frozen));
  EXPECT_FALSE(Equal(Param(*target, "value_net.weight"), before_value));

  // A pattern that matches nothing is an error naming where it was written.
  TransferConfig bad;
  bad.freeze.push_back(Pattern("policy_net.*", "sessions[1].transfer.freeze[0]", At(9, 17)));
  EXPECT_CONTAINS(PlanError(source, layout, bad),
                  "p.yaml:9:17: sessions[1].transfer.freeze[0]: pattern 'policy_net.*' "
                  "matches no parameter of the model (log_std, mlp_extractor.policy_net.0.weight");
  TransferConfig all;
  all.freeze.push_back(Pattern("*", "f[0]"));
  EXPECT_CONTAINS(PlanError(source, layout, all), "freeze every parameter");
}

TEST(TransferTest, ResetLeavesTheMatchedParametersFresh) {
  // "Encoders only": the hidden layers come from the model, both heads start fresh.
  const ModelLayout layout = RobotLayout(1, "height_maximize", 2);
  const StateDict source = TrainedState(layout);
  nn::MlpActorCritic target = MakePolicy(layout, 7);
  nn::MlpActorCritic fresh = MakePolicy(layout, 7);
  TransferConfig options;
  options.reset.push_back(Pattern("action_net.*", "r[0]"));
  options.reset.push_back(Pattern("value_net.*", "r[1]"));
  TransferPlan plan = PlanTransfer(source, layout, *target, layout, options, "a.zip");
  ApplyTransfer(plan, *target);
  int reset = 0;
  for (const auto& item : target->named_parameters()) {
    const std::string& name = item.key();
    const bool head = name.rfind("action_net.", 0) == 0 || name.rfind("value_net.", 0) == 0;
    if (head) {
      ++reset;
      EXPECT_TRUE(Equal(item.value(), Param(*fresh, name))) << name;
      EXPECT_EQ(Entry(plan.report, name).action, TensorAction::kSkipped) << name;
      EXPECT_EQ(Entry(plan.report, name).reason, "transfer.reset") << name;
    } else {
      EXPECT_TRUE(Equal(item.value(), Source(source, name))) << name;
      EXPECT_EQ(Entry(plan.report, name).action, TensorAction::kCopied) << name;
    }
  }
  EXPECT_EQ(reset, 4);
  EXPECT_EQ(plan.report.reset, (std::vector<std::string>{"action_net.*", "value_net.*"}));
  EXPECT_CONTAINS(plan.report.ToJson(), "\"reset\": [\n      \"action_net.*\",");

  // A pattern that matches nothing is an error naming where it was written.
  TransferConfig bad;
  bad.reset.push_back(Pattern("heads.*", "sessions[1].transfer.reset[0]", At(4, 15)));
  EXPECT_CONTAINS(PlanError(source, layout, bad),
                  "p.yaml:4:15: sessions[1].transfer.reset[0]: pattern 'heads.*' matches no "
                  "parameter of the model (log_std, ");
}

TEST(TransferTest, GlobsAndGroups) {
  EXPECT_TRUE(GlobMatch("mlp_extractor.*", "mlp_extractor.policy_net.0.weight"));
  EXPECT_TRUE(GlobMatch("*.0.weight", "mlp_extractor.value_net.0.weight"));
  EXPECT_TRUE(GlobMatch("log_st?", "log_std"));
  EXPECT_FALSE(GlobMatch("log_st?", "log_std.weight"));
  EXPECT_FALSE(GlobMatch("action_net", "action_net.weight"));
  EXPECT_TRUE(GlobMatch("*", ""));

  // SB3 on-policy names, SAC/TD3 names, a normaliser and an unknown trunk.
  EXPECT_EQ(ParameterGroup("mlp_extractor.policy_net.0.weight"), "policy");
  EXPECT_EQ(ParameterGroup("action_net.bias"), "policy");
  EXPECT_EQ(ParameterGroup("log_std"), "policy");
  EXPECT_EQ(ParameterGroup("mlp_extractor.value_net.2.bias"), "value");
  EXPECT_EQ(ParameterGroup("value_net.weight"), "value");
  EXPECT_EQ(ParameterGroup("actor.latent_pi.0.weight"), "policy");
  EXPECT_EQ(ParameterGroup("critic_target.qf1.2.weight"), "value");
  EXPECT_EQ(ParameterGroup("obs_rms.mean"), "normaliser");
  EXPECT_EQ(ParameterGroup("robot_encoder.0.weight"), "shared");
}

TEST(TransferTest, SacCriticInputIsObservationThenAction) {
  // SAC critics read concat(obs, action): both layouts apply to their first layer's columns.
  const ModelLayout src = RobotLayout(1, "height_maximize", 2);  // obs 73, act 15
  const ModelLayout tgt = RobotLayout(2, "height_maximize", 2);  // obs 146, act 30
  auto make = [](const ModelLayout& l, uint64_t seed) {
    nn::OffPolicyPolicyOptions o;
    o.obs_dim = l.obs_dim;
    o.act_dim = l.act_dim;
    o.actor_layers = {8};
    o.critic_layers = {8};
    o.init_seed = seed;
    return nn::SacPolicy(o);
  };
  nn::SacPolicy source_policy = make(src, 1);
  const StateDict source = ToStateDict(*source_policy);
  nn::SacPolicy target = make(tgt, 2);
  TransferPlan plan = PlanTransfer(source, src, *target, tgt, TransferConfig{}, "s.zip");
  ApplyTransfer(plan, *target);

  // Columns: bars 0-1 (0:58) stay, sphere 0 (58:72) moves to 116:130, the task block (72:74) to
  // 144:146; the action part starts at 74 (source) and 146 (target): bars 0-1 (12 columns) stay
  // first, sphere 0 (3 columns) moves from 86 to 170.
  const TensorTransfer& q = Entry(plan.report, "critic.qf0.0.weight");
  ASSERT_EQ(q.slices.size(), 1u);
  EXPECT_EQ(q.slices[0].rule, "observation+action");
  const torch::Tensor t = Param(*target, "critic.qf0.0.weight");
  const torch::Tensor s = Source(source, "critic.qf0.0.weight");
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(0, 58)}), s.index({Slice(), Slice(0, 58)})));
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(116, 130)}), s.index({Slice(), Slice(58, 72)})));
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(144, 146)}), s.index({Slice(), Slice(72, 74)})));
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(146, 158)}), s.index({Slice(), Slice(74, 86)})));
  EXPECT_TRUE(Equal(t.index({Slice(), Slice(170, 173)}), s.index({Slice(), Slice(86, 89)})));
  EXPECT_EQ(Entry(plan.report, "actor.mu.weight").slices[0].rule, "action");
  EXPECT_EQ(Entry(plan.report, "actor.latent_pi.0.weight").slices[0].rule, "observation");
}

TEST(TransferTest, NothingInCommonIsAnErrorAndUnusedTensorsAreReported) {
  const ModelLayout layout = RobotLayout(1, "height_maximize", 2);
  StateDict foreign = {{"critic.qf0.0.weight", torch::zeros({4, 4})}};
  nn::MlpActorCritic target = MakePolicy(layout, 7);
  try {
    PlanTransfer(foreign, layout, *target, layout, TransferConfig{}, "sac.zip");
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "transfer from sac.zip: no tensor of the checkpoint fits the model");
  }

  // A model with an extra tensor: reported unused, and in the JSON with its shape.
  StateDict source = TrainedState(layout);
  source.emplace_back("extra_head.weight", torch::zeros({2, 3}));
  TransferPlan plan = PlanTransfer(source, layout, *target, layout, TransferConfig{}, "a.zip");
  EXPECT_EQ(Entry(plan.report, "extra_head.weight").action, TensorAction::kUnused);
  const nlohmann::json doc = nlohmann::json::parse(plan.report.ToJson());
  EXPECT_EQ(doc["summary"]["copied"], 13);
  EXPECT_EQ(doc["summary"]["unused"], 1);
  EXPECT_EQ(doc["tensors"].back()["source_shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(doc["options"]["load"], nlohmann::json({"policy", "value", "normaliser"}));
  EXPECT_EQ(plan.report.SummaryLine("a.zip"),
            "transfer from a.zip: 13 copied, 0 sliced, 0 fresh, 0 frozen, 1 unused");
}

TEST(TransferTest, AnotherHiddenDepthIsAnErrorNamingTheLayers) {
  // Two policy layers in the checkpoint, one in the model: no meaningful slice exists.
  const ModelLayout layout = RobotLayout(1, "height_maximize", 2);
  const StateDict source = TrainedState(layout);
  nn::MlpActorCritic target = MakePolicy(layout, 7, {16});
  try {
    PlanTransfer(source, layout, *target, layout, TransferConfig{}, "deep.zip");
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(),
                    "transfer from deep.zip: mlp_extractor.policy_net has 2 layers in "
                    "the checkpoint (0: [8, ");
    EXPECT_CONTAINS(e.what(), "and 1 in the model (0: [16, ");
  }

  // Loading only the value network leaves the policy's depth out of it.
  TransferConfig value_only;
  value_only.load = {config::TransferPart::kValue};
  TransferPlan plan = PlanTransfer(source, layout, *target, layout, value_only, "deep.zip");
  EXPECT_EQ(Entry(plan.report, "mlp_extractor.value_net.2.weight").action, TensorAction::kCopied);
}

class TransferOptimizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rlpipe_transfer_test_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TransferOptimizerTest, AdamStateIsCarriedForTensorsCopiedWhole) {
  // A source trained two Adam steps, saved with its optimizer.
  const ModelLayout src = RobotLayout(1, "height_maximize", 2);
  const ModelLayout tgt = RobotLayout(1, "crush_resistance", 6);
  nn::MlpActorCritic source = MakePolicy(src, 11);
  torch::optim::Adam source_adam(source->parameters(), torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 2; ++step) {
    source_adam.zero_grad();
    nn::ActorCriticOutput out = source->forward(torch::ones({4, src.obs_dim}));
    (out.mean.pow(2).sum() + out.value.sum() + out.log_std.sum()).backward();
    source_adam.step();
  }
  ModelData data;
  data.obs_dim = src.obs_dim;
  data.act_dim = src.act_dim;
  const fs::path archive = dir_ / "m.zip";
  SaveOptions save;
  save.optimizers.push_back({kOptimizerMember, &source_adam});
  SaveModel(archive, *source, data, config::Tree(), save);
  const LoadedModel loaded = LoadModel(archive);

  // Into a target whose first layers are sliced (another task block).
  nn::MlpActorCritic target = MakePolicy(tgt, 7);
  TransferConfig options;
  options.reset_optimizer = false;
  TransferPlan plan = PlanTransfer(loaded.state_dict, src, *target, tgt, options, archive.string());
  ApplyTransfer(plan, *target);
  torch::optim::Adam adam(target->parameters(), torch::optim::AdamOptions(1e-3));
  std::string why;
  const std::optional<AdamStateByName> state = LoadAdamState(loaded, &why);
  ASSERT_TRUE(state) << why;
  EXPECT_EQ(CarryOptimizerState(plan, *state, *target, adam), 11);

  // Copied whole: the source's moments and step; sliced: no state (Adam starts it at zero).
  auto state_in = [](torch::optim::Adam& optimizer, const torch::Tensor& p) {
    auto it = optimizer.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
    return it == optimizer.state().end()
               ? nullptr
               : static_cast<torch::optim::AdamParamState*>(it->second.get());
  };
  auto state_of = [&](const torch::Tensor& p) { return state_in(adam, p); };
  const auto* carried = state_of(Param(*target, "action_net.weight"));
  const auto* original = state_in(source_adam, Param(*source, "action_net.weight"));
  ASSERT_NE(carried, nullptr);
  ASSERT_NE(original, nullptr);
  EXPECT_EQ(carried->step(), 2);
  EXPECT_TRUE(Equal(carried->exp_avg(), original->exp_avg()));
  EXPECT_TRUE(Equal(carried->exp_avg_sq(), original->exp_avg_sq()));
  EXPECT_EQ(state_of(Param(*target, "mlp_extractor.policy_net.0.weight")), nullptr);
  EXPECT_TRUE(Entry(plan.report, "value_net.bias").optimizer_state_carried);
  EXPECT_FALSE(Entry(plan.report, "mlp_extractor.value_net.0.weight").optimizer_state_carried);

  // The carried state is usable: a step runs.
  nn::ActorCriticOutput out = target->forward(torch::ones({4, tgt.obs_dim}));
  (out.mean.sum() + out.value.sum()).backward();
  adam.step();
  EXPECT_EQ(state_of(Param(*target, "action_net.weight"))->step(), 3);

  // A checkpoint written without optimizer state says so.
  SaveModel(dir_ / "bare.zip", *source, data, config::Tree());
  EXPECT_FALSE(LoadAdamState(LoadModel(dir_ / "bare.zip"), &why));
  EXPECT_EQ(why, "the checkpoint holds no optimizer state");
}

}  // namespace
}  // namespace rlpipe::checkpoint
