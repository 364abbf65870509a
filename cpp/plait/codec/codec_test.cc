// The C++ codec against the golden vectors (conformance-tests/golden/values.json, part of
// the spec) plus zero-copy, rejection and robustness checks.
#include <gtest/gtest.h>

#include <arrow/api.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plait/codec/arrow.h"
#include "plait/codec/decoder.h"
#include "plait/codec/encoder.h"
#include "plait/codec/format.h"
#include "plait/codec/value.h"

namespace plait {
namespace {

using json = nlohmann::json;

std::vector<std::uint8_t> FromHex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string Str(const std::vector<std::uint8_t>& b) { return std::string(b.begin(), b.end()); }

const json& Golden() {
  static const json golden = [] {
    std::ifstream in(PLAIT_GOLDEN_PATH);
    return json::parse(in);
  }();
  return golden;
}

template <typename T>
void Append(std::vector<std::uint8_t>& out, T v) {
  std::uint8_t raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));  // little-endian host, as the format
  out.insert(out.end(), raw, raw + sizeof(T));
}

// IEEE binary16 bits of x, which the golden file only gives as zero or a normal number
// exact in binary16 (checked: anything else fails the test rather than rounding).
std::uint16_t HalfBits(double x) {
  if (x == 0) return std::signbit(x) ? 0x8000 : 0;
  const float f = static_cast<float>(x);
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
  const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  const std::uint32_t mantissa = bits & 0x7fffff;
  EXPECT_TRUE(exponent > 0 && exponent < 31 && (mantissa & 0x1fff) == 0)
      << x << " is not a normal binary16 number";
  return static_cast<std::uint16_t>(sign | (exponent << 10) | (mantissa >> 13));
}

TensorData TensorFromJson(const json& j) {
  TensorData t;
  t.dtype = *ParseDType(j["dtype"].get<std::string>());
  for (const auto& d : j["shape"]) t.shape.push_back(d.get<std::uint64_t>());
  std::vector<std::uint8_t> bytes;
  for (const auto& x : j["data"]) {
    switch (t.dtype) {
      case DType::kBool: bytes.push_back(x.get<bool>() ? 1 : 0); break;
      case DType::kInt8: Append(bytes, x.get<std::int8_t>()); break;
      case DType::kInt16: Append(bytes, x.get<std::int16_t>()); break;
      case DType::kInt32: Append(bytes, x.get<std::int32_t>()); break;
      case DType::kInt64: Append(bytes, x.get<std::int64_t>()); break;
      case DType::kUInt8: Append(bytes, x.get<std::uint8_t>()); break;
      case DType::kUInt16: Append(bytes, x.get<std::uint16_t>()); break;
      case DType::kUInt32: Append(bytes, x.get<std::uint32_t>()); break;
      case DType::kUInt64: Append(bytes, x.get<std::uint64_t>()); break;
      case DType::kFloat16: Append(bytes, HalfBits(x.get<double>())); break;
      case DType::kFloat32: Append(bytes, x.get<float>()); break;
      case DType::kFloat64: Append(bytes, x.get<double>()); break;
      // [real, imag] pairs.
      case DType::kComplex64:
        Append(bytes, x[0].get<float>());
        Append(bytes, x[1].get<float>());
        break;
      case DType::kComplex128:
        Append(bytes, x[0].get<double>());
        Append(bytes, x[1].get<double>());
        break;
    }
  }
  t.data = BufferView::Own(std::move(bytes));
  return t;
}

ErrorInfo ErrorFromJson(const json& j) {
  ErrorInfo e;
  e.type_name = j["type_name"];
  e.message = j["message"];
  e.language = j["language"];
  e.stack = j["stack"];
  if (!j["cause"].is_null()) e.cause = std::make_shared<ErrorInfo>(ErrorFromJson(j["cause"]));
  if (!j["python_pickle"].is_null()) e.python_pickle = FromHex(j["python_pickle"]);
  return e;
}

