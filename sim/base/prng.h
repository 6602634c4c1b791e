// raftsim's only source of randomness: xoshiro256** (Blackman & Vigna 2018),
// seeded through SplitMix64, with distributions written here so that a seed
// gives the same draws with every compiler, standard library and libm.
//
// Every component draws from its own stream, derived from the run's seed and
// the stream's name, so that one component's draws never shift another's.
#pragma once

#include <cstdint>
#include <string_view>

#include "raft/random.h"

namespace sim {

class Prng : public raft::Random {
 public:
  explicit Prng(uint64_t seed = 0);
  // A stream of the run: seed and a name such as "network" or "node/3".
  static Prng stream(uint64_t run_seed, std::string_view name);

  uint64_t next_u64();
  // Uniform in [lo, hi], without modulo bias (Lemire 2019, with rejection).
  int64_t uniform_int(int64_t lo, int64_t hi) override;
  // true with the given probability, expressed as a threshold out of 2^64
  // (see probability_threshold).
  bool chance(uint64_t threshold) { return threshold != 0 && next_u64() < threshold; }
  // Normal(mean, stddev) by the Irwin-Hall sum of 12 uniforms, in integer
  // arithmetic: no libm, so identical everywhere. Tails beyond 6 sigma are cut.
  int64_t normal_int(int64_t mean, int64_t stddev);
  // Exponential with the given mean, via our own logarithm (det_log).
  int64_t exponential_int(int64_t mean);

 private:
  uint64_t s_[4];
};

// Probability p in [0, 1] as a threshold for Prng::chance.
uint64_t probability_threshold(double p);
// Natural logarithm for x in (0, 1], computed with +, -, *, / only (exact
// IEEE operations), so the result does not depend on the libm version.
double det_log(double x);

}  // namespace sim
