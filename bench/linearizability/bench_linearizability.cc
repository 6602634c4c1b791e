// bench_linearizability: the linearizability checker's cost on histories
// shaped like a KV workload's (docs/linearizability.md, "Benchmark").
//
// A history is generated from a sequential execution: 200 clients, each with
// one operation outstanding, on 100 keys; 50% get, 30% put, 20% cas (expecting
// the current value 60% of the time, an older one otherwise, so some fail);
// latencies of 0.5-3 ms and think times of 0.2 ms on average, so operations
// on a key overlap; one in 200 calls gets no answer (the client times out
// after 10 ms), and half of those took effect. Each operation takes effect at
// a uniform instant between its call and return, and the outputs and hints
// (2 * log index for a write, 2 * applied + 1 for a read) follow from that
// order. Variants, each checked and timed separately:
//   hints      every hint present and right: one sort and pass per key
//   no_hints   no hint at all: every key is searched
//   wrong_1pc  one operation in a hundred has a hint drawn at random: the
//              keys that hold one are searched
//   stale_read one late get reads a value overwritten before it began: the
//              violation must be found and shrunk
// Usage: bench_linearizability [operations ...]  (default 10000 100000 1000000)
// Output: one JSON line per size and variant. Exit 1 if a correct history is
// refused or the stale read is missed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "sim/base/prng.h"
#include "sim/check/linearizability.h"

namespace {

using sim::Operation;
using sim::OpKind;
using sim::TimeUs;

constexpr uint64_t kClients = 200;
constexpr uint32_t kKeys = 100;

struct Generated {
  std::vector<Operation> history;
  std::vector<TimeUs> effect_us;  // when each operation took effect (-1: never)
};

Generated generate(size_t operations, uint64_t seed) {
  sim::Prng prng(seed);
  Generated out;
  out.history.reserve(operations);
  out.effect_us.reserve(operations);
  std::vector<TimeUs> next_call_us(kClients);
  for (TimeUs& t : next_call_us) t = prng.uniform_int(0, 1000);
  // Calls in time order: the client whose next call is earliest goes next.
  while (out.history.size() < operations) {
    const auto client = static_cast<uint64_t>(
        std::min_element(next_call_us.begin(), next_call_us.end()) - next_call_us.begin());
    Operation op;
    op.client = client;
    op.key = static_cast<uint32_t>(prng.uniform_int(0, kKeys - 1));
    const int64_t mix = prng.uniform_int(0, 99);
    op.kind = mix < 50 ? OpKind::get : mix < 80 ? OpKind::put : OpKind::cas;
    op.call_us = next_call_us[client];
    const TimeUs latency_us = prng.uniform_int(500, 3000);
    TimeUs effect_us = op.call_us + prng.uniform_int(0, latency_us);
    if (prng.uniform_int(0, 199) == 0) {
      if (op.kind == OpKind::get || prng.uniform_int(0, 1) == 0) effect_us = -1;
      next_call_us[client] = op.call_us + 10'000;
    } else {
      op.return_us = op.call_us + latency_us;
      next_call_us[client] = *op.return_us + prng.exponential_int(200);
    }
    out.history.push_back(op);
    out.effect_us.push_back(effect_us);
  }
  // Execute in the order the operations took effect; values are unique.
  std::vector<size_t> order;
  for (size_t i = 0; i < out.history.size(); ++i)
    if (out.effect_us[i] >= 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return out.effect_us[a] != out.effect_us[b] ? out.effect_us[a] < out.effect_us[b] : a < b;
  });
  std::vector<uint64_t> value(kKeys, 0);
  std::vector<std::vector<uint64_t>> written(kKeys);
  uint64_t next_value = 1;
  uint64_t index = 0;  // the log: every write, a failed cas too, is an entry
  for (size_t i : order) {
    Operation& op = out.history[i];
    uint64_t& current = value[op.key];
    switch (op.kind) {
      case OpKind::get:
        op.read_value = current;
        op.order_hint = 2 * index + 1;
        continue;
      case OpKind::put:
        op.value = next_value++;
        current = op.value;
        break;
      case OpKind::cas: {
        op.value = next_value++;
        const std::vector<uint64_t>& old = written[op.key];
        op.expected = prng.uniform_int(0, 9) < 6 || old.empty()
                          ? current
                          : old[static_cast<size_t>(
                                prng.uniform_int(0, static_cast<int64_t>(old.size()) - 1))];
        op.ok = op.expected == current;
        if (op.ok) current = op.value;
        break;
      }
    }
    written[op.key].push_back(op.value);
    op.order_hint = 2 * ++index;
  }
  // Unanswered writes that never took effect still need a value; they are
  // never read.
  for (size_t i = 0; i < out.history.size(); ++i) {
    Operation& op = out.history[i];
    if (out.effect_us[i] < 0 && op.kind != OpKind::get) op.value = next_value++;
  }
  return out;
}

