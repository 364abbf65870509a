// Registering C++ functions and actor classes so plait can call them.
//
//   double saxpy(double a, std::vector<double> x, std::vector<double> y);
//   PLAIT_REMOTE(saxpy);                       // callable as plait.cpp_function("saxpy")
//
//   class Counter {
//    public:
//     explicit Counter(int64_t start);
//     int64_t add(int64_t n);
//     int64_t get() const;
//   };
//   PLAIT_ACTOR(Counter, PLAIT_CTOR(int64_t), PLAIT_METHOD(add), PLAIT_METHOD(get));
//
// Arguments are converted with plait::Converter (plait/convert.h); a wrong count or type
// fails the call with a clear message ("saxpy expects 3 arguments, got 2", "argument 2 of
// saxpy: expected array of float64, got string"). A C++ exception thrown by the function
// becomes the task's error, named by its C++ type (e.g. std::invalid_argument); so does a
// failed plait::Result<T> or plait::Status it returns, named by its code
// (plait::Refused, plait::Invalid, ...). For num_returns > 1 a function returns a
// std::tuple (or a vector) of that many values.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "plait/codec/status.h"
#include "plait/codec/value.h"
#include "plait/convert.h"

namespace plait::internal {

// A registered callable on decoded arguments.
using FunctionBody = std::function<Result<Value>(std::vector<Value>& args)>;
using MethodBody = std::function<Result<Value>(void* self, std::vector<Value>& args)>;
using CtorBody = std::function<Result<void*>(std::vector<Value>& args)>;

struct FunctionEntry {
  std::string name;
  FunctionBody body;
};

struct MethodEntry {
  std::string qualified_name;  // "Counter.add"
  MethodBody body;
};

struct ClassEntry {
  std::string name;
  std::vector<std::pair<std::size_t, CtorBody>> ctors;  // by arity
  std::function<void(void*)> destroy;
  std::vector<std::pair<std::string, MethodEntry>> methods;
};

// Adds to the library's registry (called during static initialization, on dlopen).
bool RegisterFunction(FunctionEntry entry);
bool RegisterClass(ClassEntry entry);

std::string Plural(std::size_t n, const char* word);

// Converts args into a tuple of the parameter types, naming the failing argument.
template <typename Tuple, std::size_t... I>
Status ConvertArgs(const std::string& name, std::vector<Value>& args, Tuple& out,
                   std::index_sequence<I...>) {
  Status st;
  ((st.ok()
        ? (st = Converter<std::tuple_element_t<I, Tuple>>::FromValue(args[I], &std::get<I>(out))
                    .WithContext("argument " + std::to_string(I + 1) + " of " + name))
        : st),
   ...);
  return st;
}

inline Status CheckArity(const std::string& name, std::size_t expected, std::size_t got) {
  if (expected == got) return Status::OK();
  return Status::TypeError(name + " expects " + Plural(expected, "argument") + ", got " +
                           std::to_string(got));
}

template <typename T>
struct ResultOf : std::false_type {};
template <typename T>
struct ResultOf<Result<T>> : std::true_type {
  using type = T;
};

// Calls fn with the converted arguments: by-value parameters get theirs moved in,
// reference parameters bind to the tuple's elements. A returned Result or Status that
// failed is the call's failure.
template <typename R, typename Call>
Result<Value> ReturnOf(Call&& call) {
  if constexpr (std::is_void_v<R>) {
    call();
    return Value();
  } else if constexpr (std::is_same_v<std::decay_t<R>, Status>) {
    Status st = call();
    if (!st.ok()) return st;
    return Value();
  } else if constexpr (ResultOf<std::decay_t<R>>::value) {
    auto result = call();
    if (!result.ok()) return result.status();
    return Converter<typename ResultOf<std::decay_t<R>>::type>::ToValue(*result);
  } else {
    return Converter<std::decay_t<R>>::ToValue(call());
  }
}

template <typename R, typename... A>
FunctionBody MakeFunctionBody(std::string name, R (*fn)(A...)) {
  return [name = std::move(name), fn](std::vector<Value>& args) -> Result<Value> {
    PLAIT_RETURN_NOT_OK(CheckArity(name, sizeof...(A), args.size()));
    std::tuple<std::decay_t<A>...> converted;
    PLAIT_RETURN_NOT_OK(ConvertArgs(name, args, converted, std::index_sequence_for<A...>()));
    return std::apply(
        [&](auto&... a) { return ReturnOf<R>([&] { return fn(static_cast<A&&>(a)...); }); },
        converted);
  };
}

template <typename C, typename R, typename... A>
MethodBody MakeMethodBody(std::string name, R (C::*method)(A...)) {
  return [name = std::move(name), method](void* self, std::vector<Value>& args) -> Result<Value> {
    PLAIT_RETURN_NOT_OK(CheckArity(name, sizeof...(A), args.size()));
    std::tuple<std::decay_t<A>...> converted;
    PLAIT_RETURN_NOT_OK(ConvertArgs(name, args, converted, std::index_sequence_for<A...>()));
    C* obj = static_cast<C*>(self);
    return std::apply(
        [&](auto&... a) {
          return ReturnOf<R>([&] { return (obj->*method)(static_cast<A&&>(a)...); });
        },
        converted);
  };
}

template <typename C, typename R, typename... A>
MethodBody MakeMethodBody(std::string name, R (C::*method)(A...) const) {
  return [name = std::move(name), method](void* self, std::vector<Value>& args) -> Result<Value> {
    PLAIT_RETURN_NOT_OK(CheckArity(name, sizeof...(A), args.size()));
    std::tuple<std::decay_t<A>...> converted;
    PLAIT_RETURN_NOT_OK(ConvertArgs(name, args, converted, std::index_sequence_for<A...>()));
    const C* obj = static_cast<const C*>(self);
    return std::apply(
        [&](auto&... a) {
          return ReturnOf<R>([&] { return (obj->*method)(static_cast<A&&>(a)...); });
        },
        converted);
  };
}

template <typename R, typename... A>
bool RegisterFunctionPtr(const char* name, R (*fn)(A...)) {
  return RegisterFunction(FunctionEntry{name, MakeFunctionBody(name, fn)});
}

// PLAIT_CTOR(Args...): a constructor taking these parameter types.
template <typename... A>
struct Ctor {};

template <typename C>
struct TypeTag {
  using type = C;
};

// What a PLAIT_METHOD(name) expands to: given the class, the method's name and body.
template <typename F>
struct MethodSpec {
  const char* name;
  F make;  // make(TypeTag<C>) -> member function pointer
};

template <typename F>
MethodSpec<F> MakeMethodSpec(const char* name, F make) {
  return MethodSpec<F>{name, make};
}

template <typename C>
class ClassBuilder {
 public:
  explicit ClassBuilder(const char* name) { entry_.name = name; }

