// A small msgpack writer and reader, just what the object format needs.
//
// Why not msgpack-cxx: the format needs one canonical byte form per value (golden
// vectors compare bytes), zero-copy views of str/bin/ext data into the input, strict
// rejection (trailing bytes, truncation, depth) reported as Status rather than
// exceptions, and no extra dependency for users building C++ libraries. All of that is a
// few hundred lines here, against working around a general library's choices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plait/codec/status.h"

namespace plait::msgpack {

// Appends values in the canonical encoding of docs/object-format.md: smallest forms,
// uint family for every non-negative integer, float64 always. Lengths must fit in 32
// bits (the encoder checks before calling).
class Writer {
 public:
  void Nil() { Put(0xc0); }
  void Bool(bool v) { Put(v ? 0xc3 : 0xc2); }
  void Int(std::int64_t v);
  void UInt(std::uint64_t v);
  void Double(double v);
  void Str(std::string_view s);
  void Bin(const std::uint8_t* data, std::size_t size);
  void ArrayHeader(std::uint32_t n);
  void MapHeader(std::uint32_t n);
  void ExtHeader(std::int8_t type, std::uint32_t size);
  void Raw(const void* data, std::size_t size) {
    buffer_.append(static_cast<const char*>(data), size);
  }

  std::string& buffer() { return buffer_; }
  std::size_t size() const { return buffer_.size(); }

 private:
  void Put(std::uint8_t b) { buffer_.push_back(static_cast<char>(b)); }
  void PutBE(std::uint64_t v, int bytes);

  std::string buffer_;
};

// One token of a msgpack stream. Arrays and maps are headers: their `count` items
// (2 * count for maps) follow as the next tokens.
struct Item {
  enum class Type : std::uint8_t { kNil, kBool, kInt, kUInt, kFloat, kStr, kBin, kArray, kMap, kExt };
  Type type = Type::kNil;
  bool b = false;
  std::int64_t i = 0;   // kInt: a negative integer, or a non-negative one sent as intN
  std::uint64_t u = 0;  // kUInt
  double f = 0;         // kFloat (float32 widened)
  const std::uint8_t* data = nullptr;  // kStr, kBin, kExt: a view into the input
  std::size_t size = 0;                // kStr, kBin, kExt: bytes; kArray, kMap: items
  std::int8_t ext_type = 0;
};

// Reads tokens from a byte range without copying; every read is bounds-checked.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), end_(data + size) {}

  Status Next(Item* out);
  bool AtEnd() const { return data_ == end_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - data_); }

 private:
  Status Take(std::size_t n, const std::uint8_t** out);
  Status ReadBE(int bytes, std::uint64_t* out);
  Status Span(std::size_t n, Item* out);

  const std::uint8_t* data_;
  const std::uint8_t* end_;
};

}  // namespace plait::msgpack