// The value a golden case describes, as C++ reads it (tuples are arrays). Sets
// *has_tuple when a tuple appears: C++ writes arrays, so such bytes are decode-only.
Value FromJson(const json& j, bool* has_tuple) {
  const std::string type = j["type"];
  if (type == "nil") return Value();
  if (type == "bool") return Value(j["value"].get<bool>());
  if (type == "int") {
    const std::string s = j["value"];
    if (s[0] == '-') return Value(static_cast<std::int64_t>(std::stoll(s)));
    return Value(static_cast<std::uint64_t>(std::stoull(s)));
  }
  if (type == "float") {
    std::uint64_t bits = std::stoull(j["bits"].get<std::string>(), nullptr, 16);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return Value(d);
  }
  if (type == "str") return Value(j["value"].get<std::string>());
  if (type == "bin") return Value(FromHex(j["hex"]));
  if (type == "array" || type == "tuple") {
    if (type == "tuple") *has_tuple = true;
    Array items;
    for (const auto& item : j["items"]) items.push_back(FromJson(item, has_tuple));
    return Value(std::move(items));
  }
  if (type == "map") {
    Map entries;
    for (const auto& e : j["entries"]) {
      entries.emplace_back(FromJson(e[0], has_tuple), FromJson(e[1], has_tuple));
    }
    return Value(std::move(entries));
  }
  if (type == "object_ref") {
    ObjectRefData ref;
    ref.object_id = Str(FromHex(j["object_id"]));
    const auto& o = j["owner"];
    ref.owner = {o["node_id"], o["ip"], o["port"].get<std::uint64_t>(), Str(FromHex(o["worker_id"]))};
    return Value(std::move(ref));
  }
  if (type == "actor_handle") {
    Value state = FromJson(j["state"], has_tuple);
    return Value(ActorHandleData{*state.get_if<Map>()});
  }
  if (type == "tensor") return Value(TensorFromJson(j));
  if (type == "error") return Value(ErrorFromJson(j));
  ADD_FAILURE() << "unhandled golden value type " << type;
  return Value();
}

BufferView ViewOf(const std::vector<std::uint8_t>& bytes) {
  return BufferView{bytes.data(), bytes.size(), nullptr};
}

// The generated tables (from proto/object_format.json) name every enumerator once, in
// order, and the names parse back.
TEST(FormatTableTest, GeneratedDTypeAndArrowKindTablesMatchTheEnums) {
  for (std::size_t i = 0; i < std::size(format::kDTypes); ++i) {
    const auto& info = format::kDTypes[i];
    EXPECT_EQ(static_cast<std::size_t>(info.dtype), i);
    EXPECT_EQ(ParseDType(info.name), info.dtype);
    EXPECT_STREQ(DTypeName(info.dtype), info.name);
    EXPECT_EQ(DTypeSize(info.dtype), info.itemsize);
  }
  for (std::size_t i = 0; i < std::size(format::kArrowKinds); ++i) {
    const auto& info = format::kArrowKinds[i];
    EXPECT_EQ(static_cast<std::size_t>(info.kind), i);
    EXPECT_EQ(ParseArrowKind(info.name), info.kind);
    EXPECT_STREQ(ArrowKindName(info.kind), info.name);
  }
  EXPECT_EQ(format::kHeaderSize, format::kHeaderBufferCountOffset + 8);
}

// A dtype or Arrow kind in the table without a golden vector fails here.
TEST(FormatTableTest, GoldenFileHasAVectorForEveryDTypeAndArrowKind) {
  std::map<std::string, std::string> checks;
  for (const auto& c : Golden()["cases"]) checks[c["name"]] = c["check"];
  for (const auto& info : format::kDTypes) {
    EXPECT_EQ(checks[std::string("tensor_dtype_") + info.name], "bytes") << info.name;
  }
  for (const auto& info : format::kArrowKinds) {
    EXPECT_EQ(checks[std::string("arrow_") + info.name], "decode") << info.name;
  }
}

TEST(GoldenTest, FileHasCasesOfEveryCheck) {
  std::map<std::string, int> checks;
  for (const auto& c : Golden()["cases"]) checks[c["check"]]++;
  EXPECT_GT(checks["bytes"], 50);
  EXPECT_GT(checks["decode"], 0);
  EXPECT_GT(checks["refuse"], 0);
  EXPECT_GT(checks["reject"], 0);
}

