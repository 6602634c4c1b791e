// Configurations are shared, not interned: an entry, its copies, the node
// that has it in force and the disk all hold the one object, which lives as
// long as any of them (issue 15: no global table, no mutex in raft/).
#include "raft/types.h"

#include <doctest/doctest.h>

#include <memory>
#include <type_traits>

#include "raft/log.h"
#include "raft/message.h"
#include "raft/node_test_util.h"

namespace raft {
namespace {

using namespace node_test;

TEST_CASE("an entry without a configuration holds none, and its copies none either") {
  Entry e;
  e.term = 3;
  e.write_id = 7;
  const Entry copy = e;
  CHECK(copy.config.get() == nullptr);
  CHECK(entry_key(copy) == entry_key(e));
  // A null pointer: two words, no count to maintain.
  static_assert(sizeof(ConfigPtr) == 2 * sizeof(void*));
}

TEST_CASE("a configuration entry's copies share one configuration, which outlives the original") {
  RaftLog log;
  {
    Entry e;
    e.term = 1;
    e.kind = EntryKind::config;
    e.config = make_shared_config(make_config({1, 2, 3}));
    log.append(e);
    CHECK(log.at(1).config.get() == e.config.get());
    CHECK(e.config.use_count() == 2);
  }
  REQUIRE(log.at(1).config.get() != nullptr);
  CHECK(log.at(1).config.use_count() == 1);
  CHECK(*log.at(1).config == make_config({1, 2, 3}));
}

TEST_CASE("equal configurations made apart are equal values at different addresses") {
  const ConfigPtr a = make_shared_config(make_config({1, 2}, {3}));
  const ConfigPtr b = make_shared_config(make_config({1, 2}, {3}));
  CHECK(a.get() != b.get());
  CHECK(*a == *b);
  Entry x;
  x.term = 2;
  x.kind = EntryKind::config;
  x.config = a;
  Entry y = x;
  y.config = b;
  // Checkers key entries by content, never by address.
  CHECK(entry_key(x) == entry_key(y));
  y.config = make_shared_config(make_config({1, 2}));
  CHECK(entry_key(x) != entry_key(y));
}

TEST_CASE("a node starts with the disk's bootstrap configuration, not a copy") {
  const DurableState disk = disk_with(kThree, {});
  Solo n(1, disk);
  // Solo keeps its own copy of the disk, which shares the configuration.
  CHECK(&n.node().config() == disk.bootstrap_config.get());
}

TEST_CASE("a spare (no bootstrap configuration) knows an empty one") {
  DurableState disk;
  REQUIRE(disk.bootstrap_config.get() == nullptr);
  Solo n(4, disk);
  CHECK(n.node().config().voters.empty());
  CHECK(n.node().config().learners.empty());
  CHECK(n.node().role() == Role::learner);
}

TEST_CASE("a node restarted from a snapshot has the snapshot's configuration in force") {
  DurableState disk = disk_with(kThree, {});
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->last_included_index = 4;
  snapshot->last_included_term = 2;
  snapshot->config = make_config({1, 2});
  disk.snapshot = snapshot;
  disk.log.install_snapshot(4, 2);
  disk.log.compact_to(4, 2);
  Solo n(1, disk);
  CHECK(&n.node().config() == &snapshot->config);
  CHECK(n.node().commit_index() == 4);
}

}  // namespace
}  // namespace raft
