#include "plait/native/host_bridge.h"

#include <string>
#include <vector>

#include "plait/codec/encoder.h"

namespace plait::native {
namespace {

// A Python object whose buffer export the SDK holds (plait_owned_t.handle).
struct OwnedExport {
  Py_buffer view{};
};

void OwnBuffer(py::handle obj, plait_owned_t* out) {
  auto* owned = new OwnedExport();
  if (PyObject_GetBuffer(obj.ptr(), &owned->view, PyBUF_SIMPLE) != 0) {
    delete owned;
    throw py::error_already_set();
  }
  out->data = static_cast<const std::uint8_t*>(owned->view.buf);
  out->size = static_cast<std::size_t>(owned->view.len);
  out->handle = owned;
}

// The Python exception as an encoded Error value, in memory the SDK releases.
void ErrorOut(const std::string& type_name, const std::string& message, const std::string& stack,
              plait_owned_t* out) {
  ErrorInfo info{type_name, message, "python", stack, nullptr, std::nullopt};
  auto encoded = Encode(Value(std::move(info)));
  if (!encoded.ok()) {  // a message that is not UTF-8: say so instead
    encoded = Encode(Value(ErrorInfo{type_name, "(message not UTF-8)", "python", "", nullptr,
                                     std::nullopt}));
  }
  auto* bytes = new std::vector<std::uint8_t>(encoded->ToBytes());
  out->data = bytes->data();
  out->size = bytes->size();
  // Tagged pointer: low bit set marks a C++ vector rather than a Py_buffer export.
  out->handle = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(bytes) | 1);
}

void ErrorOut(py::error_already_set& e, plait_owned_t* out) {
  std::string type_name = "builtins.Exception";
  std::string message = e.what();
  std::string stack;
  try {
    py::object type = e.type();
    type_name = py::str(type.attr("__module__")).cast<std::string>() + "." +
                py::str(type.attr("__qualname__")).cast<std::string>();
    message = py::str(e.value()).cast<std::string>();
    py::object tb = py::module_::import("traceback");
    stack = py::str("").attr("join")(tb.attr("format_exception")(e.value())).cast<std::string>();
  } catch (...) {
    // Formatting failed: keep what e.what() said.
  }
  ErrorOut(type_name, message, stack, out);
}

HostBridge* Self(void* ctx) { return static_cast<HostBridge*>(ctx); }

void Release(void*, void* handle) {
  if (handle == nullptr) return;
  auto bits = reinterpret_cast<std::uintptr_t>(handle);
  if (bits & 1) {
    delete reinterpret_cast<std::vector<std::uint8_t>*>(bits & ~static_cast<std::uintptr_t>(1));
    return;
  }
  if (!Py_IsInitialized()) return;  // process exit: nothing left to release into
  py::gil_scoped_acquire gil;
  auto* owned = static_cast<OwnedExport*>(handle);
  PyBuffer_Release(&owned->view);
  delete owned;
}

void RetainArg(void*, void* owner) { static_cast<HeldArg*>(owner)->Retain(); }
void ReleaseArg(void*, void* owner) { static_cast<HeldArg*>(owner)->Release(); }

py::bytes Bytes(plait_bytes_t b) {
  return py::bytes(reinterpret_cast<const char*>(b.data), b.size);
}

py::list Strings(const char* const* items, std::size_t n) {
  py::list out;
  for (std::size_t i = 0; i < n; ++i) out.append(py::str(items[i]));
  return out;
}

py::list ArgBytes(const plait_task_t* t) {
  py::list out;
  for (std::size_t i = 0; i < t->num_args; ++i) out.append(Bytes(t->args[i]));
  return out;
}

// Options arrive as an encoded map; the Python codec turns them into a dict.
py::dict Options(plait_bytes_t options) {
  if (options.size == 0) return py::dict();
  py::object value = py::module_::import("plait._format").attr("deserialize")(Bytes(options));
  if (!py::isinstance<py::dict>(value)) throw py::type_error("task options must be a map");
  return value.cast<py::dict>();
}

// Runs body (which calls the Python host) with the GIL, turning a Python exception into
// an encoded Error in *error.
template <typename Body>
int CallHost(void* ctx, plait_owned_t* error, Body&& body) {
  if (!Py_IsInitialized()) return PLAIT_ERROR;
  py::gil_scoped_acquire gil;
  try {
    py::object host = Self(ctx)->host();
    if (host.is_none()) {
      ErrorOut("plait::HostError", "this C++ worker has no plait runtime to call back into",
               "", error);
      return PLAIT_ERROR;
    }
    body(host);
    return PLAIT_OK;
  } catch (py::error_already_set& e) {
    ErrorOut(e, error);
  } catch (const std::exception& e) {
    ErrorOut("plait::HostError", e.what(), "", error);
  }
  return PLAIT_ERROR;
}

int Put(void* ctx, plait_bytes_t value, plait_owned_t* ref, plait_owned_t* error) {
  return CallHost(ctx, error, [&](py::object& host) {
    OwnBuffer(host.attr("put")(Bytes(value)), ref);
  });
}

int Get(void* ctx, plait_bytes_t refs, std::size_t num_refs, double timeout_s,
        plait_owned_t* values, plait_owned_t* error) {
  return CallHost(ctx, error, [&](py::object& host) {
    py::list got = host.attr("get")(Bytes(refs), timeout_s);
    if (got.size() != num_refs) {
      throw std::runtime_error("host get returned " + std::to_string(got.size()) +
                               " values for " + std::to_string(num_refs) + " refs");
    }
    std::size_t i = 0;
    try {
      for (; i < num_refs; ++i) OwnBuffer(got[i], &values[i]);
    } catch (...) {
      for (std::size_t k = 0; k < i; ++k) Release(ctx, values[k].handle);
      throw;
    }
  });
}

int SubmitTask(void* ctx, const plait_task_t* t, plait_owned_t* refs, plait_owned_t* error) {
  return CallHost(ctx, error, [&](py::object& host) {
    OwnBuffer(host.attr("submit_task")(t->language, Strings(t->name_parts, t->num_name_parts),
                                       ArgBytes(t), Strings(t->kwarg_names, t->num_kwargs),
                                       t->num_returns, Options(t->options)),
              refs);
  });
}

int CreateActor(void* ctx, const plait_task_t* t, plait_owned_t* handle, plait_owned_t* error) {
  return CallHost(ctx, error, [&](py::object& host) {
    OwnBuffer(host.attr("create_actor")(t->language, Strings(t->name_parts, t->num_name_parts),
                                        ArgBytes(t), Strings(t->kwarg_names, t->num_kwargs),
                                        Options(t->options)),
              handle);
  });
}

int CallActor(void* ctx, plait_bytes_t handle, const char* method, const plait_task_t* t,
              plait_owned_t* refs, plait_owned_t* error) {
  return CallHost(ctx, error, [&](py::object& host) {
    OwnBuffer(host.attr("call_actor")(Bytes(handle), method, ArgBytes(t),
                                      Strings(t->kwarg_names, t->num_kwargs), t->num_returns),
              refs);
  });
}

int GetActor(void* ctx, const char* name, const char* ns, plait_owned_t* handle,
             plait_owned_t* error) {
  return CallHost(ctx, error, [&](py::object& host) {
    OwnBuffer(host.attr("get_actor")(name, ns), handle);
  });
}

int KillActor(void* ctx, plait_bytes_t handle, plait_owned_t* error) {
  return CallHost(ctx, error, [&](py::object& host) { host.attr("kill_actor")(Bytes(handle)); });
}

// hold_refs/release_refs map to HostApi.hold(refs) and HostApi.release(encoded_refs); a
// host without them (a test double) keeps no holds. They cannot fail toward the SDK: a
// Python error is reported as unraisable.
void CallRefMethod(void* ctx, plait_bytes_t refs, const char* method, bool decode) {
  if (!Py_IsInitialized()) return;
  py::gil_scoped_acquire gil;
  try {
    py::object host = Self(ctx)->host();
    if (host.is_none()) return;
    py::object fn = py::getattr(host, method, py::none());
    if (fn.is_none()) return;
    if (decode) {
      fn(py::module_::import("plait._format").attr("deserialize")(Bytes(refs)));
    } else {
      fn(Bytes(refs));
    }
  } catch (py::error_already_set& e) {
    e.discard_as_unraisable(method);
  }
}

void HoldRefs(void* ctx, plait_bytes_t refs) { CallRefMethod(ctx, refs, "hold", true); }
void ReleaseRefs(void* ctx, plait_bytes_t refs) { CallRefMethod(ctx, refs, "release", false); }

}  // namespace

