#include "checkpoint/sb3_pickle.h"

#include <algorithm>
#include <cstring>

namespace rlpipe::checkpoint {
namespace {

// Pickle opcodes (Python's Lib/pickle.py names).
constexpr char kProto = '\x80';
constexpr char kStop = '.';
constexpr char kGlobal = 'c';
constexpr char kNone = 'N';
constexpr char kNewTrue = '\x88';
constexpr char kNewFalse = '\x89';
constexpr char kBinInt = 'J';
constexpr char kLong1 = '\x8a';
constexpr char kBinFloat = 'G';
constexpr char kBinUnicode = 'X';
constexpr char kMark = '(';
constexpr char kTuple = 't';
constexpr char kList = 'l';
constexpr char kDict = 'd';
constexpr char kReduce = 'R';

}  // namespace

PickleWriter::PickleWriter() {
  out_.push_back(kProto);
  out_.push_back('\x02');
}

PickleWriter& PickleWriter::Global(const std::string& module, const std::string& name) {
  out_ += kGlobal + module + '\n' + name + '\n';
  return *this;
}

PickleWriter& PickleWriter::None() {
  out_.push_back(kNone);
  return *this;
}

PickleWriter& PickleWriter::Bool(bool value) {
  out_.push_back(value ? kNewTrue : kNewFalse);
  return *this;
}

PickleWriter& PickleWriter::Int(int64_t value) {
  // BININT for 32-bit values, else LONG1 with 8 little-endian two's-complement bytes.
  const bool fits = value >= INT32_MIN && value <= INT32_MAX;
  out_.push_back(fits ? kBinInt : kLong1);
  if (!fits) out_.push_back('\x08');
  const auto bits = static_cast<uint64_t>(value);
  for (int i = 0; i < (fits ? 4 : 8); ++i)
    out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  return *this;
}

PickleWriter& PickleWriter::Float(double value) {
  // BINFLOAT: IEEE 754 double, big-endian.
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  out_.push_back(kBinFloat);
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  return *this;
}

PickleWriter& PickleWriter::String(const std::string& value) {
  const auto size = static_cast<uint32_t>(value.size());
  out_.push_back(kBinUnicode);
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  out_ += value;
  return *this;
}

PickleWriter& PickleWriter::Mark() {
  out_.push_back(kMark);
  return *this;
}

PickleWriter& PickleWriter::Tuple() {
  out_.push_back(kTuple);
  return *this;
}

PickleWriter& PickleWriter::List() {
  out_.push_back(kList);
  return *this;
}

PickleWriter& PickleWriter::Dict() {
  out_.push_back(kDict);
  return *this;
}

PickleWriter& PickleWriter::Reduce() {
  out_.push_back(kReduce);
  return *this;
}

std::string PickleWriter::Finish() {
  out_.push_back(kStop);
  return std::move(out_);
}

void PickleFloat32Array(PickleWriter& pickle, const std::vector<float>& values) {
  // numpy.array([v0, v1, ...], 'float32'); each float32 is exact as a Python float.
  pickle.Global("numpy", "array").Mark().Mark();
  for (const float v : values) pickle.Float(static_cast<double>(v));
  pickle.List().String("float32").Tuple().Reduce();
}

std::string BoxPickle(const std::vector<float>& low, const std::vector<float>& high) {
  // Box(low, high, None, numpy.float32): shape from the arrays, dtype float32.
  PickleWriter pickle;
  pickle.Global("gymnasium.spaces.box", "Box").Mark();
  PickleFloat32Array(pickle, low);
  PickleFloat32Array(pickle, high);
  pickle.None().Global("numpy", "float32").Tuple().Reduce();
  return pickle.Finish();
}

std::string ClassPickle(const std::string& module, const std::string& name) {
  PickleWriter pickle;
  pickle.Global(module, name);
  return pickle.Finish();
}

std::string Base64Encode(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  // Three bytes → four characters; '=' pads the last group.
  for (size_t at = 0; at < bytes.size(); at += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - at);
    uint32_t group = 0;
    for (size_t i = 0; i < 3; ++i) {
      const uint32_t byte = i < n ? static_cast<unsigned char>(bytes[at + i]) : 0;
      group |= byte << (16 - 8 * i);
    }
    for (size_t i = 0; i < 4; ++i) {
      out.push_back(i <= n ? kAlphabet[(group >> (18 - 6 * i)) & 0x3f] : '=');
    }
  }
  return out;
}

bool Base64Decode(const std::string& text, std::string& bytes) {
  bytes.clear();
  uint32_t group = 0;
  int bits = 0;
  // Six bits per character, a byte out whenever eight have gathered.
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (c == '=') break;
    if (c == '\n' || c == '\r' || c == ' ') continue;
    if (v < 0) return false;
    group = (group << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((group >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace rlpipe::checkpoint
