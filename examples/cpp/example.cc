// An example plait C++ library: an Arrow kernel, an actor, an error, and calls back into
// Python. Build it with examples/cpp/build.sh OUT_DIR, then from Python:
//
//   plait.init(..., job_config with code_search_path=[OUT_DIR])
//   plait.get(plait.cpp_function("saxpy").remote(2.0, table))
//   counter = plait.cpp_actor_class("Counter").remote(10)
//   plait.get(counter.add.remote(5))          # 15
#include <arrow/api.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "plait/plait.h"

namespace {

// --- Arrow: y = a * x + y over the float64 columns "x" and "y" ------------------------

// The table is read in place (its columns point into the object store); the result is a
// new one-column table {"y": a*x + y}.
std::shared_ptr<arrow::Table> saxpy(double a, std::shared_ptr<arrow::Table> table) {
  auto x_col = table->GetColumnByName("x");
  auto y_col = table->GetColumnByName("y");
  if (x_col == nullptr || y_col == nullptr) {
    throw std::invalid_argument("saxpy needs float64 columns 'x' and 'y', got schema " +
                                table->schema()->ToString());
  }
  if (x_col->type()->id() != arrow::Type::DOUBLE || y_col->type()->id() != arrow::Type::DOUBLE) {
    throw std::invalid_argument("saxpy: columns 'x' and 'y' must be float64");
  }
  arrow::DoubleBuilder out;
  if (!out.Reserve(table->num_rows()).ok()) throw std::bad_alloc();
  // Chunks of x and y may be split differently: walk both by row.
  int xi = 0, yi = 0;
  int64_t xo = 0, yo = 0;
  for (int64_t row = 0; row < table->num_rows(); ++row) {
    while (xo >= x_col->chunk(xi)->length()) { ++xi; xo = 0; }
    while (yo >= y_col->chunk(yi)->length()) { ++yi; yo = 0; }
    const auto& x = static_cast<const arrow::DoubleArray&>(*x_col->chunk(xi));
    const auto& y = static_cast<const arrow::DoubleArray&>(*y_col->chunk(yi));
    if (x.IsNull(xo) || y.IsNull(yo)) {
      out.UnsafeAppendNull();
    } else {
      out.UnsafeAppend(a * x.Value(xo) + y.Value(yo));
    }
    ++xo;
    ++yo;
  }
  std::shared_ptr<arrow::Array> result;
  if (!out.Finish(&result).ok()) throw std::runtime_error("saxpy: could not build the result");
  return arrow::Table::Make(arrow::schema({arrow::field("y", arrow::float64())}), {result});
}
PLAIT_REMOTE(saxpy);

// Where a float64 column's values live: lets a test see that the table was not copied.
int64_t column_address(std::shared_ptr<arrow::Table> table, std::string column) {
  auto col = table->GetColumnByName(column);
  if (col == nullptr) throw std::out_of_range("no column '" + column + "'");
  const auto& values = static_cast<const arrow::DoubleArray&>(*col->chunk(0));
  return static_cast<int64_t>(reinterpret_cast<std::uintptr_t>(values.raw_values()));
}
PLAIT_REMOTE(column_address);

std::shared_ptr<arrow::DoubleArray> cumulative(std::shared_ptr<arrow::DoubleArray> xs) {
  arrow::DoubleBuilder out;
  double total = 0;
  for (int64_t i = 0; i < xs->length(); ++i) {
    total += xs->IsNull(i) ? 0.0 : xs->Value(i);
    if (!out.Append(total).ok()) throw std::bad_alloc();
  }
  std::shared_ptr<arrow::Array> result;
  if (!out.Finish(&result).ok()) throw std::runtime_error("cumulative: could not finish");
  return std::static_pointer_cast<arrow::DoubleArray>(result);
}
PLAIT_REMOTE(cumulative);

// --- tensors (numpy arrays) -----------------------------------------------------------

// Returns {sum of elements, address of the data}: the address shows the tensor is a view.
std::tuple<double, int64_t> tensor_sum(plait::Tensor t) {
  const double* data = t.data<double>();
  if (data == nullptr) {
    throw std::invalid_argument(std::string("tensor_sum wants float64, got ") + plait::DTypeName(t.dtype()));
  }
  double sum = 0;
  for (uint64_t i = 0; i < t.size(); ++i) sum += data[i];
  return {sum, static_cast<int64_t>(reinterpret_cast<std::uintptr_t>(t.bytes()))};
}
PLAIT_REMOTE(tensor_sum);

plait::Tensor scale(plait::Tensor t, double factor) {
  const double* data = t.data<double>();
  if (data == nullptr) throw std::invalid_argument("scale wants a float64 tensor");
  std::vector<double> out(data, data + t.size());
  for (double& v : out) v *= factor;
  return plait::Tensor::FromVector(std::move(out), t.shape());
}
PLAIT_REMOTE(scale);

// --- plain values ---------------------------------------------------------------------

std::map<std::string, int64_t> word_lengths(std::vector<std::string> words) {
  std::map<std::string, int64_t> out;
  for (const auto& w : words) out[w] = static_cast<int64_t>(w.size());
  return out;
}
PLAIT_REMOTE(word_lengths);

double divide(double a, double b) {
  if (b == 0) throw std::domain_error("division by zero");
  return a / b;
}
PLAIT_REMOTE(divide);

// Returns what it is given: any value round-trips through C++ unchanged.
plait::Value echo(plait::Value v) { return v; }
PLAIT_REMOTE(echo);

std::tuple<int64_t, int64_t> divmod(int64_t a, int64_t b) {
  if (b == 0) throw std::domain_error("divmod by zero");
  return {a / b, a % b};
}
PLAIT_REMOTE(divmod);

// --- an actor -------------------------------------------------------------------------

class Counter {
 public:
  explicit Counter(int64_t start) : value_(start) {}
  int64_t add(int64_t n) { return value_ += n; }
  int64_t get() const { return value_; }
  std::vector<int64_t> history() const { return history_; }
  void record() { history_.push_back(value_); }

