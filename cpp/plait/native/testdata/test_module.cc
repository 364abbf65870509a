// A user library as the SDK builds them, for cpp_runtime_test: the loader dlopen()s it.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "plait/plait.h"

namespace {

std::int64_t add(std::int64_t a, std::int64_t b) { return a + b; }
PLAIT_REMOTE(add);

std::string greet(const std::string& name, std::optional<std::string> greeting) {
  return greeting.value_or("hello") + ", " + name;
}
PLAIT_REMOTE(greet);

std::tuple<std::int64_t, std::string> split(std::int64_t n) { return {n * 2, std::to_string(n)}; }
PLAIT_REMOTE(split);

void fail(const std::string& what) { throw std::invalid_argument(what); }
PLAIT_REMOTE(fail);

std::map<std::string, double> stats(const std::vector<double>& xs) {
  double sum = 0;
  for (double x : xs) sum += x;
  return {{"sum", sum}, {"count", static_cast<double>(xs.size())}};
}
PLAIT_REMOTE_AS("math.stats", stats);

class Counter {
 public:
  Counter() = default;
  explicit Counter(std::int64_t start) : value_(start) {}
  std::int64_t add(std::int64_t n) { return value_ += n; }
  std::int64_t get() const { return value_; }

 private:
  std::int64_t value_ = 0;
};
PLAIT_ACTOR(Counter, PLAIT_CTOR(), PLAIT_CTOR(std::int64_t), PLAIT_METHOD(add), PLAIT_METHOD(get));

}  // namespace
