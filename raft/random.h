// Randomness is an input to the node, like time (canonical/raft's raft_io
// treats the RNG as I/O): the driver supplies a seeded source, so a node never
// draws from a global generator and a run replays exactly.
#pragma once

#include <cstdint>

namespace raft {

class Random {
 public:
  virtual ~Random() = default;
  // A uniformly distributed integer in [lo, hi].
  virtual int64_t uniform_int(int64_t lo, int64_t hi) = 0;
};

}  // namespace raft
