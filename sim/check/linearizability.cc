// The linearizability checker (docs/linearizability.md). A history is
// linearizable when every key's sub-history is (Herlihy & Wing's locality,
// the P-compositionality Porcupine exploits), so keys are checked one at a
// time, in ascending order. Within a key, the order the simulator saw is
// tried first (a sort and one pass); only when it does not hold does a Wing &
// Gong search run, memoizing (linearized set, register value) pairs as Lowe
// proposed, over a linked list of call and return entries as Porcupine does.
#include "sim/check/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "sim/base/time.h"

namespace sim {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// The operations of one key: indexes into the history.
using KeyOps = std::vector<size_t>;

bool is_open(const Operation& op) {
  return !op.return_us.has_value();
}

// Whether `op` may take effect on a register holding `state`; if so, `state`
// becomes the register's value afterwards. An operation with unknown outcome
// behaves as the register would (a cas swaps exactly when the value matches),
// so that placing it last, where it affects nothing, stands for "never took
// effect".
bool step(const Operation& op, uint64_t& state) {
  switch (op.kind) {
    case OpKind::put: state = op.value; return true;
    case OpKind::get: return state == op.read_value;
    case OpKind::cas:
      if (is_open(op) || op.ok) {
        if (state == op.expected) {
          state = op.value;
          return true;
        }
        return is_open(op);
      }
      return state != op.expected;
  }
  return false;
}

// A client has one operation outstanding at a time, so its next call comes
// after its previous return even when both happened in the same microsecond.
// Across clients equal times are concurrent: the history does not say which
// event came first.
bool same_client_tie(const Operation& a, const Operation& b) {
  return a.client == b.client && a.return_us && *a.return_us == b.call_us && a.call_us < b.call_us;
}

// The order the simulator knows: writes by log index, reads after the entry
// they observed (order_hint), then by call. True when every answered
// operation has a hint and that order respects real time and the register.
bool hint_order_holds(const std::vector<Operation>& history, const KeyOps& key_ops) {
  std::vector<size_t> order;
  order.reserve(key_ops.size());
  for (size_t i : key_ops) {
    const Operation& op = history[i];
    if (op.order_hint != 0) {
      order.push_back(i);
    } else if (!is_open(op)) {
      return false;  // an answered operation the simulator did not place
    }                // else: an unanswered write not seen applied never took effect
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Operation& x = history[a];
    const Operation& y = history[b];
    if (x.order_hint != y.order_hint) return x.order_hint < y.order_hint;
    if (x.call_us != y.call_us) return x.call_us < y.call_us;
    return a < b;
  });
  uint64_t state = 0;
  TimeUs max_call_us = std::numeric_limits<TimeUs>::min();
  std::unordered_map<uint64_t, TimeUs> client_max_call_us;  // looked up, never iterated
  for (size_t i : order) {
    const Operation& op = history[i];
    auto client = client_max_call_us.find(op.client);
    if (op.return_us) {
      // An operation placed after one called once it had returned.
      if (*op.return_us < max_call_us) return false;
      if (client != client_max_call_us.end() && *op.return_us == client->second &&
          op.call_us < client->second)
        return false;
    }
    if (!step(op, state)) return false;
    max_call_us = std::max(max_call_us, op.call_us);
    if (client == client_max_call_us.end()) {
      client_max_call_us.emplace(op.client, op.call_us);
    } else {
      client->second = std::max(client->second, op.call_us);
    }
  }
  return true;
}

enum class Outcome { linearizable, violation, undecided };

// The states a search visited, flat: their words in one pool and an
// open-addressing table of state numbers keyed by the hash of the part
// compared for equality (register value, p, window), so that a state costs
// no allocation of its own. States with the same such part but different
// unanswered sets share a probe sequence, where inclusion is tested.
class StateMemo {
 public:
  explicit StateMemo(size_t open_words = 0) : open_words_(open_words), slots_(1024, kEmpty) {}

