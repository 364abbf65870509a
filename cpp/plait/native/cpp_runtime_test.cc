// CppRuntime against a real library (testdata/test_module.cc) loaded with dlopen.
#include "plait/native/cpp_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "plait/codec/decoder.h"
#include "plait/codec/encoder.h"

namespace plait::native {
namespace {

class VectorSink : public ReturnSink {
 public:
  std::uint8_t* Alloc(std::size_t index, std::size_t size) override {
    if (outputs.size() <= index) outputs.resize(index + 1);
    outputs[index].resize(size);
    return outputs[index].data();
  }
  Value Decoded(std::size_t index) const {
    auto v = Decode(BufferView{outputs[index].data(), outputs[index].size(), nullptr});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : Value();
  }
  std::vector<std::vector<std::uint8_t>> outputs;
};

// Encoded arguments that stay alive while the CallInput points at them.
struct Args {
  explicit Args(std::vector<Value> values, std::size_t num_returns = 1) {
    for (const auto& v : values) encoded.push_back(Encode(v)->ToBytes());
    for (const auto& e : encoded) input.args.push_back({e.data(), e.size(), nullptr});
    input.num_returns = num_returns;
  }
  std::vector<std::vector<std::uint8_t>> encoded;
  CallInput input;
};

class CppRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto names = runtime.LoadLibrary(PLAIT_TEST_MODULE_PATH);
    ASSERT_TRUE(names.ok()) << names.status().ToString();
    loaded = *names;
  }
  CppRuntime runtime;
  std::vector<std::string> loaded;
  VectorSink sink;
  CallError error;
};

TEST_F(CppRuntimeTest, LoadListsWhatTheLibraryRegistered) {
  std::sort(loaded.begin(), loaded.end());
  EXPECT_EQ(loaded, (std::vector<std::string>{"Counter", "add", "fail", "greet", "math.stats", "split"}));
  auto methods = runtime.MethodNames("Counter");
  ASSERT_TRUE(methods.ok());
  EXPECT_EQ(methods->size(), 2u);
  // Loading again is a no-op.
  auto again = runtime.LoadLibrary(PLAIT_TEST_MODULE_PATH);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 6u);
}

TEST_F(CppRuntimeTest, CallsAFunctionOnEncodedArguments) {
  Args args({Value(40), Value(2)});
  ASSERT_TRUE(runtime.CallFunction("add", args.input, &sink, &error).ok()) << error.message;
  EXPECT_EQ(sink.Decoded(0), Value(42));

  Args greet({Value("ada"), Value()});
  ASSERT_TRUE(runtime.CallFunction("greet", greet.input, &sink, &error).ok()) << error.message;
  EXPECT_EQ(sink.Decoded(0), Value("hello, ada"));

  Args stats({Value(Array{Value(1.0), Value(2), Value(3.5)})});
  ASSERT_TRUE(runtime.CallFunction("math.stats", stats.input, &sink, &error).ok()) << error.message;
  Map expected;
  expected.emplace_back(Value("count"), Value(3.0));
  expected.emplace_back(Value("sum"), Value(6.5));
  EXPECT_EQ(sink.Decoded(0), Value(expected));
}

TEST_F(CppRuntimeTest, MultipleReturnsSplitATuple) {
  Args args({Value(21)}, 2);
  ASSERT_TRUE(runtime.CallFunction("split", args.input, &sink, &error).ok()) << error.message;
  EXPECT_EQ(sink.Decoded(0), Value(42));
  EXPECT_EQ(sink.Decoded(1), Value("21"));

  Args wrong({Value(21)}, 3);
  EXPECT_FALSE(runtime.CallFunction("split", wrong.input, &sink, &error).ok());
  EXPECT_NE(error.message.find("wants 3 return values"), std::string::npos) << error.message;
}

