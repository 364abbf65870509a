#include "plait/codec/value.h"

#include <cstring>
#include <sstream>

#include "plait/codec/format.h"

namespace plait {

BufferView BufferView::Copy(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  return Own(std::vector<std::uint8_t>(bytes, bytes + size));
}

BufferView BufferView::Own(std::vector<std::uint8_t> bytes) {
  auto holder = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
  BufferView view;
  view.data = holder->data();
  view.size = holder->size();
  view.owner = std::move(holder);
  return view;
}

namespace {

bool SameBytes(const BufferView& a, const BufferView& b) {
  return a.size == b.size && (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}

}  // namespace

// The generated tables list the enumerators in order, so an enum value indexes them.
const char* DTypeName(DType dtype) { return format::kDTypes[static_cast<int>(dtype)].name; }
std::size_t DTypeSize(DType dtype) { return format::kDTypes[static_cast<int>(dtype)].itemsize; }

std::optional<DType> ParseDType(std::string_view name) {
  for (const auto& info : format::kDTypes) {
    if (name == info.name) return info.dtype;
  }
  return std::nullopt;
}

const char* ArrowKindName(ArrowKind kind) {
  return format::kArrowKinds[static_cast<int>(kind)].name;
}

std::optional<ArrowKind> ParseArrowKind(std::string_view name) {
  for (const auto& info : format::kArrowKinds) {
    if (name == info.name) return info.kind;
  }
  return std::nullopt;
}

std::uint64_t TensorData::NumElements() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string PythonOnlyMessage(const std::string& python_type) {
  return "cannot read a Python-only value of type '" + python_type + "' in C++";
}

std::string Value::TypeName() const {
  switch (kind()) {
    case Kind::kNil: return "nil";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int64";
    case Kind::kUInt: return "uint64";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kBinary: return "binary";
    case Kind::kArray: return "array";
    case Kind::kMap: return "map";
    case Kind::kObjectRef: return "ObjectRef";
    case Kind::kActorHandle: return "ActorHandle";
    case Kind::kArrow: {
      std::string kind_name = ArrowKindName(get_if<ArrowData>()->kind);
      for (auto& c : kind_name) c = c == '_' ? ' ' : c;
      return "Arrow " + kind_name;
    }
    case Kind::kTensor: return std::string(DTypeName(get_if<TensorData>()->dtype)) + " tensor";
    case Kind::kError: return "Error";
    case Kind::kPythonOnly:
      return "Python-only value of type '" + get_if<PythonOnly>()->python_type + "'";
  }
  return "?";
}

bool operator==(const ObjectRefData& a, const ObjectRefData& b) {
  return a.object_id == b.object_id && a.owner.node_id == b.owner.node_id &&
         a.owner.ip == b.owner.ip && a.owner.port == b.owner.port &&
         a.owner.worker_id == b.owner.worker_id;
}

bool operator==(const ErrorInfo& a, const ErrorInfo& b) {
  if (a.type_name != b.type_name || a.message != b.message || a.language != b.language ||
      a.stack != b.stack || a.python_pickle != b.python_pickle) {
    return false;
  }
  if (!a.cause || !b.cause) return !a.cause && !b.cause;
  return *a.cause == *b.cause;
}

bool operator==(const ActorHandleData& a, const ActorHandleData& b) {
  return a.state == b.state;
}

bool operator==(const ArrowData& a, const ArrowData& b) {
  return a.kind == b.kind && SameBytes(a.ipc, b.ipc);
}

bool operator==(const TensorData& a, const TensorData& b) {
  return a.dtype == b.dtype && a.shape == b.shape && SameBytes(a.data, b.data);
}

bool operator==(const PythonOnly& a, const PythonOnly& b) {
  return a.python_type == b.python_type;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.kind() == Value::Kind::kFloat) {  // by bits, unlike double's ==
    double x = *a.get_if<double>(), y = *b.get_if<double>();
    return std::memcmp(&x, &y, sizeof x) == 0;
  }
  return a.storage() == b.storage();
}

namespace {

void Render(const Value& v, std::ostringstream& out) {
  switch (v.kind()) {
    case Value::Kind::kNil: out << "nil"; return;
    case Value::Kind::kBool: out << (*v.get_if<bool>() ? "true" : "false"); return;
    case Value::Kind::kInt: out << *v.get_if<std::int64_t>(); return;
    case Value::Kind::kUInt: out << *v.get_if<std::uint64_t>() << "u"; return;
    case Value::Kind::kFloat: out << *v.get_if<double>(); return;
    case Value::Kind::kString: out << '"' << *v.get_if<std::string>() << '"'; return;
    case Value::Kind::kBinary: out << "bin[" << v.get_if<Binary>()->size() << "]"; return;
    case Value::Kind::kArray: {
      out << '[';
      const char* sep = "";
      for (const auto& item : *v.get_if<Array>()) {
        out << sep;
        Render(item, out);
        sep = ", ";
      }
      out << ']';
      return;
    }
    case Value::Kind::kMap: {
      out << '{';
      const char* sep = "";
      for (const auto& [key, item] : *v.get_if<Map>()) {
        out << sep;
        Render(key, out);
        out << ": ";
        Render(item, out);
        sep = ", ";
      }
      out << '}';
      return;
    }
    case Value::Kind::kError: {
      const auto* e = v.get_if<ErrorInfo>();
      out << "Error(" << e->type_name << ": " << e->message << ")";
      return;
    }
    default: out << '<' << v.TypeName() << '>'; return;
  }
}

}  // namespace

std::string Value::DebugString() const {
  std::ostringstream out;
  Render(*this, out);
  return out.str();
}

}  // namespace plait
