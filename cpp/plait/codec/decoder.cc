#include "plait/codec/decoder.h"

#include <cstring>
#include <limits>

#include "plait/codec/format.h"
#include "plait/codec/msgpack.h"
#include "plait/codec/utf8.h"

namespace plait {
namespace {

constexpr int kMaxDepth = 512;

std::uint64_t ReadLE(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

struct BufferEntry {
  std::uint64_t offset;
  std::uint64_t length;
};

using msgpack::Item;

class Decoder {
 public:
  Decoder(const BufferView& object, std::vector<BufferEntry> table,
          std::vector<ObjectRefData>* refs, const DecodeOptions& options)
      : object_(object), table_(std::move(table)), refs_(refs), options_(options) {}

  // Decodes exactly one value from `data` (a payload or an ext payload).
  Status DecodeAll(const std::uint8_t* data, std::size_t size, int depth, Value* out,
                   const char* what) {
    msgpack::Reader reader(data, size);
    PLAIT_RETURN_NOT_OK(Read(reader, depth, out));
    if (!reader.AtEnd()) {
      return Status::Invalid(std::string(what) + " has " + std::to_string(reader.remaining()) +
                             " bytes after its msgpack value");
    }
    return Status::OK();
  }

 private:
  Status Read(msgpack::Reader& reader, int depth, Value* out) {
    if (depth > kMaxDepth) {
      return Status::Invalid("value is nested deeper than " + std::to_string(kMaxDepth));
    }
    Item item;
    PLAIT_RETURN_NOT_OK(reader.Next(&item));
    using T = Item::Type;
    switch (item.type) {
      case T::kNil: *out = Value(); return Status::OK();
      case T::kBool: *out = Value(item.b); return Status::OK();
      case T::kInt: *out = Value(item.i); return Status::OK();
      case T::kUInt: *out = Value(item.u); return Status::OK();  // normalizes to int64
      case T::kFloat: *out = Value(item.f); return Status::OK();
      case T::kStr: {
        std::string s;
        PLAIT_RETURN_NOT_OK(Str(item, &s));
        *out = Value(std::move(s));
        return Status::OK();
      }
      case T::kBin: *out = Value(Binary(item.data, item.data + item.size)); return Status::OK();
      case T::kArray: {
        Array items;
        PLAIT_RETURN_NOT_OK(Items(reader, item.size, depth, &items));
        *out = Value(std::move(items));
        return Status::OK();
      }
      case T::kMap: {
        Map entries;
        PLAIT_RETURN_NOT_OK(Entries(reader, item.size, depth, &entries));
        *out = Value(std::move(entries));
        return Status::OK();
      }
      case T::kExt: return Ext(item, depth, out);
    }
    return Status::Unknown("unhandled msgpack type");
  }

  static Status Str(const Item& item, std::string* out) {
    const char* chars = reinterpret_cast<const char*>(item.data);
    if (!IsValidUtf8(chars, item.size)) return Status::Invalid("string is not valid UTF-8");
    out->assign(chars, item.size);
    return Status::OK();
  }

  Status Items(msgpack::Reader& reader, std::size_t count, int depth, Array* out) {
    // Each item takes at least one byte: a count beyond that is a lie, not an allocation.
    if (count > reader.remaining()) return Status::Invalid("msgpack array is truncated");
    out->resize(count);
    for (auto& v : *out) PLAIT_RETURN_NOT_OK(Read(reader, depth + 1, &v));
    return Status::OK();
  }

  Status Entries(msgpack::Reader& reader, std::size_t count, int depth, Map* out) {
    if (count > reader.remaining() / 2) return Status::Invalid("msgpack map is truncated");
    out->resize(count);
    for (auto& [key, v] : *out) {
      PLAIT_RETURN_NOT_OK(Read(reader, depth + 1, &key));
      PLAIT_RETURN_NOT_OK(Read(reader, depth + 1, &v));
    }
    return Status::OK();
  }

  // --- extension types ------------------------------------------------------------------
  Status Ext(const Item& ext, int depth, Value* out) {
    switch (ext.ext_type) {
      case format::kExtObjectRef: return ObjectRef(ext, out);
      case format::kExtActorHandle: {
        Value state;
        PLAIT_RETURN_NOT_OK(DecodeAll(ext.data, ext.size, depth + 1, &state,
                                      "actor handle payload"));
        Map* entries = state.get_if<Map>();
        if (entries == nullptr) return Status::Invalid("actor handle ext payload is not a map");
        *out = Value(ActorHandleData{std::move(*entries)});
        return Status::OK();
      }
      case format::kExtArrow: return Arrow(ext, out);
      case format::kExtTensor: return Tensor(ext, out);
      case format::kExtError: {
        ErrorInfo error;
        PLAIT_RETURN_NOT_OK(Error(ext, depth, &error));
        *out = Value(std::move(error));
        return Status::OK();
      }
      case format::kExtPythonPickle: return PythonPickle(ext, out);
      case format::kExtTuple: {
        PLAIT_RETURN_NOT_OK(DecodeAll(ext.data, ext.size, depth + 1, out, "tuple payload"));
        if (out->get_if<Array>() == nullptr) {
          return Status::Invalid("tuple ext payload is not an array");
        }
        return Status::OK();  // C++ reads a tuple as an array
      }
      default:
        return Status::Invalid("unknown msgpack extension type " +
                               std::to_string(static_cast<int>(ext.ext_type)));
    }
  }

  // The ext payload as tokens: `fields` items of a top-level array, checked to be all
  // there is. Used by the fixed-shape exts, which are flat enough to read token by token.
  static Status OpenArray(msgpack::Reader& reader, std::size_t min_items, std::size_t* count,
                          const char* what) {
    Item head;
    PLAIT_RETURN_NOT_OK(reader.Next(&head));
    if (head.type != Item::Type::kArray || head.size < min_items) {
      return Status::Invalid(std::string("malformed ") + what + " payload: expected an array of " +
                             std::to_string(min_items) + " items");
    }
    *count = head.size;
    return Status::OK();
  }

  static Status Expect(msgpack::Reader& reader, Item::Type type, Item* out, const char* what) {
    PLAIT_RETURN_NOT_OK(reader.Next(out));
    // A non-negative integer may arrive as intN (non-canonical but valid msgpack).
    if (type == Item::Type::kUInt && out->type == Item::Type::kInt && out->i >= 0) {
      out->type = Item::Type::kUInt;
      out->u = static_cast<std::uint64_t>(out->i);
    }
    if (out->type != type) return Status::Invalid(std::string("malformed ") + what + " payload");
    return Status::OK();
  }

  static Status End(const msgpack::Reader& reader, const char* what) {
    if (!reader.AtEnd()) {
      return Status::Invalid(std::string(what) + " payload has bytes after its value");
    }
    return Status::OK();
  }

  Status ObjectRef(const Item& ext, Value* out) {
    msgpack::Reader r(ext.data, ext.size);
    std::size_t count;
    Item id, node, ip, port, worker;
    PLAIT_RETURN_NOT_OK(OpenArray(r, 2, &count, "ObjectRef"));
    if (count != 2) return Status::Invalid("malformed ObjectRef payload: expected 2 items");
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kBin, &id, "ObjectRef"));
    PLAIT_RETURN_NOT_OK(OpenArray(r, 4, &count, "ObjectRef owner"));
    if (count != 4) return Status::Invalid("malformed ObjectRef owner: expected 4 items");
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kStr, &node, "ObjectRef owner"));
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kStr, &ip, "ObjectRef owner"));
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kUInt, &port, "ObjectRef owner"));
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kBin, &worker, "ObjectRef owner"));
    PLAIT_RETURN_NOT_OK(End(r, "ObjectRef"));
    ObjectRefData ref;
    ref.object_id.assign(reinterpret_cast<const char*>(id.data), id.size);
    PLAIT_RETURN_NOT_OK(Str(node, &ref.owner.node_id));
    PLAIT_RETURN_NOT_OK(Str(ip, &ref.owner.ip));
    ref.owner.port = port.u;
    ref.owner.worker_id.assign(reinterpret_cast<const char*>(worker.data), worker.size);
    if (refs_ != nullptr) refs_->push_back(ref);
    *out = Value(std::move(ref));
    return Status::OK();
  }

  Status Buffer(std::uint64_t index, BufferView* out) {
    if (index >= table_.size()) {
      return Status::Invalid("buffer index " + std::to_string(index) + " out of range (" +
                             std::to_string(table_.size()) + " buffers)");
    }
    out->data = object_.data + table_[index].offset;
    out->size = static_cast<std::size_t>(table_[index].length);
    out->owner = object_.owner;
    return Status::OK();
  }

  Status Arrow(const Item& ext, Value* out) {
    msgpack::Reader r(ext.data, ext.size);
    std::size_t count;
    Item kind, index;
    PLAIT_RETURN_NOT_OK(OpenArray(r, 2, &count, "Arrow"));
    if (count != 2) return Status::Invalid("malformed Arrow payload: expected 2 items");
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kStr, &kind, "Arrow"));
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kUInt, &index, "Arrow"));
    PLAIT_RETURN_NOT_OK(End(r, "Arrow"));
    std::string kind_name(reinterpret_cast<const char*>(kind.data), kind.size);
    auto parsed = ParseArrowKind(kind_name);
    if (!parsed) return Status::Invalid("unknown Arrow kind '" + kind_name + "'");
    ArrowData arrow;
    arrow.kind = *parsed;
    PLAIT_RETURN_NOT_OK(Buffer(index.u, &arrow.ipc));
    *out = Value(std::move(arrow));
    return Status::OK();
  }

  Status Tensor(const Item& ext, Value* out) {
    msgpack::Reader r(ext.data, ext.size);
    std::size_t count;
    Item dtype, dims, index;
    PLAIT_RETURN_NOT_OK(OpenArray(r, 3, &count, "tensor"));
    if (count != 3) return Status::Invalid("malformed tensor payload: expected 3 items");
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kStr, &dtype, "tensor"));
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kArray, &dims, "tensor"));
    if (dims.size > r.remaining()) return Status::Invalid("malformed tensor shape");
    TensorData t;
    std::uint64_t elements = 1;
    bool overflow = false;
    for (std::size_t k = 0; k < dims.size; ++k) {
      Item d;
      PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kUInt, &d, "tensor shape"));
      if (d.u != 0 && elements > std::numeric_limits<std::uint64_t>::max() / d.u) overflow = true;
      elements *= d.u;
      t.shape.push_back(d.u);
    }
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kUInt, &index, "tensor"));
    PLAIT_RETURN_NOT_OK(End(r, "tensor"));
    std::string name(reinterpret_cast<const char*>(dtype.data), dtype.size);
    auto parsed = ParseDType(name);
    if (!parsed) return Status::Invalid("unknown tensor dtype '" + name + "'");
    t.dtype = *parsed;
    PLAIT_RETURN_NOT_OK(Buffer(index.u, &t.data));
    const std::uint64_t item_size = DTypeSize(t.dtype);
    if (overflow || elements > std::numeric_limits<std::uint64_t>::max() / item_size ||
        elements * item_size != t.data.size) {
      return Status::Invalid("tensor of " + std::to_string(elements) + " " + name +
                             " elements does not match its buffer of " +
                             std::to_string(t.data.size) + " bytes");
    }
    *out = Value(std::move(t));
    return Status::OK();
  }

  Status Error(const Item& ext, int depth, ErrorInfo* out) {
    if (depth > kMaxDepth) return Status::Invalid("error causes nest too deeply");
    Value fields_value;
    PLAIT_RETURN_NOT_OK(DecodeAll(ext.data, ext.size, depth + 1, &fields_value, "error payload"));
    const Array* fields = fields_value.get_if<Array>();
    if (fields == nullptr || fields->size() < 6) {
      return Status::Invalid("error ext payload is not an array of 6 items");
    }
    const std::string* strings[4];
    for (int k = 0; k < 4; ++k) {
      strings[k] = (*fields)[k].get_if<std::string>();
      if (strings[k] == nullptr) return Status::Invalid("malformed error ext payload");
    }
    out->type_name = *strings[0];
    out->message = *strings[1];
    out->language = *strings[2];
    out->stack = *strings[3];
    const Value& cause = (*fields)[4];
    if (const auto* e = cause.get_if<ErrorInfo>()) {
      out->cause = std::make_shared<const ErrorInfo>(*e);
    } else if (!cause.is_nil()) {
      return Status::Invalid("malformed error ext payload: cause is not an Error");
    }
    const Value& pickle = (*fields)[5];
    if (const auto* bin = pickle.get_if<Binary>()) {
      out->python_pickle = *bin;
    } else if (!pickle.is_nil()) {
      return Status::Invalid("malformed error ext payload: python_pickle is not bin");
    }
    return Status::OK();  // items after the 6th are room for later fields: ignored
  }

  Status PythonPickle(const Item& ext, Value* out) {
    // Only element 0 (the Python type's name) is for other languages to read.
    msgpack::Reader r(ext.data, ext.size);
    std::size_t count;
    Item name;
    PLAIT_RETURN_NOT_OK(OpenArray(r, 1, &count, "Python pickle"));
    PLAIT_RETURN_NOT_OK(Expect(r, Item::Type::kStr, &name, "Python pickle"));
    std::string python_type;
    PLAIT_RETURN_NOT_OK(Str(name, &python_type));
    if (!options_.keep_python_only) return Status::Refused(PythonOnlyMessage(python_type));
    *out = Value(PythonOnly{std::move(python_type)});
    return Status::OK();
  }

  const BufferView& object_;
  std::vector<BufferEntry> table_;
  std::vector<ObjectRefData>* refs_;
  const DecodeOptions& options_;
};

}  // namespace

