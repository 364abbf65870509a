// UTF-8 validation: the format's strings MUST be valid UTF-8, in both directions.
#pragma once

#include <cstddef>

namespace plait {

// True when data[0, size) is well-formed UTF-8 (no overlong forms, no surrogates, no
// code points above U+10FFFF).
bool IsValidUtf8(const char* data, std::size_t size);

}  // namespace plait
