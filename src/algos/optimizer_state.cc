#include "algos/optimizer_state.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace rlpipe::algos {
namespace {

// Replaces the groups' options by the saved ones when the optimizer's options are `Options`.
template <typename Options>
bool RestoreGroupOptions(torch::optim::Optimizer& optimizer,
                         torch::serialize::InputArchive& groups_archive) {
  std::vector<torch::optim::OptimizerParamGroup>& groups = optimizer.param_groups();
  if (groups.empty() || !groups.front().has_options() ||
      dynamic_cast<const Options*>(&groups.front().options()) == nullptr) {
    return false;
  }
  std::vector<std::pair<std::vector<std::string>, std::unique_ptr<torch::optim::OptimizerOptions>>>
      saved;
  torch::optim::detail::serialize<Options>(groups_archive, saved);
  if (saved.size() != groups.size()) {
    throw IoError("optimizer state: expected " + std::to_string(groups.size()) +
                  " parameter groups, found " + std::to_string(saved.size()));
  }
  for (size_t i = 0; i < saved.size(); ++i) groups[i].set_options(std::move(saved[i].second));
  return true;
}

}  // namespace

void LoadOptimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive) {
  optimizer.load(archive);
  torch::serialize::InputArchive groups_archive;
  archive.read("param_groups", groups_archive);
  if (!RestoreGroupOptions<torch::optim::AdamOptions>(optimizer, groups_archive) &&
      !RestoreGroupOptions<torch::optim::RMSpropOptions>(optimizer, groups_archive)) {
    throw TrainingError("optimizer state: expected an Adam or RMSprop optimizer");
  }
}

}  // namespace rlpipe::algos
