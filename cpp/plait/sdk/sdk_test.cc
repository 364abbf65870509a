// The SDK in-process: conversions, the C ABI trampolines (through the module table
// plait_module_init returns), argument lifetime, and the host API calls against a fake
// host table.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "plait/plait.h"
#include "plait/sdk/host.h"

namespace plait {
namespace {

// --- conversions ------------------------------------------------------------------------

template <typename T>
T RoundTrip(const T& in) {
  auto v = ToValue(in);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  T out{};
  Status st = FromValue(*v, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(ConvertTest, StandardTypesRoundTrip) {
  EXPECT_EQ(RoundTrip<std::int64_t>(-7), -7);
  EXPECT_EQ(RoundTrip<std::uint64_t>(UINT64_MAX), UINT64_MAX);
  EXPECT_EQ(RoundTrip<int>(42), 42);
  EXPECT_EQ(RoundTrip<double>(2.5), 2.5);
  EXPECT_EQ(RoundTrip<bool>(true), true);
  EXPECT_EQ(RoundTrip<std::string>("héllo"), "héllo");
  EXPECT_EQ(RoundTrip(Binary{0, 255}), (Binary{0, 255}));
  EXPECT_EQ(RoundTrip(std::vector<std::string>{"a", "b"}), (std::vector<std::string>{"a", "b"}));
  std::map<std::string, std::vector<double>> m{{"x", {1.0, 2.0}}};
  EXPECT_EQ(RoundTrip(m), m);
  std::unordered_map<std::int64_t, std::string> u{{1, "one"}, {2, "two"}};
  EXPECT_EQ(RoundTrip(u), u);
  EXPECT_EQ(RoundTrip(std::optional<std::int64_t>()), std::nullopt);
  EXPECT_EQ(RoundTrip(std::optional<std::int64_t>(3)), 3);
  auto t = std::make_tuple(std::int64_t{1}, std::string("a"), 2.0);
  EXPECT_EQ(RoundTrip(t), t);
  EXPECT_EQ(RoundTrip(std::make_pair(std::string("k"), true)), std::make_pair(std::string("k"), true));
}

TEST(ConvertTest, MismatchesNameExpectedAndActualTypes) {
  std::int64_t i;
  Status st = FromValue(Value("x"), &i);
  EXPECT_EQ(st.code(), Status::Code::kTypeError);
  EXPECT_EQ(st.message(), "expected int64, got string");

  std::int8_t small;
  st = FromValue(Value(300), &small);
  EXPECT_EQ(st.message(), "expected int8, got 300 (out of range)");
  std::uint32_t u;
  EXPECT_FALSE(FromValue(Value(-1), &u).ok());

  std::vector<std::int64_t> v;
  st = FromValue(Value(Array{Value(1), Value(2.5)}), &v);
  EXPECT_EQ(st.message(), "item 1: expected int64, got float64");

  std::tuple<std::int64_t, std::int64_t> pair;
  st = FromValue(Value(Array{Value(1)}), &pair);
  EXPECT_NE(st.message().find("got an array of 1"), std::string::npos) << st.message();

  Value anything;
  st = FromValue(Value(PythonOnly{"builtins.set"}), &anything);
  EXPECT_EQ(st.code(), Status::Code::kRefused);
  EXPECT_NE(st.message().find("'builtins.set'"), std::string::npos);
}

TEST(ConvertTest, VectorAcceptsAOneDimensionalTensorOfItsElementType) {
  auto tensor = Tensor::FromVector(std::vector<float>{1.5f, 2.5f});
  std::vector<float> out;
  ASSERT_TRUE(FromValue(Value(tensor.raw()), &out).ok());
  EXPECT_EQ(out, (std::vector<float>{1.5f, 2.5f}));
  std::vector<double> wrong;
  EXPECT_FALSE(FromValue(Value(tensor.raw()), &wrong).ok());
}

TEST(ConvertTest, TensorIsTypedView) {
  auto tensor = Tensor::FromVector(std::vector<std::int32_t>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(tensor.size(), 6u);
  EXPECT_EQ(tensor.nbytes(), 24u);
  ASSERT_NE(tensor.data<std::int32_t>(), nullptr);
  EXPECT_EQ(tensor.data<std::int32_t>()[5], 6);
  EXPECT_EQ(tensor.data<float>(), nullptr);
  Tensor back = RoundTrip(tensor);
  EXPECT_EQ(back.bytes(), tensor.bytes());  // the same memory, shared
}

// --- registration and the C ABI ----------------------------------------------------------

std::int64_t Twice(std::int64_t x) { return 2 * x; }
PLAIT_REMOTE_AS("sdk_test.twice", Twice);

void Throws(std::int64_t code) {
  if (code == 1) throw std::out_of_range("one");
  throw 42;  // not a std::exception
}
PLAIT_REMOTE_AS("sdk_test.throws", Throws);

Result<std::int64_t> Checked(std::int64_t x) {
  if (x < 0) return Status::Refused("negative: " + std::to_string(x));
  return x + 1;
}
PLAIT_REMOTE_AS("sdk_test.checked", Checked);

Status Validate(std::string s) { return s.empty() ? Status::Invalid("empty") : Status::OK(); }
PLAIT_REMOTE_AS("sdk_test.validate", Validate);

// Gets a failed object (by id) and lets the failure propagate: as a plait::Exception, or
// as the failed Result.
std::int64_t Relay(std::string id) {
  return Get(ObjectRef<std::int64_t>(ObjectRefData{id, {"node", "127.0.0.1", 1, "w"}}));
}
PLAIT_REMOTE_AS("sdk_test.relay", Relay);
Result<std::int64_t> RelayResult(std::string id) {
  return TryGet(ObjectRef<std::int64_t>(ObjectRefData{id, {"node", "127.0.0.1", 1, "w"}}));
}
PLAIT_REMOTE_AS("sdk_test.relay_result", RelayResult);

Tensor kept;  // a view kept past the call
void Keep(Tensor t) { kept = std::move(t); }
PLAIT_REMOTE_AS("sdk_test.keep", Keep);

struct Acc {
  double total = 0;
  double Add(const double& x) { return total += x; }
  double Total() const { return total; }
};
PLAIT_ACTOR(Acc, PLAIT_METHOD(Add), PLAIT_METHOD(Total));

// A fake host: counts argument retains/releases, and serves Put/Get from a map.
struct FakeHost {
  int retained = 0;
  int released = 0;
  int holds = 0;  // ref holds the host placed and the SDK has not released
  std::map<std::string, std::vector<std::uint8_t>> store;
  std::vector<std::vector<std::uint8_t>*> live;  // buffers handed out, freed on release
  // The last task submitted or actor method called.
  std::string language, method;
  std::vector<std::string> name_parts, kwarg_names;
  std::vector<Value> args;

  // Records a plait_task_t and answers with an encoded list of one new ref.
  void Submitted(const plait_task_t* t, plait_owned_t* refs) {
    language = t->language != nullptr ? t->language : "";
    name_parts.assign(t->name_parts, t->name_parts + t->num_name_parts);
    kwarg_names.assign(t->kwarg_names, t->kwarg_names + t->num_kwargs);
    args.clear();
    for (std::size_t i = 0; i < t->num_args; ++i) {
      args.push_back(*Decode(BufferView{t->args[i].data, t->args[i].size, nullptr}));
    }
    ObjectRefData r{"task" + std::to_string(store.size()), {"node", "127.0.0.1", 1, "w"}};
    store[r.object_id] = Encode(Value(nullptr))->ToBytes();
    holds++;
    auto* bytes = new std::vector<std::uint8_t>(Encode(Value(Array{Value(r)}))->ToBytes());
    *refs = {bytes->data(), bytes->size(), bytes};
  }
};

plait_host_api_t MakeHostTable(FakeHost* host) {
  plait_host_api_t t{};
  t.abi_version = PLAIT_ABI_VERSION;
  t.ctx = host;
  t.retain_arg = [](void* ctx, void*) { static_cast<FakeHost*>(ctx)->retained++; };
  t.release_arg = [](void* ctx, void*) { static_cast<FakeHost*>(ctx)->released++; };
  t.release = [](void*, void* handle) { delete static_cast<std::vector<std::uint8_t>*>(handle); };
  t.put = [](void* ctx, plait_bytes_t value, plait_owned_t* ref, plait_owned_t*) {
    auto* h = static_cast<FakeHost*>(ctx);
    ObjectRefData r{"id" + std::to_string(h->store.size()), {"node", "127.0.0.1", 1, "w"}};
    h->store[r.object_id].assign(value.data, value.data + value.size);
    h->holds++;  // the host holds every ref it hands out
    auto* bytes = new std::vector<std::uint8_t>(Encode(Value(r))->ToBytes());
    *ref = {bytes->data(), bytes->size(), bytes};
    return PLAIT_OK;
  };
  t.get = [](void* ctx, plait_bytes_t refs, std::size_t n, double, plait_owned_t* values,
             plait_owned_t* error) {
    auto* h = static_cast<FakeHost*>(ctx);
    auto list = Decode(BufferView{refs.data, refs.size, nullptr});
    for (std::size_t i = 0; i < n; ++i) {
      const auto& id = (*list->get_if<Array>())[i].get_if<ObjectRefData>()->object_id;
      if (h->store.count(id) == 0) {
        ErrorInfo e{"builtins.KeyError", "no object " + id, "python", "", nullptr, std::nullopt};
        auto* bytes = new std::vector<std::uint8_t>(Encode(Value(e))->ToBytes());
        *error = {bytes->data(), bytes->size(), bytes};
        return PLAIT_ERROR;
      }
      auto* bytes = new std::vector<std::uint8_t>(h->store[id]);
      std::vector<ObjectRefData> contained;
      (void)DecodeWithRefs(BufferView{bytes->data(), bytes->size(), nullptr}, &contained);
      h->holds += static_cast<int>(contained.size());
      values[i] = {bytes->data(), bytes->size(), bytes};
    }
    return PLAIT_OK;
  };
  t.submit_task = [](void* ctx, const plait_task_t* task, plait_owned_t* refs, plait_owned_t*) {
    static_cast<FakeHost*>(ctx)->Submitted(task, refs);
    return PLAIT_OK;
  };
  t.call_actor = [](void* ctx, plait_bytes_t, const char* method, const plait_task_t* task,
                    plait_owned_t* refs, plait_owned_t*) {
    auto* h = static_cast<FakeHost*>(ctx);
    h->method = method;
    h->Submitted(task, refs);
    return PLAIT_OK;
  };
  auto count = [](plait_bytes_t refs) {
    auto list = Decode(BufferView{refs.data, refs.size, nullptr});
    return static_cast<int>(list->get_if<Array>()->size());
  };
  static decltype(count) counter = count;
  t.hold_refs = [](void* ctx, plait_bytes_t refs) { static_cast<FakeHost*>(ctx)->holds += counter(refs); };
  t.release_refs = [](void* ctx, plait_bytes_t refs) { static_cast<FakeHost*>(ctx)->holds -= counter(refs); };
  return t;
}

struct Results {
  std::vector<std::vector<std::uint8_t>> outputs;
  std::string type_name, message;
  std::vector<std::uint8_t> cause;  // set_error_cause's encoded Error
  static std::uint8_t* Alloc(void* ctx, std::size_t index, std::size_t size) {
    auto* r = static_cast<Results*>(ctx);
    r->outputs.resize(index + 1);
    r->outputs[index].resize(size);
    return r->outputs[index].data();
  }
  static void SetError(void* ctx, const char* type_name, const char* message, const char*) {
    auto* r = static_cast<Results*>(ctx);
    r->type_name = type_name;
    r->message = message;
  }
  static void SetErrorCause(void* ctx, const std::uint8_t* error, std::size_t size) {
    static_cast<Results*>(ctx)->cause.assign(error, error + size);
  }
  Value Out(std::size_t i) const {
    return *Decode(BufferView{outputs[i].data(), outputs[i].size(), nullptr});
  }
};

class SdkAbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table = MakeHostTable(&host);
    module = plait_module_init(&table);
  }
  void TearDown() override { internal::SetHostApi(nullptr); }

  // Calls an entry with these values encoded as its arguments (owner: a dummy handle).
  int Call(const char* name, std::vector<Value> args, std::size_t num_returns = 1) {
    encoded.clear();
    for (const auto& a : args) encoded.push_back(Encode(a)->ToBytes());
    std::vector<plait_arg_t> raw;
    for (auto& e : encoded) raw.push_back({e.data(), e.size(), &encoded});
    results.cause.clear();
    plait_call_t call{raw.data(), raw.size(), nullptr, 0, num_returns, &results,
                      &Results::Alloc, &Results::SetError, &Results::SetErrorCause};
    for (std::size_t i = 0; i < module->num_functions; ++i) {
      if (std::string(module->functions[i].name) == name) {
        return module->functions[i].invoke(module->functions[i].data, &call);
      }
    }
    ADD_FAILURE() << "no function " << name;
    return PLAIT_ERROR;
  }

  FakeHost host;
  plait_host_api_t table{};
  const plait_module_t* module = nullptr;
  std::vector<std::vector<std::uint8_t>> encoded;
  Results results;
};

TEST_F(SdkAbiTest, ModuleTableListsRegistrations) {
  EXPECT_EQ(module->abi_version, static_cast<std::uint32_t>(PLAIT_ABI_VERSION));
  ASSERT_EQ(module->num_classes, 1u);
  EXPECT_STREQ(module->classes[0].name, "Acc");
  EXPECT_EQ(module->classes[0].num_methods, 2u);
}

TEST_F(SdkAbiTest, FunctionRunsAndWritesItsResultIntoHostMemory) {
  ASSERT_EQ(Call("sdk_test.twice", {Value(21)}), PLAIT_OK) << results.message;
  EXPECT_EQ(results.Out(0), Value(42));
}

TEST_F(SdkAbiTest, ExceptionsAreNamedByTheirDynamicType) {
  EXPECT_EQ(Call("sdk_test.throws", {Value(1)}), PLAIT_ERROR);
  EXPECT_EQ(results.type_name, "std::out_of_range");
  EXPECT_EQ(results.message, "one");
  EXPECT_EQ(Call("sdk_test.throws", {Value(2)}), PLAIT_ERROR);
  EXPECT_EQ(results.type_name, "int");
}

TEST_F(SdkAbiTest, AFailedReturnedResultOrStatusIsTheCallsError) {
  ASSERT_EQ(Call("sdk_test.checked", {Value(1)}), PLAIT_OK) << results.message;
  EXPECT_EQ(results.Out(0), Value(2));
  EXPECT_EQ(Call("sdk_test.checked", {Value(-1)}), PLAIT_ERROR);
  EXPECT_EQ(results.type_name, "plait::Refused");
  EXPECT_EQ(results.message, "negative: -1");
  ASSERT_EQ(Call("sdk_test.validate", {Value("x")}), PLAIT_OK) << results.message;
  EXPECT_EQ(results.Out(0), Value());
  EXPECT_EQ(Call("sdk_test.validate", {Value("")}), PLAIT_ERROR);
  EXPECT_EQ(results.type_name, "plait::Invalid");
  EXPECT_EQ(results.message, "empty");
}

TEST_F(SdkAbiTest, AnArgumentViewKeptPastTheCallIsRetainedThenReleased) {
  ASSERT_EQ(Call("sdk_test.twice", {Value(1)}), PLAIT_OK);
  EXPECT_EQ(host.retained, 0);  // nothing kept: no host calls

  auto tensor = Tensor::FromVector(std::vector<double>{1, 2, 3});
  ASSERT_EQ(Call("sdk_test.keep", {Value(tensor.raw())}, 1), PLAIT_OK) << results.message;
  EXPECT_EQ(host.retained, 1);
  EXPECT_EQ(host.released, 0);
  EXPECT_EQ(kept.data<double>()[2], 3.0);
  kept = Tensor();
  EXPECT_EQ(host.released, 1);
}

TEST_F(SdkAbiTest, ActorMethodsShareTheInstance) {
  const plait_class_entry_t& cls = module->classes[0];
  plait_call_t ctor{nullptr, 0, nullptr, 0, 0, &results, &Results::Alloc, &Results::SetError};
  void* instance = nullptr;
  ASSERT_EQ(cls.create(cls.data, &ctor, &instance), PLAIT_OK) << results.message;
  auto arg = Encode(Value(2.5))->ToBytes();
  plait_arg_t raw{arg.data(), arg.size(), nullptr};
  plait_call_t add{&raw, 1, nullptr, 0, 1, &results, &Results::Alloc, &Results::SetError};
  const plait_method_entry_t* add_entry = nullptr;
  for (std::size_t i = 0; i < cls.num_methods; ++i) {
    if (std::string(cls.methods[i].name) == "Add") add_entry = &cls.methods[i];
  }
  ASSERT_NE(add_entry, nullptr);
  ASSERT_EQ(add_entry->invoke(add_entry->data, instance, &add), PLAIT_OK);
  ASSERT_EQ(add_entry->invoke(add_entry->data, instance, &add), PLAIT_OK);
  EXPECT_EQ(results.Out(0), Value(5.0));
  cls.destroy(cls.data, instance);
}

TEST_F(SdkAbiTest, PutAndGetGoThroughTheHost) {
  auto ref = TryPut(std::vector<std::int64_t>{1, 2, 3});
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->Hex(), "696430");  // "id0"
  EXPECT_EQ(Get(*ref), (std::vector<std::int64_t>{1, 2, 3}));

  ObjectRef<std::int64_t> missing(ObjectRefData{"nope", {"n", "i", 1, "w"}});
  auto got = TryGet(missing);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("builtins.KeyError"), std::string::npos);
  EXPECT_THROW(Get(missing), Exception);
}

TEST_F(SdkAbiTest, RemoteErrorsKeepTheirTypeLanguageAndStack) {
  ErrorInfo boom{"builtins.ValueError", "boom", "python", "Traceback: ...", nullptr, std::nullopt};
  ObjectRef<std::int64_t> failed = Put(boom).As<std::int64_t>();  // a failed task's object

  auto got = TryGet(failed);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kHostError);
  EXPECT_EQ(got.status().message(), "builtins.ValueError: boom");
  ASSERT_NE(got.status().error_info(), nullptr);
  EXPECT_EQ(*got.status().error_info(), boom);
  EXPECT_EQ(got.status().WithContext("in f").error_info(), got.status().error_info());
  try {
    Get(failed);
    ADD_FAILURE() << "Get of a failed object did not throw";
  } catch (const Exception& e) {
    EXPECT_EQ(e.error(), boom);  // type, language, message and stack as the runtime said
    EXPECT_STREQ(e.what(), "builtins.ValueError: boom");
  }
  // A Value receives the Error value itself.
  EXPECT_EQ(Get(failed.As<Value>()), Value(boom));