bool run_variant(const char* variant, size_t operations, const std::vector<Operation>& history,
                 bool expect_ok) {
  // Wall time, and processor time: on a shared machine the second is the
  // one to compare (the checker is single-threaded).
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t start_cpu = std::clock();
  const sim::LinearizabilityResult result = sim::check_linearizable(history);
  const double cpu_seconds = static_cast<double>(std::clock() - start_cpu) / CLOCKS_PER_SEC;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"bench\": \"linearizability\", \"variant\": \"%s\", \"operations\": %zu, "
      "\"check_s\": %.3f, \"check_cpu_s\": %.3f, "
      "\"ok\": %s, \"undecided\": %s, \"keys_by_hint\": %llu, \"keys_searched\": %llu, "
      "\"states_visited\": %llu, \"failing\": %zu}\n",
      variant, operations, seconds, cpu_seconds, result.ok ? "true" : "false",
      result.undecided ? "true" : "false", static_cast<unsigned long long>(result.keys_by_hint),
      static_cast<unsigned long long>(result.keys_searched),
      static_cast<unsigned long long>(result.states_visited), result.failing.size());
  std::fflush(stdout);
  if (result.ok != expect_ok || result.undecided) {
    std::fprintf(stderr, "bench_linearizability: %s, %zu operations: expected %s, got %s\n%s",
                 variant, operations, expect_ok ? "linearizable" : "a violation",
                 result.undecided ? "undecided"
                 : result.ok      ? "linearizable"
                                  : "a violation",
                 result.detail.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes;
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(argv[i], &end, 10);
    if (end == argv[i] || *end != '\0' || n == 0) {
      std::fprintf(stderr,
                   "bench_linearizability: operations must be a positive integer, not '%s'\n",
                   argv[i]);
      return 2;
    }
    sizes.push_back(static_cast<size_t>(n));
  }
  if (sizes.empty()) sizes = {10'000, 100'000, 1'000'000};
  bool all_right = true;
  for (size_t operations : sizes) {
    Generated generated = generate(operations, 14 + operations);
    std::vector<Operation>& history = generated.history;
    all_right &= run_variant("hints", operations, history, true);

    std::vector<Operation> no_hints = history;
    for (Operation& op : no_hints) op.order_hint = 0;
    all_right &= run_variant("no_hints", operations, no_hints, true);

    // A wrong hint: anywhere in the log.
    std::vector<Operation> wrong = history;
    uint64_t max_hint = 0;
    for (const Operation& op : history) max_hint = std::max(max_hint, op.order_hint);
    sim::Prng prng(41 + operations);
    for (Operation& op : wrong)
      if (prng.uniform_int(0, 99) == 0)
        op.order_hint = static_cast<uint64_t>(prng.uniform_int(1, static_cast<int64_t>(max_hint)));
    all_right &= run_variant("wrong_1pc", operations, wrong, true);

    // The last answered get of a key that saw two answered puts in a row
    // before it began reads the first of them: stale.
    bool planted = false;
    for (size_t g = history.size(); g-- > 0 && !planted;) {
      const Operation& read = history[g];
      if (read.kind != OpKind::get || !read.return_us) continue;
      size_t newer = g;
      for (size_t i = g; i-- > 0;) {
        const Operation& op = history[i];
        if (op.key != read.key || op.kind != OpKind::put || !op.return_us) continue;
        if (newer == g) {
          if (*op.return_us < read.call_us) newer = i;
        } else if (*op.return_us < history[newer].call_us) {
          history[g].read_value = op.value;
          planted = true;
          break;
        }
      }
    }
    if (!planted) {
      std::fprintf(stderr, "bench_linearizability: %zu operations: no place for a stale read\n",
                   operations);
      return 1;
    }
    all_right &= run_variant("stale_read", operations, history, false);
  }
  return all_right ? 0 : 1;
}
