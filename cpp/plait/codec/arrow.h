// Arrow values of the object format as Arrow C++ objects, without copying.
//
// Only built where Arrow C++ is available (PLAIT_WITH_ARROW; plait links the libarrow
// that pyarrow's wheel ships). Reading wraps the IPC stream's bytes in an arrow::Buffer
// that holds the BufferView's owner, and the IPC reader slices array buffers out of it,
// so a decoded table's columns point into the encoded object (shared memory) and keep it
// alive. Writing serializes an IPC stream into an arrow::Buffer that the returned
// ArrowData owns; the encoder then copies it once into the destination.
#pragma once

#include <memory>

#include <arrow/type_fwd.h>

#include "plait/codec/status.h"
#include "plait/codec/value.h"

namespace plait {

// Each accepts the kinds that hold its shape: a table from "table" or "record_batch"; a
// record batch from "record_batch" (or a one-batch "table"); an array from "array" (or a
// one-chunk "chunked_array"); a chunked array from "chunked_array" or "array". A stream
// that does not match its kind (two batches for "record_batch", two columns for "array")
// is Invalid.
Result<std::shared_ptr<arrow::Table>> ReadArrowTable(const ArrowData& data);
Result<std::shared_ptr<arrow::RecordBatch>> ReadArrowRecordBatch(const ArrowData& data);
Result<std::shared_ptr<arrow::Array>> ReadArrowArray(const ArrowData& data);
Result<std::shared_ptr<arrow::ChunkedArray>> ReadArrowChunkedArray(const ArrowData& data);

// Checks that data's stream matches its kind (the decoder leaves that to the first read).
Status ValidateArrow(const ArrowData& data);

Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::Table>& table);
Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::RecordBatch>& batch);
Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::Array>& array);
Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::ChunkedArray>& array);

}  // namespace plait
