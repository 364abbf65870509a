// Constants of the object format (docs/object-format.md is normative; the Python codec's
// python/plait/_format/_constants.py holds the same numbers).
#pragma once

#include <cstddef>
#include <cstdint>

namespace plait::format {

inline constexpr std::uint8_t kMagic[4] = {'P', 'L', 'A', 'I'};
inline constexpr std::uint8_t kVersion = 1;
// magic, version, flags, reserved u16, payload_length u64, buffer_count u64 (LE).
inline constexpr std::size_t kHeaderSize = 24;
// Buffer table entry: offset u64, length u64 (LE).
inline constexpr std::size_t kBufferEntrySize = 16;
inline constexpr std::size_t kAlignment = 64;

inline constexpr std::uint8_t kFlagHasObjectRefs = 0x01;
inline constexpr std::uint8_t kFlagHasPythonOnly = 0x02;

inline constexpr std::int8_t kExtObjectRef = 1;
inline constexpr std::int8_t kExtActorHandle = 2;
inline constexpr std::int8_t kExtArrow = 3;
inline constexpr std::int8_t kExtTensor = 4;
inline constexpr std::int8_t kExtError = 5;
inline constexpr std::int8_t kExtPythonPickle = 6;
inline constexpr std::int8_t kExtTuple = 7;

constexpr std::uint64_t Align(std::uint64_t offset) {
  return (offset + kAlignment - 1) & ~static_cast<std::uint64_t>(kAlignment - 1);
}

}  // namespace plait::format
