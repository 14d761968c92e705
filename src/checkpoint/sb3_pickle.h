#pragma once
/// Small protocol-2 pickles written byte by byte (no Python) for the serialized entries of SB3's
/// `data` member: the policy class, gymnasium Box spaces and policy_kwargs.
#include <cstdint>
#include <string>
#include <vector>

namespace rlpipe::checkpoint {

/// Appends pickle opcodes to a byte string. Callers build values in pickle's stack order, e.g.
/// Global + Tuple(args) + Reduce() for `callable(*args)`. Start() writes PROTO 2, Finish() STOP.
class PickleWriter {
 public:
  PickleWriter();
  /// GLOBAL `module name` (a class or function reference).
  PickleWriter& Global(const std::string& module, const std::string& name);
  PickleWriter& None();
  PickleWriter& Bool(bool value);
  PickleWriter& Int(int64_t value);
  PickleWriter& Float(double value);
  /// A str (BINUNICODE, UTF-8).
  PickleWriter& String(const std::string& value);
  /// MARK, pushed before the items of Tuple(), List() and Dict().
  PickleWriter& Mark();
  /// The items since the last Mark() as a tuple / list / dict (key, value, key, value, ...).
  PickleWriter& Tuple();
  PickleWriter& List();
  PickleWriter& Dict();
  /// REDUCE: pops args tuple and callable, pushes callable(*args).
  PickleWriter& Reduce();
  /// The pickle bytes (adds STOP).
  std::string Finish();

 private:
  std::string out_;
};

/// `numpy.array([values...], 'float32')` as REDUCE.
void PickleFloat32Array(PickleWriter& pickle, const std::vector<float>& values);

/// `gymnasium.spaces.box.Box(low, high, None, numpy.float32)`, a complete pickle.
std::string BoxPickle(const std::vector<float>& low, const std::vector<float>& high);

/// A complete pickle of the class `module.name` (SB3's `policy_class`).
std::string ClassPickle(const std::string& module, const std::string& name);

/// Standard base64 (RFC 4648, with padding), as SB3's `:serialized:` entries hold.
std::string Base64Encode(const std::string& bytes);

/// Decodes standard base64 (padding optional, whitespace skipped); false on any other character.
bool Base64Decode(const std::string& text, std::string& bytes);

}  // namespace rlpipe::checkpoint
