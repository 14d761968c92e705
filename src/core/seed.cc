#include "core/seed.h"

namespace rlpipe {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// FNV-1a 64-bit hash of a byte string.
uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = kFnvOffset;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

}  // namespace

uint64_t Mix64(uint64_t x) {
  // SplitMix64: golden-ratio increment, then the xor-shift-multiply finaliser.
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t DeriveSeed(uint64_t parent, std::string_view label) {
  return Mix64(Mix64(parent) ^ Fnv1a64(label));
}

uint64_t DeriveSeed(uint64_t parent, uint64_t index) { return Mix64(Mix64(parent) ^ Mix64(index)); }

}  // namespace rlpipe
