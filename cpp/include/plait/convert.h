// Typed conversion between plait::Value and C++ types.
//
// Converter<T> says how a T is read from a Value (FromValue) and written as one
// (ToValue), and how it is named in error messages (Name). Specialize it to pass your
// own types. Built in:
//
//   Value, bool, every integer type (range-checked), float/double (ints widen), std::string,
//   std::vector<uint8_t> (binary), std::vector<T> (array, or a 1-D tensor of T),
//   std::map / std::unordered_map (map), std::optional<T> (nil or T), std::pair,
//   std::tuple (array of exactly that many items), plait::Tensor, plait::ErrorInfo and the
//   raw ext structs; Arrow tables/batches/arrays with plait/arrow.h; ObjectRef<T> and
//   ActorHandle with plait/api.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plait/codec/status.h"
#include "plait/codec/value.h"
#include "plait/tensor.h"

namespace plait {

template <typename T, typename Enable = void>
struct Converter {
  static_assert(sizeof(T) == 0,
                "no plait::Converter for this type: specialize plait::Converter<T>");
};

template <typename T>
Status FromValue(const Value& v, T* out) {
  return Converter<T>::FromValue(v, out);
}
template <typename T>
Result<Value> ToValue(const T& v) {
  return Converter<T>::ToValue(v);
}
template <typename T>
std::string TypeNameOf() {
  return Converter<T>::Name();
}

namespace internal {

// "expected int64, got string"; a Python-only value refuses, naming its Python type.
inline Status Mismatch(const std::string& expected, const Value& got) {
  if (const auto* p = got.get_if<PythonOnly>()) {
    return Status::Refused(PythonOnlyMessage(p->python_type));
  }
  return Status::TypeError("expected " + expected + ", got " + got.TypeName());
}

template <typename T>
constexpr const char* IntName() {
  if constexpr (std::is_signed_v<T>) {
    return sizeof(T) == 1 ? "int8" : sizeof(T) == 2 ? "int16" : sizeof(T) == 4 ? "int32" : "int64";
  } else {
    return sizeof(T) == 1 ? "uint8"
           : sizeof(T) == 2 ? "uint16"
           : sizeof(T) == 4 ? "uint32"
                            : "uint64";
  }
}

}  // namespace internal

template <>
struct Converter<Value> {
  static std::string Name() { return "any value"; }
  static Status FromValue(const Value& v, Value* out) {
    if (const auto* p = v.get_if<PythonOnly>()) {
      return Status::Refused(PythonOnlyMessage(p->python_type));
    }
    *out = v;
    return Status::OK();
  }
  static Result<Value> ToValue(const Value& v) { return v; }
};

template <>
struct Converter<bool> {
  static std::string Name() { return "bool"; }
  static Status FromValue(const Value& v, bool* out) {
    const bool* b = v.get_if<bool>();
    if (b == nullptr) return internal::Mismatch(Name(), v);
    *out = *b;
    return Status::OK();
  }
  static Result<Value> ToValue(bool v) { return Value(v); }
};

template <typename T>
struct Converter<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static std::string Name() { return internal::IntName<T>(); }
  static Status FromValue(const Value& v, T* out) {
    if (const auto* i = v.get_if<std::int64_t>()) {
      bool fits = std::is_signed_v<T>
                      ? (*i >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                         *i <= static_cast<std::int64_t>(std::numeric_limits<T>::max()))
                      : (*i >= 0 && static_cast<std::uint64_t>(*i) <=
                                        static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
      if (!fits) return OutOfRange(std::to_string(*i));
      *out = static_cast<T>(*i);
      return Status::OK();
    }
    if (const auto* u = v.get_if<std::uint64_t>()) {  // only values above int64's range
      if (!std::is_same_v<T, std::uint64_t> && !(std::is_unsigned_v<T> && sizeof(T) == 8)) {
        return OutOfRange(std::to_string(*u));
      }
      *out = static_cast<T>(*u);
      return Status::OK();
    }
    return internal::Mismatch(Name(), v);
  }
  static Result<Value> ToValue(T v) { return Value(v); }

 private:
  static Status OutOfRange(const std::string& shown) {
    return Status::TypeError("expected " + Name() + ", got " + shown + " (out of range)");
  }
};

template <typename T>
struct Converter<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static std::string Name() { return sizeof(T) == 4 ? "float32" : "float64"; }
  // Integers widen (a Python caller writes 2 for 2.0); no narrowing checks for float.
  static Status FromValue(const Value& v, T* out) {
    if (const auto* d = v.get_if<double>()) {
      *out = static_cast<T>(*d);
    } else if (const auto* i = v.get_if<std::int64_t>()) {
      *out = static_cast<T>(*i);
    } else if (const auto* u = v.get_if<std::uint64_t>()) {
      *out = static_cast<T>(*u);
    } else {
      return internal::Mismatch(Name(), v);
    }
    return Status::OK();
  }
  static Result<Value> ToValue(T v) { return Value(static_cast<double>(v)); }
};