  // Records the state (`exact`, then `open_words_` words of unanswered set);
  // false when a state with the same exact part and a subset of its
  // unanswered set was recorded before.
  bool insert_unless_dominated(const std::vector<uint64_t>& exact, const uint64_t* open) {
    const uint64_t hash = hash_words(exact);
    const size_t mask = slots_.size() - 1;
    size_t slot = hash & mask;
    for (; slots_[slot] != kEmpty; slot = (slot + 1) & mask) {
      const Entry& entry = entries_[slots_[slot]];
      if (entry.hash != hash || entry.exact_words != exact.size()) continue;
      const uint64_t* words = &pool_[entry.offset];
      if (!std::equal(exact.begin(), exact.end(), words)) continue;
      const uint64_t* seen_open = words + exact.size();
      bool subset = true;
      for (size_t w = 0; w < open_words_ && subset; ++w) subset = (seen_open[w] & ~open[w]) == 0;
      if (subset) return false;
    }
    slots_[slot] = entries_.size();
    entries_.push_back({pool_.size(), hash, exact.size()});
    pool_.insert(pool_.end(), exact.begin(), exact.end());
    pool_.insert(pool_.end(), open, open + open_words_);
    if (2 * entries_.size() > slots_.size()) grow();
    return true;
  }

 private:
  static constexpr uint64_t kEmpty = std::numeric_limits<uint64_t>::max();
  struct Entry {
    uint64_t offset;
    uint64_t hash;
    uint64_t exact_words;
  };

  static uint64_t hash_words(const std::vector<uint64_t>& words) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ words.size();
    for (uint64_t w : words) {
      h ^= w + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
      h *= 0xff51afd7ed558ccdULL;
    }
    return h ^ (h >> 33);
  }

  void grow() {
    slots_.assign(2 * slots_.size(), kEmpty);
    const size_t mask = slots_.size() - 1;
    for (uint64_t i = 0; i < entries_.size(); ++i) {
      size_t slot = entries_[i].hash & mask;
      while (slots_[slot] != kEmpty) slot = (slot + 1) & mask;
      slots_[slot] = i;
    }
  }

  size_t open_words_;
  std::vector<uint64_t> slots_;  // state numbers; looked up, never iterated
  std::vector<Entry> entries_;
  std::vector<uint64_t> pool_;
};

// Wing & Gong's search with Lowe's memoization, over Porcupine's linked list
// of call and return entries sorted by time: an operation may be linearized
// next when its call entry comes before the first return entry still in the
// list; reaching a return entry means the choices so far cannot be extended,
// so the search undoes the last one and tries the next candidate.
//
// Answered operations are numbered 0..C-1 by call. The memo key is the
// register value, the first answered operation p not yet linearized, the
// words of the answered set from p to the last operation called before p
// returned (nothing later can be linearized before p, so the set is that
// window), and the set of unanswered operations linearized: a few words where
// Porcupine keeps a bitset of the whole history. The first p and the window
// are those of Lowe's state; the unanswered set is compared by inclusion
// (run()).
class KeySearch {
 public:
  KeySearch(const std::vector<Operation>& history, const KeyOps& key_ops) : history_(history) {
    for (size_t i : key_ops) (is_open(history[i]) ? open_ : closed_).push_back(i);
    auto by_call = [&](size_t a, size_t b) {
      if (history[a].call_us != history[b].call_us) return history[a].call_us < history[b].call_us;
      return a < b;
    };
    std::sort(closed_.begin(), closed_.end(), by_call);
    std::sort(open_.begin(), open_.end(), by_call);
    build_reach();
    build_blockers();
    build_entry_lists();
    closed_bits_.assign((closed_.size() + 63) / 64, 0);
    open_bits_.assign((open_.size() + 63) / 64, 0);
    memo_ = StateMemo(open_bits_.size());
    build_junk();
  }

