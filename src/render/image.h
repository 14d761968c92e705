#pragma once
/// RGB frames and PNG files (lodepng, the PNG codec MuJoCo itself links).
#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace rlpipe::render {

/// An 8-bit RGB image, rows top to bottom: pixel (x, y) at rgb[3 * (y * width + x)].
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // [height, width, 3]

  /// The colour of pixel (x, y) as {r, g, b}.
  std::array<uint8_t, 3> At(int x, int y) const;
};

/// Writes `image` as a PNG atomically (a temp name, renamed on success). Throws RenderError
/// naming the path when it cannot be written.
void WritePng(const std::filesystem::path& path, const Image& image);

/// Reads an 8-bit RGB PNG. Throws RenderError naming the path.
Image ReadPng(const std::filesystem::path& path);

}  // namespace rlpipe::render
