#include "plait/codec/arrow.h"

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/chunked_array.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>

#include <vector>

namespace plait {
namespace {

// An arrow::Buffer over a BufferView: holding the view's owner keeps the encoded object
// (and so every array sliced from this buffer) alive.
class ViewBuffer : public arrow::Buffer {
 public:
  explicit ViewBuffer(const BufferView& view)
      : arrow::Buffer(view.data, static_cast<int64_t>(view.size)), owner_(view.owner) {}

 private:
  std::shared_ptr<const void> owner_;
};

Status FromArrow(const arrow::Status& st, const char* what) {
  if (st.ok()) return Status::OK();
  return Status::Invalid(std::string(what) + ": " + st.ToString());
}

struct Stream {
  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
};

Result<Stream> ReadStream(const ArrowData& data) {
  auto input = std::make_shared<arrow::io::BufferReader>(std::make_shared<ViewBuffer>(data.ipc));
  auto reader = arrow::ipc::RecordBatchStreamReader::Open(input);
  if (!reader.ok()) return FromArrow(reader.status(), "malformed Arrow IPC stream");
  Stream stream;
  stream.schema = (*reader)->schema();
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    PLAIT_RETURN_NOT_OK(FromArrow((*reader)->ReadNext(&batch), "malformed Arrow IPC stream"));
    if (batch == nullptr) break;
    stream.batches.push_back(std::move(batch));
  }
  return stream;
}

std::string KindMismatch(const ArrowData& data, const std::string& detail) {
  return std::string("Arrow ") + ArrowKindName(data.kind) + " stream " + detail;
}

// Whether the stream holds what its kind promises.
Status CheckKind(const ArrowData& data, const Stream& stream) {
  const bool one_batch = data.kind == ArrowKind::kRecordBatch || data.kind == ArrowKind::kArray;
  if (one_batch && stream.batches.size() != 1) {
    return Status::Invalid(KindMismatch(
        data, "has " + std::to_string(stream.batches.size()) + " record batches, expected 1"));
  }
  const bool one_column = data.kind == ArrowKind::kArray || data.kind == ArrowKind::kChunkedArray;
  if (one_column && stream.schema->num_fields() != 1) {
    return Status::Invalid(KindMismatch(
        data, "has " + std::to_string(stream.schema->num_fields()) + " columns, expected 1"));
  }
  return Status::OK();
}

Result<ArrowData> WriteBatches(ArrowKind kind, const std::shared_ptr<arrow::Schema>& schema,
                               const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  auto sink = arrow::io::BufferOutputStream::Create();
  if (!sink.ok()) return FromArrow(sink.status(), "cannot write Arrow data");
  auto writer = arrow::ipc::MakeStreamWriter(*sink, schema);
  if (!writer.ok()) return FromArrow(writer.status(), "cannot write Arrow data");
  for (const auto& batch : batches) {
    PLAIT_RETURN_NOT_OK(FromArrow((*writer)->WriteRecordBatch(*batch), "cannot write Arrow data"));
  }
  PLAIT_RETURN_NOT_OK(FromArrow((*writer)->Close(), "cannot write Arrow data"));
  auto buffer = (*sink)->Finish();
  if (!buffer.ok()) return FromArrow(buffer.status(), "cannot write Arrow data");
  std::shared_ptr<arrow::Buffer> owned = *buffer;
  ArrowData out;
  out.kind = kind;
  out.ipc.data = owned->data();
  out.ipc.size = static_cast<std::size_t>(owned->size());
  out.ipc.owner = owned;
  return out;
}

Result<std::shared_ptr<arrow::ChunkedArray>> SingleColumn(const ArrowData& data,
                                                          const Stream& stream) {
  if (stream.schema->num_fields() != 1) {
    return Status::Invalid(KindMismatch(
        data, "has " + std::to_string(stream.schema->num_fields()) + " columns, expected 1"));
  }
  std::vector<std::shared_ptr<arrow::Array>> chunks;
  for (const auto& batch : stream.batches) chunks.push_back(batch->column(0));
  auto chunked = arrow::ChunkedArray::Make(std::move(chunks), stream.schema->field(0)->type());
  if (!chunked.ok()) return FromArrow(chunked.status(), "malformed Arrow IPC stream");
  return *chunked;
}

}  // namespace

