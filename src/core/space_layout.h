#pragma once
/// The named parts of an observation or action vector, so that weights can move between tasks
/// whose vectors differ (another robot count, another task block) part by part.
#include <string>
#include <vector>

namespace rlpipe {

/// A run of consecutive values of a vector, e.g. {"bar_robot[2]", 29} or
/// {"task:height_maximize", 2}. Equal names mean the same content.
struct SpaceBlock {
  std::string name;
  int size = 0;
};

/// Blocks in vector order; empty when the layout is unknown.
using SpaceLayout = std::vector<SpaceBlock>;

/// Sum of the block sizes.
inline int LayoutSize(const SpaceLayout& layout) {
  int size = 0;
  for (const SpaceBlock& block : layout) size += block.size;
  return size;
}

}  // namespace rlpipe
