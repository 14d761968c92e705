// Reading back an optimizer saved with torch::optim::Optimizer::save, whole.
#pragma once

#include <torch/torch.h>

namespace rlpipe::algos {

/// Loads `optimizer`'s state (moments, step counts) and each parameter group's options (learning
/// rate, betas, eps, ...) from an archive its save() wrote. LibTorch 1.13's load() restores only
/// the state: a resumed run then held the constructed learning rate instead of the scheduled one
/// until its first update, and any model saved before that update differed from the
/// uninterrupted run's. Adam and RMSprop (the optimizers rlpipe builds); others throw.
void LoadOptimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive);

}  // namespace rlpipe::algos
