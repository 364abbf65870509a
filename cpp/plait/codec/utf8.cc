#include "plait/codec/utf8.h"

#include <cstdint>

namespace plait {

bool IsValidUtf8(const char* data, std::size_t size) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(data);
  std::size_t i = 0;
  while (i < size) {
    const std::uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    std::uint32_t cp;
    std::uint32_t min;
    if ((c & 0xe0) == 0xc0) {
      n = 1; cp = c & 0x1f; min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2; cp = c & 0x0f; min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3; cp = c & 0x07; min = 0x10000;
    } else {
      return false;
    }
    if (size - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace plait
