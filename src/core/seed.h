#pragma once
/// Seed derivation: one root seed per pipeline, derived per session, env and sampler.
#include <cstdint>
#include <string_view>

namespace rlpipe {

/// SplitMix64 finaliser; good avalanche, used to derive independent streams.
uint64_t Mix64(uint64_t x);

/// Derives a child seed from a parent seed and a label (e.g. a session name) or an index.
uint64_t DeriveSeed(uint64_t parent, std::string_view label);
uint64_t DeriveSeed(uint64_t parent, uint64_t index);

}  // namespace rlpipe
