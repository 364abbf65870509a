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

namespace plait::native {

class Status {
 public:
  enum class Code : std::uint8_t { kOk = 0, kInvalid = 1 };

  Status() = default;
  static Status OK() { return Status(); }
  static Status Invalid(std::string message) {
    return Status(Code::kInvalid, std::move(message));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Empty for an OK status.
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// Copies src_size bytes from src into dst. The sizes must match exactly: a value written
// into a shared-memory slot that is larger or smaller than the slot is a caller bug, and
// truncating or padding silently would corrupt the object. Overlapping ranges are allowed
// (memmove semantics). Touches nothing but the two byte ranges, so callers may run it
// without holding the Python GIL.
Status CopyBuffer(const std::uint8_t* src, std::size_t src_size, std::uint8_t* dst,
                  std::size_t dst_size);

}  // namespace plait::native