Result<Value> DecodeWithRefs(const BufferView& object, std::vector<ObjectRefData>* refs,
                             const DecodeOptions& options) {
  const std::uint8_t* p = object.data;
  const std::uint64_t size = object.size;
  if (size < format::kHeaderSize || p == nullptr) {
    return Status::Invalid("object is " + std::to_string(size) +
                           " bytes, shorter than the 24-byte header");
  }
  if (std::memcmp(p, format::kMagic, 4) != 0) {
    return Status::Invalid("not a plait object (bad magic)");
  }
  if (p[format::kHeaderVersionOffset] != format::kVersion) {
    return Status::Invalid("unsupported object format version " + std::to_string(p[format::kHeaderVersionOffset]));
  }
  const std::uint64_t payload_length = ReadLE(p + format::kHeaderPayloadLengthOffset, 8);
  const std::uint64_t buffer_count = ReadLE(p + format::kHeaderBufferCountOffset, 8);
  // Checked in an order that cannot overflow: each term is bounded by size first.
  if (buffer_count > (size - format::kHeaderSize) / format::kBufferEntrySize) {
    return Status::Invalid("object is truncated: " + std::to_string(buffer_count) +
                           " buffer table entries do not fit in " + std::to_string(size) +
                           " bytes");
  }
  const std::uint64_t start = format::kHeaderSize + format::kBufferEntrySize * buffer_count;
  if (payload_length > size - start) {
    return Status::Invalid("object is truncated: " + std::to_string(size) +
                           " bytes, payload ends at " + std::to_string(start + payload_length));
  }
  std::vector<BufferEntry> table(static_cast<std::size_t>(buffer_count));
  for (std::uint64_t i = 0; i < buffer_count; ++i) {
    const std::uint8_t* entry = p + format::kHeaderSize + format::kBufferEntrySize * i;
    BufferEntry e{ReadLE(entry, 8), ReadLE(entry + 8, 8)};
    if (e.offset > size || e.length > size - e.offset) {
      return Status::Invalid("buffer " + std::to_string(i) + " (" + std::to_string(e.offset) +
                             "+" + std::to_string(e.length) + ") lies outside the object (" +
                             std::to_string(size) + " bytes)");
    }
    table[static_cast<std::size_t>(i)] = e;
  }
  Decoder decoder(object, std::move(table), refs, options);
  Value value;
  PLAIT_RETURN_NOT_OK(decoder.DecodeAll(p + start, static_cast<std::size_t>(payload_length), 0,
                                        &value, "payload"));
  return value;
}

Result<Value> Decode(const BufferView& object, const DecodeOptions& options) {
  return DecodeWithRefs(object, nullptr, options);
}

}  // namespace plait
