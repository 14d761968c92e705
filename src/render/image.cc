#include "render/image.h"

#include <lodepng.h>

#include <array>
#include <string>
#include <system_error>

#include "render/render_error.h"

namespace rlpipe::render {

std::array<uint8_t, 3> Image::At(int x, int y) const {
  const size_t i =
      3 * (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x));
  return {rgb[i], rgb[i + 1], rgb[i + 2]};
}

void WritePng(const std::filesystem::path& path, const Image& image) {
  // Encode in memory, write under a temp name, then rename: no half-written PNG under `path`.
  std::vector<unsigned char> bytes;
  const unsigned error = lodepng::encode(bytes, image.rgb, static_cast<unsigned>(image.width),
                                         static_cast<unsigned>(image.height), LCT_RGB, 8);
  if (error != 0) {
    throw RenderError("render: cannot encode " + path.string() +
                      " as PNG: " + lodepng_error_text(error));
  }
  const std::filesystem::path temp = path.string() + ".partial";
  if (lodepng::save_file(bytes, temp.string()) != 0) {
    throw RenderError("render: cannot write " + path.string() + " (is the folder writable?)");
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw RenderError("render: cannot write " + path.string() + ": " + ec.message());
  }
}

Image ReadPng(const std::filesystem::path& path) {
  Image image;
  unsigned width = 0;
  unsigned height = 0;
  const unsigned error = lodepng::decode(image.rgb, width, height, path.string(), LCT_RGB, 8);
  if (error != 0) {
    throw RenderError("render: cannot read " + path.string() + ": " + lodepng_error_text(error));
  }
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  return image;
}

}  // namespace rlpipe::render