template <>
struct Converter<std::string> {
  static std::string Name() { return "string"; }
  static Status FromValue(const Value& v, std::string* out) {
    const auto* s = v.get_if<std::string>();
    if (s == nullptr) return internal::Mismatch(Name(), v);
    *out = *s;
    return Status::OK();
  }
  static Result<Value> ToValue(const std::string& v) { return Value(v); }
};

template <>
struct Converter<Binary> {
  static std::string Name() { return "binary"; }
  static Status FromValue(const Value& v, Binary* out) {
    const auto* b = v.get_if<Binary>();
    if (b == nullptr) return internal::Mismatch(Name(), v);
    *out = *b;
    return Status::OK();
  }
  static Result<Value> ToValue(const Binary& v) { return Value(v); }
};

template <typename T>
struct Converter<std::vector<T>, std::enable_if_t<!std::is_same_v<T, std::uint8_t>>> {
  static std::string Name() { return "array of " + TypeNameOf<T>(); }
  static Status FromValue(const Value& v, std::vector<T>* out) {
    if (const auto* items = v.get_if<Array>()) {
      out->clear();
      out->reserve(items->size());
      for (std::size_t i = 0; i < items->size(); ++i) {
        T item{};
        PLAIT_RETURN_NOT_OK(Converter<T>::FromValue((*items)[i], &item)
                                .WithContext("item " + std::to_string(i)));
        out->push_back(std::move(item));
      }
      return Status::OK();
    }
    if constexpr (DTypeOf<T>().has_value() && !std::is_same_v<T, bool>) {
      // A 1-D numpy array of the same element type (copied).
      if (const auto* t = v.get_if<TensorData>()) {
        if (t->dtype != *DTypeOf<T>() || t->shape.size() != 1) {
          return Status::TypeError("expected " + Name() + " or a 1-D " + DTypeName(*DTypeOf<T>()) +
                                   " tensor, got a " + std::to_string(t->shape.size()) + "-D " +
                                   DTypeName(t->dtype) + " tensor");
        }
        out->resize(static_cast<std::size_t>(t->shape[0]));
        if (!out->empty()) std::memcpy(out->data(), t->data.data, t->data.size);
        return Status::OK();
      }
    }
    return internal::Mismatch(Name(), v);
  }
  static Result<Value> ToValue(const std::vector<T>& v) {
    Array items;
    items.reserve(v.size());
    for (const auto& item : v) {
      PLAIT_ASSIGN_OR_RETURN(Value converted, Converter<T>::ToValue(item));
      items.push_back(std::move(converted));
    }
    return Value(std::move(items));
  }
};

namespace internal {

template <typename M>
struct MapConverter {
  using K = typename M::key_type;
  using V = typename M::mapped_type;
  static std::string Name() { return "map of " + TypeNameOf<K>() + " to " + TypeNameOf<V>(); }
  static Status FromValue(const Value& v, M* out) {
    const auto* entries = v.get_if<Map>();
    if (entries == nullptr) return Mismatch(Name(), v);
    out->clear();
    for (const auto& [key, item] : *entries) {
      K k{};
      V val{};
      PLAIT_RETURN_NOT_OK(Converter<K>::FromValue(key, &k).WithContext("map key"));
      PLAIT_RETURN_NOT_OK(
          Converter<V>::FromValue(item, &val).WithContext("map value of " + key.DebugString()));
      (*out)[std::move(k)] = std::move(val);
    }
    return Status::OK();
  }
  static Result<Value> ToValue(const M& m) {
    Map entries;
    entries.reserve(m.size());
    for (const auto& [key, item] : m) {
      PLAIT_ASSIGN_OR_RETURN(Value k, Converter<K>::ToValue(key));
      PLAIT_ASSIGN_OR_RETURN(Value val, Converter<V>::ToValue(item));
      entries.emplace_back(std::move(k), std::move(val));
    }
    return Value(std::move(entries));
  }
};

}  // namespace internal

template <typename K, typename V, typename C, typename A>
struct Converter<std::map<K, V, C, A>> : internal::MapConverter<std::map<K, V, C, A>> {};
template <typename K, typename V, typename H, typename E, typename A>
struct Converter<std::unordered_map<K, V, H, E, A>>
    : internal::MapConverter<std::unordered_map<K, V, H, E, A>> {};

