#include "core/byte_stream.h"

#include <sstream>

#include "core/error.h"

namespace rlpipe {

void ByteWriter::PutString(std::string_view text) {
  Put<uint64_t>(text.size());
  bytes_.append(text);
}

void ByteWriter::PutRng(const std::mt19937_64& rng) {
  std::ostringstream text;
  text << rng;
  PutString(text.str());
}

std::string ByteReader::GetString() {
  const auto size = Get<uint64_t>();
  if (size > bytes_.size() - pos_) Fail(size);
  return std::string(Take(size), size);
}

std::mt19937_64 ByteReader::GetRng() {
  std::istringstream text(GetString());
  std::mt19937_64 rng;
  text >> rng;
  if (text.fail()) throw IoError(origin_ + ": expected an mt19937_64 state, found garbage");
  return rng;
}

const char* ByteReader::Take(size_t count) {
  if (count > bytes_.size() - pos_) Fail(count);
  const char* at = bytes_.data() + pos_;
  pos_ += count;
  return at;
}

void ByteReader::Fail(size_t wanted) const {
  throw IoError(origin_ + ": expected " + std::to_string(wanted) + " more bytes at offset " +
                std::to_string(pos_) + ", found " + std::to_string(bytes_.size() - pos_) +
                " (truncated or from another version)");
}

void ByteReader::Finish() const {
  if (pos_ != bytes_.size()) {
    throw IoError(origin_ + ": expected the state to end at offset " + std::to_string(pos_) +
                  ", found " + std::to_string(bytes_.size() - pos_) + " more bytes");
  }
}

}  // namespace rlpipe
