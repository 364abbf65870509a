// Arrow parameters and results: std::shared_ptr<arrow::Table>, arrow::RecordBatch,
// arrow::Array (and its typed subclasses, e.g. arrow::DoubleArray) and arrow::ChunkedArray.
//
// An Arrow argument is read in place: its buffers point into the encoded object (shared
// memory for stored objects), nothing is copied. Requires linking Arrow C++ (the helper
// plait_add_library does, with pyarrow's libarrow).
#pragma once

#include <memory>
#include <type_traits>

#include <arrow/array.h>
#include <arrow/chunked_array.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>

#include "plait/codec/arrow.h"
#include "plait/convert.h"

namespace plait {

namespace internal {

template <typename T>
Status FromArrowValue(const Value& v, const std::string& name, Result<T> (*read)(const ArrowData&),
                      T* out) {
  const auto* data = v.get_if<ArrowData>();
  if (data == nullptr) return Mismatch(name, v);
  PLAIT_ASSIGN_OR_RETURN(*out, read(*data));
  return Status::OK();
}

template <typename T>
Result<Value> ToArrowValue(const T& obj) {
  PLAIT_ASSIGN_OR_RETURN(ArrowData data, WriteArrow(obj));
  return Value(std::move(data));
}

}  // namespace internal

template <>
struct Converter<std::shared_ptr<arrow::Table>> {
  static std::string Name() { return "Arrow table"; }
  static Status FromValue(const Value& v, std::shared_ptr<arrow::Table>* out) {
    return internal::FromArrowValue(v, Name(), &ReadArrowTable, out);
  }
  static Result<Value> ToValue(const std::shared_ptr<arrow::Table>& t) {
    return internal::ToArrowValue(t);
  }
};

template <>
struct Converter<std::shared_ptr<arrow::RecordBatch>> {
  static std::string Name() { return "Arrow record batch"; }
  static Status FromValue(const Value& v, std::shared_ptr<arrow::RecordBatch>* out) {
    return internal::FromArrowValue(v, Name(), &ReadArrowRecordBatch, out);
  }
  static Result<Value> ToValue(const std::shared_ptr<arrow::RecordBatch>& b) {
    return internal::ToArrowValue(b);
  }
};

template <>
struct Converter<std::shared_ptr<arrow::ChunkedArray>> {
  static std::string Name() { return "Arrow chunked array"; }
  static Status FromValue(const Value& v, std::shared_ptr<arrow::ChunkedArray>* out) {
    return internal::FromArrowValue(v, Name(), &ReadArrowChunkedArray, out);
  }
  static Result<Value> ToValue(const std::shared_ptr<arrow::ChunkedArray>& a) {
    return internal::ToArrowValue(a);
  }
};

// arrow::Array and its typed subclasses (std::shared_ptr<arrow::DoubleArray>, ...): the
// array's type must match the subclass.
template <typename A>
struct Converter<std::shared_ptr<A>, std::enable_if_t<std::is_base_of_v<arrow::Array, A>>> {
  static std::string Name() {
    if constexpr (std::is_same_v<A, arrow::Array>) {
      return "Arrow array";
    } else {
      return std::string("Arrow array of ") + A::TypeClass::type_name();
    }
  }
  static Status FromValue(const Value& v, std::shared_ptr<A>* out) {
    std::shared_ptr<arrow::Array> array;
    PLAIT_RETURN_NOT_OK(internal::FromArrowValue(v, Name(), &ReadArrowArray, &array));
    if constexpr (std::is_same_v<A, arrow::Array>) {
      *out = std::move(array);
    } else {
      if (array->type_id() != A::TypeClass::type_id) {
        return Status::TypeError("expected " + Name() + ", got an Arrow array of " +
                                 array->type()->ToString());
      }
      *out = std::static_pointer_cast<A>(array);
    }
    return Status::OK();
  }
  static Result<Value> ToValue(const std::shared_ptr<A>& a) {
    return internal::ToArrowValue(std::static_pointer_cast<arrow::Array>(a));
  }
};

}  // namespace plait
