// The C++ caller of the conformance suite: conformance_run(callee, op) executes one
// operation against the callee language's adapter from a C++ worker and returns an
// outcome map; a failure of the operation is an outcome, never an exception
// (docs/conformance.md, "Caller").
//
//   plait.cpp_function("conformance_run").remote("python", {"op": "call", "function": "add",
//                                                           "args": [1, 2]})
//   -> {"ok": True, "value": 3}
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plait/plait.h"

namespace {

using plait::Array;
using plait::ErrorInfo;
using plait::Map;
using plait::Result;
using plait::Status;
using plait::Value;

// The callee adapters' names (docs/conformance.md, "Names by language").
constexpr const char* kPythonModule = "plait_conformance_callee";
constexpr const char* kJavaCallee = "io.plait.conformance.Callee";
constexpr const char* kJavaPackage = "io.plait.conformance.";
constexpr double kDefaultTimeoutS = 60;

// --- outcomes -------------------------------------------------------------------------------

Value Ok(Value value) { return Value(Map{{Value("ok"), Value(true)}, {Value("value"), std::move(value)}}); }

Value Failed(const std::string& kind, const std::string& type, const std::string& language,
             const std::string& message) {
  Map error{{Value("kind"), Value(kind)},
            {Value("type"), Value(type)},
            {Value("language"), Value(language)},
            {Value("message"), Value(message)}};
  return Value(Map{{Value("ok"), Value(false)}, {Value("error"), Value(std::move(error))}});
}

// An operation this adapter cannot run as given (a malformed op, an unknown callee).
Value BadOp(const std::string& message) { return Failed("other", "plait::Invalid", "cpp", message); }

// The last part of a dotted type name ("plait.exceptions.GetTimeoutError" -> ...).
std::string_view ShortName(std::string_view type_name) {
  auto dot = type_name.rfind('.');
  return dot == std::string_view::npos ? type_name : type_name.substr(dot + 1);
}

// How the runtime reports the failures the contract tells apart: a Get that timed out
// fails with plait.exceptions.GetTimeoutError (CoreWorker.get_encoded), a call to a dead
// actor's object holds an ActorDiedError (a RayActorError); see plait/exceptions.py.
std::string KindOf(const ErrorInfo& e, const char* otherwise) {
  std::string_view name = ShortName(e.type_name);
  if (name == "GetTimeoutError") return "timeout";
  if (name == "ActorDiedError" || name == "RayActorError" || name == "ActorUnavailableError") {
    return "actor_died";
  }
  return otherwise;
}

// A failure the runtime reported as an Error: the callee raised (or its runtime refused
// the call) unless its type says timeout or dead actor.
Value ErrorFailure(const ErrorInfo& e, const char* otherwise = "task") {
  std::string message = e.message;
  if (!e.stack.empty()) message += "\n" + e.stack;
  return Failed(KindOf(e, otherwise), e.type_name, e.language, message);
}

// A failed SDK call. With the runtime's Error (the host refused a submission: unknown
// method, wrong descriptor; a Get failed) that Error decides; otherwise the SDK failed
// before anything left this process: a value it cannot send is the call being refused.
Value StatusFailure(const Status& st) {
  if (st.error_info() != nullptr) return ErrorFailure(*st.error_info());
  bool refused = st.code() == Status::Code::kTypeError || st.code() == Status::Code::kRefused;
  return Failed(refused ? "task" : "other", st.TypeName(), "cpp", st.message());
}

// The value of ref, or the failure outcome in *failure.
std::optional<Value> Fetch(const plait::ObjectRef<>& ref, double timeout_s, Value* failure) {
  auto got = plait::TryGet(ref, timeout_s);
  if (!got.ok()) {
    *failure = StatusFailure(got.status());
    return std::nullopt;
  }
  // A failed task's object is an Error value (a Get of Value hands it over as one).
  if (const auto* e = got->get_if<ErrorInfo>()) {
    *failure = ErrorFailure(*e);
    return std::nullopt;
  }
  return std::move(*got);
}

Value Outcome(const plait::ObjectRef<>& ref, double timeout_s) {
  Value failure;
  auto value = Fetch(ref, timeout_s, &failure);
  return value ? Ok(std::move(*value)) : failure;
}

// --- reading an op ---------------------------------------------------------------------------

// The fields of an op (or of one actor call): a map with string keys.
class Fields {
 public:
  explicit Fields(const Map& map) : map_(map) {}

