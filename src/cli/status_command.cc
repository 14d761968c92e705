#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "pipeline/state.h"

namespace rlpipe::cli {

void AddStatusCommand(CLI::App& app, CommandFn* run) {
  auto output_dir = std::make_shared<std::string>("pipeline_output");
  CLI::App* cmd =
      app.add_subcommand("status", "Show the state of a pipeline run from its output folder.");
  cmd->add_option("--output-dir,-o", *output_dir, "output folder of the run")
      ->capture_default_str();
  cmd->callback([output_dir, run] {
    *run = [output_dir] {
      const std::filesystem::path path = std::filesystem::path(*output_dir) / "pipeline_state.json";
      if (!std::filesystem::exists(path)) {
        throw ConfigError("no pipeline state in " + *output_dir + " (expected " + path.string() +
                          ")");
      }
      const pipeline::PipelineState state = pipeline::LoadState(path);
      std::printf("pipeline: %s\nstarted:  %s\nupdated:  %s\n", state.pipeline_name.c_str(),
                  state.started_at.c_str(), state.last_updated.c_str());
      if (state.current_session) std::printf("running:  %s\n", state.current_session->c_str());
      if (state.run_uri) std::printf("s3:       %s\n", state.run_uri->c_str());
      for (const auto& pending : state.pending_uploads) {
        std::printf("not in S3 yet: %s (finish with run --resume --use-s3)\n", pending.c_str());
      }
      std::printf("\n%-28s %-16s %10s %12s %12s\n", "session", "status", "timesteps", "best_return",
                  "duration_s");
      for (const auto& r : state.sessions) {
        const std::string best =
            r.best_mean_return ? std::to_string(*r.best_mean_return) : std::string("-");
        std::printf("%-28s %-16s %10lld %12s %12.1f\n", r.name.c_str(),
                    pipeline::ToString(r.status).c_str(), static_cast<long long>(r.timesteps),
                    best.c_str(), r.duration_seconds);
        if (r.error) std::printf("    %s\n", r.error->c_str());
      }
      return 0;
    };
  });
}

}  // namespace rlpipe::cli
