// Calling back into plait from C++ task code: objects (Put/Get), tasks and actors of any
// language.
//
//   auto ref = plait::Task(plait::PyFunction<int64_t>("mymod", "add"), 1, 2).Remote();
//   int64_t three = plait::Get(ref);
//   auto counter = plait::Actor(plait::JavaActorClass("com.example.Counter")).Remote();
//   plait::ObjectRef<int64_t> r = counter.Task<int64_t>("increment", 5).Remote();
//
// These go through the host API table (plait/abi.h) the worker handed the library when
// it loaded it. Each call has a Try... form returning Result<...>; the short forms throw
// plait::Exception, which a registered function may simply let escape: the task then
// fails with that error. A failure the runtime reports (a remote task's error, a Get
// that timed out) keeps its Error: Status::error_info(), plait::Exception::error().
//
// Arguments known only at run time, and keyword arguments (for Python and Java callees;
// C++ functions take positional arguments only):
//
//   plait::Task(plait::PyFunction("mymod", "f")).AddArgs(values).AddKwarg("k", 2).Remote();
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plait/codec/status.h"
#include "plait/codec/value.h"
#include "plait/convert.h"

namespace plait {

// A failure from the runtime or a remote task, as an exception. error() is the remote
// Error as reported (its type name, language, message and stack) when the runtime
// reported one, else the SDK's own ("plait::HostError", ... with language "cpp").
class Exception : public std::runtime_error {
 public:
  explicit Exception(ErrorInfo error)
      : std::runtime_error(error.type_name + ": " + error.message), error_(std::move(error)) {}
  const ErrorInfo& error() const { return error_; }

 private:
  ErrorInfo error_;
};

// Throws plait::Exception for a failed status: the runtime's Error when the status keeps
// one (Status::error_info()), else type name "plait::<code>" and the status's message.
void ThrowIfError(const Status& status);

template <typename T>
T ValueOrThrow(Result<T> result) {
  ThrowIfError(result.status());
  return std::move(*result);
}

namespace internal {

// One host hold on a ref (plait_host_api_t.hold_refs): released when the last copy of
// the returned pointer goes. Null without a host.
std::shared_ptr<const void> HoldRef(const ObjectRefData& ref);
// Takes over a hold the host already placed (a ref it handed out).
std::shared_ptr<const void> AdoptRef(const ObjectRefData& ref);
// Drops one hold per ref, in one host call.
void ReleaseRefs(const std::vector<ObjectRefData>& refs);

struct HeldRef {
  ObjectRefData data;
  std::shared_ptr<const void> hold;
};

}  // namespace internal

// A reference to an object that holds (or will hold) a T. While any copy of it lives,
// the hosting worker keeps the object alive.
template <typename T = Value>
class ObjectRef {
 public:
  ObjectRef() = default;
  explicit ObjectRef(ObjectRefData data) : data_(std::move(data)), hold_(internal::HoldRef(data_)) {}
  explicit ObjectRef(internal::HeldRef held) : data_(std::move(held.data)), hold_(std::move(held.hold)) {}
  const ObjectRefData& data() const { return data_; }
  std::string Hex() const;
  template <typename U>
  ObjectRef<U> As() const {
    return ObjectRef<U>(internal::HeldRef{data_, hold_});
  }

