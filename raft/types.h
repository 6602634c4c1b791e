// Basic Raft vocabulary shared by the node core and its drivers.
// Names follow the Raft paper (Ongaro & Ousterhout 2014) and thesis (Ongaro 2014).
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace raft {

using NodeId = uint32_t;
using Term = uint64_t;
using Index = uint64_t;
// Microseconds of a node's local clock. The node never reads a clock: the
// driver passes the current local time with every input.
using TimeUs = int64_t;

constexpr NodeId kNoNode = 0;

enum class Role : uint8_t { follower, precandidate, candidate, leader, learner };
const char* role_name(Role role);

// A cluster membership. Voters elect and form commit quorums; learners only
// receive the log (thesis §4.2.1, "catching up new servers").
struct Configuration {
  std::vector<NodeId> voters;    // sorted
  std::vector<NodeId> learners;  // sorted, disjoint from voters
  // Learners that must stay learners: added with "promote": false.
  std::vector<NodeId> permanent_learners;  // sorted, subset of learners

  bool is_voter(NodeId id) const { return std::binary_search(voters.begin(), voters.end(), id); }
  bool is_learner(NodeId id) const {
    return std::binary_search(learners.begin(), learners.end(), id);
  }
  bool is_permanent_learner(NodeId id) const {
    return std::binary_search(permanent_learners.begin(), permanent_learners.end(), id);
  }
  bool contains(NodeId id) const { return is_voter(id) || is_learner(id); }
  bool operator==(const Configuration& o) const {
    return voters == o.voters && learners == o.learners &&
           permanent_learners == o.permanent_learners;
  }
  std::string describe() const;
};

// Every configuration of one run, each kept once, never freed before the
// arena: log entries name theirs by a plain pointer and stay trivially
// copyable, since logs, messages and durable writes copy entries by the
// million (membership changes make a handful of configurations). One arena
// per run, given by reference to whoever makes or adopts a configuration
// (the nodes, the checker): no global table, no lock, and fuzz's threads
// each run their own. A pointer is only dereferenced; where two are
// compared (the checker), equal pointers only short-cut comparing the
// configurations, so an address never influences a run.
class ConfigArena {
 public:
  ConfigArena() = default;
  ConfigArena(const ConfigArena&) = delete;
  ConfigArena& operator=(const ConfigArena&) = delete;
  // The arena's one configuration equal to `config`, made on first use.
  const Configuration* intern(const Configuration& config);
  size_t size() const { return configs_.size(); }

 private:
  struct Less {
    bool operator()(const Configuration& a, const Configuration& b) const;
  };
  std::set<Configuration, Less> configs_;  // a set's elements never move
};

enum class EntryKind : uint8_t { noop, write, config };

// What a client write does to its key (the state machine is a key-value
// store in which every written value is the write's unique id, so each key
// is a register whose history a linearizability checker can follow).
enum class WriteOp : uint8_t { put, cas };

// 40 bytes: every log holds one per index, every disk a copy of its node's,
// and a 100,000-write run is as fast as the pages it touches. A write never
// has a configuration and a configuration entry never has an expected
// value, so the two share their place: read `config` only when kind ==
// config and `expected` only when kind == write (whoever makes a write entry
// sets `expected`, 0 for a put, so that it is the member in use).
struct Entry {
  Term term = 0;
  uint64_t write_id = 0;  // client write id, for kind == write
  union {
    const Configuration* config = nullptr;  // for kind == config: in the run's ConfigArena
    uint64_t expected;                      // cas: the value the key must hold (0: absent)
  };
  uint32_t size_bytes = 0;
  uint32_t key = 0;  // write: the key it writes
  EntryKind kind = EntryKind::noop;
  WriteOp op = WriteOp::put;
};
static_assert(std::is_trivially_copyable_v<Entry>);
static_assert(sizeof(Entry) == 40);

// 64-bit mixing used for every hash in raftsim (SplitMix64 finaliser).
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
inline uint64_t hash_combine(uint64_t seed, uint64_t value) {
  return mix64(seed ^ mix64(value));
}

uint64_t config_entry_key(const Entry& entry);

// Identity of an entry's content, for checkers that compare entries and
// chain them into log hashes: equal entries have equal keys, and different
// ones in practice never do (a write's key, op and expected value are fixed
// by its id, so the id stands for them). Checkers key every entry on every node, so the
// common case is two instructions: the term times an odd constant keeps apart
// entries whose ids differ by less than 2^60, that is all of them.
// Configuration entries hash their configuration.
inline uint64_t entry_key(const Entry& entry) {
  if (entry.kind == EntryKind::config) return config_entry_key(entry);
  return entry.term * 0xd6e8feb86659fd93ULL +
         (entry.write_id << 2 | static_cast<uint64_t>(entry.kind));
}

}  // namespace raft
