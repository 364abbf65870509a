// plait::Tensor: an n-dimensional array passed in place.
//
// A Tensor argument points straight into the encoded object (shared memory for stored
// objects) and is read-only; keeping it (e.g. in actor state) keeps that memory alive.
// A Tensor built from a std::vector owns its data, for returning results.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "plait/codec/value.h"

namespace plait {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(TensorData data) : data_(std::move(data)) {}

  // An owning tensor; shape {} means a 1-D tensor of values.size() elements.
  template <typename T>
  static Tensor FromVector(std::vector<T> values, std::vector<std::uint64_t> shape = {}) {
    static_assert(DTypeOf<T>().has_value() && !std::is_same_v<T, bool>,
                  "Tensor element type must be a fixed-size number");
    if (shape.empty()) shape.push_back(values.size());
    auto holder = std::make_shared<std::vector<T>>(std::move(values));
    TensorData data;
    data.dtype = *DTypeOf<T>();
    data.shape = std::move(shape);
    data.data.data = reinterpret_cast<const std::uint8_t*>(holder->data());
    data.data.size = holder->size() * sizeof(T);
    data.data.owner = std::move(holder);
    return Tensor(std::move(data));
  }

  DType dtype() const { return data_.dtype; }
  const std::vector<std::uint64_t>& shape() const { return data_.shape; }
  std::uint64_t size() const { return data_.NumElements(); }
  std::size_t nbytes() const { return data_.data.size; }
  const std::uint8_t* bytes() const { return data_.data.data; }

  template <typename T>
  bool is() const {
    return DTypeOf<T>() == data_.dtype;
  }
  // The elements as T, or null when the dtype is not T's. The format is little-endian
  // and so are the machines plait runs on; data may be unaligned when the object came
  // from a message rather than the store, so prefer memcpy for wide loads there.
  template <typename T>
  const T* data() const {
    return is<T>() ? reinterpret_cast<const T*>(data_.data.data) : nullptr;
  }

  const TensorData& raw() const { return data_; }

 private:
  TensorData data_;
};

}  // namespace plait