  // A failed host call (here: an unknown object) keeps the host's Error too.
  auto missing = TryGet(ObjectRef<std::int64_t>(ObjectRefData{"nope", {"n", "i", 1, "w"}}));
  ASSERT_FALSE(missing.ok());
  ASSERT_NE(missing.status().error_info(), nullptr);
  EXPECT_EQ(missing.status().error_info()->type_name, "builtins.KeyError");
  EXPECT_EQ(missing.status().error_info()->language, "python");
}

// An error that crossed languages: a Python ValueError that a Java task let propagate.
ErrorInfo ChainedError() {
  auto origin = std::make_shared<const ErrorInfo>(ErrorInfo{
      "builtins.ValueError", "bad input", "python", "Traceback ...", nullptr,
      std::vector<std::uint8_t>{0x80, 5, 'x', '.'}});
  return ErrorInfo{"io.plait.CrossLanguageException", "builtins.ValueError (python): bad input",
                   "java", "\tat a.B.c(B.java:1)", origin, std::nullopt};
}

TEST_F(SdkAbiTest, AChainedErrorKeepsItsCauseInErrorInfo) {
  const ErrorInfo chained = ChainedError();
  const std::vector<std::uint8_t> bytes = Encode(Value(chained))->ToBytes();
  auto decoded = Decode(BufferView{bytes.data(), bytes.size(), nullptr});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, Value(chained));

  auto got = TryGet(Put(chained).As<std::int64_t>());
  ASSERT_FALSE(got.ok());
  const auto& info = got.status().error_info();
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->type_name, "io.plait.CrossLanguageException");
  EXPECT_EQ(info->language, "java");
  ASSERT_NE(info->cause, nullptr);
  EXPECT_EQ(info->cause->type_name, "builtins.ValueError");
  EXPECT_EQ(info->cause->language, "python");
  EXPECT_EQ(info->cause->message, "bad input");
  EXPECT_TRUE(info->cause->python_pickle.has_value());  // kept for a Python reader
  EXPECT_EQ(info->cause->cause, nullptr);
  try {
    Get(Put(chained).As<std::int64_t>());
    ADD_FAILURE() << "Get of a failed object did not throw";
  } catch (const Exception& e) {
    EXPECT_EQ(e.error(), chained);
    ASSERT_NE(e.error().cause, nullptr);
    EXPECT_EQ(*e.error().cause, *chained.cause);
  }
}

