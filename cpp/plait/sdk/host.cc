// The SDK's calls back into the runtime: Values in, the byte-level host API table
// (plait/abi.h) in the middle, Values out.
#include "plait/sdk/host.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "plait/api.h"
#include "plait/codec/decoder.h"
#include "plait/codec/encoder.h"

namespace plait {

void ThrowIfError(const Status& status) {
  if (status.ok()) return;
  if (status.error_info() != nullptr) throw Exception(*status.error_info());
  ErrorInfo error;
  static const char* const kNames[] = {"plait::OK",       "plait::Invalid",  "plait::TypeError",
                                       "plait::Refused",  "plait::NotFound", "plait::HostError",
                                       "plait::Unknown"};
  error.type_name = kNames[static_cast<int>(status.code())];
  error.message = status.message();
  error.language = "cpp";
  throw Exception(std::move(error));
}

namespace internal {
namespace {

std::atomic<const plait_host_api_t*> g_host{nullptr};

Result<const plait_host_api_t*> RequireHost() {
  const plait_host_api_t* host = g_host.load();
  if (host == nullptr) {
    return Status::HostError(
        "no plait runtime: this library was not loaded by a plait worker (or the worker "
        "gave it no host API)");
  }
  return host;
}

// Bytes from the host, released when the last view of them goes.
std::shared_ptr<const void> Adopt(const plait_host_api_t* host, const plait_owned_t& owned) {
  void* handle = owned.handle;
  return std::shared_ptr<const void>(owned.data, [host, handle](const void*) {
    if (handle != nullptr && host->release != nullptr) host->release(host->ctx, handle);
  });
}

Result<Value> DecodeOwned(const plait_host_api_t* host, const plait_owned_t& owned) {
  return Decode(BufferView{owned.data, owned.size, Adopt(host, owned)});
}

// The failed call's error (an encoded Error value) as a Status that keeps it.
Status HostFailure(const plait_host_api_t* host, const plait_owned_t& error, const char* what) {
  auto decoded = DecodeOwned(host, error);
  if (decoded.ok()) {
    if (const auto* e = decoded->get_if<ErrorInfo>()) return RemoteError(*e);
  }
  return Status::HostError(std::string(what) + " failed (the host gave no readable error)");
}

Result<std::vector<std::uint8_t>> EncodeBytes(const Value& v) {
  PLAIT_ASSIGN_OR_RETURN(EncodedObject encoded, Encode(v));
  return encoded.ToBytes();
}

plait_bytes_t View(const std::vector<std::uint8_t>& bytes) { return {bytes.data(), bytes.size()}; }

// Releases the holds of refs the SDK will not keep when a host reply cannot be used.
struct ReleaseRefsOnFailure {
  const std::vector<ObjectRefData>* refs;
  ~ReleaseRefsOnFailure() {
    if (refs != nullptr && !refs->empty()) ReleaseRefs(*refs);
  }
};

Result<std::vector<std::uint8_t>> EncodeRefList(const std::vector<ObjectRefData>& refs) {
  Array list;
  for (const auto& r : refs) list.emplace_back(r);
  return EncodeBytes(Value(std::move(list)));
}

// Refs the host handed out, each with the hold the host placed on it.
Result<std::vector<HeldRef>> RefList(const plait_host_api_t* host, const plait_owned_t& owned) {
  std::vector<ObjectRefData> contained;
  auto decoded = DecodeWithRefs(BufferView{owned.data, owned.size, Adopt(host, owned)}, &contained);
  ReleaseRefsOnFailure guard{&contained};
  PLAIT_ASSIGN_OR_RETURN(Value v, std::move(decoded));
  const auto* items = v.get_if<Array>();
  if (items == nullptr) return Status::HostError("the host returned " + v.TypeName() + ", not a list of refs");
  std::vector<HeldRef> refs;
  for (const auto& item : *items) {
    const auto* ref = item.get_if<ObjectRefData>();
    if (ref == nullptr) return Status::HostError("the host returned a " + item.TypeName() + " for a ref");
    refs.push_back(HeldRef{*ref, nullptr});
  }
  guard.refs = nullptr;  // adopted below, one hold per ref
  for (auto& r : refs) r.hold = AdoptRef(r.data);
  return refs;
}

Result<ActorHandleData> Handle(const plait_host_api_t* host, const plait_owned_t& owned) {
  PLAIT_ASSIGN_OR_RETURN(Value v, DecodeOwned(host, owned));
  const auto* h = v.get_if<ActorHandleData>();
  if (h == nullptr) return Status::HostError("the host returned " + v.TypeName() + ", not an actor handle");
  return *h;
}

// Everything a plait_task_t points to, kept alive for the call.
struct TaskArgs {
  std::vector<std::string> name_parts;
  std::vector<const char*> name_ptrs;
  std::vector<const char*> kwarg_ptrs;  // into the caller's Kwargs, alive for the call
  std::vector<std::vector<std::uint8_t>> args;
  std::vector<plait_bytes_t> arg_views;
  std::vector<std::uint8_t> options;
  plait_task_t task{};

