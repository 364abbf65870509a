// Decode(): bytes in the object format into a plait::Value.
//
// Out-of-band buffers are never copied: a decoded tensor's data and an Arrow value's IPC
// stream are views into the input, holding the input's owner (BufferView::owner), so
// decoding a shared-memory object yields values that point into shared memory.
#pragma once

#include <vector>

#include "plait/codec/status.h"
#include "plait/codec/value.h"

namespace plait {

struct DecodeOptions {
  // The spec has non-Python readers refuse any value containing a Python pickle (the
  // default: Decode fails with Refused, naming the Python type). When true, such values
  // decode to PythonOnly placeholders instead, which refuse when converted or encoded.
  bool keep_python_only = false;
};

// Fails with Invalid for a malformed object (every rejection case of the spec) and with
// Refused for a Python-only value. Bytes after the object's end are ignored.
Result<Value> Decode(const BufferView& object, const DecodeOptions& options = {});

// Decode, also appending every ObjectRef found to *refs, in the order decoded.
Result<Value> DecodeWithRefs(const BufferView& object, std::vector<ObjectRefData>* refs,
                             const DecodeOptions& options = {});

}  // namespace plait
