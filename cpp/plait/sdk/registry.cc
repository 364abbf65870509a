// The library side of the C ABI (plait/abi.h): the registry that PLAIT_REMOTE and
// PLAIT_ACTOR fill, the plait_module_init entry point, and the trampolines that decode
// arguments, run user code, catch its exceptions and encode results into host memory.
#include <cxxabi.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "plait/abi.h"
#include "plait/codec/decoder.h"
#include "plait/codec/encoder.h"
#include "plait/api.h"
#include "plait/registry.h"
#include "plait/sdk/host.h"

#ifndef PLAIT_SDK_VERSION
#define PLAIT_SDK_VERSION "0.1.0"
#endif

namespace plait::internal {
namespace {

struct Registry {
  // unique_ptr: entries are handed to the host as `data` pointers and must not move.
  std::vector<std::unique_ptr<FunctionEntry>> functions;
  std::vector<std::unique_ptr<ClassEntry>> classes;
  // The ABI view of the above, built once by plait_module_init.
  std::vector<plait_function_entry_t> function_table;
  std::vector<plait_class_entry_t> class_table;
  std::vector<std::vector<plait_method_entry_t>> method_tables;
  plait_module_t module{};
  bool built = false;
};

Registry& GetRegistry() {
  static Registry registry;  // function-local: safe from static initialization order
  return registry;
}

std::string Demangle(const char* mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return mangled;
  std::string name(out);
  std::free(out);
  return name;
}

int Fail(const plait_call_t* call, const std::string& type_name, const std::string& message,
         const std::string& stack, const ErrorInfo* cause = nullptr) {
  call->set_error(call->ctx, type_name.c_str(), message.c_str(), stack.c_str());
  if (cause != nullptr && call->set_error_cause != nullptr) {
    // The remote failure this call let propagate stays its cause, so the caller sees
    // where the error began (docs/cross-language.md, "Errors").
    auto encoded = Encode(Value(*cause));
    if (encoded.ok()) {
      std::vector<std::uint8_t> bytes = encoded->ToBytes();
      call->set_error_cause(call->ctx, bytes.data(), bytes.size());
    }
  }
  return PLAIT_ERROR;
}

// Keeps one argument's bytes alive past the call when a decoded view escapes it.
struct ArgHold {
  const plait_host_api_t* host;
  void* owner;
  bool retained = false;
};

// Decoded arguments of one call. On destruction (the call is over) an argument whose
// views are still referenced (a tensor stored in actor state) is retained from the host,
// and released when the last view goes; arguments nobody kept cost no host call.
class CallArgs {
 public:
  ~CallArgs() {
    // The host held every ref inside the arguments for this call; a plait::ObjectRef made
    // from one placed its own hold.
    ReleaseRefs(nested_refs_);
    for (auto& hold : holds_) {
      if (hold.use_count() > 1 && hold->owner != nullptr && hold->host != nullptr &&
          hold->host->retain_arg != nullptr) {
        hold->retained = true;
        hold->host->retain_arg(hold->host->ctx, hold->owner);
      }
    }
  }

  Status Decode(const plait_call_t* call, const std::string& name) {
    const plait_host_api_t* host = HostApi();
    values.reserve(call->num_args);
    for (std::size_t i = 0; i < call->num_args; ++i) {
      const plait_arg_t& arg = call->args[i];
      std::shared_ptr<ArgHold> hold(new ArgHold{host, arg.owner}, [](ArgHold* h) {
        if (h->retained && h->host->release_arg != nullptr) {
          h->host->release_arg(h->host->ctx, h->owner);
        }
        delete h;
      });
      holds_.push_back(hold);
      auto value = plait::DecodeWithRefs(BufferView{arg.data, arg.size, hold}, &nested_refs_);
      if (!value.ok()) {
        return value.status().WithContext("argument " + std::to_string(i + 1) + " of " + name);
      }
      values.push_back(std::move(*value));
    }
    return Status::OK();
  }

  std::vector<Value> values;

