#pragma once
/// `rlpipe train`: the SageMaker container entrypoint. SageMaker starts the image's ENTRYPOINT
/// (`rlpipe`) with the argument `train`; a C++ container gets no SM_* variables, so everything is
/// read from the files SageMaker writes under /opt/ml:
///
///   input/config/hyperparameters.json   the session (platform/hyperparameters.h)
///   input/config/resourceconfig.json    current_host and hosts (one host is supported)
///   input/config/checkpointconfig.json  LocalPath of the checkpoints SageMaker syncs to S3
///                                       (optional: absent means ROOT/checkpoints, not synced)
///
/// and written:
///
///   checkpoints/rl_model_<n>_steps.zip  periodic and SIGTERM checkpoints (atomic), then
///   checkpoints/latest                  the newest one's file name, written last; nothing in
///                                       checkpoints/ is ever deleted (SageMaker mirrors
///                                       deletions to S3)
///   model/                              best_model.zip, final_model.zip, report.json,
///                                       metrics.csv, evaluations.csv, training_config.yaml
///   output/failure                      why the session failed (at most 1024 bytes)
///
/// A checkpoint already in checkpoints/ at start (a spot restart) is resumed from.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "storage/aws_credentials.h"
#include "storage/checkpoint_store.h"

namespace rlpipe::platform {

/// SageMaker's fixed root, moved by RLPIPE_SM_ROOT (tests run the entrypoint over a temp folder).
inline constexpr char kDefaultContainerRoot[] = "/opt/ml";
/// Largest failure reason SageMaker shows (bytes).
inline constexpr size_t kMaxFailureReasonBytes = 1024;
/// Name of the pointer file naming the newest checkpoint.
inline constexpr char kLatestPointer[] = "latest";
/// Name of the session report inside model/.
inline constexpr char kSessionReportFile[] = "report.json";
/// Name of the transfer report inside model/ (written when the session starts from a model).
inline constexpr char kTransferReportFile[] = "transfer_report.json";

/// Exit codes of `rlpipe train`.
inline constexpr int kTrainExitOk = 0;
inline constexpr int kTrainExitFailed = 1;

/// The files of one container run.
struct ContainerPaths {
  std::filesystem::path root;

  std::filesystem::path config_dir() const { return root / "input" / "config"; }
  std::filesystem::path hyperparameters() const { return config_dir() / "hyperparameters.json"; }
  std::filesystem::path resource_config() const { return config_dir() / "resourceconfig.json"; }
  std::filesystem::path checkpoint_config() const { return config_dir() / "checkpointconfig.json"; }
  std::filesystem::path model_dir() const { return root / "model"; }
  std::filesystem::path failure_file() const { return root / "output" / "failure"; }
  /// Scratch space for the downloaded input model.
  std::filesystem::path work_dir() const { return root / "rlpipe-work"; }
};

/// How `rlpipe train` runs.
struct ContainerOptions {
  /// ROOT; empty: RLPIPE_SM_ROOT, else /opt/ml.
  std::filesystem::path root;
  /// Log lines and `[rlpipe-metric] name=value` lines.
  std::FILE* out = stdout;
  /// Where credentials, region and S3 endpoint come from (the real environment by default).
  StorageOptions storage;
};

/// RLPIPE_SM_ROOT when set and not empty, else /opt/ml.
std::filesystem::path ResolveContainerRoot(const EnvLookup& env);

/// Trains the session described under the container root. Returns kTrainExitOk when it completed
/// (and met its success criteria), kTrainExitFailed after writing output/failure, 128 + signal
/// after SIGTERM/SIGINT once a checkpoint is saved. Never throws.
int RunContainerTraining(const ContainerOptions& options);

/// `message` as a failure reason: one line (newlines become spaces), cut to at most
/// kMaxFailureReasonBytes bytes on a UTF-8 character boundary, ending in "..." when cut.
std::string FailureReason(std::string_view message);

/// The checkpoint to resume from in `checkpoints_dir`: the file `latest` names when it exists
/// and its replay segments (SAC/TD3) are all there, else the rl_model_<n>_steps.zip with the
/// largest n whose segments are, else nullopt. Throws IoError when `latest` names a file that is
/// missing.
std::optional<std::filesystem::path> FindResumeCheckpoint(
    const std::filesystem::path& checkpoints_dir);

}  // namespace rlpipe::platform
