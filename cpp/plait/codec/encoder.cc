#include "plait/codec/encoder.h"

#include <cstring>
#include <limits>

#include "plait/codec/format.h"
#include "plait/codec/msgpack.h"
#include "plait/codec/utf8.h"

namespace plait {
namespace {

constexpr int kMaxDepth = 512;

void PutLE(std::string& out, std::size_t at, std::uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) out[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

Status CheckLength(std::size_t n, const char* what) {
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    return Status::Invalid(std::string(what) + " of " + std::to_string(n) +
                           " is too large for the object format (at most 2^32-1)");
  }
  return Status::OK();
}

class Encoder {
 public:
  std::vector<BufferView> buffers;
  std::vector<ObjectRefData> refs;
  std::uint8_t flags = 0;

  Status Write(const Value& v, msgpack::Writer& w, int depth) {
    if (depth > kMaxDepth) {
      return Status::Invalid("value is nested deeper than " + std::to_string(kMaxDepth));
    }
    switch (v.kind()) {
      case Value::Kind::kNil: w.Nil(); return Status::OK();
      case Value::Kind::kBool: w.Bool(*v.get_if<bool>()); return Status::OK();
      case Value::Kind::kInt: w.Int(*v.get_if<std::int64_t>()); return Status::OK();
      case Value::Kind::kUInt: w.UInt(*v.get_if<std::uint64_t>()); return Status::OK();
      case Value::Kind::kFloat: w.Double(*v.get_if<double>()); return Status::OK();
      case Value::Kind::kString: return String(*v.get_if<std::string>(), w);
      case Value::Kind::kBinary: {
        const auto& bin = *v.get_if<Binary>();
        PLAIT_RETURN_NOT_OK(CheckLength(bin.size(), "binary length"));
        w.Bin(bin.data(), bin.size());
        return Status::OK();
      }
      case Value::Kind::kArray: return Items(*v.get_if<Array>(), w, depth);
      case Value::Kind::kMap: return Entries(*v.get_if<Map>(), w, depth);
      case Value::Kind::kObjectRef: return ObjectRef(*v.get_if<ObjectRefData>(), w);
      case Value::Kind::kActorHandle: {
        msgpack::Writer inner;
        PLAIT_RETURN_NOT_OK(Entries(v.get_if<ActorHandleData>()->state, inner, depth));
        return Ext(format::kExtActorHandle, inner, w);
      }
      case Value::Kind::kArrow: {
        const auto& arrow = *v.get_if<ArrowData>();
        msgpack::Writer inner;
        inner.ArrayHeader(2);
        inner.Str(ArrowKindName(arrow.kind));
        inner.UInt(AddBuffer(arrow.ipc));
        return Ext(format::kExtArrow, inner, w);
      }
      case Value::Kind::kTensor: return Tensor(*v.get_if<TensorData>(), w);
      case Value::Kind::kError: return Error(*v.get_if<ErrorInfo>(), w, depth);
      case Value::Kind::kPythonOnly:
        return Status::Invalid("cannot write a placeholder for the Python-only value of type '" +
                               v.get_if<PythonOnly>()->python_type +
                               "': C++ does not hold its contents");
    }
    return Status::Unknown("unhandled value kind");
  }

 private:
  std::uint64_t AddBuffer(const BufferView& view) {
    buffers.push_back(view);
    return buffers.size() - 1;
  }

  static Status String(const std::string& s, msgpack::Writer& w) {
    PLAIT_RETURN_NOT_OK(CheckLength(s.size(), "string length"));
    if (!IsValidUtf8(s.data(), s.size())) {
      return Status::Invalid("string is not valid UTF-8");
    }
    w.Str(s);
    return Status::OK();
  }

  Status Items(const Array& items, msgpack::Writer& w, int depth) {
    PLAIT_RETURN_NOT_OK(CheckLength(items.size(), "array length"));
    w.ArrayHeader(static_cast<std::uint32_t>(items.size()));
    for (const auto& item : items) PLAIT_RETURN_NOT_OK(Write(item, w, depth + 1));
    return Status::OK();
  }

  Status Entries(const Map& entries, msgpack::Writer& w, int depth) {
    PLAIT_RETURN_NOT_OK(CheckLength(entries.size(), "map size"));
    w.MapHeader(static_cast<std::uint32_t>(entries.size()));
    for (const auto& [key, item] : entries) {
      PLAIT_RETURN_NOT_OK(Write(key, w, depth + 1));
      PLAIT_RETURN_NOT_OK(Write(item, w, depth + 1));
    }
    return Status::OK();
  }

  static Status Ext(std::int8_t type, msgpack::Writer& inner, msgpack::Writer& w) {
    PLAIT_RETURN_NOT_OK(CheckLength(inner.size(), "extension payload"));
    w.ExtHeader(type, static_cast<std::uint32_t>(inner.size()));
    w.Raw(inner.buffer().data(), inner.size());
    return Status::OK();
  }

