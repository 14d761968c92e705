#pragma once
/// Reading helpers shared by the config readers (internal to the config package).
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "config/tree.h"

namespace rlpipe::config {

/// ASCII lower case.
inline std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Case-insensitive choice of an enum value; the error lists the valid spellings. `fallback`
/// when the key is absent or null.
template <typename Enum>
Enum ReadChoice(MapReader& reader, const std::string& key, Enum fallback,
                const std::vector<std::pair<std::string, Enum>>& choices) {
  std::string text;
  reader.Get(key, &text);
  if (reader.node() == nullptr || reader.node()->Find(key) == nullptr ||
      reader.node()->Find(key)->IsNull()) {
    return fallback;
  }
  std::string valid;
  for (const auto& [name, value] : choices) {
    if (Lower(name) == Lower(text)) return value;
    valid += (valid.empty() ? "" : ", ") + name;
  }
  reader.Fail(key, "expected one of " + valid + " (any case); found '" + text + "'");
}

}  // namespace rlpipe::config
