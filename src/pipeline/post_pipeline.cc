#include "pipeline/post_pipeline.h"

#include <nlohmann/json.hpp>

#include "algos/evaluate_model.h"
#include "core/error.h"
#include "core/files.h"
#include "core/tar.h"
#include "pipeline/report.h"
#include "pipeline/run_mirror.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

std::string ArchiveName(const PipelineState& state) {
  const std::string& name = state.pipeline_name.empty() ? std::string("run") : state.pipeline_name;
  if (state.run_id && !state.run_id->empty()) {
    return (state.run_id->starts_with(name + "-") ? *state.run_id : name + "-" + *state.run_id) +
           ".tar.gz";
  }
  return GenerateRunId(name) + ".tar.gz";
}

fs::path ArchiveRun(const fs::path& output_dir, const PipelineState& state,
                    const std::string& location) {
  const fs::path folder = fs::absolute(output_dir).lexically_normal();
  const fs::path where = location.empty() ? folder.parent_path() : fs::absolute(location);
  const fs::path archive = where / ArchiveName(state);
  const std::string top = archive.filename().string().substr(
      0, archive.filename().string().size() - std::string(".tar.gz").size());
  try {
    WriteTarGz(folder, top, archive, [&](const fs::path& rel) {
      const std::string name = rel.filename().string();
      // Work in progress, the lock, temp files of atomic writes, and archives of this run.
      return name == "models.partial" || name == ".rlpipe.lock" ||
             (name.starts_with(".") && name.find(".tmp.") != std::string::npos) ||
             name.ends_with(".tar.gz") ||
             fs::absolute(folder / rel).lexically_normal() == where.lexically_normal();
    });
  } catch (const IoError& e) {
    throw IoError("post_pipeline.archive_results: cannot write the archive to " + where.string() +
                  ": " + e.what());
  }
  return archive;
}

int EvaluateFinalModels(const fs::path& output_dir, const PipelineState& state,
                        const std::map<std::string, config::ExperimentConfig>& experiments,
                        int episodes) {
  using nlohmann::json;
  json results = json::object();
  int evaluated = 0;
  for (const SessionRecord& record : state.sessions) {
    const auto experiment = experiments.find(record.name);
    if (record.status != SessionStatus::kCompleted || experiment == experiments.end()) continue;
    // Best and final model, each on the session's own task with its evaluation seeds.
    for (const char* which : {"best", "final"}) {
      const fs::path model =
          output_dir / record.name / "models" / (std::string(which) + "_model.zip");
      if (!fs::exists(model)) continue;
      json entry = {
          {"model", (fs::path(record.name) / "models" / model.filename()).generic_string()}};
      try {
        algos::EvaluateModelRequest request;
        request.model = model;
        request.config = experiment->second;
        request.episodes = episodes;
        const algos::EvaluateModelResult result = algos::EvaluateModel(request);
        json stats = json::object();
        std::map<std::string, double> sums;
        for (const algos::EpisodeOutcome& e : result.episodes) {
          for (const auto& [key, value] : e.info) sums[key] += value;
        }
        for (const auto& [key, sum] : sums) {
          stats[key] = sum / static_cast<double>(result.episodes.size());
        }
        entry["episodes"] = result.episodes.size();
        entry["seed"] = result.seed;
        entry["mean_return"] = result.summary.mean_return;
        entry["std_return"] = result.summary.std_return;
        entry["mean_length"] = result.summary.mean_length;
        entry["std_length"] = result.summary.std_length;
        entry["task_stats"] = stats;
        ++evaluated;
      } catch (const std::exception& e) {
        entry["error"] = e.what();
      }
      results[record.name][which] = entry;
    }
  }
  WriteFileAtomic(output_dir / kFinalEvaluationFile, results.dump(2) + "\n");
  return evaluated;
}

}  // namespace rlpipe::pipeline
