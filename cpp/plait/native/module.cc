// pybind11 bindings for plait._native. This file and host_bridge.cc are the only places
// that know about Python: they turn Python buffers into byte ranges, call the
// Status-returning core with the GIL released, and turn failures into Python exceptions.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "plait/native/buffer_ops.h"
#include "plait/native/cpp_runtime.h"
#include "plait/native/crash_handler.h"
#include "plait/native/host_bridge.h"

#ifndef PLAIT_VERSION
#define PLAIT_VERSION "0.0.0+unknown"
#endif

namespace py = pybind11;

namespace plait::native {
namespace {

// Owns one Py_buffer export. While it is held the exporter cannot resize or free the
// memory (e.g. bytearray refuses to resize), which is what makes releasing the GIL safe.
class BufferExport {
 public:
  // `role` names the argument in error messages ("source", "destination").
  BufferExport(py::handle obj, const char* role, bool writable) {
    // Ask for strides rather than PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS so that a read-only
    // or strided exporter still answers and we can say exactly what is wrong with it.
    if (PyObject_GetBuffer(obj.ptr(), &export_.view, PyBUF_STRIDES) != 0) {
      throw py::error_already_set();  // TypeError for objects without the buffer protocol.
    }
    export_.held = true;
    if (writable && export_.view.readonly) {
      throw py::value_error(std::string(role) + " buffer is read-only");
    }
    if (PyBuffer_IsContiguous(&export_.view, 'C') == 0) {
      throw py::value_error(std::string(role) + " buffer is not C-contiguous");
    }
  }

  std::uint8_t* data() const { return static_cast<std::uint8_t*>(export_.view.buf); }
  std::size_t size() const { return static_cast<std::size_t>(export_.view.len); }

 private:
  // A member, not the class, releases the export: when the constructor throws, member
  // destructors still run but ~BufferExport would not.
  struct Export {
    Py_buffer view{};
    bool held = false;
    Export() = default;
    Export(const Export&) = delete;
    Export& operator=(const Export&) = delete;
    ~Export() {
      if (held) PyBuffer_Release(&view);
    }
  };
  Export export_;
};

void CopyBufferPy(py::handle dst, py::handle src) {
  BufferExport dst_view(dst, "destination", /*writable=*/true);
  BufferExport src_view(src, "source", /*writable=*/false);
  Status status;
  {
    py::gil_scoped_release release;
    status = CopyBuffer(src_view.data(), src_view.size(), dst_view.data(), dst_view.size());
  }
  if (!status.ok()) throw py::value_error(status.message());
}

// plait._native.CppCallError: a C++ call failed (user code threw, or the call could not
// be bound). plait._cpp turns it into LanguageError.
py::object& CppCallErrorType() {
  static py::object type;  // set at module init; lives as long as the module
  return type;
}

[[noreturn]] void RaiseCallError(const CallError& error) {
  py::object exc = CppCallErrorType()(error.type_name + ": " + error.message);
  exc.attr("type_name") = error.type_name;
  exc.attr("message") = error.message;
  exc.attr("stack") = error.stack;
  // The encoded Error the C++ code let propagate (plait._cpp makes it the cause), or None.
  exc.attr("cause") = error.cause.empty() ? py::none() : py::object(py::bytes(error.cause));
  PyErr_SetObject(CppCallErrorType().ptr(), exc.ptr());
  throw py::error_already_set();
}

// Results become bytes objects allocated at their final size, so the SDK's encoder
// writes each result exactly once, straight into Python memory.
class BytesSink : public ReturnSink {
 public:
  explicit BytesSink(std::size_t n) : outputs_(n) {}
  std::uint8_t* Alloc(std::size_t index, std::size_t size) override {
    py::gil_scoped_acquire gil;
    PyObject* obj = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size));
    if (obj == nullptr) {
      PyErr_Clear();
      return nullptr;
    }
    outputs_[index] = py::reinterpret_steal<py::object>(obj);
    return reinterpret_cast<std::uint8_t*>(PyBytes_AS_STRING(obj));
  }
  py::list Take() {
    py::list out;
    for (auto& o : outputs_) out.append(o);
    return out;
  }

 private:
  std::vector<py::object> outputs_;
};

// The arguments of one call, exported from their Python objects for its duration (and
// longer for those user code keeps: see HeldArg).
class ArgExports {
 public:
  ArgExports(const py::sequence& args, const std::vector<std::string>& kwarg_names,
             std::size_t num_returns) {
    input.kwarg_names = kwarg_names;
    input.num_returns = num_returns;
    for (py::handle obj : args) {
      auto* held = new HeldArg(obj);
      held_.push_back(held);
      input.args.push_back({held->data(), held->size(), held});
    }
  }
  ~ArgExports() {
    for (HeldArg* held : held_) held->Release();
  }
  CallInput input;

 private:
  std::vector<HeldArg*> held_;
};

class PyCppRuntime {
 public:
  explicit PyCppRuntime(py::object host) : runtime_(bridge_.table()) { bridge_.set_host(std::move(host)); }

  void set_host(py::object host) { bridge_.set_host(std::move(host)); }