  // Searches until decided or `max_states` new states were visited.
  //
  // Operations without a return would multiply the states by every subset
  // of them linearized so far. Two measures keep that in check: answered
  // candidates are tried before unanswered ones (phase 0, then phase 1), and
  // a state is skipped when one with the same answered set and value, but a
  // subset of its unanswered operations linearized, was visited: that one
  // can do all it can, since an unanswered operation may always be left for
  // later or never.
  Outcome run(uint64_t max_states, uint64_t& states_visited) {
    const uint32_t closed_count = static_cast<uint32_t>(closed_.size());
    struct Frame {
      uint32_t entry;
      bool phase;
      uint32_t first_return;
      uint64_t state;
    };
    std::vector<Frame> stack;
    uint64_t state = 0;
    uint32_t e = next_[0];
    bool phase = false;         // false: answered candidates, true: unanswered ones
    uint32_t first_return = 0;  // in phase 1: the first return entry left
    bool junk_useful = false;
    while (closed_done_ < closed_count) {
      const bool candidate =
          phase ? e != open_tail_ && e < first_return : e != tail_ && !entry_is_return_[e];
      if (candidate) {
        const uint32_t i = entry_op_[e];
        uint64_t after = state;
        if ((blocker_[i] == kNone || linearized(blocker_[i])) &&
            (!phase || worth_trying(i, state, junk_useful)) && step_canonical(i, after)) {
          mark(i, true);
          if (visit(after)) {
            if (++states_visited > max_states) return Outcome::undecided;
            stack.push_back({e, phase, first_return, state});
            state = after;
            lift(i);
            e = next_[0];
            phase = false;
            continue;
          }
          mark(i, false);
        }
        e = next_[e];
        continue;
      }
      if (!phase && !open_.empty()) {  // the answered candidates are exhausted
        phase = true;
        first_return = e;
        junk_useful = junk_may_help(state);
        e = next_[open_head_];
        continue;
      }
      // An answered operation returned before the search could place it.
      if (stack.empty()) return Outcome::violation;
      const Frame frame = stack.back();
      stack.pop_back();
      const uint32_t i = entry_op_[frame.entry];
      state = frame.state;
      mark(i, false);
      unlift(i);
      e = next_[frame.entry];
      phase = frame.phase;
      first_return = frame.first_return;
      if (phase) junk_useful = junk_may_help(state);
    }
    return Outcome::linearizable;
  }

 private:
  // reach_[p]: the last answered operation called no later than p returned.
  void build_reach() {
    const uint32_t closed_count = static_cast<uint32_t>(closed_.size());
    reach_.resize(closed_count);
    uint32_t last = 0;
    std::vector<uint32_t> by_return(closed_count);
    for (uint32_t i = 0; i < closed_count; ++i) by_return[i] = i;
    std::sort(by_return.begin(), by_return.end(), [&](uint32_t a, uint32_t b) {
      return *op(a).return_us < *op(b).return_us || (*op(a).return_us == *op(b).return_us && a < b);
    });
    for (uint32_t p : by_return) {
      while (last + 1 < closed_count && op(last + 1).call_us <= *op(p).return_us) ++last;
      reach_[p] = std::max(last, p);
    }
  }

  void build_blockers() {
    const uint32_t closed_count = static_cast<uint32_t>(closed_.size());
    const uint32_t op_count = static_cast<uint32_t>(closed_.size() + open_.size());
    // The same client's previous operation, when it returned in the very
    // microsecond this one was called: it must be linearized first.
    std::map<std::pair<uint64_t, TimeUs>, uint32_t> returned_at;
    for (uint32_t i = 0; i < closed_count; ++i)
      returned_at.emplace(std::make_pair(op(i).client, *op(i).return_us), i);
    blocker_.assign(op_count, kNone);
    for (uint32_t i = 0; i < op_count; ++i) {
      auto it = returned_at.find({op(i).client, op(i).call_us});
      if (it != returned_at.end() && same_client_tie(op(it->second), op(i)))
        blocker_[i] = it->second;
    }
  }