TEST_F(SdkAbiTest, AFailureLetPropagateBecomesTheCallsErrorCause) {
  const ErrorInfo chained = ChainedError();
  const std::string id = Put(chained).data().object_id;
  for (const char* fn : {"sdk_test.relay", "sdk_test.relay_result"}) {
    EXPECT_EQ(Call(fn, {Value(id)}), PLAIT_ERROR) << fn;
    EXPECT_NE(results.message.find("bad input"), std::string::npos) << results.message;
    ASSERT_FALSE(results.cause.empty()) << fn;
    auto cause = Decode(BufferView{results.cause.data(), results.cause.size(), nullptr});
    ASSERT_TRUE(cause.ok()) << cause.status().ToString();
    EXPECT_EQ(*cause, Value(chained)) << fn;  // the whole chain, pickle included
  }
  EXPECT_EQ(results.type_name, "plait::HostError");  // the Result's status
  Call("sdk_test.relay", {Value(id)});
  EXPECT_EQ(results.type_name, "plait::Exception");
  // Failures of the C++ code itself have no cause.
  EXPECT_EQ(Call("sdk_test.throws", {Value(1)}), PLAIT_ERROR);
  EXPECT_TRUE(results.cause.empty());
  EXPECT_EQ(Call("sdk_test.checked", {Value(-1)}), PLAIT_ERROR);
  EXPECT_TRUE(results.cause.empty());
}