TEST_F(CppRuntimeTest, WrongArityAndTypesAreClearErrors) {
  Args one({Value(1)});
  EXPECT_FALSE(runtime.CallFunction("add", one.input, &sink, &error).ok());
  EXPECT_EQ(error.type_name, "plait::TypeError");
  EXPECT_EQ(error.message, "add expects 2 arguments, got 1");

  Args typed({Value(1), Value("two")});
  EXPECT_FALSE(runtime.CallFunction("add", typed.input, &sink, &error).ok());
  EXPECT_EQ(error.message, "argument 2 of add: expected int64, got string");

  Args kw({Value(1), Value(2)});
  kw.input.kwarg_names = {"b"};
  EXPECT_FALSE(runtime.CallFunction("add", kw.input, &sink, &error).ok());
  EXPECT_NE(error.message.find("keyword"), std::string::npos);
}

TEST_F(CppRuntimeTest, ExceptionsBecomeErrorsNamedByTheirType) {
  Args args({Value("bad input")});
  EXPECT_FALSE(runtime.CallFunction("fail", args.input, &sink, &error).ok());
  EXPECT_EQ(error.type_name, "std::invalid_argument");
  EXPECT_EQ(error.message, "bad input");
  EXPECT_NE(error.stack.find("fail"), std::string::npos);
}

TEST_F(CppRuntimeTest, UnknownNamesAreNotFound) {
  Args args({});
  auto st = runtime.CallFunction("nope", args.input, &sink, &error);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_EQ(error.type_name, "plait::NotFound");
  EXPECT_NE(error.message.find("'nope'"), std::string::npos);
  EXPECT_EQ(runtime.CreateActor("Nope", args.input, &error).code(), Status::Code::kNotFound);
}

TEST_F(CppRuntimeTest, ActorKeepsStateAcrossCalls) {
  Args ctor({Value(10)});
  ASSERT_TRUE(runtime.CreateActor("Counter", ctor.input, &error).ok()) << error.message;
  Args five({Value(5)});
  ASSERT_TRUE(runtime.CallMethod("add", five.input, &sink, &error).ok()) << error.message;
  EXPECT_EQ(sink.Decoded(0), Value(15));
  ASSERT_TRUE(runtime.CallMethod("add", five.input, &sink, &error).ok());
  Args none({});
  ASSERT_TRUE(runtime.CallMethod("get", none.input, &sink, &error).ok());
  EXPECT_EQ(sink.Decoded(0), Value(20));

  EXPECT_FALSE(runtime.CallMethod("reset", none.input, &sink, &error).ok());
  EXPECT_NE(error.message.find("has no method 'reset'"), std::string::npos) << error.message;
  Args bad({Value("x")});
  EXPECT_FALSE(runtime.CallMethod("add", bad.input, &sink, &error).ok());
  EXPECT_EQ(error.message, "argument 1 of Counter.add: expected int64, got string");
  // The actor survives failed calls.
  ASSERT_TRUE(runtime.CallMethod("get", none.input, &sink, &error).ok());
  EXPECT_EQ(sink.Decoded(0), Value(20));
  EXPECT_FALSE(runtime.CreateActor("Counter", ctor.input, &error).ok());
}

TEST_F(CppRuntimeTest, ConstructorOverloadsAreChosenByArity) {
  Args none({});
  ASSERT_TRUE(runtime.CreateActor("Counter", none.input, &error).ok()) << error.message;
  ASSERT_TRUE(runtime.CallMethod("get", none.input, &sink, &error).ok());
  EXPECT_EQ(sink.Decoded(0), Value(0));
  runtime.DestroyActor();
  Args three({Value(1), Value(2), Value(3)});
  EXPECT_FALSE(runtime.CreateActor("Counter", three.input, &error).ok());
  EXPECT_EQ(error.message, "Counter has no constructor taking 3 arguments (it takes 0 or 1)");
}

TEST(CppRuntimeLoadTest, MissingLibraryOrEntryPointFailsClearly) {
  CppRuntime runtime;
  auto missing = runtime.LoadLibrary("/nonexistent/libnothing.so");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot load"), std::string::npos);
  auto not_plait = runtime.LoadLibrary("libm.so.6");
  ASSERT_FALSE(not_plait.ok());
  EXPECT_NE(not_plait.status().message().find("plait_module_init"), std::string::npos);
}

}  // namespace
}  // namespace plait::native