  void build_entry_lists() {
    const uint32_t closed_count = static_cast<uint32_t>(closed_.size());
    const uint32_t op_count = static_cast<uint32_t>(closed_.size() + open_.size());
    // Entries 1..E, numbered in time order; a call sorts before a return at
    // the same time (the two operations are concurrent). Two lists: answered
    // operations' calls and returns (head 0, tail E + 1) and unanswered
    // operations' calls (head E + 2, tail E + 3), so that scanning the
    // answered candidates never walks past unanswered operations left behind.
    struct Entry {
      TimeUs time_us;
      bool is_return;
      uint32_t op;
    };
    std::vector<Entry> entries;
    for (uint32_t i = 0; i < op_count; ++i) entries.push_back({op(i).call_us, false, i});
    for (uint32_t i = 0; i < closed_count; ++i) entries.push_back({*op(i).return_us, true, i});
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.time_us != b.time_us) return a.time_us < b.time_us;
      if (a.is_return != b.is_return) return !a.is_return;
      return a.op < b.op;
    });
    const uint32_t entry_count = static_cast<uint32_t>(entries.size());
    tail_ = entry_count + 1;
    open_head_ = entry_count + 2;
    open_tail_ = entry_count + 3;
    next_.assign(entry_count + 4, 0);
    prev_.assign(entry_count + 4, 0);
    entry_op_.assign(entry_count + 4, kNone);
    entry_is_return_.assign(entry_count + 4, false);
    call_entry_.assign(op_count, 0);
    return_entry_.assign(op_count, 0);
    uint32_t closed_last = 0;
    uint32_t open_last = open_head_;
    for (uint32_t e = 1; e <= entry_count; ++e) {
      const Entry& entry = entries[e - 1];
      entry_op_[e] = entry.op;
      entry_is_return_[e] = entry.is_return;
      (entry.is_return ? return_entry_ : call_entry_)[entry.op] = e;
      uint32_t& tail = entry.op < closed_count ? closed_last : open_last;
      next_[tail] = e;
      prev_[e] = tail;
      tail = e;
    }
    next_[closed_last] = tail_;
    prev_[tail_] = closed_last;
    next_[open_last] = open_tail_;
    prev_[open_tail_] = open_last;
  }

  void build_junk() {
    const uint32_t op_count = static_cast<uint32_t>(closed_.size() + open_.size());
    std::unordered_set<uint64_t> observed;  // looked up, never iterated
    for (uint32_t i = 0; i < op_count; ++i) {
      if (op(i).kind == OpKind::get) observed.insert(op(i).read_value);
      if (op(i).kind == OpKind::cas) observed.insert(op(i).expected);
    }
    // A written value nobody observes is only ever compared unequal, so all
    // such values are one: junk_value_, itself observed by nobody. Orders of
    // concurrent unobserved writes then reach the same state.
    junk_.resize(op_count);
    for (uint32_t i = 0; i < op_count; ++i)
      junk_[i] = op(i).kind != OpKind::get && observed.count(op(i).value) == 0;
    while (observed.count(junk_value_) != 0) --junk_value_;
  }

  const Operation& op(uint32_t i) const {
    return history_[i < closed_.size() ? closed_[i] : open_[i - closed_.size()]];
  }

  bool linearized(uint32_t i) const {
    if (i < closed_.size()) return (closed_bits_[i >> 6] >> (i & 63)) & 1;
    const uint32_t j = i - static_cast<uint32_t>(closed_.size());
    return (open_bits_[j >> 6] >> (j & 63)) & 1;
  }

  bool step_canonical(uint32_t i, uint64_t& state) const {
    if (!step(op(i), state)) return false;
    if (junk_[i] && state == op(i).value) state = junk_value_;
    return true;
  }

  static bool failed_cas(const Operation& op) {
    return op.kind == OpKind::cas && !is_open(op) && !op.ok;
  }

  // Whether linearizing unanswered operation i now can lead anywhere that
  // leaving it for later cannot. A cas that would not swap changes nothing.
  // A write of a value no operation reads or compares with (junk) leaves
  // the register holding a value only a failed cas can follow; it can always
  // be moved to just before the first failed cas that needs the value to
  // differ from its expected one, so it is worth trying only while such a
  // cas is a candidate (`junk_useful`, from junk_may_help).
  bool worth_trying(uint32_t i, uint64_t state, bool junk_useful) const {
    const Operation& o = op(i);
    if (o.kind == OpKind::cas && state != o.expected) return false;
    return junk_useful || !junk_[i];
  }

  // Whether an answered failed cas expecting `state` is a candidate: called
  // before the first return entry still in the list.
  bool junk_may_help(uint64_t state) const {
    for (uint32_t e = next_[0]; e != tail_ && !entry_is_return_[e]; e = next_[e]) {
      const uint32_t i = entry_op_[e];
      if (i < closed_.size() && failed_cas(op(i)) && op(i).expected == state) return true;
    }
    return false;
  }

  void mark(uint32_t i, bool on) {
    if (i >= closed_.size()) {
      const uint32_t j = i - static_cast<uint32_t>(closed_.size());
      open_bits_[j >> 6] ^= uint64_t{1} << (j & 63);
      return;
    }
    closed_bits_[i >> 6] ^= uint64_t{1} << (i & 63);
    if (on) {
      ++closed_done_;
      while (first_unlinearized_ < closed_.size() && linearized(first_unlinearized_))
        ++first_unlinearized_;
    } else {
      --closed_done_;
      first_unlinearized_ = std::min(first_unlinearized_, i);
    }
  }

  // Records the state reached (the current sets, register value `state`);
  // false when it or a state dominating it was visited before.
  bool visit(uint64_t state) {
    const uint32_t p = first_unlinearized_;
    exact_.assign({state, p});
    if (p < closed_.size()) {
      // Below p every bit is set and above reach_[p] none is, so these words
      // determine the answered operations linearized.
      exact_.insert(exact_.end(), closed_bits_.begin() + (p >> 6),
                    closed_bits_.begin() + (reach_[p] >> 6) + 1);
    }
    return memo_.insert_unless_dominated(exact_, open_bits_.data());
  }

  void unlink(uint32_t e) {
    next_[prev_[e]] = next_[e];
    prev_[next_[e]] = prev_[e];
  }
  void relink(uint32_t e) {
    next_[prev_[e]] = e;
    prev_[next_[e]] = e;
  }
  // Dancing links: entries come back in the reverse order they left.
  void lift(uint32_t i) {
    unlink(call_entry_[i]);
    if (i < closed_.size()) unlink(return_entry_[i]);
  }
  void unlift(uint32_t i) {
    if (i < closed_.size()) relink(return_entry_[i]);
    relink(call_entry_[i]);
  }

  const std::vector<Operation>& history_;
  std::vector<size_t> closed_, open_;
  std::vector<uint32_t> reach_, blocker_;
  std::vector<uint32_t> next_, prev_, entry_op_, call_entry_, return_entry_;
  std::vector<bool> entry_is_return_;
  uint32_t tail_ = 0, open_head_ = 0, open_tail_ = 0;
  std::vector<uint64_t> closed_bits_, open_bits_;
  uint32_t closed_done_ = 0;
  uint32_t first_unlinearized_ = 0;  // p: the first answered operation not linearized
  StateMemo memo_;
  std::vector<uint64_t> exact_;  // visit()'s scratch
  std::vector<bool> junk_;       // per operation: writes a value nobody observes
  uint64_t junk_value_ = std::numeric_limits<uint64_t>::max();
};

