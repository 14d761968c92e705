#pragma once
/// A tiny binary encoding for saved state (env states, training counters, the replay buffer):
/// little-endian host-order scalars and length-prefixed byte strings, read back with bounds checks.
/// Doubles and floats are copied bit for bit, so a round trip is exact.
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace rlpipe {

/// Appends values to a byte string.
class ByteWriter {
 public:
  /// One trivially copyable value (an integer, a float, a double), bit for bit.
  template <typename T>
  void Put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  /// A byte string with its length.
  void PutString(std::string_view text);
  /// A vector of trivially copyable values with its length.
  template <typename T>
  void PutVector(std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>);
    Put<uint64_t>(values.size());
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  }
  /// A random engine's whole state, in the standard's text form (exact).
  void PutRng(const std::mt19937_64& rng);
  const std::string& bytes() const { return bytes_; }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

/// Reads what a ByteWriter wrote, in the same order. Throws IoError naming `origin` when the
/// bytes end early or when Finish() finds bytes left over. Does not own the bytes: they must
/// outlive the reader.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, std::string origin)
      : bytes_(bytes), origin_(std::move(origin)) {}

  template <typename T>
  T Get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, Take(sizeof(T)), sizeof(T));
    return value;
  }
  std::string GetString();
  template <typename T>
  std::vector<T> GetVector() {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto count = Get<uint64_t>();
    if (count > (bytes_.size() - pos_) / sizeof(T)) Fail(count * sizeof(T));
    std::vector<T> values(count);
    std::memcpy(values.data(), Take(count * sizeof(T)), count * sizeof(T));
    return values;
  }
  /// A random engine PutRng wrote; IoError when the text is not an engine state.
  std::mt19937_64 GetRng();
  /// Throws unless every byte was read.
  void Finish() const;

 private:
  const char* Take(size_t count);
  [[noreturn]] void Fail(size_t wanted) const;

  std::string_view bytes_;
  std::string origin_;
  size_t pos_ = 0;
};

}  // namespace rlpipe
