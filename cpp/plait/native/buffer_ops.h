// Byte-level buffer operations behind plait._native.
//
// The core never throws and never aborts: every failure comes back as a Status, so the
// same functions serve the Python binding (which turns a bad Status into ValueError) and
// C++ callers (the C++ worker, tests) that do not use exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "plait/codec/status.h"

namespace plait::native {

// The one Status type of plait's C++ code (the codec's; see plait/codec/status.h).
using ::plait::Status;

// Copies src_size bytes from src into dst. The sizes must match exactly: a value written
// into a shared-memory slot that is larger or smaller than the slot is a caller bug, and
// truncating or padding silently would corrupt the object. Overlapping ranges are allowed
// (memmove semantics). Touches nothing but the two byte ranges, so callers may run it
// without holding the Python GIL.
Status CopyBuffer(const std::uint8_t* src, std::size_t src_size, std::uint8_t* dst,
                  std::size_t dst_size);

}  // namespace plait::native
