// The one worker pool behind `run --seeds` and `fuzz`: jobs 0..n-1 (a seed
// each) run on several threads, claimed in index order, and their results
// reach the calling thread in index order, as the finished prefix grows. So
// what a command prints and writes is the same for any number of threads;
// only wall time differs. Each job is a whole simulation of its own: the
// threads share nothing a run could observe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace sim {

template <typename Result>
struct SeedJobs {
  // Before each job is claimed (on a worker): false starts no more jobs; the
  // ones running finish and are reported.
  std::function<bool()> keep_going = [] { return true; };
  // Job i (on a worker). Nothing (an interrupted run, which is no result):
  // that worker stops, and no job from i on is reported.
  std::function<std::optional<Result>(size_t)> run;
  // After job i (on a worker): true when it is the last to report
  // (--stop-on-failure); no job after it starts or is reported.
  std::function<bool(const Result&)> is_last = [](const Result&) { return false; };
  // Each result, in index order, on the calling thread (the pool's lock is
  // not held: it may write files).
  std::function<void(size_t, Result&&)> report;
  // About every 200 ms while jobs run, on the calling thread, with the
  // number reported so far (a progress line).
  std::function<void(size_t)> progress = [](size_t) {};
};

// Runs jobs 0..n-1 on `threads` threads (at least one, at most n); returns
// how many were reported, always a prefix of the jobs.
template <typename Result>
size_t run_seed_jobs(size_t n, unsigned threads, const SeedJobs<Result>& jobs) {
  std::mutex mu;
  std::condition_variable cv;
  std::map<size_t, Result> finished;  // not yet reported; guarded by mu
  unsigned running = 0;               // workers not yet done; guarded by mu
  std::atomic<size_t> next{0};
  std::atomic<size_t> end{n};  // no job at or past `end` starts or is reported
  auto worker = [&] {
    for (size_t i = next++; i < end && jobs.keep_going(); i = next++) {
      std::optional<Result> r = jobs.run(i);
      if (!r) break;
      if (jobs.is_last(*r)) {
        size_t seen = end;
        while (i + 1 < seen && !end.compare_exchange_weak(seen, i + 1)) {
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      finished.emplace(i, std::move(*r));
      cv.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu);
    --running;
    cv.notify_one();
  };
  running = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads, n)));
  std::vector<std::thread> pool;
  for (unsigned t = running; t > 0; --t) pool.emplace_back(worker);
  size_t reported = 0;
  {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      for (auto it = finished.begin(); it != finished.end() && it->first == reported;
           it = finished.begin()) {
        Result r = std::move(it->second);
        finished.erase(it);
        if (reported >= end) break;
        lock.unlock();
        jobs.report(reported, std::move(r));
        lock.lock();
        ++reported;
      }
      if (running == 0) break;
      jobs.progress(reported);
      cv.wait_for(lock, std::chrono::milliseconds(200));
    }
  }
  for (std::thread& t : pool) t.join();
  return reported;
}

}  // namespace sim