TEST(GoldenTest, BytesCasesEncodeExactlyAndDecodeToTheValue) {
  int encoded = 0;
  for (const auto& c : Golden()["cases"]) {
    if (c["check"] != "bytes") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto bytes = FromHex(c["hex"]);
    bool has_tuple = false;
    const Value expected = FromJson(c["value"], &has_tuple);

    auto decoded = Decode(ViewOf(bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, expected) << decoded->DebugString() << " vs " << expected.DebugString();

    if (has_tuple) continue;  // only Python writes ext 7; C++ writes arrays
    auto enc = Encode(expected);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    EXPECT_EQ(enc->ToBytes(), bytes);
    ++encoded;
  }
  EXPECT_GT(encoded, 50);
}

TEST(GoldenTest, ObjectRefsAreReportedInOrderAndFlagged) {
  for (const auto& c : Golden()["cases"]) {
    if (c["name"] != "object_refs_nested") continue;
    const auto bytes = FromHex(c["hex"]);
    std::vector<ObjectRefData> refs;
    auto decoded = DecodeWithRefs(ViewOf(bytes), &refs);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ASSERT_GE(refs.size(), 2u);
    EXPECT_EQ(refs[0].object_id, Str(FromHex(c["value"]["items"][0]["object_id"])));
    auto enc = Encode(*decoded);
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(enc->contained_refs().size(), refs.size());
    EXPECT_EQ(enc->flags() & 0x01, 0x01);
  }
}

TEST(GoldenTest, PythonOnlyValuesAreRefusedNamingTheType) {
  int seen = 0;
  for (const auto& c : Golden()["cases"]) {
    if (c["check"] != "refuse") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const std::string type = c["refuse_type"];
    const auto bytes = FromHex(c["hex"]);
    auto decoded = Decode(ViewOf(bytes));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), Status::Code::kRefused);
    EXPECT_NE(decoded.status().message().find("'" + type + "'"), std::string::npos)
        << decoded.status().message();

    DecodeOptions keep;
    keep.keep_python_only = true;
    auto placeholder = Decode(ViewOf(bytes), keep);
    ASSERT_TRUE(placeholder.ok()) << placeholder.status().ToString();
    ASSERT_NE(placeholder->get_if<PythonOnly>(), nullptr);
    EXPECT_EQ(placeholder->get_if<PythonOnly>()->python_type, type);
    auto reencoded = Encode(*placeholder);
    ASSERT_FALSE(reencoded.ok());
    EXPECT_NE(reencoded.status().message().find(type), std::string::npos);
    ++seen;
  }
  EXPECT_GE(seen, 2);
}

TEST(GoldenTest, MalformedObjectsAreRejected) {
  int seen = 0;
  for (const auto& c : Golden()["cases"]) {
    if (c["check"] != "reject") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    auto decoded = Decode(ViewOf(FromHex(c["hex"])));
    EXPECT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), Status::Code::kInvalid) << decoded.status().ToString();
    ++seen;
  }
  EXPECT_EQ(seen, 7);
}