Result<std::shared_ptr<arrow::Table>> ReadArrowTable(const ArrowData& data) {
  if (data.kind != ArrowKind::kTable && data.kind != ArrowKind::kRecordBatch) {
    return Status::TypeError(std::string("expected an Arrow table, got an Arrow ") +
                             ArrowKindName(data.kind));
  }
  PLAIT_ASSIGN_OR_RETURN(Stream stream, ReadStream(data));
  PLAIT_RETURN_NOT_OK(CheckKind(data, stream));
  auto table = arrow::Table::FromRecordBatches(stream.schema, stream.batches);
  if (!table.ok()) return FromArrow(table.status(), "malformed Arrow IPC stream");
  return *table;
}

Result<std::shared_ptr<arrow::RecordBatch>> ReadArrowRecordBatch(const ArrowData& data) {
  if (data.kind != ArrowKind::kTable && data.kind != ArrowKind::kRecordBatch) {
    return Status::TypeError(std::string("expected an Arrow record batch, got an Arrow ") +
                             ArrowKindName(data.kind));
  }
  PLAIT_ASSIGN_OR_RETURN(Stream stream, ReadStream(data));
  PLAIT_RETURN_NOT_OK(CheckKind(data, stream));
  if (stream.batches.size() != 1) {
    return Status::Invalid(KindMismatch(
        data, "has " + std::to_string(stream.batches.size()) + " record batches, expected 1"));
  }
  return stream.batches[0];
}

Result<std::shared_ptr<arrow::ChunkedArray>> ReadArrowChunkedArray(const ArrowData& data) {
  if (data.kind != ArrowKind::kArray && data.kind != ArrowKind::kChunkedArray) {
    return Status::TypeError(std::string("expected an Arrow chunked array, got an Arrow ") +
                             ArrowKindName(data.kind));
  }
  PLAIT_ASSIGN_OR_RETURN(Stream stream, ReadStream(data));
  PLAIT_RETURN_NOT_OK(CheckKind(data, stream));
  return SingleColumn(data, stream);
}

Result<std::shared_ptr<arrow::Array>> ReadArrowArray(const ArrowData& data) {
  if (data.kind != ArrowKind::kArray && data.kind != ArrowKind::kChunkedArray) {
    return Status::TypeError(std::string("expected an Arrow array, got an Arrow ") +
                             ArrowKindName(data.kind));
  }
  PLAIT_ASSIGN_OR_RETURN(Stream stream, ReadStream(data));
  PLAIT_RETURN_NOT_OK(CheckKind(data, stream));
  PLAIT_ASSIGN_OR_RETURN(auto column, SingleColumn(data, stream));
  if (column->num_chunks() != 1) {
    return Status::Invalid(KindMismatch(data, "has " + std::to_string(column->num_chunks()) +
                                                  " record batches, expected 1"));
  }
  return column->chunk(0);
}

Status ValidateArrow(const ArrowData& data) {
  PLAIT_ASSIGN_OR_RETURN(Stream stream, ReadStream(data));
  return CheckKind(data, stream);
}

Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::Table>& table) {
  if (table == nullptr) return Status::Invalid("null Arrow table");
  arrow::TableBatchReader reader(*table);
  auto batches = reader.ToRecordBatches();
  if (!batches.ok()) return FromArrow(batches.status(), "cannot write Arrow table");
  return WriteBatches(ArrowKind::kTable, table->schema(), *batches);
}

Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::RecordBatch>& batch) {
  if (batch == nullptr) return Status::Invalid("null Arrow record batch");
  return WriteBatches(ArrowKind::kRecordBatch, batch->schema(), {batch});
}

Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::Array>& array) {
  if (array == nullptr) return Status::Invalid("null Arrow array");
  // Arrays travel as a one-column batch whose column is named "" (as in Python).
  auto schema = arrow::schema({arrow::field("", array->type())});
  return WriteBatches(ArrowKind::kArray, schema,
                      {arrow::RecordBatch::Make(schema, array->length(), {array})});
}

Result<ArrowData> WriteArrow(const std::shared_ptr<arrow::ChunkedArray>& array) {
  if (array == nullptr) return Status::Invalid("null Arrow chunked array");
  auto schema = arrow::schema({arrow::field("", array->type())});
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (const auto& chunk : array->chunks()) {
    batches.push_back(arrow::RecordBatch::Make(schema, chunk->length(), {chunk}));
  }
  return WriteBatches(ArrowKind::kChunkedArray, schema, batches);
}

}  // namespace plait
