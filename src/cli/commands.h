#pragma once
/// Subcommand registration. Each Add*Command adds its CLI11 subcommand and sets `*run` to the
/// function that executes it after parsing.
#include <CLI/CLI.hpp>
#include <functional>

namespace rlpipe::cli {

using CommandFn = std::function<int()>;

void AddRunCommand(CLI::App& app, CommandFn* run);
void AddConfigCommand(CLI::App& app, CommandFn* run);
void AddStatusCommand(CLI::App& app, CommandFn* run);
void AddRunsCommand(CLI::App& app, CommandFn* run);
void AddEnvCommand(CLI::App& app, CommandFn* run);
void AddCostCommand(CLI::App& app, CommandFn* run);
void AddTrainCommand(CLI::App& app, CommandFn* run);
void AddReportCommand(CLI::App& app, CommandFn* run);
void AddEvaluateCommand(CLI::App& app, CommandFn* run);
void AddTuneCommand(CLI::App& app, CommandFn* run);

}  // namespace rlpipe::cli