TEST_F(SdkAbiTest, RunTimeArgumentsAndKeywordArgumentsReachTheHost) {
  auto ref = Task(PyFunction("mod", "fn"), 1)
                 .AddArgs({Value("a"), Value(2.5)})
                 .AddKwarg("k", std::string("v"))
                 .TryRemote(true);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(host.language, "python");
  EXPECT_EQ(host.name_parts, (std::vector<std::string>{"mod", "fn"}));
  // Positional (Task's, AddArgs', Remote's), then keyword values; names for the last ones.
  EXPECT_EQ(host.args, (std::vector<Value>{Value(1), Value("a"), Value(2.5), Value(true), Value("v")}));
  EXPECT_EQ(host.kwarg_names, (std::vector<std::string>{"k"}));

  ActorHandle actor{ActorHandleData{}};
  auto method_ref = actor.Task("add").AddArgs({Value(1)}).AddKwarg("by", 2).TryRemote();
  ASSERT_TRUE(method_ref.ok()) << method_ref.status().ToString();
  EXPECT_EQ(host.method, "add");
  EXPECT_EQ(host.args, (std::vector<Value>{Value(1), Value(2)}));
  EXPECT_EQ(host.kwarg_names, (std::vector<std::string>{"by"}));

  // Without keyword arguments the host gets none.
  ASSERT_TRUE(Task(CppFunction("f")).AddArgs({}).TryRemote().ok());
  EXPECT_TRUE(host.args.empty());
  EXPECT_TRUE(host.kwarg_names.empty());

  // A keyword value that cannot convert fails the call, naming the argument.
  auto bad = Task(CppFunction("f")).AddKwarg("x", Value(PythonOnly{"builtins.set"})).TryRemote();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("keyword argument 'x'"), std::string::npos)
      << bad.status().message();
}

