// Encode(): a plait::Value into the object format.
//
// The result is not laid out yet: TotalSize() says how many bytes it needs and WriteTo()
// writes header, payload and each out-of-band buffer straight into the destination
// (shared memory, a Python bytes object), so tensor and Arrow data is copied exactly once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "plait/codec/status.h"
#include "plait/codec/value.h"

namespace plait {

class EncodedObject {
 public:
  std::size_t TotalSize() const { return total_size_; }
  std::uint8_t flags() const { return flags_; }
  // Every ObjectRef encoded, in encounter order (the runtime counts them).
  const std::vector<ObjectRefData>& contained_refs() const { return refs_; }

  // Writes the whole object into dest[0, TotalSize()); Invalid if dest_size is smaller.
  Status WriteTo(std::uint8_t* dest, std::size_t dest_size) const;
  std::vector<std::uint8_t> ToBytes() const;

 private:
  friend Result<EncodedObject> Encode(const Value& value);

  std::string head_;  // header, buffer table and payload: contiguous in the object
  std::vector<BufferView> buffers_;
  std::vector<std::uint64_t> offsets_;
  std::vector<ObjectRefData> refs_;
  std::uint8_t flags_ = 0;
  std::size_t total_size_ = 0;
};

// Fails (Invalid) on values with no encoding: a PythonOnly placeholder, a string that is
// not UTF-8, a tensor whose byte size does not match its shape, nesting deeper than 512
// or sizes beyond the format's 32-bit lengths.
Result<EncodedObject> Encode(const Value& value);

}  // namespace plait