  const Value* Find(std::string_view key) const {
    for (const auto& [k, v] : map_) {
      const auto* s = k.get_if<std::string>();
      if (s != nullptr && *s == key) return &v;
    }
    return nullptr;
  }

  Result<std::string> String(std::string_view key, std::optional<std::string> fallback = {}) const {
    const Value* v = Find(key);
    if (v == nullptr || v->is_nil()) {
      if (fallback) return *fallback;
      return Missing(key, "a string");
    }
    if (const auto* s = v->get_if<std::string>()) return *s;
    return Wrong(key, "a string", *v);
  }

  Result<bool> Bool(std::string_view key) const {
    const Value* v = Find(key);
    if (v == nullptr || v->is_nil()) return false;
    if (const auto* b = v->get_if<bool>()) return *b;
    return Wrong(key, "a bool", *v);
  }

  Result<double> Number(std::string_view key, double fallback) const {
    const Value* v = Find(key);
    if (v == nullptr || v->is_nil()) return fallback;
    if (const auto* d = v->get_if<double>()) return *d;
    if (const auto* i = v->get_if<std::int64_t>()) return static_cast<double>(*i);
    return Wrong(key, "a number", *v);
  }

  Result<Array> List(std::string_view key) const {
    const Value* v = Find(key);
    if (v == nullptr || v->is_nil()) return Array{};
    if (const auto* a = v->get_if<Array>()) return *a;
    return Wrong(key, "a list", *v);
  }

  Result<Map> Dict(std::string_view key) const {
    const Value* v = Find(key);
    if (v == nullptr || v->is_nil()) return Map{};
    if (const auto* m = v->get_if<Map>()) return *m;
    return Wrong(key, "a map", *v);
  }

  // Indices into a list of `size` items.
  Result<std::vector<std::size_t>> Indices(std::string_view key, std::size_t size) const {
    PLAIT_ASSIGN_OR_RETURN(Array items, List(key));
    std::vector<std::size_t> out;
    for (const auto& item : items) {
      const auto* i = item.get_if<std::int64_t>();
      if (i == nullptr || *i < 0 || static_cast<std::uint64_t>(*i) >= size) {
        return Status::Invalid("op field '" + std::string(key) + "': " + item.DebugString() +
                               " is not an index into the " + std::to_string(size) + " args");
      }
      out.push_back(static_cast<std::size_t>(*i));
    }
    return out;
  }

 private:
  static Status Missing(std::string_view key, const char* what) {
    return Status::Invalid("op field '" + std::string(key) + "' (" + what + ") is missing");
  }
  static Status Wrong(std::string_view key, const char* what, const Value& v) {
    return Status::Invalid("op field '" + std::string(key) + "' must be " + what + ", got " +
                           v.TypeName());
  }

