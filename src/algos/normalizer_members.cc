#include "algos/normalizer_members.h"

#include <stdexcept>

#include "core/error.h"

namespace rlpipe::algos {

std::map<std::string, std::string> NormalizerMembers(const vec::VecNormalizer& normalizer) {
  if (!normalizer.Enabled()) return {};
  return {{kNormalizerMember, vec::NormalizerStateToJson(normalizer.State())}};
}

std::optional<vec::NormalizerState> SavedNormalizerState(const checkpoint::LoadedModel& model,
                                                         const std::string& origin) {
  const auto it = model.extra_members.find(kNormalizerMember);
  if (it == model.extra_members.end()) return std::nullopt;
  return vec::NormalizerStateFromJson(it->second, origin);
}

std::string AdoptSavedNormalizer(const checkpoint::LoadedModel& model, const std::string& origin,
                                 const std::vector<int64_t>& obs_map,
                                 vec::VecNormalizer& normalizer) {
  const std::optional<vec::NormalizerState> saved = SavedNormalizerState(model, origin);
  // A model trained on normalised observations needs its statistics, and vice versa.
  if (!saved) {
    return normalizer.Enabled() ? origin + " has no normaliser statistics; they start afresh" : "";
  }
  if (!normalizer.Enabled()) {
    return origin + " was trained with training.normalize; this session does not normalise, " +
           "so its statistics are not used";
  }
  try {
    normalizer.AdoptStatistics(vec::RemapObservations(*saved, obs_map));
  } catch (const std::invalid_argument& e) {
    throw ConfigError("checkpoint " + origin + ": " + e.what());
  }
  return "normaliser statistics taken from " + origin;
}

void SaveNormalizer(const vec::VecNormalizer& normalizer, ByteWriter& writer) {
  writer.PutString(vec::NormalizerStateToJson(normalizer.State()));
}

void RestoreNormalizer(ByteReader& reader, const std::string& origin,
                       vec::VecNormalizer& normalizer) {
  const std::string text = reader.GetString();
  try {
    normalizer.Restore(vec::NormalizerStateFromJson(text, origin + " normaliser state"));
  } catch (const std::invalid_argument& e) {
    throw IoError(origin + ": normaliser state: " + e.what());
  }
}

}  // namespace rlpipe::algos
