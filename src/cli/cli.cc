#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace rlpipe::cli {

int Main(int argc, char** argv) {
  CLI::App app{
      "rlpipe - train robots with reinforcement learning through a pipeline of sessions.\n"
      "Each session trains an agent (PPO, A2C, SAC or TD3 on LibTorch) in a simulated task and "
      "hands its model to the next.",
      "rlpipe"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rlpipe 0.1.0");
  CommandFn run;
  // The subcommand table.
  AddRunCommand(app, &run);
  AddEvaluateCommand(app, &run);
  AddTuneCommand(app, &run);
  AddConfigCommand(app, &run);
  AddStatusCommand(app, &run);
  AddReportCommand(app, &run);
  AddRunsCommand(app, &run);
  AddEnvCommand(app, &run);
  AddCostCommand(app, &run);
  AddTrainCommand(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return run();
}

}  // namespace rlpipe::cli
