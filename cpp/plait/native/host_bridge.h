// The Python side of the C ABI's host API table (plait/abi.h): C functions that call a
// Python host object (plait._core.host_api.HostApi or anything with the same
// methods), plus the argument buffers a call lends to user code. Part of the extension;
// this and module.cc are the only C++ files that know about Python.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>

#include "plait/abi.h"

namespace plait::native {

namespace py = pybind11;

// One argument's Py_buffer export, lent to user code for a call (plait_arg_t.owner).
// Reference-counted without the GIL; the last release takes the GIL to end the export.
class HeldArg {
 public:
  // Exports obj's bytes (any C-contiguous buffer: bytes, memoryview, pyarrow.Buffer,
  // numpy array). Throws py::error_already_set when obj has no such buffer.
  explicit HeldArg(py::handle obj);
  HeldArg(const HeldArg&) = delete;
  HeldArg& operator=(const HeldArg&) = delete;

  const std::uint8_t* data() const { return static_cast<const std::uint8_t*>(view_.buf); }
  std::size_t size() const { return static_cast<std::size_t>(view_.len); }

  void Retain() { refs_.fetch_add(1); }
  // Deletes this when it was the last reference; takes the GIL only then.
  void Release();

 private:
  ~HeldArg();
  Py_buffer view_{};
  std::atomic<int> refs_{1};
};

// Owns the plait_host_api_t handed to user libraries; its functions call `host`'s
// put/get/submit_task/create_actor/call_actor/get_actor/kill_actor (HostApi's
// signatures). Lives as long as the runtime that loaded the libraries.
class HostBridge {
 public:
  HostBridge();
  ~HostBridge();
  HostBridge(const HostBridge&) = delete;
  HostBridge& operator=(const HostBridge&) = delete;

  const plait_host_api_t* table() const { return &table_; }
  // None: calls back into the runtime fail with "no host". Needs the GIL.
  void set_host(py::object host);
  py::object host() const;  // needs the GIL

 private:
  plait_host_api_t table_{};
  PyObject* host_ = nullptr;  // a strong reference, or null; touched only with the GIL
};

}  // namespace plait::native
