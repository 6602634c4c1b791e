// Internal to `raftsim fuzz` (docs/fuzzing.md): the scenario generator of one
// seed. Its setup (profile, cluster, settings, network, workload, heal, the
// document) is in fuzz_generator.cc, its fault families in fuzz_families.cc
// and fuzz_cycles.cc.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/prng.h"
#include "sim/fuzz/fuzz.h"

namespace sim::fuzz_detail {

using json = nlohmann::ordered_json;

constexpr TimeUs kMs = 1000;
constexpr TimeUs kSecond = 1'000'000;

bool coin(Prng& rng, double p);

template <typename T>
const T& pick(Prng& rng, const std::vector<T>& items) {
  return items[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(items.size()) - 1))];
}

// Index drawn with the given integer weights.
size_t weighted(Prng& rng, const std::vector<int>& weights);

// A whole number of milliseconds in [lo, hi] (both in microseconds).
TimeUs draw_ms(Prng& rng, TimeUs lo, TimeUs hi);

// A fraction with two decimals in [lo, hi] percent: exact in JSON and readable.
double draw_pct(Prng& rng, int lo, int hi);

// Fault profiles, from gentle to brutal: how many faults per second of the
// fault phase, and how lossy the network may be.
struct Profile {
  const char* name;
  int weight;
  double faults_per_s;
  int max_drop_pct;
  int max_duplicate_pct;
};
extern const Profile kProfiles[5];

// Fault families. Swarm testing (Groce et al., ISSTA 2012): each seed
// switches on a random subset, so that some seeds see many faults of a few
// kinds instead of every seed seeing a thin mix of all kinds.
enum Family {
  kSplit,
  kIsolate,
  kOneWay,
  kBridge,
  kCrash,
  kClusterCrash,
  kPause,
  kDrift,
  kNetChange,
  kMembership,
  kSnapshot,
  kTransfer,
  kCampaign,
  kBurst,
  kChurn,
  kFamilies
};
extern const char* const kFamilyNames[kFamilies];
extern const int kFamilyWeights[kFamilies];
// The share of seeds that get leader churn.
constexpr double kChurnChance = 0.3;

// Election timeout choices ([min, max] in ms); the heartbeat is a third of min.
struct Timeouts {
  int weight;
  TimeUs min_us, max_us;
};
extern const Timeouts kTimeouts[3];

// The shortest fault phase worth generating.
constexpr TimeUs kMinFaultPhase = 1 * kSecond;

TimeUs liveness_bound_us(TimeUs election_timeout_max_us);

json latency_doc(const LatencyModel& m);

// One seed's scenario: build() draws everything from the seed's streams.
class Generator {
 public:
  Generator(uint64_t seed, const FuzzLimits& limits)
      : seed_(seed),
        limits_(limits),
        profile_rng_(Prng::stream(seed, "fuzz/profile")),
        cluster_rng_(Prng::stream(seed, "fuzz/cluster")),
        fault_rng_(Prng::stream(seed, "fuzz/faults")),
        write_rng_(Prng::stream(seed, "fuzz/writes")),
        lone_rng_(Prng::stream(seed, "fuzz/lone")),
        read_rng_(Prng::stream(seed, "fuzz/reads")) {}

  json build();

 private:
  struct Timed {
    TimeUs at;
    json action;
  };

  void choose_profile();
  void choose_cluster();
  void choose_raft();
  LatencyModel draw_latency(TimeUs cap_us);
  void choose_network();
  void choose_reads();
  void choose_workload();
  std::pair<TimeUs, TimeUs> latency_range() const;
  TimeUs round_trip_us() const;
  int64_t pipeline_entries_per_s() const;
  void add_cut_off_leader_reads();
  NodeId any_node();
  NodeId any_voter();
  void at(TimeUs t, json action);
  std::optional<TimeUs> recovery(TimeUs t, double probability);
  void add_fault();
  void add_cut(Family family, TimeUs t);
  void add_net_change(TimeUs t);
  struct ChurnCast {
    NodeId a = 0, m = 0, y = 0;
    std::vector<NodeId> side_a, side_m, side_a_y, side_m_y;
  };
  ChurnCast draw_churn_cast(const std::vector<NodeId>& others);
  void add_churn();
  void choose_lone_voter();
  void add_lone_crashes();
  void add_stale_acks();
  void add_vote_crashes();
  void add_snapshot_races();
  void add_pre_vote_replays();
  void add_returning_leaders();
  void add_membership_change(TimeUs t);
  void add_heal_phase();
  void add_late_transfer();
  json document();

  uint64_t seed_;
  FuzzLimits limits_;
  Prng profile_rng_, cluster_rng_, fault_rng_, write_rng_, lone_rng_, read_rng_;
  std::string read_mode_;  // empty: no reads
  bool no_check_quorum_ = false;
  // A planted read bug: the cycles whose heals would undo the cut-off
  // leader reads it needs (snapshot races, pre-vote replays, returning
  // leaders) are left out.
  bool read_bug_ = false;
  bool lone_ = false;
  const Profile* profile_ = nullptr;
  const Timeouts* timeouts_ = nullptr;
  bool enabled_[kFamilies] = {};
  TimeUs heal_us_ = 0, bound_us_ = 0;
  int fault_count_ = 0;
  int stale_cycles_ = 0;
  int vote_crash_cycles_ = 0;
  int snapshot_race_cycles_ = 0;
  int pre_vote_replay_cycles_ = 0;
  int returning_leader_cycles_ = 0;
  // The late transfer (add_late_transfer): its target and when it must lead.
  NodeId late_target_ = 0;
  TimeUs late_check_us_ = 0;
  std::vector<NodeId> voters_, learners_, spares_, removed_, all_;
  std::set<NodeId> remove_targets_;
  std::vector<NodeId> initial_voters_, initial_learners_, initial_spares_;
  json raft_ = json::object(), network_ = json::object(), workload_ = json::object();
  LatencyModel base_latency_;
  TimeUs disk_latency_us_ = 0;
  std::vector<Timed> timeline_;
};

}  // namespace sim::fuzz_detail
