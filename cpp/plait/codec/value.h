// plait::Value: one value of the object format (docs/object-format.md) in C++.
//
// A Value is what the decoder produces and the encoder consumes; the SDK converts it to
// and from ordinary C++ types (plait/convert.h). Out-of-band data (tensors, Arrow IPC
// streams) is held as a BufferView: a pointer into memory someone else owns plus a
// shared_ptr that keeps that memory alive, so a decoded tensor points straight into the
// input buffer (shared memory, a Python bytes object) without a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "plait/codec/format_constants.h"

namespace plait {

// Bytes owned elsewhere. `owner` keeps them alive (null when the caller guarantees the
// lifetime, e.g. a buffer that outlives every Value made from it).
struct BufferView {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::shared_ptr<const void> owner;

  // A view over bytes that the view itself owns (a copy), for values built in C++.
  static BufferView Copy(const void* data, std::size_t size);
  static BufferView Own(std::vector<std::uint8_t> bytes);
};

class Value;
using Array = std::vector<Value>;
// Ordered entries with keys of any type: the encoder writes them in this order.
using Map = std::vector<std::pair<Value, Value>>;
using Binary = std::vector<std::uint8_t>;

// Where an object's owner (a core worker) listens. Ids are raw bytes in std::string.
struct OwnerAddress {
  std::string node_id;  // hex
  std::string ip;
  std::uint64_t port = 0;
  std::string worker_id;  // raw bytes (16 in plait)
};

// ext 1. `object_id` holds raw bytes (20 in plait).
struct ObjectRefData {
  std::string object_id;
  OwnerAddress owner;
};

// ext 2: the handle's state, passed through unchanged.
struct ActorHandleData {
  Map state;
};

// ArrowKind and DType are generated from proto/object_format.json (format_constants.h).
const char* ArrowKindName(ArrowKind kind);  // "table", "record_batch", ...
std::optional<ArrowKind> ParseArrowKind(std::string_view name);

// ext 3: an Arrow IPC stream, read in place by plait/codec/arrow.h.
struct ArrowData {
  ArrowKind kind = ArrowKind::kTable;
  BufferView ipc;
};

const char* DTypeName(DType dtype);  // numpy's names: "float64", ...
std::size_t DTypeSize(DType dtype);
std::optional<DType> ParseDType(std::string_view name);

// The DType of a C++ element type, for typed access to tensors.
template <typename T>
constexpr std::optional<DType> DTypeOf() {
  if constexpr (std::is_same_v<T, bool>) return DType::kBool;
  else if constexpr (std::is_same_v<T, std::int8_t>) return DType::kInt8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return DType::kInt16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::kInt32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::kInt64;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::kUInt8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return DType::kUInt16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return DType::kUInt32;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return DType::kUInt64;
  else if constexpr (std::is_same_v<T, float>) return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>) return DType::kFloat64;
  else return std::nullopt;
}

// ext 4: elements in C order, little-endian, exactly NumElements() * itemsize bytes.
struct TensorData {
  DType dtype = DType::kFloat64;
  std::vector<std::uint64_t> shape;  // {} is a scalar (one element)
  BufferView data;

  std::uint64_t NumElements() const;
};

// ext 5: a failure as a value.
struct ErrorInfo {
  std::string type_name;
  std::string message;
  std::string language;
  std::string stack;
  std::shared_ptr<const ErrorInfo> cause;
  std::optional<Binary> python_pickle;  // opaque to C++, kept so it round-trips
};

// ext 6, only when decoding with DecodeOptions::keep_python_only: a placeholder that
// names the Python type. Converting or encoding it fails with a message naming the type.
struct PythonOnly {
  std::string python_type;
};

class Value {
 public:
  enum class Kind : std::uint8_t {
    kNil, kBool, kInt, kUInt, kFloat, kString, kBinary, kArray, kMap,
    kObjectRef, kActorHandle, kArrow, kTensor, kError, kPythonOnly,
  };
  // Alternatives in Kind order. Integers in the int64 range are always kInt; kUInt holds
  // only 2^63 ... 2^64-1, so each integer has one representation.
  using Storage = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double,
                               std::string, Binary, Array, Map, ObjectRefData,
                               ActorHandleData, ArrowData, TensorData, ErrorInfo,
                               PythonOnly>;

  Value() = default;
  Value(std::nullptr_t) {}  // NOLINT
  Value(bool v) : storage_(v) {}  // NOLINT
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                             !std::is_same_v<T, char>,
                                         int> = 0>
  Value(T v) {  // NOLINT
    if constexpr (std::is_signed_v<T>) {
      storage_ = static_cast<std::int64_t>(v);
    } else if (static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(INT64_MAX)) {
      storage_ = static_cast<std::int64_t>(v);
    } else {
      storage_ = static_cast<std::uint64_t>(v);
    }
  }
  Value(double v) : storage_(v) {}  // NOLINT
  Value(float v) : storage_(static_cast<double>(v)) {}  // NOLINT
  Value(const char* v) : storage_(std::string(v)) {}  // NOLINT
  Value(std::string v) : storage_(std::move(v)) {}  // NOLINT
  Value(std::string_view v) : storage_(std::string(v)) {}  // NOLINT
  Value(Binary v) : storage_(std::move(v)) {}  // NOLINT
  Value(Array v) : storage_(std::move(v)) {}  // NOLINT
  Value(Map v) : storage_(std::move(v)) {}  // NOLINT
  Value(ObjectRefData v) : storage_(std::move(v)) {}  // NOLINT
  Value(ActorHandleData v) : storage_(std::move(v)) {}  // NOLINT
  Value(ArrowData v) : storage_(std::move(v)) {}  // NOLINT
  Value(TensorData v) : storage_(std::move(v)) {}  // NOLINT
  Value(ErrorInfo v) : storage_(std::move(v)) {}  // NOLINT
  Value(PythonOnly v) : storage_(std::move(v)) {}  // NOLINT

  Kind kind() const { return static_cast<Kind>(storage_.index()); }
  bool is_nil() const { return kind() == Kind::kNil; }
  const Storage& storage() const { return storage_; }
  Storage& storage() { return storage_; }

  // The alternative if the value holds a T, else null.
  template <typename T>
  const T* get_if() const { return std::get_if<T>(&storage_); }
  template <typename T>
  T* get_if() { return std::get_if<T>(&storage_); }

  // What the value is, for error messages: "int64", "string", "Arrow table",
  // "float64 tensor", "Python-only value of type 'builtins.set'", ...
  std::string TypeName() const;

  // Deep equality. Floats compare by bits (so NaN == NaN and -0.0 != 0.0); tensors and
  // Arrow data by their bytes.
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  // A readable rendering for test failures (not a stable format).
  std::string DebugString() const;

 private:
  Storage storage_;
};

bool operator==(const ErrorInfo& a, const ErrorInfo& b);
bool operator==(const ObjectRefData& a, const ObjectRefData& b);
bool operator==(const ActorHandleData& a, const ActorHandleData& b);
bool operator==(const ArrowData& a, const ArrowData& b);    // kind and bytes
bool operator==(const TensorData& a, const TensorData& b);  // dtype, shape and bytes
bool operator==(const PythonOnly& a, const PythonOnly& b);

// "cannot read a Python-only value of type 'builtins.set' in C++": the refusal message
// the spec asks for, shared by the decoder and the SDK's conversions.
std::string PythonOnlyMessage(const std::string& python_type);

}  // namespace plait