 private:
  int64_t value_;
  std::vector<int64_t> history_;
};
PLAIT_ACTOR(Counter, PLAIT_CTOR(int64_t), PLAIT_METHOD(add), PLAIT_METHOD(get),
            PLAIT_METHOD(history), PLAIT_METHOD(record));

// --- calling back into the runtime ------------------------------------------------------

// Put a value into the object store and read it back.
int64_t put_get(int64_t x) {
  plait::ObjectRef<int64_t> ref = plait::Put(x);
  return plait::Get(ref);
}
PLAIT_REMOTE(put_get);

// Call a Python function as a task and wait for its result.
int64_t call_python(std::string module, std::string function, int64_t a, int64_t b) {
  auto ref = plait::Task(plait::PyFunction<int64_t>(module, function), a).Remote(b);
  return plait::Get(ref);
}
PLAIT_REMOTE(call_python);

// --- fault tolerance ---------------------------------------------------------------------

// A task whose first attempts fail, for the retry tests. Each attempt adds DIR/<n>.pid
// holding its worker's pid; attempt n < hang sleeps (the test kills its worker), one
// below hang + raise throws, and a later one returns n.
int64_t flaky(std::string dir, int64_t hang, int64_t raise) {
  int64_t n = 0;
  while (std::filesystem::exists(dir + "/" + std::to_string(n) + ".pid")) ++n;
  std::ofstream(dir + "/" + std::to_string(n) + ".pid") << getpid();
  if (n < hang) std::this_thread::sleep_for(std::chrono::seconds(60));
  if (n < hang + raise) throw std::runtime_error("attempt " + std::to_string(n));
  return n;
}
PLAIT_REMOTE(flaky);

// A kernel with a bug: it writes through a null pointer, so its worker dies of SIGSEGV.
// The caller's WorkerCrashedError names the signal and shows this frame (the crash tests).
[[gnu::noinline]] int64_t null_deref(int64_t value) {
  volatile int64_t* p = nullptr;
  *p = value;
  return value;
}
PLAIT_REMOTE(null_deref);

}  // namespace
