#include "pipeline/post_pipeline.h"

#include "core/error.h"
#include "core/tar.h"
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

}  // namespace rlpipe::pipeline