TEST(GoldenTest, ArrowCasesDecodeToArrowDataOfTheirKind) {
  for (const auto& c : Golden()["cases"]) {
    if (c["check"] != "decode") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto bytes = FromHex(c["hex"]);
    auto decoded = Decode(ViewOf(bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    const auto* arrow = decoded->get_if<ArrowData>();
    ASSERT_NE(arrow, nullptr);
    EXPECT_EQ(ArrowKindName(arrow->kind), c["value"]["kind"].get<std::string>());
    // The IPC stream is a view into the input, not a copy.
    EXPECT_GE(arrow->ipc.data, bytes.data());
    EXPECT_LE(arrow->ipc.data + arrow->ipc.size, bytes.data() + bytes.size());
  }
}

// Compares an Arrow array with the golden JSON values (nulls as JSON null).
void ExpectColumn(const arrow::Array& array, const json& values, const std::string& type) {
  ASSERT_EQ(array.length(), static_cast<int64_t>(values.size()));
  for (int64_t i = 0; i < array.length(); ++i) {
    const json& v = values[static_cast<std::size_t>(i)];
    if (v.is_null()) {
      EXPECT_TRUE(array.IsNull(i)) << i;
      continue;
    }
    ASSERT_TRUE(array.IsValid(i)) << i;
    if (type == "int64") {
      EXPECT_EQ(static_cast<const arrow::Int64Array&>(array).Value(i), v.get<int64_t>());
    } else if (type == "float64") {
      EXPECT_EQ(static_cast<const arrow::DoubleArray&>(array).Value(i), v.get<double>());
    } else if (type == "utf8") {
      EXPECT_EQ(static_cast<const arrow::StringArray&>(array).GetString(i), v.get<std::string>());
    } else if (type == "bool") {
      EXPECT_EQ(static_cast<const arrow::BooleanArray&>(array).Value(i), v.get<bool>());
    } else {
      ADD_FAILURE() << "golden Arrow type " << type << " not handled by this test";
    }
  }
}

// The golden JSON values as an Arrow array of the named neutral type.
std::shared_ptr<arrow::Array> ArrayFromJson(const json& values, const std::string& type) {
  std::unique_ptr<arrow::ArrayBuilder> builder;
  std::shared_ptr<arrow::DataType> dt = type == "int64"     ? arrow::int64()
                                        : type == "float64" ? arrow::float64()
                                        : type == "utf8"    ? arrow::utf8()
                                        : type == "bool"    ? arrow::boolean()
                                                            : nullptr;
  if (dt == nullptr) {
    ADD_FAILURE() << "golden Arrow type " << type << " not handled by this test";
    return nullptr;
  }
  EXPECT_TRUE(arrow::MakeBuilder(arrow::default_memory_pool(), dt, &builder).ok());
  for (const auto& v : values) {
    arrow::Status st;
    if (v.is_null()) {
      st = builder->AppendNull();
    } else if (type == "int64") {
      st = static_cast<arrow::Int64Builder&>(*builder).Append(v.get<int64_t>());
    } else if (type == "float64") {
      st = static_cast<arrow::DoubleBuilder&>(*builder).Append(v.get<double>());
    } else if (type == "utf8") {
      st = static_cast<arrow::StringBuilder&>(*builder).Append(v.get<std::string>());
    } else {
      st = static_cast<arrow::BooleanBuilder&>(*builder).Append(v.get<bool>());
    }
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return builder->Finish().ValueOrDie();
}

// Checks Arrow data read back against a golden `arrow` value, reading it as its kind.
void ExpectArrowValue(const ArrowData& data, const json& v) {
  ASSERT_EQ(ArrowKindName(data.kind), v["kind"].get<std::string>());
  if (v["kind"] == "array") {
    auto array = ReadArrowArray(data);
    ASSERT_TRUE(array.ok()) << array.status().ToString();
    ExpectColumn(**array, v["values"], v["arrow_type"]);
    return;
  }
  if (v["kind"] == "chunked_array") {
    auto chunked = ReadArrowChunkedArray(data);
    ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
    ASSERT_EQ((*chunked)->num_chunks(), static_cast<int>(v["chunks"].size()));
    for (std::size_t i = 0; i < v["chunks"].size(); ++i) {
      ExpectColumn(*(*chunked)->chunk(static_cast<int>(i)), v["chunks"][i], v["arrow_type"]);
    }
    return;
  }
  std::shared_ptr<arrow::Table> table;
  if (v["kind"] == "record_batch") {
    auto batch = ReadArrowRecordBatch(data);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    table = arrow::Table::FromRecordBatches({*batch}).ValueOrDie();
  } else {
    auto read = ReadArrowTable(data);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    table = *read;
  }
  ASSERT_EQ(table->num_columns(), static_cast<int>(v["schema"].size()));
  for (std::size_t col = 0; col < v["schema"].size(); ++col) {
    EXPECT_EQ(table->schema()->field(static_cast<int>(col))->name(), v["schema"][col]["name"]);
    auto combined = table->column(static_cast<int>(col));
    ASSERT_EQ(combined->num_chunks(), 1);
    ExpectColumn(*combined->chunk(0), v["columns"][col], v["schema"][col]["type"]);
  }
}

// The Arrow object a golden `arrow` value describes, written by the C++ codec.
Result<ArrowData> WriteArrowFromJson(const json& v) {
  if (v["kind"] == "array") return WriteArrow(ArrayFromJson(v["values"], v["arrow_type"]));
  if (v["kind"] == "chunked_array") {
    arrow::ArrayVector chunks;
    for (const auto& c : v["chunks"]) chunks.push_back(ArrayFromJson(c, v["arrow_type"]));
    return WriteArrow(std::make_shared<arrow::ChunkedArray>(std::move(chunks)));
  }
  arrow::FieldVector fields;
  arrow::ArrayVector columns;
  for (std::size_t col = 0; col < v["schema"].size(); ++col) {
    columns.push_back(ArrayFromJson(v["columns"][col], v["schema"][col]["type"]));
    fields.push_back(arrow::field(v["schema"][col]["name"], columns.back()->type()));
  }
  auto schema = arrow::schema(fields);
  const int64_t rows = columns.empty() ? 0 : columns[0]->length();
  if (v["kind"] == "record_batch") {
    return WriteArrow(arrow::RecordBatch::Make(schema, rows, columns));
  }
  return WriteArrow(arrow::Table::Make(schema, columns));
}

TEST(ArrowTest, GoldenArrowCasesReadAsArrowObjectsOfTheirKind) {
  int seen = 0;
  for (const auto& c : Golden()["cases"]) {
    if (c["check"] != "decode") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto bytes = FromHex(c["hex"]);
    auto decoded = Decode(ViewOf(bytes));
    ASSERT_TRUE(decoded.ok());
    ExpectArrowValue(*decoded->get_if<ArrowData>(), c["value"]);
    ++seen;
  }
  EXPECT_EQ(seen, static_cast<int>(std::size(format::kArrowKinds)));
}

// The writer's half of a `decode` case: C++ writes the value, and the bytes decode (here
// and, through the conformance suite, in every language) to the same value and kind.
TEST(ArrowTest, GoldenArrowValuesWrittenByCppDecodeToTheValue) {
  for (const auto& c : Golden()["cases"]) {
    if (c["check"] != "decode") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    auto data = WriteArrowFromJson(c["value"]);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    auto encoded = Encode(Value(*data));
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    const auto bytes = encoded->ToBytes();
    auto decoded = Decode(ViewOf(bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectArrowValue(*decoded->get_if<ArrowData>(), c["value"]);
  }
}

TEST(ArrowTest, TableRoundTripsAndIsReadInPlace) {
  arrow::DoubleBuilder builder;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(builder.Append(i * 0.5).ok());
  auto column = builder.Finish().ValueOrDie();
  auto table = arrow::Table::Make(arrow::schema({arrow::field("x", arrow::float64())}), {column});

  auto data = WriteArrow(table);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  auto encoded = Encode(Value(*data));
  ASSERT_TRUE(encoded.ok());
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(encoded->ToBytes());

  BufferView view{bytes->data(), bytes->size(), bytes};
  auto decoded = Decode(view);
  ASSERT_TRUE(decoded.ok());
  auto back = ReadArrowTable(*decoded->get_if<ArrowData>());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE((*back)->Equals(*table));

  auto values = std::static_pointer_cast<arrow::DoubleArray>((*back)->column(0)->chunk(0));
  const auto* p = reinterpret_cast<const std::uint8_t*>(values->raw_values());
  EXPECT_GE(p, bytes->data());
  EXPECT_LT(p, bytes->data() + bytes->size());

  // The table keeps the object alive after every other reference is gone.
  std::weak_ptr<std::vector<std::uint8_t>> weak = bytes;
  bytes.reset();
  view.owner.reset();
  decoded = Status::Invalid("dropped");
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(values->Value(999), 499.5);
}

TEST(ArrowTest, StreamNotMatchingItsKindIsInvalid) {
  arrow::Int64Builder builder;
  ASSERT_TRUE(builder.Append(1).ok());
  auto column = builder.Finish().ValueOrDie();
  auto table = arrow::Table::Make(
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::int64())}),
      {column, column});
  auto data = WriteArrow(table);
  ASSERT_TRUE(data.ok());
  ArrowData as_array = *data;
  as_array.kind = ArrowKind::kArray;
  EXPECT_FALSE(ValidateArrow(as_array).ok());
  EXPECT_FALSE(ReadArrowArray(as_array).ok());
  // Asking for the wrong shape is a type error naming what it got.
  auto wrong = ReadArrowArray(*data);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("Arrow table"), std::string::npos);
}

TEST(CodecTest, TensorIsAViewIntoTheInputAndKeepsItAlive) {
  std::vector<double> values = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  TensorData t;
  t.dtype = DType::kFloat64;
  t.shape = {2, 3};
  t.data = BufferView::Copy(values.data(), values.size() * sizeof(double));
  auto encoded = Encode(Value(t));
  ASSERT_TRUE(encoded.ok());
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(encoded->ToBytes());
  // Canonical layout: the buffer sits at a 64-byte boundary of the object.
  EXPECT_EQ(bytes->size(), 64u + 48u);

  auto decoded = Decode(BufferView{bytes->data(), bytes->size(), bytes});
  ASSERT_TRUE(decoded.ok());
  const auto* view = decoded->get_if<TensorData>();
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->data.data, bytes->data() + 64);
  std::weak_ptr<std::vector<std::uint8_t>> weak = bytes;
  bytes.reset();
  EXPECT_FALSE(weak.expired());  // the decoded tensor holds it
  EXPECT_EQ(std::memcmp(view->data.data, values.data(), 48), 0);
}