  Status ObjectRef(const ObjectRefData& ref, msgpack::Writer& w) {
    refs.push_back(ref);
    flags |= format::kFlagHasObjectRefs;
    msgpack::Writer inner;
    inner.ArrayHeader(2);
    inner.Bin(reinterpret_cast<const std::uint8_t*>(ref.object_id.data()),
              ref.object_id.size());
    inner.ArrayHeader(4);
    PLAIT_RETURN_NOT_OK(String(ref.owner.node_id, inner));
    PLAIT_RETURN_NOT_OK(String(ref.owner.ip, inner));
    inner.UInt(ref.owner.port);
    inner.Bin(reinterpret_cast<const std::uint8_t*>(ref.owner.worker_id.data()),
              ref.owner.worker_id.size());
    return Ext(format::kExtObjectRef, inner, w);
  }

  Status Tensor(const TensorData& t, msgpack::Writer& w) {
    std::uint64_t count = 1;
    for (auto d : t.shape) {
      if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / d) {
        return Status::Invalid("tensor shape overflows 64 bits");
      }
      count *= d;
    }
    const std::uint64_t item = DTypeSize(t.dtype);
    if (count > std::numeric_limits<std::uint64_t>::max() / item ||
        count * item != t.data.size) {
      return Status::Invalid("tensor of " + std::to_string(count) + " " +
                             DTypeName(t.dtype) + " elements needs " +
                             std::to_string(count * item) + " bytes, its data has " +
                             std::to_string(t.data.size));
    }
    PLAIT_RETURN_NOT_OK(CheckLength(t.shape.size(), "tensor rank"));
    msgpack::Writer inner;
    inner.ArrayHeader(3);
    inner.Str(DTypeName(t.dtype));
    inner.ArrayHeader(static_cast<std::uint32_t>(t.shape.size()));
    for (auto d : t.shape) inner.UInt(d);
    inner.UInt(AddBuffer(t.data));
    return Ext(format::kExtTensor, inner, w);
  }

  Status Error(const ErrorInfo& e, msgpack::Writer& w, int depth) {
    if (depth > kMaxDepth) return Status::Invalid("error causes nest too deeply");
    msgpack::Writer inner;
    inner.ArrayHeader(6);
    PLAIT_RETURN_NOT_OK(String(e.type_name, inner));
    PLAIT_RETURN_NOT_OK(String(e.message, inner));
    PLAIT_RETURN_NOT_OK(String(e.language, inner));
    PLAIT_RETURN_NOT_OK(String(e.stack, inner));
    if (e.cause) {
      PLAIT_RETURN_NOT_OK(Error(*e.cause, inner, depth + 1));
    } else {
      inner.Nil();
    }
    if (e.python_pickle) {
      PLAIT_RETURN_NOT_OK(CheckLength(e.python_pickle->size(), "error pickle"));
      inner.Bin(e.python_pickle->data(), e.python_pickle->size());
    } else {
      inner.Nil();
    }
    return Ext(format::kExtError, inner, w);
  }
};

}  // namespace

Result<EncodedObject> Encode(const Value& value) {
  Encoder enc;
  msgpack::Writer payload;
  PLAIT_RETURN_NOT_OK(enc.Write(value, payload, 0));

  EncodedObject obj;
  const std::size_t n = enc.buffers.size();
  const std::size_t table_end = format::kHeaderSize + format::kBufferEntrySize * n;
  obj.head_.assign(table_end, '\0');
  std::memcpy(obj.head_.data(), format::kMagic, 4);
  obj.head_[format::kHeaderVersionOffset] = static_cast<char>(format::kVersion);
  obj.head_[format::kHeaderFlagsOffset] = static_cast<char>(enc.flags);
  PutLE(obj.head_, format::kHeaderPayloadLengthOffset, payload.size(), 8);
  PutLE(obj.head_, format::kHeaderBufferCountOffset, n, 8);
  obj.head_.append(payload.buffer());

  // Canonical layout: each buffer at the next multiple of 64, no trailing padding.
  std::uint64_t end = obj.head_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t offset = format::Align(end);
    PutLE(obj.head_, format::kHeaderSize + format::kBufferEntrySize * i, offset, 8);
    PutLE(obj.head_, format::kHeaderSize + format::kBufferEntrySize * i + 8,
          enc.buffers[i].size, 8);
    obj.offsets_.push_back(offset);
    end = offset + enc.buffers[i].size;
  }
  obj.buffers_ = std::move(enc.buffers);
  obj.refs_ = std::move(enc.refs);
  obj.flags_ = enc.flags;
  obj.total_size_ = static_cast<std::size_t>(end);
  return obj;
}

Status EncodedObject::WriteTo(std::uint8_t* dest, std::size_t dest_size) const {
  if (dest_size < total_size_) {
    return Status::Invalid("destination of " + std::to_string(dest_size) +
                           " bytes is smaller than the object (" +
                           std::to_string(total_size_) + " bytes)");
  }
  std::memcpy(dest, head_.data(), head_.size());
  std::size_t end = head_.size();
  for (std::size_t i = 0; i < buffers_.size(); ++i) {
    const auto offset = static_cast<std::size_t>(offsets_[i]);
    // Padding must be zero: dest may be reused memory.
    std::memset(dest + end, 0, offset - end);
    if (buffers_[i].size > 0) std::memcpy(dest + offset, buffers_[i].data, buffers_[i].size);
    end = offset + buffers_[i].size;
  }
  return Status::OK();
}

std::vector<std::uint8_t> EncodedObject::ToBytes() const {
  std::vector<std::uint8_t> out(total_size_);
  // Cannot fail: out is exactly TotalSize() bytes.
  (void)WriteTo(out.data(), out.size());
  return out;
}

}  // namespace plait
