#include "plait/native/cpp_runtime.h"

#include <dlfcn.h>

#include <algorithm>

namespace plait::native {
namespace {

// State of one call, reached from the C callbacks through plait_call_t.ctx.
struct CallContext {
  ReturnSink* sink = nullptr;
  std::size_t num_returns = 0;
  std::vector<bool> written;
  CallError* error = nullptr;
  bool failed = false;
};

std::uint8_t* AllocReturn(void* ctx, std::size_t index, std::size_t size) {
  auto* call = static_cast<CallContext*>(ctx);
  if (call->sink == nullptr || index >= call->num_returns) return nullptr;
  std::uint8_t* out = call->sink->Alloc(index, size);
  if (out != nullptr) call->written[index] = true;
  return out;
}

void SetError(void* ctx, const char* type_name, const char* message, const char* stack) {
  auto* call = static_cast<CallContext*>(ctx);
  call->failed = true;
  call->error->type_name = type_name ? type_name : "";
  call->error->message = message ? message : "";
  call->error->stack = stack ? stack : "";
}

void SetErrorCause(void* ctx, const std::uint8_t* error, std::size_t size) {
  auto* call = static_cast<CallContext*>(ctx);
  call->error->cause.assign(reinterpret_cast<const char*>(error), error ? size : 0);
}

Status Failed(CallError* error, const char* type_name, std::string message,
              Status (*make)(std::string)) {
  error->type_name = type_name;
  error->message = message;
  error->stack.clear();
  error->cause.clear();
  return make(std::move(message));
}

// Runs one entry with a plait_call_t built from input; checks the callee kept the
// contract (an error set on failure, every return written on success).
template <typename Invoke>
Status Run(const std::string& name, const CallInput& input, ReturnSink* sink, CallError* error,
           Invoke&& invoke) {
  CallContext ctx;
  ctx.sink = sink;
  ctx.num_returns = sink ? input.num_returns : 0;
  ctx.written.assign(ctx.num_returns, false);
  ctx.error = error;
  std::vector<const char*> kwargs;
  for (const auto& k : input.kwarg_names) kwargs.push_back(k.c_str());
  if (kwargs.size() > input.args.size()) {
    return Failed(error, "plait::TypeError",
                  name + ": more keyword names than arguments", &Status::Invalid);
  }
  plait_call_t call{};
  call.args = input.args.data();
  call.num_args = input.args.size();
  call.kwarg_names = kwargs.data();
  call.num_kwargs = kwargs.size();
  call.num_returns = ctx.num_returns;
  call.ctx = &ctx;
  call.alloc_return = &AllocReturn;
  call.set_error = &SetError;
  call.set_error_cause = &SetErrorCause;
  const int rc = invoke(&call);
  if (rc != PLAIT_OK || ctx.failed) {
    if (!ctx.failed) {
      return Failed(error, "plait::Unknown", name + " failed without saying why",
                    &Status::Unknown);
    }
    return Status::Unknown(error->type_name + ": " + error->message);
  }
  if (std::find(ctx.written.begin(), ctx.written.end(), false) != ctx.written.end()) {
    return Failed(error, "plait::Unknown", name + " did not produce all its return values",
                  &Status::Unknown);
  }
  return Status::OK();
}

}  // namespace

CppRuntime::~CppRuntime() {
  DestroyActor();
  // Libraries stay loaded: their static destructors and any threads they started are
  // safer left to process exit than run under a live interpreter.
}

Result<std::vector<std::string>> CppRuntime::LoadLibrary(const std::string& path) {
  for (const auto& lib : libraries_) {
    if (lib.path == path) {
      std::vector<std::string> names;
      for (std::size_t i = 0; i < lib.module->num_functions; ++i) {
        names.emplace_back(lib.module->functions[i].name);
      }
      for (std::size_t i = 0; i < lib.module->num_classes; ++i) {
        names.emplace_back(lib.module->classes[i].name);
      }
      return names;
    }
  }
  // RTLD_LOCAL: each library keeps its own copy of the SDK to itself.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::Invalid("cannot load C++ library " + path + ": " + (why ? why : "unknown error"));
  }
  auto init = reinterpret_cast<plait_module_init_fn>(dlsym(handle, PLAIT_MODULE_INIT_SYMBOL));
  if (init == nullptr) {
    dlclose(handle);
    return Status::Invalid(path + " is not a plait library: it exports no " +
                           PLAIT_MODULE_INIT_SYMBOL + " (build it with plait_add_library)");
  }
  const plait_module_t* module = init(host_);
  if (module == nullptr || module->abi_version != PLAIT_ABI_VERSION) {
    // Not dlclose()d: the library ran its static initializers and may hold our host.
    return Status::Invalid(path + " was built for plait C ABI version " +
                           std::to_string(module ? module->abi_version : 0) + ", this worker has " +
                           std::to_string(PLAIT_ABI_VERSION) + ": rebuild it");
  }
  std::vector<std::string> names;
  for (std::size_t i = 0; i < module->num_functions; ++i) {
    const std::string name = module->functions[i].name;
    auto found = functions_.find(name);
    if (found != functions_.end() || std::count(names.begin(), names.end(), name) > 0) {
      return Status::Invalid("C++ function '" + name + "' is registered twice (in " + path +
                             (found != functions_.end() ? " and " + found->second.second : "") + ")");
    }
    names.push_back(name);
  }
  for (std::size_t i = 0; i < module->num_classes; ++i) {
    const std::string name = module->classes[i].name;
    auto found = classes_.find(name);
    if (found != classes_.end() || std::count(names.begin(), names.end(), name) > 0) {
      return Status::Invalid("C++ class '" + name + "' is registered twice (in " + path +
                             (found != classes_.end() ? " and " + found->second.second : "") + ")");
    }
    names.push_back(name);
  }
  for (std::size_t i = 0; i < module->num_functions; ++i) {
    functions_[module->functions[i].name] = {&module->functions[i], path};
  }
  for (std::size_t i = 0; i < module->num_classes; ++i) {
    classes_[module->classes[i].name] = {&module->classes[i], path};
  }
  libraries_.push_back({path, handle, module});
  return names;
}