TEST_F(SdkAbiTest, EveryRefHoldIsReleasedWhenTheLastObjectRefGoes) {
  {
    ObjectRef<std::int64_t> ref = Put(std::int64_t{7});
    EXPECT_EQ(host.holds, 1);
    ObjectRef<std::int64_t> copy = ref;
    EXPECT_EQ(host.holds, 1);  // copies share the hold
    // A value holding a ref: Get hands out a hold for the ref inside, released once the
    // result is converted; the converted ObjectRef places its own.
    auto outer = Put(std::vector<ObjectRef<std::int64_t>>{ref});
    EXPECT_EQ(host.holds, 2);
    std::vector<ObjectRef<std::int64_t>> inner = Get(outer);
    EXPECT_EQ(host.holds, 3);
    EXPECT_EQ(Get(inner[0]), 7);
  }
  EXPECT_EQ(host.holds, 0);
}

TEST_F(SdkAbiTest, RefsInsideArgumentsAreReleasedAfterTheCall) {
  host.holds = 1;  // the worker held the argument's ref for the call
  ObjectRefData ref{"arg", {"n", "i", 1, "w"}};
  ASSERT_EQ(Call("sdk_test.twice", {Value(Array{Value(ref)})}), PLAIT_ERROR);  // wrong type
  EXPECT_EQ(host.holds, 0);
}

TEST(SdkNoHostTest, HostCallsFailClearlyWithoutAHost) {
  internal::SetHostApi(nullptr);
  auto ref = TryPut(std::int64_t{1});
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.status().code(), Status::Code::kHostError);
  EXPECT_NE(ref.status().message().find("no plait runtime"), std::string::npos);
  auto task = Task(PyFunction<std::int64_t>("m", "f"), 1).TryRemote();
  EXPECT_FALSE(task.ok());
}

}  // namespace
}  // namespace plait