 private:
  ObjectRefData data_;
  std::shared_ptr<const void> hold_;
};

template <typename T>
std::string ObjectRef<T>::Hex() const {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : data_.object_id) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

template <typename T>
struct Converter<ObjectRef<T>> {
  static std::string Name() { return "ObjectRef"; }
  static Status FromValue(const Value& v, ObjectRef<T>* out) {
    const auto* ref = v.get_if<ObjectRefData>();
    if (ref == nullptr) return internal::Mismatch(Name(), v);
    *out = ObjectRef<T>(*ref);
    return Status::OK();
  }
  static Result<Value> ToValue(const ObjectRef<T>& ref) { return Value(ref.data()); }
};

// What to call: a function of some language, named as that language names it.
struct FunctionRef {
  std::string language;                 // "python", "java", "cpp"
  std::vector<std::string> name_parts;  // see plait_task_t.name_parts
};

template <typename R = Value>
struct RemoteFunction : FunctionRef {};

template <typename R = Value>
RemoteFunction<R> PyFunction(std::string module, std::string qualname) {
  return {{"python", {std::move(module), std::move(qualname)}}};
}
template <typename R = Value>
RemoteFunction<R> JavaFunction(std::string class_name, std::string method) {
  return {{"java", {std::move(class_name), std::move(method)}}};
}
template <typename R = Value>
RemoteFunction<R> CppFunction(std::string name) {
  return {{"cpp", {std::move(name)}}};
}

struct ActorClassRef : FunctionRef {};
inline ActorClassRef PyActorClass(std::string module, std::string qualname) {
  return {{"python", {std::move(module), std::move(qualname)}}};
}
inline ActorClassRef JavaActorClass(std::string class_name) {
  return {{"java", {std::move(class_name)}}};
}
inline ActorClassRef CppActorClass(std::string name) { return {{"cpp", {std::move(name)}}}; }

namespace internal {

// A failed status that keeps the runtime's Error (type, language, message, stack).
inline Status RemoteError(const ErrorInfo& error) {
  return Status::HostError(error.type_name + ": " + error.message,
                           std::make_shared<const ErrorInfo>(error));
}

// Keyword arguments of a call, in order; the host passes them after the positional ones.
struct Kwargs {
  std::vector<std::string> names;
  Array values;

  // Converts `value`; a failure is recorded in *args, so the call fails with it.
  template <typename T>
  void Add(std::string name, const T& value, Result<Array>* args) {
    if (!args->ok()) return;
    auto v = Converter<T>::ToValue(value);
    if (!v.ok()) {
      *args = v.status().WithContext("keyword argument '" + name + "'");
      return;
    }
    names.push_back(std::move(name));
    values.push_back(std::move(*v));
  }
};

// Appends values to *args unless it already failed.
inline void AppendArgs(Result<Array>* args, const Array& more) {
  if (args->ok()) (*args)->insert((*args)->end(), more.begin(), more.end());
}

template <typename... A>
Result<Array> ArgValues(A&&... args) {
  Array out;
  Status st;
  auto add = [&](auto&& arg) {
    if (!st.ok()) return;
    auto v = Converter<std::decay_t<decltype(arg)>>::ToValue(arg);
    if (!v.ok()) {
      st = v.status().WithContext("argument " + std::to_string(out.size() + 1));
      return;
    }
    out.push_back(std::move(*v));
  };
  (add(std::forward<A>(args)), ...);
  (void)add;  // unused when there are no arguments
  if (!st.ok()) return st;
  return out;
}

// Values from a Get, and the holds on the refs inside them (kept until converted).
struct GotValues {
  std::vector<Value> values;
  std::vector<std::shared_ptr<const void>> holds;
};

// The byte-level host calls (plait/abi.h) with Values in and out.
Result<HeldRef> HostPut(const Value& value);
Result<GotValues> HostGet(const std::vector<ObjectRefData>& refs, double timeout_s);
Result<std::vector<HeldRef>> HostSubmitTask(const FunctionRef& fn, const Array& args,
                                            const Kwargs& kwargs, std::size_t num_returns,
                                            const Map& options);
Result<ActorHandleData> HostCreateActor(const FunctionRef& cls, const Array& args,
                                        const Kwargs& kwargs, const Map& options);
Result<std::vector<HeldRef>> HostCallActor(const ActorHandleData& handle,
                                           const std::string& method, const Array& args,
                                           const Kwargs& kwargs, std::size_t num_returns);
Result<ActorHandleData> HostGetActor(const std::string& name, const std::string& ns);
Status HostKillActor(const ActorHandleData& handle);

// A Get result as T: an Error value becomes a failed status (unless T holds errors).
template <typename T>
Result<T> FromGot(const Value& v) {
  if constexpr (!std::is_same_v<T, ErrorInfo> && !std::is_same_v<T, Value>) {
    if (const auto* e = v.get_if<ErrorInfo>()) return RemoteError(*e);
  }
  T out{};
  PLAIT_RETURN_NOT_OK(Converter<T>::FromValue(v, &out));
  return out;
}

}  // namespace internal

template <typename T>
Result<ObjectRef<T>> TryPut(const T& value) {
  PLAIT_ASSIGN_OR_RETURN(Value v, Converter<T>::ToValue(value));
  PLAIT_ASSIGN_OR_RETURN(internal::HeldRef ref, internal::HostPut(v));
  return ObjectRef<T>(std::move(ref));
}
template <typename T>
ObjectRef<T> Put(const T& value) {
  return ValueOrThrow(TryPut(value));
}

// Waits for the object (timeout_s < 0: forever). Tensors and Arrow data in the result
// point into the object store and keep the object mapped while they live. A failed
// task's object is a failed Result (its Error in status().error_info()), except for
// T = Value or ErrorInfo, which receive the Error value itself; a timeout fails with
// the runtime's GetTimeoutError.
template <typename T>
Result<T> TryGet(const ObjectRef<T>& ref, double timeout_s = -1) {
  PLAIT_ASSIGN_OR_RETURN(internal::GotValues got, internal::HostGet({ref.data()}, timeout_s));
  return internal::FromGot<T>(got.values[0]);
}
template <typename T>
T Get(const ObjectRef<T>& ref, double timeout_s = -1) {
  return ValueOrThrow(TryGet(ref, timeout_s));
}
template <typename T>
std::vector<T> Get(const std::vector<ObjectRef<T>>& refs, double timeout_s = -1) {
  std::vector<ObjectRefData> raw;
  for (const auto& r : refs) raw.push_back(r.data());
  internal::GotValues got = ValueOrThrow(internal::HostGet(raw, timeout_s));
  std::vector<T> out;
  for (const auto& v : got.values) out.push_back(ValueOrThrow(internal::FromGot<T>(v)));
  return out;
}

template <typename R>
class TaskCaller {
 public:
  TaskCaller(FunctionRef fn, Result<Array> args) : fn_(std::move(fn)), args_(std::move(args)) {}

