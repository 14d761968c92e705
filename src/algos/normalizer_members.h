#pragma once
/// The observation normaliser in model archives (transfer) and in the training state (exact
/// resume).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "core/byte_stream.h"
#include "vec/normalizer.h"

namespace rlpipe::algos {

/// The archive member holding the normaliser state (hex-float JSON, exact round trip).
inline constexpr const char* kNormalizerMember = "rlpipe_normalizer.json";
/// The extra archive members that carry `normalizer` (none when it is disabled).
std::map<std::string, std::string> NormalizerMembers(const vec::VecNormalizer& normalizer);
/// The normaliser state saved in `model`, if any.
std::optional<vec::NormalizerState> SavedNormalizerState(const checkpoint::LoadedModel& model,
                                                         const std::string& origin);
/// A session starting from `model`: its normaliser statistics are taken over when this session
/// normalises, observation column i from saved column obs_map[i] (-1: fresh); returns a line
/// saying what happened (empty when there is nothing to say).
std::string AdoptSavedNormalizer(const checkpoint::LoadedModel& model, const std::string& origin,
                                 const std::vector<int64_t>& obs_map,
                                 vec::VecNormalizer& normalizer);

/// Exact resume: the normaliser's full state (hex-float JSON) into the training state, and back
/// (IoError naming `origin` when it does not fit this session's normaliser).
void SaveNormalizer(const vec::VecNormalizer& normalizer, ByteWriter& writer);
void RestoreNormalizer(ByteReader& reader, const std::string& origin,
                       vec::VecNormalizer& normalizer);

}  // namespace rlpipe::algos