TEST(CodecTest, MixedValueRoundTrips) {
  Map m;
  m.emplace_back(Value(1), Value("one"));
  m.emplace_back(Value(Array{Value(1), Value(2)}), Value(nullptr));
  ErrorInfo cause{"std::runtime_error", "inner", "cpp", "", nullptr, std::nullopt};
  ErrorInfo outer{"plait::TypeError", "outer", "cpp", "  in C++ f",
                  std::make_shared<ErrorInfo>(cause), Binary{1, 2}};
  Value v(Array{Value(std::numeric_limits<std::uint64_t>::max()),
                Value(std::numeric_limits<std::int64_t>::min()), Value(-0.0), Value(m),
                Value(outer), Value(Binary(70000, 7)), Value(std::string(70000, 'x'))});
  auto encoded = Encode(v);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  auto bytes = encoded->ToBytes();
  auto decoded = Decode(ViewOf(bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, v);
}

TEST(CodecTest, EncoderRefusesWhatHasNoEncoding) {
  EXPECT_FALSE(Encode(Value(std::string("\xff\xfe"))).ok());  // not UTF-8
  TensorData bad;
  bad.dtype = DType::kInt32;
  bad.shape = {3};
  bad.data = BufferView::Copy("abcd", 4);  // 4 bytes for 12
  auto st = Encode(Value(bad));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("12 bytes"), std::string::npos) << st.status().message();
  Value deep;
  for (int i = 0; i < 600; ++i) {
    Array wrapper;
    wrapper.push_back(std::move(deep));
    deep = Value(std::move(wrapper));
  }
  EXPECT_FALSE(Encode(deep).ok());
}