  const Map& map_;
};

// --- callee names -----------------------------------------------------------------------------

Result<plait::RemoteFunction<>> Function(const std::string& callee, const std::string& name) {
  if (callee == "python") return plait::PyFunction(kPythonModule, name);
  if (callee == "cpp") return plait::CppFunction(name);
  if (callee == "java") return plait::JavaFunction(kJavaCallee, name);
  return Status::Invalid("unknown callee language '" + callee + "' (python, cpp or java)");
}

Result<plait::ActorClassRef> ActorClass(const std::string& callee, const std::string& name) {
  if (callee == "python") return plait::PyActorClass(kPythonModule, name);
  if (callee == "cpp") return plait::CppActorClass(name);
  if (callee == "java") return plait::JavaActorClass(kJavaPackage + name);
  return Status::Invalid("unknown callee language '" + callee + "' (python, cpp or java)");
}

// --- op "call" --------------------------------------------------------------------------------

Value RunCall(const std::string& callee, const Fields& op) {
  auto name = op.String("function");
  auto args = op.List("args");
  auto kwargs = op.Dict("kwargs");
  auto timeout_s = op.Number("timeout_s", kDefaultTimeoutS);
  auto get_result_ref = op.Bool("get_result_ref");
  auto chain_via = op.String("chain_via", "echo");
  for (const Status* st : {&name.status(), &args.status(), &kwargs.status(), &timeout_s.status(),
                           &get_result_ref.status(), &chain_via.status()}) {
    if (!st->ok()) return BadOp(st->message());
  }
  auto fn = Function(callee, *name);
  if (!fn.ok()) return BadOp(fn.status().message());
  auto via = Function(callee, *chain_via);
  if (!via.ok()) return BadOp(via.status().message());
  auto put_args = op.Indices("put_args", args->size());
  auto chain_args = op.Indices("chain_args", args->size());
  auto wrap_args = op.Indices("wrap_args", args->size());
  for (const Status* st : {&put_args.status(), &chain_args.status(), &wrap_args.status()}) {
    if (!st->ok()) return BadOp(st->message());
  }

  std::vector<plait::ObjectRef<>> refs;  // refs passed as arguments: held until the end
  for (std::size_t i : *put_args) {
    auto ref = plait::TryPut((*args)[i]);
    if (!ref.ok()) return StatusFailure(ref.status());
    (*args)[i] = Value(ref->data());
    refs.push_back(std::move(*ref));
  }
  for (std::size_t i : *chain_args) {  // the ref chain_via's result will be in, not its value
    auto ref = plait::Task(*via).AddArgs({(*args)[i]}).TryRemote();
    if (!ref.ok()) return StatusFailure(ref.status());
    (*args)[i] = Value(ref->data());
    refs.push_back(std::move(*ref));
  }
  for (std::size_t i : *wrap_args) (*args)[i] = Value(Array{(*args)[i]});

  auto task = plait::Task(*fn).AddArgs(*args);
  for (const auto& [key, value] : *kwargs) {
    const auto* k = key.get_if<std::string>();
    if (k == nullptr) return BadOp("op field 'kwargs' has a " + key.TypeName() + " key");
    task.AddKwarg(*k, value);
  }
  auto ref = task.TryRemote();
  if (!ref.ok()) return StatusFailure(ref.status());

  Value failure;
  auto value = Fetch(*ref, *timeout_s, &failure);
  if (!value) return failure;
  if (*get_result_ref) {
    const auto* inner = value->get_if<plait::ObjectRefData>();
    if (inner == nullptr) {
      return Failed("other", "", "cpp", "expected an ObjectRef result, got " + value->TypeName());
    }
    return Outcome(plait::ObjectRef<>(*inner), *timeout_s);
  }
  return Ok(std::move(*value));
}

// --- op "actor" -------------------------------------------------------------------------------

// One submitted call: its result ref, or its outcome when it could not be submitted.
struct Pending {
  std::optional<plait::ObjectRef<>> ref;
  Value outcome;
};

Pending Submit(const std::string& callee, const plait::ActorHandle& target, const Value& call) {
  const auto* map = call.get_if<Map>();
  if (map == nullptr) return {std::nullopt, BadOp("an actor call must be a map, got " + call.TypeName())};
  Fields c(*map);
  auto args = c.List("args");
  if (!args.ok()) return {std::nullopt, BadOp(args.status().message())};
  Result<plait::ObjectRef<>> ref = Status::Unknown("not submitted");
  if (c.Find("method") != nullptr) {
    auto method = c.String("method");
    if (!method.ok()) return {std::nullopt, BadOp(method.status().message())};
    ref = target.Task(*method).AddArgs(*args).TryRemote();
  } else if (c.Find("function") != nullptr) {
    auto name = c.String("function");
    auto handle_arg = c.Bool("handle_arg");
    if (!name.ok()) return {std::nullopt, BadOp(name.status().message())};
    if (!handle_arg.ok()) return {std::nullopt, BadOp(handle_arg.status().message())};
    auto fn = Function(callee, *name);
    if (!fn.ok()) return {std::nullopt, BadOp(fn.status().message())};
    if (*handle_arg) args->insert(args->begin(), Value(target.data()));
    ref = plait::Task(*fn).AddArgs(*args).TryRemote();
  } else {
    return {std::nullopt, BadOp("an actor call needs 'method', 'function' or 'kill'")};
  }
  if (!ref.ok()) return {std::nullopt, StatusFailure(ref.status())};
  return {std::move(*ref), Value()};
}

Value RunActor(const std::string& callee, const Fields& op) {
  auto class_name = op.String("class", "Counter");
  auto args = op.List("args");
  auto name = op.String("name", "");
  auto lookup = op.Bool("lookup");
  auto calls = op.List("calls");
  auto timeout_s = op.Number("timeout_s", kDefaultTimeoutS);
  for (const Status* st : {&class_name.status(), &args.status(), &name.status(), &lookup.status(),
                           &calls.status(), &timeout_s.status()}) {
    if (!st->ok()) return BadOp(st->message());
  }
  if (*lookup && name->empty()) return BadOp("op field 'lookup' needs a 'name'");
  auto cls = ActorClass(callee, *class_name);
  if (!cls.ok()) return BadOp(cls.status().message());

  auto creator = plait::Actor(*cls).AddArgs(*args);
  if (!name->empty()) creator.SetName(*name);
  auto handle = creator.TryRemote();
  if (!handle.ok()) return StatusFailure(handle.status());
  plait::ActorHandle target = *handle;
  if (*lookup) {
    auto found = plait::TryGetActor(*name);
    if (!found.ok()) {
      (void)handle->TryKill();
      return StatusFailure(found.status());
    }
    target = *found;
  }

  // Method calls are submitted without waiting (so ordering is tested), their results
  // fetched in order. A function call (handle_arg: through the handle, from another
  // caller, so not ordered with ours) and a kill are sync points: what is pending is
  // fetched first, and the call's own result (or the kill) before the next submission.
  Array results;
  std::vector<Pending> pending;
  auto collect = [&] {
    for (auto& p : pending) {
      results.push_back(p.ref ? Outcome(*p.ref, *timeout_s) : std::move(p.outcome));
    }
    pending.clear();
  };
  for (const auto& call : *calls) {
    const auto* map = call.get_if<Map>();
    auto kill = map != nullptr ? Fields(*map).Bool("kill") : Result<bool>(false);
    if (kill.ok() && *kill) {
      collect();
      Status killed = target.TryKill();
      results.push_back(killed.ok() ? Ok(Value()) : StatusFailure(killed));
      continue;
    }
    bool sync = map != nullptr && Fields(*map).Find("method") == nullptr;
    if (sync) collect();
    pending.push_back(Submit(callee, target, call));
    if (sync) collect();
  }
  collect();
  (void)handle->TryKill();  // already dead after a kill call: nothing to do
  return Value(Map{{Value("ok"), Value(true)}, {Value("results"), Value(std::move(results))}});
}

// --- the entry point ----------------------------------------------------------------------------

Value conformance_run(std::string callee, Value op) {
  try {
    const auto* map = op.get_if<Map>();
    if (map == nullptr) return BadOp("op must be a map, got " + op.TypeName());
    Fields fields(*map);
    auto kind = fields.String("op");
    if (!kind.ok()) return BadOp(kind.status().message());
    if (*kind == "call") return RunCall(callee, fields);
    if (*kind == "actor") return RunActor(callee, fields);
    return BadOp("unknown op '" + *kind + "' (call or actor)");
  } catch (const plait::Exception& e) {
    return ErrorFailure(e.error(), "other");
  } catch (const std::exception& e) {
    return Failed("other", "std::exception", "cpp", e.what());
  }
}
PLAIT_REMOTE(conformance_run);

}  // namespace