 private:
  std::vector<std::shared_ptr<ArgHold>> holds_;
  std::vector<ObjectRefData> nested_refs_;
};

Status WriteReturns(const plait_call_t* call, const std::string& name, Value result) {
  std::vector<Value> outs;
  const std::size_t n = call->num_returns;
  if (n == 1) {
    outs.push_back(std::move(result));
  } else if (n > 1) {
    auto* items = result.get_if<Array>();
    if (items == nullptr || items->size() != n) {
      return Status::TypeError(
          name + " returned " +
          (items ? "an array of " + std::to_string(items->size()) : "a " + result.TypeName()) +
          " but the call wants " + std::to_string(n) +
          " return values (return a std::tuple or std::vector of that many)");
    }
    outs = std::move(*items);
  }
  for (std::size_t i = 0; i < outs.size(); ++i) {
    auto encoded = Encode(outs[i]);
    if (!encoded.ok()) {
      return encoded.status().WithContext("return value " + std::to_string(i + 1) + " of " + name);
    }
    std::uint8_t* dest = call->alloc_return(call->ctx, i, encoded->TotalSize());
    if (dest == nullptr) {
      return Status::HostError("the host could not allocate " +
                               std::to_string(encoded->TotalSize()) + " bytes for a result");
    }
    PLAIT_RETURN_NOT_OK(encoded->WriteTo(dest, encoded->TotalSize()));
  }
  return Status::OK();
}

// Runs body(args) for a call, turning every failure (a bad Status, a C++ exception) into
// call->set_error. body returns the call's result value.
template <typename Body>
int RunCall(const plait_call_t* call, const std::string& name, Body&& body) {
  const std::string stack = "  in C++ " + name;
  try {
    if (call->num_kwargs > 0) {
      return Fail(call, "plait::TypeError",
                  name + " does not take keyword arguments (got '" +
                      std::string(call->kwarg_names[0]) + "')",
                  stack);
    }
    Result<Value> result = Status::Unknown("not run");
    {
      CallArgs args;
      Status decoded = args.Decode(call, name);
      if (!decoded.ok()) return Fail(call, decoded.TypeName(), decoded.message(), stack);
      result = body(args.values);
    }
    if (!result.ok()) {
      return Fail(call, result.status().TypeName(), result.status().message(), stack,
                  result.status().error_info().get());
    }
    Status written = WriteReturns(call, name, std::move(*result));
    if (!written.ok()) return Fail(call, written.TypeName(), written.message(), stack);
    return PLAIT_OK;
  } catch (const Exception& e) {
    // A failed call's error (plait::Get of a failed task) let propagate is this error's
    // cause; the SDK's own failures (ThrowIfError of a local Status: language "cpp", no
    // stack, no cause) have nothing behind them.
    const ErrorInfo& error = e.error();
    const bool local = error.language == "cpp" && error.stack.empty() && error.cause == nullptr;
    return Fail(call, Demangle(typeid(e).name()), e.what(), stack, local ? nullptr : &error);
  } catch (const std::exception& e) {
    return Fail(call, Demangle(typeid(e).name()), e.what(), stack);
  } catch (...) {
    std::type_info* type = abi::__cxa_current_exception_type();
    return Fail(call, type ? Demangle(type->name()) : "unknown",
                "a C++ exception that is not a std::exception", stack);
  }
}

int InvokeFunction(void* data, const plait_call_t* call) {
  auto* entry = static_cast<FunctionEntry*>(data);
  return RunCall(call, entry->name, [&](std::vector<Value>& args) { return entry->body(args); });
}

int InvokeMethod(void* data, void* instance, const plait_call_t* call) {
  auto* entry = static_cast<MethodEntry*>(data);
  return RunCall(call, entry->qualified_name,
                 [&](std::vector<Value>& args) { return entry->body(instance, args); });
}

int CreateInstance(void* data, const plait_call_t* call, void** instance) {
  auto* entry = static_cast<ClassEntry*>(data);
  *instance = nullptr;
  return RunCall(call, entry->name, [&](std::vector<Value>& args) -> Result<Value> {
    std::string arities;
    for (auto& [arity, ctor] : entry->ctors) {
      if (arity != args.size()) {
        arities += (arities.empty() ? "" : " or ") + std::to_string(arity);
        continue;
      }
      PLAIT_ASSIGN_OR_RETURN(*instance, ctor(args));
      return Value();
    }
    if (entry->ctors.size() == 1) {
      return CheckArity(entry->name, entry->ctors[0].first, args.size());
    }
    return Status::TypeError(entry->name + " has no constructor taking " +
                             Plural(args.size(), "argument") +
                             (arities.empty() ? " (it has no constructor)" : " (it takes " + arities + ")"));
  });
}

void DestroyInstance(void* data, void* instance) {
  auto* entry = static_cast<ClassEntry*>(data);
  try {
    entry->destroy(instance);
  } catch (...) {
    // A throwing destructor must not cross the C ABI; nothing sensible remains to do.
  }
}

const plait_module_t* BuildModule() {
  Registry& r = GetRegistry();
  if (r.built) return &r.module;
  for (auto& fn : r.functions) {
    r.function_table.push_back({fn->name.c_str(), fn.get(), &InvokeFunction});
  }
  r.method_tables.reserve(r.classes.size());  // tables must not move once pointed to
  for (auto& cls : r.classes) {
    auto& methods = r.method_tables.emplace_back();
    for (auto& [name, method] : cls->methods) {
      methods.push_back({name.c_str(), &method, &InvokeMethod});
    }
    r.class_table.push_back({cls->name.c_str(), cls.get(), &CreateInstance, &DestroyInstance,
                             methods.data(), methods.size()});
  }
  r.module.abi_version = PLAIT_ABI_VERSION;
  r.module.sdk_version = PLAIT_SDK_VERSION;
  r.module.functions = r.function_table.data();
  r.module.num_functions = r.function_table.size();
  r.module.classes = r.class_table.data();
  r.module.num_classes = r.class_table.size();
  r.built = true;
  return &r.module;
}

}  // namespace

std::string Plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

bool RegisterFunction(FunctionEntry entry) {
  GetRegistry().functions.push_back(std::make_unique<FunctionEntry>(std::move(entry)));
  return true;
}

bool RegisterClass(ClassEntry entry) {
  GetRegistry().classes.push_back(std::make_unique<ClassEntry>(std::move(entry)));
  return true;
}

const plait_module_t* ModuleTable() { return BuildModule(); }

}  // namespace plait::internal

extern "C" __attribute__((visibility("default"))) const plait_module_t* plait_module_init(
    const plait_host_api_t* host) {
  plait::internal::SetHostApi(host);
  return plait::internal::ModuleTable();
}