TEST(CodecTest, WriteToChecksTheDestinationSize) {
  auto encoded = Encode(Value("hello"));
  ASSERT_TRUE(encoded.ok());
  std::vector<std::uint8_t> small(encoded->TotalSize() - 1);
  EXPECT_FALSE(encoded->WriteTo(small.data(), small.size()).ok());
}

TEST(CodecTest, DecoderRejectsDeepNestingAndBadUtf8AndTrailingBytes) {
  // 600 nested fixarrays of one item, then nil.
  std::vector<std::uint8_t> payload(600, 0x91);
  payload.push_back(0xc0);
  std::vector<std::uint8_t> obj = {'P', 'L', 'A', 'I', 1, 0, 0, 0};
  Append(obj, static_cast<std::uint64_t>(payload.size()));
  Append(obj, static_cast<std::uint64_t>(0));
  auto deep = obj;
  deep.insert(deep.end(), payload.begin(), payload.end());
  EXPECT_FALSE(Decode(ViewOf(deep)).ok());

  std::vector<std::uint8_t> bad_utf8 = {'P', 'L', 'A', 'I', 1, 0, 0, 0};
  Append(bad_utf8, static_cast<std::uint64_t>(3));
  Append(bad_utf8, static_cast<std::uint64_t>(0));
  bad_utf8.insert(bad_utf8.end(), {0xa2, 0xc3, 0x28});
  EXPECT_FALSE(Decode(ViewOf(bad_utf8)).ok());

  // Bytes after the object's end (a store rounding up) are ignored.
  auto encoded = Encode(Value(7))->ToBytes();
  encoded.resize(encoded.size() + 40, 0xee);
  auto decoded = Decode(ViewOf(encoded));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, Value(7));
}

TEST(CodecTest, AcceptsNonCanonicalEncodings) {
  // int8 0x05, float32 1.5, str8 "a", ext8 tuple of [true]: all valid msgpack.
  std::vector<std::uint8_t> payload = {0x94, 0xd0, 0x05, 0xca, 0x3f, 0xc0, 0x00, 0x00,
                                       0xd9, 0x01, 'a',  0xc7, 0x02, 0x07, 0x91, 0xc3};
  std::vector<std::uint8_t> obj = {'P', 'L', 'A', 'I', 1, 0, 0, 0};
  Append(obj, static_cast<std::uint64_t>(payload.size()));
  Append(obj, static_cast<std::uint64_t>(0));
  obj.insert(obj.end(), payload.begin(), payload.end());
  auto decoded = Decode(ViewOf(obj));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, Value(Array{Value(5), Value(1.5), Value("a"), Value(Array{Value(true)})}));
}

// Every truncation and every single-byte corruption of every golden object decodes or
// fails cleanly: no crash, no read outside the input (run under ASan to see the latter).
TEST(CodecTest, CorruptedGoldenObjectsNeverCrash) {
  for (const auto& c : Golden()["cases"]) {
    const auto bytes = FromHex(c["hex"]);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
      (void)Decode(ViewOf(cut));
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      auto flipped = bytes;
      flipped[i] ^= 0xff;
      (void)Decode(ViewOf(flipped));
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace plait