Outcome decide(const std::vector<Operation>& history, const KeyOps& key_ops, uint64_t max_states,
               uint64_t& states_visited) {
  if (hint_order_holds(history, key_ops)) return Outcome::linearizable;
  return KeySearch(history, key_ops).run(max_states, states_visited);
}

// Shrinks a failing key history by delta debugging (Zeller's ddmin, the
// complement steps): remove a chunk of operations, keep the removal if what
// is left still fails, halve the chunks when no chunk can go, until no single
// operation can. Removing a write also removes the reads of its value
// (transitively through a cas that required it): otherwise every violation
// would shrink to one read of a value nothing wrote.
class Shrinker {
 public:
  Shrinker(const std::vector<Operation>& history, KeyOps key_ops,
           const LinearizabilityOptions& options)
      : history_(history), current_(std::move(key_ops)), options_(options) {
    std::unordered_map<uint64_t, size_t> writer;  // value -> writing operation; looked up only
    for (size_t i : current_) {
      const Operation& op = history_[i];
      if (op.kind == OpKind::put || (op.kind == OpKind::cas && (is_open(op) || op.ok)))
        writer.emplace(op.value, i);
    }
    for (size_t i : current_) {
      const Operation& op = history_[i];
      uint64_t needs = 0;
      if (op.kind == OpKind::get) needs = op.read_value;
      if (op.kind == OpKind::cas && !is_open(op) && op.ok) needs = op.expected;
      auto it = needs == 0 ? writer.end() : writer.find(needs);
      if (it != writer.end() && it->second != i) readers_.emplace(it->second, i);
    }
  }

