#include <cstdio>

#include "cli/commands.h"
#include "pipeline/report.h"

namespace rlpipe::cli {

void AddReportCommand(CLI::App& app, CommandFn* run) {
  auto output_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Rebuild pipeline_report.json and pipeline_report.html of a run from its output folder "
      "(state file, metrics, evaluations); the report settings come from the existing JSON "
      "report or the pipeline file.");
  cmd->add_option("--output-dir,-o", *output_dir, "the run's output folder")->required();
  cmd->callback([output_dir, run] {
    *run = [output_dir] {
      for (const auto& path : pipeline::RebuildReports(*output_dir)) {
        std::printf("wrote %s\n", path.string().c_str());
      }
      return 0;
    };
  });
}

}  // namespace rlpipe::cli
