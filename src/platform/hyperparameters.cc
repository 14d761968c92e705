#include "platform/hyperparameters.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "storage/crypto.h"

namespace rlpipe::platform {
namespace {

constexpr char kFormat[] = "rlpipe_format";
constexpr char kPipeline[] = "rlpipe_pipeline";
constexpr char kSession[] = "rlpipe_session";
constexpr char kSessionIndex[] = "rlpipe_session_index";
constexpr char kSeed[] = "rlpipe_seed";
constexpr char kRunUri[] = "rlpipe_run_uri";
constexpr char kInputCheckpoint[] = "rlpipe_input_checkpoint";
constexpr char kTransfer[] = "rlpipe_transfer";
constexpr char kSaveAll[] = "rlpipe_save_all_checkpoints";
constexpr char kMinReward[] = "rlpipe_min_reward";
constexpr char kMinEpisodes[] = "rlpipe_min_episodes";
constexpr char kConfigBytes[] = "rlpipe_config_bytes";
constexpr char kConfigSha[] = "rlpipe_config_sha256";
constexpr char kConfigChunks[] = "rlpipe_config_chunks";
constexpr char kConfigChunkPrefix[] = "rlpipe_config_";
constexpr char kFormatVersion[] = "1";

/// Inverse of Base64Encode; false on a character outside the alphabet or bad padding.
bool Base64Decode(const std::string& text, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return false;
  out->clear();
  for (size_t i = 0; i < text.size(); i += 4) {
    // Four characters carry three bytes; '=' pads the last group.
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') return false;
    uint32_t bits = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      const int v = (j >= 4 - pad) ? 0 : value(c);
      if (v < 0) return false;
      bits = (bits << 6) | static_cast<uint32_t>(v);
    }
    out->push_back(static_cast<char>((bits >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((bits >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(bits & 0xff));
  }
  return true;
}

/// Shortest decimal text that reads back as the same double.
std::string FormatDouble(double value) {
  char buffer[64];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

/// Reads the `rlpipe_*` keys of hyperparameters.json with errors naming origin and key.
class Reader {
 public:
  Reader(const nlohmann::json& json, const std::string& origin) : json_(json), origin_(origin) {
    if (!json_.is_object()) Fail("", "expected a JSON object of string values");
  }

  [[noreturn]] void Fail(const std::string& key, const std::string& message) const {
    throw ConfigError(origin_ + ": " + (key.empty() ? "" : key + ": ") + message);
  }
  bool Has(const std::string& key) const { return json_.contains(key); }

  std::string String(const std::string& key) const {
    if (!json_.contains(key)) Fail(key, "missing (written by rlpipe when it submits the job)");
    const nlohmann::json& value = json_.at(key);
    if (!value.is_string()) Fail(key, "expected a string, found " + value.dump());
    return value.get<std::string>();
  }

  uint64_t Unsigned(const std::string& key, uint64_t max) const {
    const std::string text = String(key);
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) {
      Fail(key, "expected an integer in 0.." + std::to_string(max) + ", found \"" + text + "\"");
    }
    return value;
  }

  double Double(const std::string& key) const {
    const std::string text = String(key);
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(value)) {
      Fail(key, "expected a finite number, found \"" + text + "\"");
    }
    return value;
  }

  bool Bool(const std::string& key) const {
    const std::string text = String(key);
    if (text == "true") return true;
    if (text == "false") return false;
    Fail(key, "expected \"true\" or \"false\", found \"" + text + "\"");
  }

 private:
  const nlohmann::json& json_;
  const std::string& origin_;
};

/// True for a key Encode writes (chunk keys only below `chunks`).
bool IsKnownKey(const std::string& key, uint64_t chunks) {
  for (const char* known :
       {kFormat, kPipeline, kSession, kSessionIndex, kSeed, kRunUri, kInputCheckpoint, kTransfer,
        kSaveAll, kMinReward, kMinEpisodes, kConfigBytes, kConfigSha, kConfigChunks}) {
    if (key == known) return true;
  }
  for (uint64_t i = 0; i < chunks; ++i) {
    if (key == kConfigChunkPrefix + std::to_string(i)) return true;
  }
  return false;
}

}  // namespace

std::map<std::string, std::string> EncodeHyperParameters(const SessionJobInput& input) {
  std::map<std::string, std::string> out;
  // Identity of the session and where its run lives.
  out[kFormat] = kFormatVersion;
  out[kPipeline] = input.pipeline_name;
  out[kSession] = input.session_name;
  out[kSessionIndex] = std::to_string(input.session_index);
  out[kSeed] = std::to_string(input.seed);
  out[kRunUri] = input.run_uri;
  if (!input.input_checkpoint_uri.empty()) out[kInputCheckpoint] = input.input_checkpoint_uri;
  if (!input.transfer_json.empty()) out[kTransfer] = input.transfer_json;
  out[kSaveAll] = input.save_all_checkpoints ? "true" : "false";
  if (input.min_reward) out[kMinReward] = FormatDouble(*input.min_reward);
  if (input.min_episodes) out[kMinEpisodes] = std::to_string(*input.min_episodes);
  for (const auto& [key, value] : input.overrides) out[kOverrideHyperParameterPrefix + key] = value;

  // The resolved config in base64 chunks, with its length and digest to check the reassembly.
  const std::string& yaml = input.resolved_config_yaml;
  const size_t chunks = (yaml.size() + kConfigChunkBytes - 1) / kConfigChunkBytes;
  out[kConfigBytes] = std::to_string(yaml.size());
  out[kConfigSha] = HexEncode(Sha256(yaml));
  out[kConfigChunks] = std::to_string(chunks);
  if (out.size() + chunks > kMaxHyperParameters) {
    throw ConfigError("session '" + input.session_name + "': its resolved config (" +
                      std::to_string(yaml.size()) + " bytes) does not fit in SageMaker's " +
                      std::to_string(kMaxHyperParameters) + " hyperparameters (at most " +
                      std::to_string((kMaxHyperParameters - out.size()) * kConfigChunkBytes) +
                      " bytes)");
  }
  for (size_t i = 0; i < chunks; ++i) {
    out[kConfigChunkPrefix + std::to_string(i)] =
        Base64Encode(std::string_view(yaml).substr(i * kConfigChunkBytes, kConfigChunkBytes));
  }

  // Every other value must respect AWS's length limit too (names, URIs).
  for (const auto& [key, value] : out) {
    if (value.size() > kMaxHyperParameterValue) {
      throw ConfigError("session '" + input.session_name + "': hyperparameter " + key + " is " +
                        std::to_string(value.size()) + " characters, SageMaker allows " +
                        std::to_string(kMaxHyperParameterValue));
    }
  }
  return out;
}

SessionJobInput DecodeHyperParameters(const nlohmann::json& hyperparameters_json,
                                      const std::string& origin) {
  const Reader reader(hyperparameters_json, origin);
  SessionJobInput input;
  // The format first: a newer rlpipe may have written keys this one does not know.
  const std::string format = reader.String(kFormat);
  if (format != kFormatVersion) {
    reader.Fail(kFormat, "this rlpipe reads format " + std::string(kFormatVersion) + ", found \"" +
                             format + "\" (container and submitting rlpipe differ in version)");
  }
  input.pipeline_name = reader.String(kPipeline);
  input.session_name = reader.String(kSession);
  input.session_index = static_cast<int>(reader.Unsigned(kSessionIndex, 1'000'000));
  input.seed = reader.Unsigned(kSeed, UINT64_MAX);
  input.run_uri = reader.String(kRunUri);
  if (reader.Has(kInputCheckpoint)) input.input_checkpoint_uri = reader.String(kInputCheckpoint);
  if (reader.Has(kTransfer)) input.transfer_json = reader.String(kTransfer);
  input.save_all_checkpoints = reader.Bool(kSaveAll);
  if (reader.Has(kMinReward)) input.min_reward = reader.Double(kMinReward);
  if (reader.Has(kMinEpisodes)) {
    input.min_episodes = static_cast<int64_t>(reader.Unsigned(kMinEpisodes, INT64_MAX));
  }

  // Reassemble the config and check it against its length and SHA-256.
  const uint64_t bytes = reader.Unsigned(kConfigBytes, kMaxHyperParameters * kConfigChunkBytes);
  const uint64_t chunks = reader.Unsigned(kConfigChunks, kMaxHyperParameters);
  const std::string sha = reader.String(kConfigSha);
  std::string yaml;
  for (uint64_t i = 0; i < chunks; ++i) {
    const std::string key = kConfigChunkPrefix + std::to_string(i);
    std::string decoded;
    if (!Base64Decode(reader.String(key), &decoded)) reader.Fail(key, "not valid base64");
    yaml += decoded;
  }
  if (yaml.size() != bytes) {
    reader.Fail(kConfigBytes, "the " + std::to_string(chunks) + " config chunks hold " +
                                  std::to_string(yaml.size()) + " bytes, expected " +
                                  std::to_string(bytes) + " (a chunk is missing or truncated)");
  }
  if (HexEncode(Sha256(yaml)) != sha) {
    reader.Fail(kConfigSha, "the reassembled config does not match its SHA-256 (chunks corrupted)");
  }
  input.resolved_config_yaml = std::move(yaml);

  // Overrides (a tuning job's values), then: any other rlpipe_ key is a mistake (a hand-edited
  // job or a version mismatch).
  const std::string override_prefix = kOverrideHyperParameterPrefix;
  for (const auto& [key, value] : hyperparameters_json.items()) {
    if (key.rfind(override_prefix, 0) == 0 && key.size() > override_prefix.size()) {
      input.overrides[key.substr(override_prefix.size())] = reader.String(key);
    }
  }
  for (const auto& [key, value] : hyperparameters_json.items()) {
    if (key.rfind("rlpipe_", 0) != 0 || IsKnownKey(key, chunks)) continue;
    if (key.rfind(override_prefix, 0) == 0 && key.size() > override_prefix.size()) continue;
    reader.Fail(key, "unknown rlpipe hyperparameter");
  }
  return input;
}

}  // namespace rlpipe::platform