template <typename T>
struct Converter<std::optional<T>> {
  static std::string Name() { return TypeNameOf<T>() + " or nil"; }
  static Status FromValue(const Value& v, std::optional<T>* out) {
    if (v.is_nil()) {
      out->reset();
      return Status::OK();
    }
    T item{};
    PLAIT_RETURN_NOT_OK(Converter<T>::FromValue(v, &item));
    *out = std::move(item);
    return Status::OK();
  }
  static Result<Value> ToValue(const std::optional<T>& v) {
    if (!v) return Value();
    return Converter<T>::ToValue(*v);
  }
};

template <typename... T>
struct Converter<std::tuple<T...>> {
  static std::string Name() {
    std::string out = "array of " + std::to_string(sizeof...(T)) + " (";
    const char* sep = "";
    ((out += sep, out += TypeNameOf<T>(), sep = ", "), ...);
    return out + ")";
  }
  static Status FromValue(const Value& v, std::tuple<T...>* out) {
    const auto* items = v.get_if<Array>();
    if (items == nullptr || items->size() != sizeof...(T)) {
      if (items != nullptr) {
        return Status::TypeError("expected " + Name() + ", got an array of " +
                                 std::to_string(items->size()));
      }
      return internal::Mismatch(Name(), v);
    }
    return FromItems(*items, out, std::index_sequence_for<T...>());
  }
  static Result<Value> ToValue(const std::tuple<T...>& t) {
    return ToItems(t, std::index_sequence_for<T...>());
  }

 private:
  template <std::size_t... I>
  static Status FromItems(const Array& items, std::tuple<T...>* out, std::index_sequence<I...>) {
    Status st;
    ((st.ok() ? (st = Converter<T>::FromValue(items[I], &std::get<I>(*out))
                          .WithContext("item " + std::to_string(I)))
              : st),
     ...);
    return st;
  }
  template <std::size_t... I>
  static Result<Value> ToItems(const std::tuple<T...>& t, std::index_sequence<I...>) {
    Array items;
    Status st;
    auto add = [&](auto&& item, auto* tag) {
      using Item = std::remove_pointer_t<decltype(tag)>;
      if (!st.ok()) return;
      auto converted = Converter<Item>::ToValue(item);
      if (!converted.ok()) {
        st = converted.status();
        return;
      }
      items.push_back(std::move(*converted));
    };
    (add(std::get<I>(t), static_cast<T*>(nullptr)), ...);
    if (!st.ok()) return st;
    return Value(std::move(items));
  }
};

template <typename A, typename B>
struct Converter<std::pair<A, B>> {
  static std::string Name() { return Converter<std::tuple<A, B>>::Name(); }
  static Status FromValue(const Value& v, std::pair<A, B>* out) {
    std::tuple<A, B> t;
    PLAIT_RETURN_NOT_OK(Converter<std::tuple<A, B>>::FromValue(v, &t));
    *out = {std::move(std::get<0>(t)), std::move(std::get<1>(t))};
    return Status::OK();
  }
  static Result<Value> ToValue(const std::pair<A, B>& p) {
    return Converter<std::tuple<A, B>>::ToValue(std::tuple<A, B>(p.first, p.second));
  }
};

// The ext structs pass through as they are.
template <typename T>
struct RawConverter {
  static Status FromValue(const Value& v, T* out) {
    const T* p = v.get_if<T>();
    if (p == nullptr) return internal::Mismatch(Converter<T>::Name(), v);
    *out = *p;
    return Status::OK();
  }
  static Result<Value> ToValue(const T& v) { return Value(v); }
};
template <>
struct Converter<ErrorInfo> : RawConverter<ErrorInfo> {
  static std::string Name() { return "Error"; }
};
template <>
struct Converter<TensorData> : RawConverter<TensorData> {
  static std::string Name() { return "tensor"; }
};
template <>
struct Converter<ArrowData> : RawConverter<ArrowData> {
  static std::string Name() { return "Arrow data"; }
};
template <>
struct Converter<ObjectRefData> : RawConverter<ObjectRefData> {
  static std::string Name() { return "ObjectRef"; }
};
template <>
struct Converter<ActorHandleData> : RawConverter<ActorHandleData> {
  static std::string Name() { return "ActorHandle"; }
};

template <>
struct Converter<Tensor> {
  static std::string Name() { return "tensor"; }
  static Status FromValue(const Value& v, Tensor* out) {
    const auto* t = v.get_if<TensorData>();
    if (t == nullptr) return internal::Mismatch(Name(), v);
    *out = Tensor(*t);
    return Status::OK();
  }
  static Result<Value> ToValue(const Tensor& t) { return Value(t.raw()); }
};

}  // namespace plait
