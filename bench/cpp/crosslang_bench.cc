// The C++ functions bench/crosslang.py calls from Python: an echo (task and actor
// method) for call rates, and an Arrow probe that reports where a table's bytes live.
#include <arrow/api.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unistd.h>

#include "plait/plait.h"

namespace {

// --- trivial calls ----------------------------------------------------------------------

int64_t bench_echo(int64_t x) { return x; }
PLAIT_REMOTE(bench_echo);

class EchoActor {
 public:
  EchoActor() = default;
  int64_t echo(int64_t x) { return x; }
};
PLAIT_ACTOR(EchoActor, PLAIT_CTOR(), PLAIT_METHOD(echo));

// --- the Arrow probe -----------------------------------------------------------------

// {RssAnon, RssShmem} of this process in kB, from /proc/self/status.
std::tuple<int64_t, int64_t> rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  int64_t anon = -1, shmem = -1;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t kb = 0;
    fields >> key >> kb;
    if (key == "RssAnon:") anon = kb;
    if (key == "RssShmem:") shmem = kb;
  }
  return {anon, shmem};
}

// The path of the mapping that holds addr ("" for an anonymous mapping, "?" when no
// mapping of /proc/self/maps contains it).
std::string mapping_of(std::uintptr_t addr) {
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, path;
    fields >> range >> perms >> offset >> dev >> inode;
    std::getline(fields >> std::ws, path);
    auto dash = range.find('-');
    std::uintptr_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
    std::uintptr_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (addr >= lo && addr < hi) return path;
  }
  return "?";
}

// Sums every float64 column (touching every byte), then reports: the sum, the mapping that
// holds column 0's first values buffer, this process's RssAnon and RssShmem (kB) after the
// sum, its pid, and the nanoseconds the sum took.
std::tuple<double, std::string, int64_t, int64_t, int64_t, int64_t> table_probe(
    std::shared_ptr<arrow::Table> table) {
  auto start = std::chrono::steady_clock::now();
  double sum = 0;
  for (const auto& col : table->columns()) {
    if (col->type()->id() != arrow::Type::DOUBLE) {
      throw std::invalid_argument("table_probe wants float64 columns, got " +
                                  col->type()->ToString());
    }
    for (const auto& chunk : col->chunks()) {
      const auto& values = static_cast<const arrow::DoubleArray&>(*chunk);
      const double* raw = values.raw_values();
      for (int64_t i = 0; i < values.length(); ++i) sum += raw[i];
    }
  }
  int64_t took = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  const auto& first = static_cast<const arrow::DoubleArray&>(*table->column(0)->chunk(0));
  auto [anon, shmem] = rss_kb();
  return {sum, mapping_of(reinterpret_cast<std::uintptr_t>(first.raw_values())), anon, shmem,
          static_cast<int64_t>(getpid()), took};
}
PLAIT_REMOTE(table_probe);

// {RssAnon kB, RssShmem kB, pid}: the baseline for a probe in the same process.
std::tuple<int64_t, int64_t, int64_t> mem_stats() {
  auto [anon, shmem] = rss_kb();
  return {anon, shmem, static_cast<int64_t>(getpid())};
}
PLAIT_REMOTE(mem_stats);

// The same two calls as an actor, so the baseline and the probe run in one process.
class Probe {
 public:
  Probe() = default;
  std::tuple<int64_t, int64_t, int64_t> mem() { return mem_stats(); }
  std::tuple<double, std::string, int64_t, int64_t, int64_t, int64_t> probe(
      std::shared_ptr<arrow::Table> table) {
    return table_probe(std::move(table));
  }
};
PLAIT_ACTOR(Probe, PLAIT_CTOR(), PLAIT_METHOD(mem), PLAIT_METHOD(probe));

}  // namespace
