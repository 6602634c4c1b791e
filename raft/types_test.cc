// Configurations live in a per-run arena (raft::ConfigArena): entries name
// theirs by a plain pointer and stay trivially copyable, with no global
// table and no mutex in raft/ (issues 15 and 16).
#include "raft/types.h"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <type_traits>

#include "raft/log.h"
#include "raft/message.h"
#include "raft/node_test_util.h"

namespace raft {
namespace {

using namespace node_test;

Entry config_entry(Term term, const Configuration* config) {
  Entry e;
  e.term = term;
  e.kind = EntryKind::config;
  e.config = config;
  return e;
}

TEST_CASE("an entry is copied byte for byte, its configuration by address") {
  static_assert(std::is_trivially_copyable_v<Entry>);
  ConfigArena configs;
  const Entry e = config_entry(1, configs.intern(make_config({1, 2, 3})));
  Entry copy;
  std::memcpy(&copy, &e, sizeof e);
  CHECK(copy.config == e.config);
  CHECK(entry_key(copy) == entry_key(e));
  RaftLog log;
  log.append(e);
  CHECK(log.at(1).config == e.config);
}

TEST_CASE("an arena keeps one configuration per value, at an address that never moves") {
  ConfigArena configs;
  const Configuration* a = configs.intern(make_config({1, 2}, {3}));
  CHECK(configs.intern(make_config({1, 2}, {3})) == a);
  CHECK(configs.intern(make_config({1, 2})) != a);
  Configuration permanent = make_config({1, 2}, {3});
  permanent.permanent_learners = {3};
  CHECK(configs.intern(permanent) != a);
  for (NodeId n = 4; n < 200; ++n) configs.intern(make_config({1, n}));
  CHECK(configs.size() == 3 + 196);
  CHECK(configs.intern(make_config({1, 2}, {3})) == a);
  CHECK(*a == make_config({1, 2}, {3}));
}

TEST_CASE("two runs' arenas are apart: equal configurations, different addresses, same keys") {
  // Fuzz runs seeds on several threads, each simulation with its own arena.
  ConfigArena one, two;
  const Configuration* a = one.intern(make_config({1, 2}, {3}));
  const Configuration* b = two.intern(make_config({1, 2}, {3}));
  CHECK(a != b);
  CHECK(*a == *b);
  // Checkers key entries by content, never by address.
  CHECK(entry_key(config_entry(2, a)) == entry_key(config_entry(2, b)));
  CHECK(entry_key(config_entry(2, a)) != entry_key(config_entry(2, one.intern(make_config({1})))));
}

TEST_CASE("a node has its disk's bootstrap configuration in force, from the run's arena") {
  ConfigArena configs;
  Solo n(1, disk_with(kThree, {}), {}, &configs);
  CHECK(&n.node().config() == configs.intern(kThree));
  CHECK(configs.size() == 1);
}

TEST_CASE("a spare (empty bootstrap configuration) knows an empty one") {
  DurableState disk;
  REQUIRE(disk.bootstrap_config.voters.empty());
  Solo n(4, disk);
  CHECK(n.node().config().voters.empty());
  CHECK(n.node().config().learners.empty());
  CHECK(n.node().role() == Role::learner);
}

TEST_CASE("a node restarted from a snapshot has the snapshot's configuration in force") {
  ConfigArena configs;
  DurableState disk = disk_with(kThree, {});
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->last_included_index = 4;
  snapshot->last_included_term = 2;
  snapshot->config = make_config({1, 2});
  disk.snapshot = snapshot;
  disk.log.install_snapshot(4, 2);
  disk.log.compact_to(4, 2);
  Solo n(1, disk, {}, &configs);
  CHECK(&n.node().config() == configs.intern(make_config({1, 2})));
  CHECK(n.node().commit_index() == 4);
}

TEST_CASE("a committed configuration change is one object in force on every member") {
  Cluster cluster(kThree);
  cluster.elect(1);
  for (const Message& m : cluster.node_solo(1).change_config(ConfigChange::add_learner, 4).messages)
    cluster.deliver(m);
  cluster.settle();
  cluster.timer(1, TimerKind::heartbeat);  // the followers learn the commit
  cluster.settle();
  const Configuration& leader = cluster.node(1).config();
  REQUIRE(leader.contains(4));  // added, and promoted at once (auto_promote)
  CHECK(&cluster.node(2).config() == &leader);
  CHECK(&cluster.node(3).config() == &leader);
}

}  // namespace
}  // namespace raft
