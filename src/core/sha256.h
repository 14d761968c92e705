#pragma once
/// SHA-256 (FIPS 180-4) of a byte string, in plain C++ so `core` needs no crypto library: the
/// checkpoint manifest lists each member's digest. Not for secrets (no constant-time guarantees).
#include <string>
#include <string_view>

namespace rlpipe {

/// Lower-case hex digest (64 characters) of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace rlpipe