  std::vector<std::string> LoadLibrary(const std::string& path) {
    Result<std::vector<std::string>> names = Status::Unknown("not loaded");
    {
      // Static initializers of the library run here and may take a while.
      py::gil_scoped_release release;
      names = runtime_.LoadLibrary(path);
    }
    if (!names.ok()) throw py::value_error(names.status().message());
    return *names;
  }

  std::vector<std::string> MethodNames(const std::string& cls) {
    auto names = runtime_.MethodNames(cls);
    if (!names.ok()) throw py::key_error(names.status().message());
    return *names;
  }

  py::list CallFunction(const std::string& name, const py::sequence& args,
                        const std::vector<std::string>& kwarg_names, std::size_t num_returns) {
    ArgExports exports(args, kwarg_names, num_returns);
    BytesSink sink(num_returns);
    CallError error;
    Status st;
    {
      py::gil_scoped_release release;
      st = runtime_.CallFunction(name, exports.input, &sink, &error);
    }
    if (!st.ok()) RaiseCallError(error);
    return sink.Take();
  }

  void CreateActor(const std::string& cls, const py::sequence& args,
                   const std::vector<std::string>& kwarg_names) {
    ArgExports exports(args, kwarg_names, 0);
    CallError error;
    Status st;
    {
      py::gil_scoped_release release;
      st = runtime_.CreateActor(cls, exports.input, &error);
    }
    if (!st.ok()) RaiseCallError(error);
  }

  py::list CallMethod(const std::string& method, const py::sequence& args,
                      const std::vector<std::string>& kwarg_names, std::size_t num_returns) {
    ArgExports exports(args, kwarg_names, num_returns);
    BytesSink sink(num_returns);
    CallError error;
    Status st;
    {
      py::gil_scoped_release release;
      st = runtime_.CallMethod(method, exports.input, &sink, &error);
    }
    if (!st.ok()) RaiseCallError(error);
    return sink.Take();
  }

  void DestroyActor() {
    py::gil_scoped_release release;
    runtime_.DestroyActor();
  }

  CppRuntime& runtime() { return runtime_; }

 private:
  HostBridge bridge_;  // before runtime_: the libraries hold its table
  CppRuntime runtime_;
};

}  // namespace
}  // namespace plait::native

PYBIND11_MODULE(_native, m) {
  m.doc() = "plait's compiled helpers (private; use through plait modules).";
  m.def("copy_buffer", &plait::native::CopyBufferPy, py::arg("dst"), py::arg("src"),
        "Copy every byte of the C-contiguous buffer `src` into the writable, C-contiguous\n"
        "buffer `dst` of exactly the same size, with the GIL released.\n"
        "Raises ValueError on a size mismatch, a read-only `dst` or a strided buffer.");
  m.def("version", []() { return std::string(PLAIT_VERSION); },
        "The plait version this extension was built for.");
  m.def(
      "install_crash_handler",
      [](const std::string& crash_file) {
        auto st = plait::native::InstallCrashHandler(crash_file);
        if (!st.ok()) throw py::value_error(st.message());
      },
      py::arg("crash_file"),
      "Report fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) with the native\n"
      "stack on stderr and in `crash_file` (\"\": stderr only), then die of the signal\n"
      "(or pass it to the handler installed before). Once per process; a later call only\n"
      "changes the file. Raises ValueError on an unusable path.");

  using plait::native::PyCppRuntime;
  plait::native::CppCallErrorType() = py::reinterpret_steal<py::object>(
      PyErr_NewExceptionWithDoc("plait._native.CppCallError",
                                "A C++ call failed: attributes type_name, message, stack.",
                                PyExc_RuntimeError, nullptr));
  m.attr("CppCallError") = plait::native::CppCallErrorType();
  m.attr("CPP_ABI_VERSION") = PLAIT_ABI_VERSION;

  py::class_<PyCppRuntime>(m, "CppRuntime",
                           "Loads C++ libraries built with the plait SDK and calls what they\n"
                           "registered, on encoded objects (docs/cross-language.md).")
      .def(py::init<py::object>(), py::arg("host") = py::none())
      .def("set_host", &PyCppRuntime::set_host, py::arg("host"))
      .def("load_library", &PyCppRuntime::LoadLibrary, py::arg("path"))
      .def("function_names", [](PyCppRuntime& r) { return r.runtime().FunctionNames(); })
      .def("class_names", [](PyCppRuntime& r) { return r.runtime().ClassNames(); })
      .def("method_names", &PyCppRuntime::MethodNames, py::arg("class_name"))
      .def("call_function", &PyCppRuntime::CallFunction, py::arg("name"), py::arg("args"),
           py::arg("kwarg_names"), py::arg("num_returns"))
      .def("create_actor", &PyCppRuntime::CreateActor, py::arg("class_name"), py::arg("args"),
           py::arg("kwarg_names"))
      .def("call_method", &PyCppRuntime::CallMethod, py::arg("method"), py::arg("args"),
           py::arg("kwarg_names"), py::arg("num_returns"))
      .def("destroy_actor", &PyCppRuntime::DestroyActor)
      .def_property_readonly("has_actor",
                             [](PyCppRuntime& r) { return r.runtime().has_actor(); });
}