  static Result<std::unique_ptr<TaskArgs>> Make(const FunctionRef& fn, const Array& args,
                                                const Kwargs& kwargs, std::size_t num_returns,
                                                const Map& options) {
    auto t = std::make_unique<TaskArgs>();
    t->name_parts = fn.name_parts;
    for (const auto& part : t->name_parts) t->name_ptrs.push_back(part.c_str());
    for (std::size_t i = 0; i < args.size(); ++i) {
      auto bytes = EncodeBytes(args[i]);
      if (!bytes.ok()) return bytes.status().WithContext("argument " + std::to_string(i + 1));
      t->args.push_back(std::move(*bytes));
    }
    for (std::size_t i = 0; i < kwargs.values.size(); ++i) {
      auto bytes = EncodeBytes(kwargs.values[i]);
      if (!bytes.ok()) {
        return bytes.status().WithContext("keyword argument '" + kwargs.names[i] + "'");
      }
      t->args.push_back(std::move(*bytes));
      t->kwarg_ptrs.push_back(kwargs.names[i].c_str());
    }
    for (const auto& a : t->args) t->arg_views.push_back(View(a));
    if (!options.empty()) {
      PLAIT_ASSIGN_OR_RETURN(t->options, EncodeBytes(Value(options)));
    }
    t->task.language = fn.language.c_str();
    t->task.name_parts = t->name_ptrs.data();
    t->task.num_name_parts = t->name_ptrs.size();
    t->task.args = t->arg_views.data();
    t->task.num_args = t->arg_views.size();
    t->task.kwarg_names = t->kwarg_ptrs.empty() ? nullptr : t->kwarg_ptrs.data();
    t->task.num_kwargs = t->kwarg_ptrs.size();
    t->task.num_returns = num_returns;
    t->task.options = View(t->options);
    return t;
  }
};

}  // namespace

const plait_host_api_t* HostApi() { return g_host.load(); }
void SetHostApi(const plait_host_api_t* host) {
  if (host != nullptr && host->abi_version != PLAIT_ABI_VERSION) host = nullptr;
  g_host.store(host);
}

std::shared_ptr<const void> AdoptRef(const ObjectRefData& ref) {
  if (g_host.load() == nullptr) return nullptr;
  auto copy = std::make_shared<ObjectRefData>(ref);
  return std::shared_ptr<const void>(copy.get(), [copy](const void*) { ReleaseRefs({*copy}); });
}

std::shared_ptr<const void> HoldRef(const ObjectRefData& ref) {
  const plait_host_api_t* host = g_host.load();
  if (host == nullptr || host->hold_refs == nullptr) return nullptr;
  auto bytes = EncodeRefList({ref});
  if (!bytes.ok()) return nullptr;
  host->hold_refs(host->ctx, View(*bytes));
  return AdoptRef(ref);
}

void ReleaseRefs(const std::vector<ObjectRefData>& refs) {
  const plait_host_api_t* host = g_host.load();
  if (host == nullptr || host->release_refs == nullptr || refs.empty()) return;
  auto bytes = EncodeRefList(refs);
  if (bytes.ok()) host->release_refs(host->ctx, View(*bytes));
}

Result<HeldRef> HostPut(const Value& value) {
  PLAIT_ASSIGN_OR_RETURN(auto host, RequireHost());
  PLAIT_ASSIGN_OR_RETURN(auto bytes, EncodeBytes(value));
  plait_owned_t ref{}, error{};
  if (host->put(host->ctx, View(bytes), &ref, &error) != PLAIT_OK) {
    return HostFailure(host, error, "put");
  }
  PLAIT_ASSIGN_OR_RETURN(Value v, DecodeOwned(host, ref));
  const auto* r = v.get_if<ObjectRefData>();
  if (r == nullptr) return Status::HostError("put returned " + v.TypeName() + ", not a ref");
  return HeldRef{*r, AdoptRef(*r)};
}

Result<GotValues> HostGet(const std::vector<ObjectRefData>& refs, double timeout_s) {
  PLAIT_ASSIGN_OR_RETURN(auto host, RequireHost());
  PLAIT_ASSIGN_OR_RETURN(auto bytes, EncodeRefList(refs));
  std::vector<plait_owned_t> owned(refs.size());
  plait_owned_t error{};
  if (host->get(host->ctx, View(bytes), refs.size(), timeout_s, owned.data(), &error) != PLAIT_OK) {
    return HostFailure(host, error, "get");
  }
  GotValues got;
  Status first_error;
  for (const auto& o : owned) {  // decode all, so every handle and hold is released
    std::vector<ObjectRefData> contained;
    auto v = DecodeWithRefs(BufferView{o.data, o.size, Adopt(host, o)}, &contained);
    if (!v.ok() && first_error.ok()) first_error = v.status();
    got.values.push_back(v.ok() ? std::move(*v) : Value());
    // The host holds every ref inside the value for us until we are done with it.
    for (const auto& r : contained) got.holds.push_back(AdoptRef(r));
  }
  if (!first_error.ok()) return first_error;
  return got;
}

Result<std::vector<HeldRef>> HostSubmitTask(const FunctionRef& fn, const Array& args,
                                            const Kwargs& kwargs, std::size_t num_returns,
                                            const Map& options) {
  PLAIT_ASSIGN_OR_RETURN(auto host, RequireHost());
  PLAIT_ASSIGN_OR_RETURN(auto task, TaskArgs::Make(fn, args, kwargs, num_returns, options));
  plait_owned_t refs{}, error{};
  if (host->submit_task(host->ctx, &task->task, &refs, &error) != PLAIT_OK) {
    return HostFailure(host, error, "submit_task");
  }
  return RefList(host, refs);
}

Result<ActorHandleData> HostCreateActor(const FunctionRef& cls, const Array& args,
                                        const Kwargs& kwargs, const Map& options) {
  PLAIT_ASSIGN_OR_RETURN(auto host, RequireHost());
  PLAIT_ASSIGN_OR_RETURN(auto task, TaskArgs::Make(cls, args, kwargs, 0, options));
  plait_owned_t handle{}, error{};
  if (host->create_actor(host->ctx, &task->task, &handle, &error) != PLAIT_OK) {
    return HostFailure(host, error, "create_actor");
  }
  return Handle(host, handle);
}

Result<std::vector<HeldRef>> HostCallActor(const ActorHandleData& handle,
                                           const std::string& method, const Array& args,
                                           const Kwargs& kwargs, std::size_t num_returns) {
  PLAIT_ASSIGN_OR_RETURN(auto host, RequireHost());
  PLAIT_ASSIGN_OR_RETURN(auto handle_bytes, EncodeBytes(Value(handle)));
  PLAIT_ASSIGN_OR_RETURN(auto task, TaskArgs::Make(FunctionRef{}, args, kwargs, num_returns, {}));
  plait_owned_t refs{}, error{};
  if (host->call_actor(host->ctx, View(handle_bytes), method.c_str(), &task->task, &refs,
                       &error) != PLAIT_OK) {
    return HostFailure(host, error, "call_actor");
  }
  return RefList(host, refs);
}

Result<ActorHandleData> HostGetActor(const std::string& name, const std::string& ns) {
  PLAIT_ASSIGN_OR_RETURN(auto host, RequireHost());
  plait_owned_t handle{}, error{};
  if (host->get_actor(host->ctx, name.c_str(), ns.c_str(), &handle, &error) != PLAIT_OK) {
    return HostFailure(host, error, "get_actor");
  }
  return Handle(host, handle);
}

Status HostKillActor(const ActorHandleData& handle) {
  PLAIT_ASSIGN_OR_RETURN(auto host, RequireHost());
  PLAIT_ASSIGN_OR_RETURN(auto bytes, EncodeBytes(Value(handle)));
  plait_owned_t error{};
  if (host->kill_actor(host->ctx, View(bytes), &error) != PLAIT_OK) {
    return HostFailure(host, error, "kill_actor");
  }
  return Status::OK();
}

}  // namespace internal
}  // namespace plait
