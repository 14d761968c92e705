#include <cstdio>

#include "cli/commands.h"
#include "pipeline/run_mirror.h"
#include "platform/container_entrypoint.h"

namespace rlpipe::cli {

void AddTrainCommand(CLI::App& app, CommandFn* run) {
  auto root = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "The SageMaker container entrypoint (SageMaker runs `rlpipe train`): trains the session "
      "described in /opt/ml/input/config/hyperparameters.json, checkpoints to /opt/ml/checkpoints "
      "(resuming from one already there), writes the model to /opt/ml/model and a failure reason "
      "to /opt/ml/output/failure. Exit code 0 completed, 1 failed, 143 stopped by SIGTERM after a "
      "checkpoint.");
  cmd->add_option("--root", *root, "the /opt/ml folder (default: $RLPIPE_SM_ROOT, else /opt/ml)");
  cmd->callback([root, run] {
    *run = [root] {
      platform::ContainerOptions options;
      options.root = *root;
      // Region, endpoint and retries from the environment, as for --use-s3.
      options.storage = pipeline::MirrorStorageOptions(pipeline::S3Location{});
      return platform::RunContainerTraining(options);
    };
  });
}

}  // namespace rlpipe::cli
