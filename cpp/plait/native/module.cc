// pybind11 bindings for plait._native. This file is the only place that knows about
// Python: it turns Python buffers into byte ranges, calls the Status-returning core with
// the GIL released, and turns a bad Status into ValueError.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "plait/native/buffer_ops.h"

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
}
