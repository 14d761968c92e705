#pragma once
/// What runs after the last session (`post_pipeline:`): the archive of the run folder and the
/// final evaluation of every completed session's models (docs/reports.md).
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "config/experiment_config.h"
#include "pipeline/state.h"

namespace rlpipe::pipeline {

/// The archive's file name: "<pipeline>-<run id>.tar.gz" (the run id alone when it already
/// starts with the pipeline's name), or "<pipeline>-<UTC time>.tar.gz" without a run id.
std::string ArchiveName(const PipelineState& state);

/// Writes a .tar.gz of `output_dir` into `location` ("" = the output folder's parent; relative
/// to the working directory) atomically, without models.partial/ folders, the lock file, temp
/// files of interrupted writes and earlier archives inside the folder. Returns its path. Throws
/// IoError naming the location when it cannot be written.
std::filesystem::path ArchiveRun(const std::filesystem::path& output_dir,
                                 const PipelineState& state, const std::string& location);

/// post_pipeline.evaluate_final_models: every completed session's best and final model, each for
/// `episodes` deterministic episodes on its own task (`experiments` by session name) from the
/// session's evaluation seeds (reproducible: the same seeds its own evaluations used). Writes
/// OUT/final_evaluation.json ({session: {best|final: {model, episodes, mean_return, std_return,
/// mean_length, std_length, task_stats}}}) atomically and returns the number of models evaluated.
/// A model that cannot be evaluated gets {"error": "..."} instead; nothing throws.
int EvaluateFinalModels(const std::filesystem::path& output_dir, const PipelineState& state,
                        const std::map<std::string, config::ExperimentConfig>& experiments,
                        int episodes);

}  // namespace rlpipe::pipeline
