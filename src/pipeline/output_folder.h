#pragma once
/// The output folder's file rules (pipeline-internal): its fixed file names, paths stored
/// relative to it, and the staging → models promotion that keeps a good model until a new one
/// replaces it whole.
#include <cstdint>
#include <filesystem>
#include <string>

namespace rlpipe::pipeline {

inline constexpr char kStateFile[] = "pipeline_state.json";
inline constexpr char kLogFile[] = "pipeline.log";
inline constexpr char kLockFile[] = ".rlpipe.lock";

/// Paths in the state file are relative to the output folder when inside it, so the folder can
/// be moved; anything else stays absolute.
std::string StorePath(const std::filesystem::path& output_dir, const std::filesystem::path& path);
/// The inverse of StorePath.
std::filesystem::path LoadPath(const std::filesystem::path& output_dir, const std::string& stored);

/// Replaces `target` with `staging` (a folder) so that a reader never sees a mix: the old folder
/// is moved aside first and removed only after the new one is in place.
void PromoteFolder(const std::filesystem::path& staging, const std::filesystem::path& target);

/// Removes what an attempt cut short left behind after the checkpoint a resume continues from:
/// temp files of interrupted atomic writes and checkpoints of more steps (half-written ones).
void DiscardAfter(const std::filesystem::path& checkpoints_dir, int64_t timesteps);

}  // namespace rlpipe::pipeline
