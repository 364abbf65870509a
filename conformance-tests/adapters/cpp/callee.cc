// The C++ callee of the conformance suite: the functions and the actor class every
// language's adapter registers under the same names (docs/conformance.md, "Callee").
//
//   plait.cpp_function("echo").remote(x)
//   plait.cpp_actor_class("Counter").remote(10)
#include <arrow/api.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "plait/plait.h"

namespace {

using plait::Value;

// How long the functions that wait on the runtime wait (as the other adapters do).
constexpr double kGetTimeoutS = 60;

// Two's-complement wrap-around instead of undefined behaviour on overflow (as Java).
std::int64_t WrappingAdd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

// A Get that treats an Error value as the failure it reports.
Value GetOrThrow(const plait::ObjectRef<>& ref) {
  Value v = plait::Get(ref, kGetTimeoutS);
  if (const auto* e = v.get_if<plait::ErrorInfo>()) throw plait::Exception(*e);
  return v;
}

Value capabilities() {
  return Value(plait::Map{
      {Value("language"), Value("cpp")},
      // C++ functions take positional arguments only (the SDK refuses keywords).
      {Value("kwargs"), Value(false)},
      // The C++ codec refuses Python pickles (docs/object-format.md).
      {Value("python_only_values"), Value(false)},
      // plait::Value holds 2^63 ... 2^64-1 as uint64 and encodes them back unchanged.
      {Value("uint64"), Value(true)},
      // C++ reads a Tuple ext as an array and writes arrays (docs/object-format.md, ext 7).
      {Value("tuples"), Value(false)},
      // What a thrown std::runtime_error is named by (its dynamic type, demangled).
      {Value("error_type"), Value("std::runtime_error")},
  });
}
PLAIT_REMOTE(capabilities);

// Decoded by the C++ codec, encoded again by it.
Value echo(Value x) { return x; }
PLAIT_REMOTE(echo);

// Typed: the SDK refuses anything but int64 arguments (plait::TypeError).
std::int64_t add(std::int64_t a, std::int64_t b) { return WrappingAdd(a, b); }
PLAIT_REMOTE(add);

std::string concat(std::string a, std::string b) { return a + b; }
PLAIT_REMOTE(concat);

[[noreturn]] void fail(std::string message) { throw std::runtime_error(message); }
PLAIT_REMOTE(fail);

std::int64_t sleep_ms(std::int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
PLAIT_REMOTE(sleep_ms);

std::int64_t sum_list(std::vector<std::int64_t> xs) {
  std::int64_t total = 0;
  for (std::int64_t x : xs) total = WrappingAdd(total, x);
  return total;
}
PLAIT_REMOTE(sum_list);

// xs[0] is a ref nested in a list (so the runtime did not resolve it): get it here.
Value get_first(plait::Array xs) {
  if (xs.empty()) throw std::invalid_argument("get_first: xs is empty");
  const auto* ref = xs[0].get_if<plait::ObjectRefData>();
  if (ref == nullptr) {
    throw std::invalid_argument("get_first: xs[0] must be an ObjectRef, got " + xs[0].TypeName());
  }
  return GetOrThrow(plait::ObjectRef<>(*ref));
}
PLAIT_REMOTE(get_first);

plait::ObjectRef<> put_value(Value x) { return plait::Put(x); }
PLAIT_REMOTE(put_value);

// The handle may be of an actor of any language.
std::int64_t call_actor_add(plait::ActorHandle handle, std::int64_t k) {
  return plait::Get(handle.Task<std::int64_t>("add", k).Remote(), kGetTimeoutS);
}
PLAIT_REMOTE(call_actor_add);

// --- Arrow and tensors: read in place ----------------------------------------------------

template <typename ArrayType>
double SumChunk(const arrow::Array& chunk) {
  const auto& typed = static_cast<const ArrayType&>(chunk);
  double total = 0;
  for (std::int64_t i = 0; i < typed.length(); ++i) {
    if (!typed.IsNull(i)) total += static_cast<double>(typed.Value(i));
  }
  return total;
}

double SumArrowChunk(const arrow::Array& chunk, const std::string& column) {
  switch (chunk.type_id()) {
    case arrow::Type::INT8: return SumChunk<arrow::Int8Array>(chunk);
    case arrow::Type::INT16: return SumChunk<arrow::Int16Array>(chunk);
    case arrow::Type::INT32: return SumChunk<arrow::Int32Array>(chunk);
    case arrow::Type::INT64: return SumChunk<arrow::Int64Array>(chunk);
    case arrow::Type::UINT8: return SumChunk<arrow::UInt8Array>(chunk);
    case arrow::Type::UINT16: return SumChunk<arrow::UInt16Array>(chunk);
    case arrow::Type::UINT32: return SumChunk<arrow::UInt32Array>(chunk);
    case arrow::Type::UINT64: return SumChunk<arrow::UInt64Array>(chunk);
    case arrow::Type::FLOAT: return SumChunk<arrow::FloatArray>(chunk);
    case arrow::Type::DOUBLE: return SumChunk<arrow::DoubleArray>(chunk);
    default:
      throw std::invalid_argument("table_sum: column '" + column + "' is " +
                                  chunk.type()->ToString() + ", not numeric");
  }
}

double table_sum(std::shared_ptr<arrow::Table> table, std::string column) {
  auto col = table->GetColumnByName(column);
  if (col == nullptr) {
    throw std::out_of_range("table_sum: no column '" + column + "' in " +
                            table->schema()->ToString());
  }
  double total = 0;
  for (const auto& chunk : col->chunks()) total += SumArrowChunk(*chunk, column);
  return total;
}
PLAIT_REMOTE(table_sum);

// Elements may be unaligned (an object that came in a message): read them with memcpy.
template <typename T>
double SumElements(const plait::Tensor& t) {
  double total = 0;
  const std::uint8_t* p = t.bytes();
  for (std::uint64_t i = 0; i < t.size(); ++i) {
    T x;
    std::memcpy(&x, p + i * sizeof(T), sizeof(T));
    total += static_cast<double>(x);
  }
  return total;
}

double tensor_sum(plait::Tensor t) {
  switch (t.dtype()) {
    case plait::DType::kInt8: return SumElements<std::int8_t>(t);
    case plait::DType::kInt16: return SumElements<std::int16_t>(t);
    case plait::DType::kInt32: return SumElements<std::int32_t>(t);
    case plait::DType::kInt64: return SumElements<std::int64_t>(t);
    case plait::DType::kUInt8: return SumElements<std::uint8_t>(t);
    case plait::DType::kUInt16: return SumElements<std::uint16_t>(t);
    case plait::DType::kUInt32: return SumElements<std::uint32_t>(t);
    case plait::DType::kUInt64: return SumElements<std::uint64_t>(t);
    case plait::DType::kFloat32: return SumElements<float>(t);
    case plait::DType::kFloat64: return SumElements<double>(t);
    default:
      throw std::invalid_argument(std::string("tensor_sum: cannot sum a ") +
                                  plait::DTypeName(t.dtype()) + " tensor");
  }
}
PLAIT_REMOTE(tensor_sum);

// --- the codec, for the golden vectors -----------------------------------------------------

// Decodes b with the C++ codec and encodes the value again: the bytes the C++ codec
// writes for what it read. A refusal (plait::Refused: a Python pickle) or a rejection
// (plait::Invalid: malformed bytes) fails the call with the codec's message.
plait::Result<plait::Binary> codec_roundtrip(plait::Binary b) {
  // The decoded value may point into b (tensors, Arrow data) until it is encoded again.
  PLAIT_ASSIGN_OR_RETURN(Value decoded, plait::Decode(plait::BufferView{b.data(), b.size(), nullptr}));
  PLAIT_ASSIGN_OR_RETURN(plait::EncodedObject encoded, plait::Encode(decoded));
  return encoded.ToBytes();
}
PLAIT_REMOTE(codec_roundtrip);

// --- the actor ------------------------------------------------------------------------------

class Counter {
 public:
  explicit Counter(std::int64_t start) : total_(start) {}
  std::int64_t add(std::int64_t k) { return total_ = WrappingAdd(total_, k); }
  std::int64_t get() const { return total_; }
  Value echo(Value x) const { return x; }
  // The actor stays alive: the SDK turns the exception into the call's error.
  void fail(std::string message) const { throw std::runtime_error(message); }

 private:
  std::int64_t total_;
};
PLAIT_ACTOR(Counter, PLAIT_CTOR(std::int64_t), PLAIT_METHOD(add), PLAIT_METHOD(get),
            PLAIT_METHOD(echo), PLAIT_METHOD(fail));

}  // namespace
