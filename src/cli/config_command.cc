#include <cstdio>

#include "cli/commands.h"
#include "config/tree.h"
#include "core/error.h"
#include "envs/registry.h"
#include "pipeline/runner.h"

namespace rlpipe::cli {

void AddConfigCommand(CLI::App& app, CommandFn* run) {
  auto file = std::make_shared<std::string>();
  auto session = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "config", "Print each session's fully resolved training config (after overrides).");
  cmd->add_option("--config,-c", *file, "pipeline YAML file")->required();
  cmd->add_option("--session,-s", *session, "only this session");
  cmd->callback([file, session, run] {
    *run = [file, session] {
      const pipeline::ResolvedPipeline resolved = pipeline::ResolvePipeline(*file);
      for (const std::string& warning : resolved.pipeline.warnings) {
        std::fprintf(stderr, "%s\n", warning.c_str());
      }
      bool found = session->empty();
      std::string valid;
      for (size_t i = 0; i < resolved.pipeline.sessions.size(); ++i) {
        const auto& name = resolved.pipeline.sessions[i].name;
        valid += (valid.empty() ? "" : ", ") + name;
        if (!session->empty() && name != *session) continue;
        found = true;
        std::printf("# session: %s\n%s", name.c_str(),
                    resolved.sessions[i].resolved.ToYaml().c_str());
        if (session->empty() && i + 1 < resolved.pipeline.sessions.size()) std::printf("---\n");
      }
      // Degenerate task settings of the sessions shown: warnings on stderr, never an error.
      for (size_t i = 0; i < resolved.pipeline.sessions.size(); ++i) {
        if (!session->empty() && resolved.pipeline.sessions[i].name != *session) continue;
        for (const std::string& line : envs::EnvironmentWarnings(resolved.sessions[i].environment)) {
          std::fprintf(stderr, "rlpipe: %s\n", line.c_str());
        }
      }
      if (!found) {
        throw ConfigError("--session: no session named '" + *session + "' in " + *file +
                          " (valid: " + valid + ")");
      }
      return 0;
    };
  });
}

}  // namespace rlpipe::cli
