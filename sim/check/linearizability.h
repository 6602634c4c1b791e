// Client-visible correctness: is a history of key-value operations
// linearizable (Herlihy & Wing)? Each key is an independent register (the
// history is partitioned per key, as Porcupine does); within a key the
// checker first tries the order the simulator already knows (order_hint:
// log index of a write, the applied index a read observed) and only if that
// fails searches with Wing & Gong's algorithm, memoizing (linearized set,
// state) pairs (Lowe's improvement).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/time.h"

namespace sim {

enum class OpKind : uint8_t { put, get, cas };

// One client operation on one key. Values are unique per write (the write's
// id); 0 means the key is absent, which is every key's initial state.
struct Operation {
  uint64_t client = 0;  // one operation outstanding per client at a time
  uint32_t key = 0;
  OpKind kind = OpKind::put;
  uint64_t value = 0;     // put, cas: the value written
  uint64_t expected = 0;  // cas: the value it requires (0: absent)
  // Outputs, meaningful only when return_us is set.
  bool ok = true;           // cas: whether it swapped (put and get: true)
  uint64_t read_value = 0;  // get: the value read (0: absent)
  TimeUs call_us = 0;
  // Unset: the client never learned the outcome (timeout, crash, redirect
  // loop). The operation may have taken effect at any instant after its
  // call, or never; an unanswered get constrains nothing.
  std::optional<TimeUs> return_us;
  // Where the simulator saw it take effect, 0 if unknown: 2 * index for a
  // write applied at log index `index`, 2 * applied + 1 for a read that
  // observed the state after applying `applied` entries.
  uint64_t order_hint = 0;
};

// Bounds on the checker's work, so that a pathological history cannot hang a
// run (docs/linearizability.md).
struct LinearizabilityOptions {
  // Search states one key may visit (memory grows with it: about 100 bytes
  // a state) before the key is undecided.
  uint64_t max_states = 2'000'000;
  // Work, in operations checked plus states visited, spent shrinking a
  // violation to a smallest failing sub-history; when it runs out, the
  // smallest failing sub-history found so far is reported.
  uint64_t max_shrink_work = 20'000'000;
};

struct LinearizabilityResult {
  // True only when every key was shown linearizable.
  bool ok = true;
  // When not ok and not undecided: the key, and the indexes (into the history
  // passed in, ascending) of a smallest failing sub-history found: removing
  // any one of them, together with the reads of the value it wrote, makes the
  // rest linearizable. Keys are checked in ascending order; the first failing
  // key is reported.
  uint32_t key = 0;
  std::vector<size_t> failing;
  // When not ok: no violation was found, but the search of `key` ran out of
  // max_states before deciding (failing is empty). The caller decides
  // whether that is a failure; a violation in any key wins over undecided.
  bool undecided = false;
  std::string detail;  // one line per failing operation, times in seconds
  // Statistics: keys whose hint order sufficed, keys searched, and search
  // states visited in all.
  uint64_t keys_by_hint = 0;
  uint64_t keys_searched = 0;
  uint64_t states_visited = 0;
};

LinearizabilityResult check_linearizable(const std::vector<Operation>& history,
                                         const LinearizabilityOptions& options = {});

}  // namespace sim
