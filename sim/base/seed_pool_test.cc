// The seed worker pool: results reach the caller in index order whatever
// order the threads finish in, and every way of stopping early leaves a
// prefix of the jobs reported.
#include "sim/base/seed_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <optional>
#include <vector>

namespace sim {
namespace {

// Runs jobs whose result is their index; the indexes reported, in order.
std::vector<size_t> reported_of(size_t n, unsigned threads, SeedJobs<size_t> jobs) {
  std::vector<size_t> seen;
  if (!jobs.run) jobs.run = [](size_t i) { return std::optional<size_t>(i); };
  jobs.report = [&](size_t i, size_t&& r) {
    CHECK(i == r);
    seen.push_back(r);
  };
  const size_t count = run_seed_jobs(n, threads, jobs);
  CHECK(count == seen.size());
  return seen;
}

std::vector<size_t> upto(size_t n) {
  std::vector<size_t> v;
  for (size_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

TEST_CASE("results are reported in index order though later jobs finish first") {
  // Job 0 waits until job 7 has finished, so the other threads finish 1..7
  // first; the caller still sees 0, 1, ..., 7.
  std::promise<void> last_done;
  std::shared_future<void> last = last_done.get_future().share();
  std::atomic<bool> zero_waited{false};
  SeedJobs<size_t> jobs;
  jobs.run = [&](size_t i) {
    if (i == 0) {
      last.wait();
      zero_waited = true;
    }
    if (i == 7) last_done.set_value();
    return std::optional<size_t>(i);
  };
  CHECK(reported_of(8, 4, jobs) == upto(8));
  CHECK(zero_waited);
}

TEST_CASE("one thread, more threads than jobs, and no jobs at all") {
  CHECK(reported_of(5, 1, {}) == upto(5));
  CHECK(reported_of(3, 16, {}) == upto(3));
  CHECK(reported_of(0, 4, {}).empty());
}

TEST_CASE("after the last job (stop on failure) nothing later is reported, whatever the threads") {
  for (unsigned threads : {1u, 3u}) {
    SeedJobs<size_t> jobs;
    jobs.is_last = [](const size_t& r) { return r == 3; };
    CHECK(reported_of(10, threads, jobs) == upto(4));
  }
}

TEST_CASE("a job without a result (interrupted) ends the report before it") {
  SeedJobs<size_t> jobs;
  jobs.run = [](size_t i) { return i == 2 ? std::nullopt : std::optional<size_t>(i); };
  CHECK(reported_of(6, 1, jobs) == upto(2));
}

TEST_CASE("keep_going false starts no more jobs; those started are reported") {
  std::atomic<int> claims{0};
  SeedJobs<size_t> jobs;
  jobs.keep_going = [&] { return claims++ < 5; };
  CHECK(reported_of(100, 1, jobs) == upto(5));
}

}  // namespace
}  // namespace sim
