#include "algos/train.h"

#include <string>

#include "algos/off_policy.h"
#include "algos/on_policy.h"
#include "core/error.h"
#include "envs/env.h"

namespace rlpipe::algos {

TrainingResult Train(const TrainingRequest& request) {
  // Each session's envs come from the registry; the loop is chosen by algorithm family.
  const config::EnvironmentConfig env_config = request.config.environment;
  auto factory = [env_config] { return envs::MakeEnv(env_config); };
  switch (request.config.agent.algorithm) {
    case config::Algorithm::kPpo:
    case config::Algorithm::kA2c:
      return TrainOnPolicy(request, factory);
    case config::Algorithm::kSac:
    case config::Algorithm::kTd3:
      return TrainOffPolicy(request, factory);
  }
  throw ConfigError("agent.algorithm: unknown value " +
                    std::to_string(static_cast<int>(request.config.agent.algorithm)));
}

}  // namespace rlpipe::algos