  // A resource request ({"CPU": 1.0} by default on the Python side).
  TaskCaller& SetResource(const std::string& name, double amount) {
    resources_.emplace_back(Value(name), Value(amount));
    return *this;
  }
  // Positional arguments known only at run time, after those given so far (and before
  // those given to Remote()).
  TaskCaller& AddArgs(const Array& args) {
    internal::AppendArgs(&args_, args);
    return *this;
  }
  // A keyword argument, passed after every positional one.
  template <typename T>
  TaskCaller& AddKwarg(std::string name, const T& value) {
    kwargs_.Add(std::move(name), value, &args_);
    return *this;
  }

  template <typename... A>
  Result<ObjectRef<R>> TryRemote(A&&... more) {
    PLAIT_ASSIGN_OR_RETURN(Array args, Collect(std::forward<A>(more)...));
    PLAIT_ASSIGN_OR_RETURN(auto refs,
                           internal::HostSubmitTask(fn_, args, kwargs_, 1, resources_));
    if (refs.size() != 1) return Status::HostError("submit_task returned no ref");
    return ObjectRef<R>(std::move(refs[0]));
  }
  template <typename... A>
  ObjectRef<R> Remote(A&&... more) {
    return ValueOrThrow(TryRemote(std::forward<A>(more)...));
  }

 private:
  template <typename... A>
  Result<Array> Collect(A&&... more) {
    if (!args_.ok()) return args_.status();
    Array args = *args_;
    PLAIT_ASSIGN_OR_RETURN(Array extra, internal::ArgValues(std::forward<A>(more)...));
    for (auto& v : extra) args.push_back(std::move(v));
    return args;
  }

  FunctionRef fn_;
  Result<Array> args_;
  internal::Kwargs kwargs_;
  Map resources_;
};

// A task of any language; arguments may be given here, in Remote(), or both.
template <typename R, typename... A>
TaskCaller<R> Task(const RemoteFunction<R>& fn, A&&... args) {
  return TaskCaller<R>(fn, internal::ArgValues(std::forward<A>(args)...));
}

class ActorHandle;

template <typename R>
class ActorTaskCaller {
 public:
  ActorTaskCaller(ActorHandleData handle, std::string method, Result<Array> args)
      : handle_(std::move(handle)), method_(std::move(method)), args_(std::move(args)) {}

  // Positional arguments known only at run time, after those given so far.
  ActorTaskCaller& AddArgs(const Array& args) {
    internal::AppendArgs(&args_, args);
    return *this;
  }
  // A keyword argument, passed after every positional one.
  template <typename T>
  ActorTaskCaller& AddKwarg(std::string name, const T& value) {
    kwargs_.Add(std::move(name), value, &args_);
    return *this;
  }