  KeyOps run() {
    size_t chunk = std::max<size_t>(1, current_.size() / 2);
    while (work_ < options_.max_shrink_work) {
      bool removed = false;
      for (size_t start = 0; start < current_.size() && work_ < options_.max_shrink_work;) {
        const size_t end = std::min(current_.size(), start + chunk);
        KeyOps candidate = without(start, end);
        if (!candidate.empty() && fails(candidate)) {
          current_ = std::move(candidate);
          removed = true;
        } else {
          start = end;
        }
      }
      if (chunk == 1 && !removed) break;
      if (!removed) chunk = std::max<size_t>(1, chunk / 2);
      chunk = std::min(chunk, std::max<size_t>(1, current_.size() / 2));
    }
    return current_;
  }

 private:
  // current_ without [start, end) and without the reads left without their write.
  KeyOps without(size_t start, size_t end) const {
    std::vector<size_t> gone(current_.begin() + static_cast<std::ptrdiff_t>(start),
                             current_.begin() + static_cast<std::ptrdiff_t>(end));
    std::set<size_t> removed(gone.begin(), gone.end());
    while (!gone.empty()) {
      const size_t w = gone.back();
      gone.pop_back();
      auto [first, last] = readers_.equal_range(w);
      for (auto it = first; it != last; ++it)
        if (removed.insert(it->second).second) gone.push_back(it->second);
    }
    KeyOps rest;
    for (size_t i : current_)
      if (removed.count(i) == 0) rest.push_back(i);
    return rest;
  }

  bool fails(const KeyOps& candidate) {
    work_ += candidate.size();
    if (work_ >= options_.max_shrink_work) return false;
    uint64_t states = 0;
    const uint64_t budget = std::min(options_.max_states, options_.max_shrink_work - work_);
    const Outcome outcome = decide(history_, candidate, budget, states);
    work_ += states;
    return outcome == Outcome::violation;
  }

  const std::vector<Operation>& history_;
  KeyOps current_;  // ascending history indexes
  const LinearizabilityOptions& options_;
  std::multimap<size_t, size_t> readers_;  // write -> the reads of its value
  uint64_t work_ = 0;
};

// An unanswered write whose value no operation reads or compares with can
// be left out: in a linearization that has it, the operations between it and
// the next write cannot be gets (they would read its value) nor successful
// cas (they would expect it); unanswered cas among them may move to the end,
// where they affect nothing. Only an answered failed cas could need it there
// (to make the value differ from its expected one), and that only if the
// cas returned after the write was called. Leaving such writes out spares
// the search every subset of them (they abound once clients time out).
KeyOps without_unobserved_open_writes(const std::vector<Operation>& history, KeyOps key_ops) {
  std::unordered_set<uint64_t> observed;  // looked up, never iterated
  TimeUs last_failed_cas_return_us = std::numeric_limits<TimeUs>::min();
  for (size_t i : key_ops) {
    const Operation& op = history[i];
    if (op.kind == OpKind::get) observed.insert(op.read_value);
    if (op.kind == OpKind::cas) observed.insert(op.expected);
    if (op.kind == OpKind::cas && !is_open(op) && !op.ok)
      last_failed_cas_return_us = std::max(last_failed_cas_return_us, *op.return_us);
  }
  KeyOps kept;
  kept.reserve(key_ops.size());
  for (size_t i : key_ops) {
    const Operation& op = history[i];
    const bool droppable = is_open(op) && op.kind != OpKind::get && observed.count(op.value) == 0 &&
                           last_failed_cas_return_us < op.call_us;
    if (!droppable) kept.push_back(i);
  }
  return kept;
}

