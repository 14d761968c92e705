#pragma once
/// pipeline_report.json: a summary of a pipeline run, rendered from the state file alone.
#include <string>

#include "pipeline/state.h"

namespace rlpipe::pipeline {

/// Pipeline name, start and end, per-session status, timings, timesteps, best and final mean eval
/// return, checkpoint, error, early-stopping reason and task statistics; summary counts and total
/// duration.
std::string RenderReportJson(const PipelineState& state, const std::string& description,
                             const std::string& finished_at);

}  // namespace rlpipe::pipeline
