#pragma once
/// The replay buffer of periodic and interrupt checkpoints, kept as append-only segment files
/// beside them (docs/resume.md), so a checkpoint writes only the transitions added since the last
/// one instead of the whole buffer.
///
/// In the checkpoints folder:
///   replay_<begin>_<end>_<crc>.seg   the transitions with serials [begin, end)
///                                    (ReplayBuffer::WriteRange after a header), written once,
///                                    complete and synced before any checkpoint names it; <crc> is
///                                    the file's CRC-32 (8 hex digits), so a name never stands for
///                                    two contents.
/// and in each checkpoint archive the member `rlpipe_replay_index`: the buffer's sizes and
/// counters, the segments holding its settled transitions (name, serial range, size, CRC-32)
/// and, inline, the last Add's transitions (their next observations are not settled yet).
/// A segment is deleted once no checkpoint archive in its folder names it
/// (PruneReplaySegments, called when checkpoints are pruned).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rlpipe::algos {

class ReplayBuffer;  // algos/replay_buffer.h (this header stays free of torch)

/// Member name of the index in a checkpoint archive (never ending in `.pth`).
inline constexpr const char* kReplayIndexMember = "rlpipe_replay_index";
/// Segment files: kReplaySegmentPrefix ... kReplaySegmentSuffix.
inline constexpr const char* kReplaySegmentPrefix = "replay_";
inline constexpr const char* kReplaySegmentSuffix = ".seg";

/// The segments a session's checkpoints share; one per off-policy session.
class ReplaySegments {
 public:
  /// Writes the settled transitions `buffer` gained since the last Save (or Restore) in `dir` as
  /// one new segment (complete, synced, renamed into place before this returns) and returns the
  /// index member for a checkpoint in `dir`. A checkpoint in another folder than the last one
  /// gets all of its transitions in a new segment there. Throws IoError.
  std::string Save(const ReplayBuffer& buffer, const std::filesystem::path& dir);

  /// Fills `buffer` from an index member of a checkpoint in `dir` and its segments (each one's
  /// size and CRC-32 checked). IoError naming `origin` or the segment when anything is missing,
  /// cut or does not fit. The next Save appends to these segments.
  void Restore(std::string_view index, const std::filesystem::path& dir, ReplayBuffer& buffer,
               const std::string& origin);

 private:
  struct Segment {
    std::string name;
    int64_t begin = 0;  // serials [begin, end)
    int64_t end = 0;
    uint64_t bytes = 0;
    uint32_t crc = 0;
  };
  Segment Write(const ReplayBuffer& buffer, const std::filesystem::path& dir, int64_t begin,
                int64_t end) const;

  std::filesystem::path dir_;      // where segments_ are
  std::vector<Segment> segments_;  // oldest first; those still holding stored transitions
  int64_t end_ = 0;                // serials before this are in segments_ (or gone)
};

/// The segment files an index member names; IoError naming `origin` when it is malformed.
std::vector<std::string> ReplaySegmentNames(std::string_view index, const std::string& origin);
/// True when every segment `index` names is in `dir` with the size it records (a checkpoint whose
/// segments did not all arrive, e.g. from an interrupted copy, is not one to resume from).
bool ReplaySegmentsPresent(std::string_view index, const std::filesystem::path& dir);
/// True when the checkpoint archive at `path` names no replay segments or all of them are beside
/// it with their recorded sizes (false for an unreadable archive). Never throws.
bool CheckpointSegmentsPresent(const std::filesystem::path& path);
/// Deletes the segment files in `dir` that no checkpoint archive (rl_model_<n>_steps.zip) there
/// names. Unreadable archives name nothing. Never throws.
void PruneReplaySegments(const std::filesystem::path& dir);

}  // namespace rlpipe::algos