std::string describe(const Operation& op) {
  auto value = [](uint64_t v) { return v == 0 ? std::string("absent") : std::to_string(v); };
  std::string out = "client " + std::to_string(op.client) + " ";
  switch (op.kind) {
    case OpKind::put: out += "put " + value(op.value); break;
    case OpKind::get:
      out += "get";
      if (op.return_us) out += " -> " + value(op.read_value);
      break;
    case OpKind::cas:
      out += "cas " + value(op.expected) + " -> " + value(op.value);
      if (op.return_us) out += op.ok ? " ok" : " failed";
      break;
  }
  out += ", called " + format_time(op.call_us);
  out += op.return_us ? ", returned " + format_time(*op.return_us) : ", no return";
  if (op.order_hint != 0) {
    out += (op.order_hint % 2 == 0 ? ", applied at index " : ", read after index ") +
           std::to_string(op.order_hint / 2);
  }
  return out;
}

}  // namespace

LinearizabilityResult check_linearizable(const std::vector<Operation>& history,
                                         const LinearizabilityOptions& options) {
  LinearizabilityResult result;
  // An unanswered get constrains nothing: drop it up front. Sorting (key,
  // index) pairs rather than indexes compared through the history keeps the
  // sort in cache.
  std::vector<std::pair<uint32_t, size_t>> by_key;
  by_key.reserve(history.size());
  for (size_t i = 0; i < history.size(); ++i)
    if (!(history[i].kind == OpKind::get && is_open(history[i])))
      by_key.emplace_back(history[i].key, i);
  std::sort(by_key.begin(), by_key.end());
  std::optional<uint32_t> undecided_key;
  for (size_t begin = 0; begin < by_key.size();) {
    size_t end = begin;
    const uint32_t key = by_key[begin].first;
    KeyOps all_key_ops;
    for (; end < by_key.size() && by_key[end].first == key; ++end)
      all_key_ops.push_back(by_key[end].second);
    const KeyOps key_ops = without_unobserved_open_writes(history, std::move(all_key_ops));
    begin = end;
    if (hint_order_holds(history, key_ops)) {
      ++result.keys_by_hint;
      continue;
    }
    ++result.keys_searched;
    uint64_t states = 0;  // the budget is per key
    const Outcome outcome = KeySearch(history, key_ops).run(options.max_states, states);
    result.states_visited += states;
    if (outcome == Outcome::undecided && !undecided_key) undecided_key = key;
    if (outcome != Outcome::violation) continue;

    result.ok = false;
    result.key = key;
    result.failing = Shrinker(history, key_ops, options).run();
    std::vector<size_t> by_call = result.failing;
    std::sort(by_call.begin(), by_call.end(), [&](size_t a, size_t b) {
      return history[a].call_us != history[b].call_us ? history[a].call_us < history[b].call_us
                                                      : a < b;
    });
    for (size_t i : by_call) result.detail += describe(history[i]) + "\n";
    return result;
  }
  if (undecided_key) {
    result.ok = false;
    result.undecided = true;
    result.key = *undecided_key;
    result.detail = "key " + std::to_string(*undecided_key) + ": undecided, the search visited " +
                    std::to_string(options.max_states) + " states (max_states) without deciding\n";
  }
  return result;
}

}  // namespace sim