std::vector<std::string> CppRuntime::FunctionNames() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : functions_) out.push_back(name);
  return out;
}

std::vector<std::string> CppRuntime::ClassNames() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : classes_) out.push_back(name);
  return out;
}

Result<std::vector<std::string>> CppRuntime::MethodNames(const std::string& class_name) const {
  auto found = classes_.find(class_name);
  if (found == classes_.end()) return Status::NotFound("no C++ class '" + class_name + "'");
  std::vector<std::string> out;
  const plait_class_entry_t* cls = found->second.first;
  for (std::size_t i = 0; i < cls->num_methods; ++i) out.emplace_back(cls->methods[i].name);
  return out;
}

Status CppRuntime::CallFunction(const std::string& name, const CallInput& input,
                                ReturnSink* sink, CallError* error) {
  auto found = functions_.find(name);
  if (found == functions_.end()) {
    std::string known;
    for (const auto& [n, entry] : functions_) known += (known.empty() ? "" : ", ") + n;
    return Failed(error, "plait::NotFound",
                  "no C++ function '" + name + "' is registered (" +
                      (known.empty() ? std::string("none are") : "known: " + known) + ")",
                  &Status::NotFound);
  }
  const plait_function_entry_t* fn = found->second.first;
  return Run(name, input, sink, error,
             [&](const plait_call_t* call) { return fn->invoke(fn->data, call); });
}

Status CppRuntime::CreateActor(const std::string& class_name, const CallInput& input,
                               CallError* error) {
  std::lock_guard<std::mutex> lock(actor_mutex_);
  auto found = classes_.find(class_name);
  if (found == classes_.end()) {
    return Failed(error, "plait::NotFound", "no C++ actor class '" + class_name + "' is registered",
                  &Status::NotFound);
  }
  if (actor_ != nullptr) {
    return Failed(error, "plait::Invalid",
                  "this worker already hosts an actor of class '" + std::string(actor_->cls->name) + "'",
                  &Status::Invalid);
  }
  const plait_class_entry_t* cls = found->second.first;
  void* instance = nullptr;
  CallInput ctor_input = input;
  ctor_input.num_returns = 0;
  Status st = Run(class_name, ctor_input, nullptr, error, [&](const plait_call_t* call) {
    return cls->create(cls->data, call, &instance);
  });
  if (!st.ok()) return st;
  if (instance == nullptr) {
    return Failed(error, "plait::Unknown", class_name + " constructor produced no instance",
                  &Status::Unknown);
  }
  auto actor = std::make_unique<Actor>();
  actor->cls = cls;
  actor->instance = instance;
  for (std::size_t i = 0; i < cls->num_methods; ++i) {
    actor->methods[cls->methods[i].name] = &cls->methods[i];
  }
  actor_ = std::move(actor);
  return Status::OK();
}

Status CppRuntime::CallMethod(const std::string& method, const CallInput& input,
                              ReturnSink* sink, CallError* error) {
  std::lock_guard<std::mutex> lock(actor_mutex_);
  if (actor_ == nullptr) {
    return Failed(error, "plait::Invalid", "this worker hosts no C++ actor (cannot call '" +
                                               method + "')",
                  &Status::Invalid);
  }
  auto found = actor_->methods.find(method);
  if (found == actor_->methods.end()) {
    std::string known;
    for (const auto& [n, entry] : actor_->methods) known += (known.empty() ? "" : ", ") + n;
    return Failed(error, "plait::NotFound",
                  "C++ actor class '" + std::string(actor_->cls->name) + "' has no method '" +
                      method + "' (" + (known.empty() ? std::string("it registered none") : "methods: " + known) + ")",
                  &Status::NotFound);
  }
  const plait_method_entry_t* m = found->second;
  void* instance = actor_->instance;
  return Run(std::string(actor_->cls->name) + "." + method, input, sink, error,
             [&](const plait_call_t* call) { return m->invoke(m->data, instance, call); });
}

void CppRuntime::DestroyActor() {
  std::lock_guard<std::mutex> lock(actor_mutex_);
  if (actor_ == nullptr) return;
  actor_->cls->destroy(actor_->cls->data, actor_->instance);
  actor_.reset();
}

}  // namespace plait::native