  template <typename... A>
  void Add(Ctor<A...>) {
    std::string qualified = entry_.name;
    entry_.ctors.emplace_back(
        sizeof...(A), [qualified](std::vector<Value>& args) -> Result<void*> {
          std::tuple<std::decay_t<A>...> converted;
          PLAIT_RETURN_NOT_OK(
              ConvertArgs(qualified, args, converted, std::index_sequence_for<A...>()));
          return std::apply(
              [&](auto&... a) -> void* { return new C(static_cast<A&&>(a)...); }, converted);
        });
  }

  template <typename F>
  void Add(MethodSpec<F> spec) {
    std::string qualified = entry_.name + "." + spec.name;
    auto method = spec.make(TypeTag<C>{});
    entry_.methods.emplace_back(spec.name,
                                MethodEntry{qualified, MakeMethodBody<C>(qualified, method)});
  }

  bool Register() {
    if (entry_.ctors.empty()) {
      if constexpr (std::is_default_constructible_v<C>) Add(Ctor<>{});
    }
    entry_.destroy = [](void* self) { delete static_cast<C*>(self); };
    return RegisterClass(std::move(entry_));
  }

 private:
  ClassEntry entry_;
};

template <typename C, typename... Specs>
bool RegisterActorClass(const char* name, Specs... specs) {
  ClassBuilder<C> builder(name);
  (builder.Add(specs), ...);
  return builder.Register();
}

}  // namespace plait::internal

// Registers a free function under its own name.
#define PLAIT_REMOTE(fn)                                                        \
  [[maybe_unused]] static const bool PLAIT_CONCAT_(plait_registered_, __LINE__) = \
      ::plait::internal::RegisterFunctionPtr(#fn, &fn)

// Registers a free function under another name (e.g. a namespaced one).
#define PLAIT_REMOTE_AS(name, fn)                                               \
  [[maybe_unused]] static const bool PLAIT_CONCAT_(plait_registered_, __LINE__) = \
      ::plait::internal::RegisterFunctionPtr(name, &fn)

#define PLAIT_CTOR(...) ::plait::internal::Ctor<__VA_ARGS__>{}

#define PLAIT_METHOD(m)                                     \
  ::plait::internal::MakeMethodSpec(#m, [](auto tag) {      \
    using PlaitClass = typename decltype(tag)::type;        \
    return &PlaitClass::m;                                  \
  })

// Registers an actor class: PLAIT_ACTOR(Counter, PLAIT_CTOR(int64_t), PLAIT_METHOD(add)).
// Without PLAIT_CTOR the class must be default-constructible.
#define PLAIT_ACTOR(cls, ...)                                                   \
  [[maybe_unused]] static const bool PLAIT_CONCAT_(plait_registered_, __LINE__) = \
      ::plait::internal::RegisterActorClass<cls>(#cls, ##__VA_ARGS__)