HeldArg::HeldArg(py::handle obj) {
  if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) throw py::error_already_set();
}

HeldArg::~HeldArg() { PyBuffer_Release(&view_); }

void HeldArg::Release() {
  if (refs_.fetch_sub(1) != 1) return;
  if (!Py_IsInitialized()) return;  // process exit: leak rather than touch a dead runtime
  py::gil_scoped_acquire gil;
  delete this;
}

HostBridge::HostBridge() {
  table_.abi_version = PLAIT_ABI_VERSION;
  table_.ctx = this;
  table_.release = &Release;
  table_.retain_arg = &RetainArg;
  table_.release_arg = &ReleaseArg;
  table_.put = &Put;
  table_.get = &Get;
  table_.submit_task = &SubmitTask;
  table_.create_actor = &CreateActor;
  table_.call_actor = &CallActor;
  table_.get_actor = &GetActor;
  table_.kill_actor = &KillActor;
  table_.hold_refs = &HoldRefs;
  table_.release_refs = &ReleaseRefs;
}

HostBridge::~HostBridge() {
  if (host_ != nullptr && Py_IsInitialized()) {
    py::gil_scoped_acquire gil;
    Py_DECREF(host_);
  }
}

void HostBridge::set_host(py::object host) {
  PyObject* old = host_;
  host_ = host.is_none() ? nullptr : host.release().ptr();
  Py_XDECREF(old);
}

py::object HostBridge::host() const {
  if (host_ == nullptr) return py::none();
  return py::reinterpret_borrow<py::object>(host_);
}

}  // namespace plait::native