  Result<ObjectRef<R>> TryRemote() {
    if (!args_.ok()) return args_.status();
    PLAIT_ASSIGN_OR_RETURN(auto refs,
                           internal::HostCallActor(handle_, method_, *args_, kwargs_, 1));
    if (refs.size() != 1) return Status::HostError("call_actor returned no ref");
    return ObjectRef<R>(std::move(refs[0]));
  }
  ObjectRef<R> Remote() { return ValueOrThrow(TryRemote()); }

 private:
  ActorHandleData handle_;
  std::string method_;
  Result<Array> args_;
  internal::Kwargs kwargs_;
};

class ActorHandle {
 public:
  ActorHandle() = default;
  explicit ActorHandle(ActorHandleData data) : data_(std::move(data)) {}
  const ActorHandleData& data() const { return data_; }

  template <typename R = Value, typename... A>
  ActorTaskCaller<R> Task(std::string method, A&&... args) const {
    return ActorTaskCaller<R>(data_, std::move(method),
                              internal::ArgValues(std::forward<A>(args)...));
  }
  Status TryKill() const { return internal::HostKillActor(data_); }
  void Kill() const { ThrowIfError(TryKill()); }

 private:
  ActorHandleData data_;
};

template <>
struct Converter<ActorHandle> {
  static std::string Name() { return "ActorHandle"; }
  static Status FromValue(const Value& v, ActorHandle* out) {
    const auto* h = v.get_if<ActorHandleData>();
    if (h == nullptr) return internal::Mismatch(Name(), v);
    *out = ActorHandle(*h);
    return Status::OK();
  }
  static Result<Value> ToValue(const ActorHandle& h) { return Value(h.data()); }
};

class ActorCreator {
 public:
  ActorCreator(FunctionRef cls, Result<Array> args) : cls_(std::move(cls)), args_(std::move(args)) {}

  // A named actor, found later with GetActor(name, ns).
  ActorCreator& SetName(const std::string& name) { return Set("name", Value(name)); }
  ActorCreator& SetNamespace(const std::string& ns) { return Set("namespace", Value(ns)); }
  ActorCreator& SetMaxConcurrency(std::int64_t n) { return Set("max_concurrency", Value(n)); }
  ActorCreator& SetResource(const std::string& name, double amount) {
    resources_.emplace_back(Value(name), Value(amount));
    return *this;
  }
  // Constructor arguments known only at run time, after those given so far.
  ActorCreator& AddArgs(const Array& args) {
    internal::AppendArgs(&args_, args);
    return *this;
  }
  // A keyword argument of the constructor, passed after every positional one.
  template <typename T>
  ActorCreator& AddKwarg(std::string name, const T& value) {
    kwargs_.Add(std::move(name), value, &args_);
    return *this;
  }

  Result<ActorHandle> TryRemote() {
    if (!args_.ok()) return args_.status();
    Map options = options_;
    if (!resources_.empty()) options.emplace_back(Value("resources"), Value(resources_));
    PLAIT_ASSIGN_OR_RETURN(ActorHandleData h,
                           internal::HostCreateActor(cls_, *args_, kwargs_, options));
    return ActorHandle(std::move(h));
  }
  ActorHandle Remote() { return ValueOrThrow(TryRemote()); }

 private:
  ActorCreator& Set(const char* key, Value v) {
    options_.emplace_back(Value(key), std::move(v));
    return *this;
  }

  FunctionRef cls_;
  Result<Array> args_;
  internal::Kwargs kwargs_;
  Map options_;
  Map resources_;
};

template <typename... A>
ActorCreator Actor(const ActorClassRef& cls, A&&... args) {
  return ActorCreator(cls, internal::ArgValues(std::forward<A>(args)...));
}

inline Result<ActorHandle> TryGetActor(const std::string& name, const std::string& ns = "") {
  PLAIT_ASSIGN_OR_RETURN(ActorHandleData h, internal::HostGetActor(name, ns));
  return ActorHandle(std::move(h));
}
inline ActorHandle GetActor(const std::string& name, const std::string& ns = "") {
  return ValueOrThrow(TryGetActor(name, ns));
}

}  // namespace plait
