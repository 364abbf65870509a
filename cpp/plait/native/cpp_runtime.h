// CppRuntime: the C++ worker's side of the C ABI (plait/abi.h), free of Python.
//
// It dlopen()s user libraries built with the plait C++ SDK, asks each for its table of
// registered functions and actor classes (plait_module_init), and runs calls on encoded
// arguments, collecting encoded results through a ReturnSink. The pybind11 module wraps
// it (module.cc); tests drive it directly (cpp_runtime_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plait/abi.h"
#include "plait/codec/status.h"

namespace plait::native {

// Where results go: Alloc returns `size` writable bytes for return value `index`, or null.
class ReturnSink {
 public:
  virtual ~ReturnSink() = default;
  virtual std::uint8_t* Alloc(std::size_t index, std::size_t size) = 0;
};

// Why a call failed: the user code's exception type (or an SDK/runtime error type such as
// "plait::NotFound"), message and stack, as LanguageError wants them.
struct CallError {
  std::string type_name;
  std::string message;
  std::string stack;
  // The encoded Error (ext 5) that caused it (plait_call_t.set_error_cause); empty if none.
  std::string cause;
};

struct CallInput {
  std::vector<plait_arg_t> args;  // positional, then keyword
  std::vector<std::string> kwarg_names;
  std::size_t num_returns = 1;
};

class CppRuntime {
 public:
  // `host` is handed to every library loaded (may be null; must outlive the runtime).
  explicit CppRuntime(const plait_host_api_t* host = nullptr) : host_(host) {}
  ~CppRuntime();
  CppRuntime(const CppRuntime&) = delete;
  CppRuntime& operator=(const CppRuntime&) = delete;

  // Loads a library and registers what it exports; returns the names it registered
  // (functions, then classes). Loading the same path twice is a no-op returning them
  // again. Fails on a dlopen error, a library without plait_module_init, an ABI version
  // mismatch, or a name another loaded library already registered.
  Result<std::vector<std::string>> LoadLibrary(const std::string& path);

  std::vector<std::string> FunctionNames() const;
  std::vector<std::string> ClassNames() const;
  Result<std::vector<std::string>> MethodNames(const std::string& class_name) const;

  // Each returns OK, or a failed Status with *error filled (also for unknown names).
  Status CallFunction(const std::string& name, const CallInput& input, ReturnSink* sink,
                      CallError* error);
  // Constructs this worker's one actor.
  Status CreateActor(const std::string& class_name, const CallInput& input, CallError* error);
  // Calls a method of the actor; calls are serialized (the actor needs no locking).
  Status CallMethod(const std::string& method, const CallInput& input, ReturnSink* sink,
                    CallError* error);
  // Destroys the actor, if any (also done by the destructor).
  void DestroyActor();
  bool has_actor() const { return actor_ != nullptr; }

 private:
  struct Library {
    std::string path;
    void* handle = nullptr;
    const plait_module_t* module = nullptr;
  };
  struct Actor {
    const plait_class_entry_t* cls = nullptr;
    void* instance = nullptr;
    std::map<std::string, const plait_method_entry_t*> methods;
  };

  const plait_host_api_t* host_;
  std::vector<Library> libraries_;
  std::map<std::string, std::pair<const plait_function_entry_t*, std::string>> functions_;
  std::map<std::string, std::pair<const plait_class_entry_t*, std::string>> classes_;
  std::unique_ptr<Actor> actor_;
  std::mutex actor_mutex_;
};

}  // namespace plait::native
