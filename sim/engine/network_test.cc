// Network: which directed links are cut (cut, partition, isolate, heal,
// shared/spec/scenarios.md actions) and each link's settings.
#include "sim/engine/network.h"

#include <doctest/doctest.h>

#include <vector>

namespace sim {
namespace {

// Non-contiguous ids, as a scenario may name them.
const std::vector<NodeId> kNodes = {1, 2, 3, 7};

LinkSettings defaults() {
  LinkSettings s;
  s.latency = {LatencyModel::Kind::constant, 1000, 0};
  return s;
}

// Every ordered pair (a, b), a != b, that is cut.
std::vector<std::pair<NodeId, NodeId>> cuts(const Network& net) {
  std::vector<std::pair<NodeId, NodeId>> out;
  for (NodeId a : kNodes) {
    for (NodeId b : kNodes) {
      if (a != b && net.is_cut(a, b)) out.emplace_back(a, b);
    }
  }
  return out;
}

TEST_CASE("a new network has no cut link") {
  const Network net(kNodes, defaults());
  CHECK(cuts(net).empty());
  CHECK_FALSE(net.any_cut());
}

TEST_CASE("cut one way cuts only from -> to; both ways cuts the reverse too") {
  Network net(kNodes, defaults());
  net.cut(1, 7, false);
  CHECK(cuts(net) == std::vector<std::pair<NodeId, NodeId>>{{1, 7}});
  CHECK(net.any_cut());

  net.cut(2, 3, true);
  CHECK(net.is_cut(2, 3));
  CHECK(net.is_cut(3, 2));
  CHECK(cuts(net).size() == 3);
}

TEST_CASE("cutting a link twice, or a node from itself, changes nothing") {
  Network net(kNodes, defaults());
  net.cut(1, 2, false);
  net.cut(1, 2, false);
  net.cut(3, 3, true);
  CHECK(cuts(net) == std::vector<std::pair<NodeId, NodeId>>{{1, 2}});
  net.heal();
  CHECK_FALSE(net.any_cut());  // the count was not inflated by the repeat
}

TEST_CASE("partition: links between groups are cut both ways, within a group kept") {
  Network net(kNodes, defaults());
  net.partition({{1, 2}, {3, 7}});
  CHECK_FALSE(net.is_cut(1, 2));
  CHECK_FALSE(net.is_cut(2, 1));
  CHECK_FALSE(net.is_cut(3, 7));
  for (NodeId a : {1u, 2u}) {
    for (NodeId b : {3u, 7u}) {
      CAPTURE(a);
      CAPTURE(b);
      CHECK(net.is_cut(a, b));
      CHECK(net.is_cut(b, a));
    }
  }
  CHECK(cuts(net).size() == 8);
}

TEST_CASE("partition: a node in no group is cut off from all") {
  Network net(kNodes, defaults());
  net.partition({{1, 2, 3}});
  for (NodeId other : {1u, 2u, 3u}) {
    CAPTURE(other);
    CHECK(net.is_cut(7, other));
    CHECK(net.is_cut(other, 7));
  }
  CHECK_FALSE(net.is_cut(1, 3));
  CHECK(cuts(net).size() == 6);
}

TEST_CASE("partition: two nodes in no group are cut off from each other too") {
  Network net(kNodes, defaults());
  net.partition({{1, 2}});
  CHECK(net.is_cut(3, 7));
  CHECK(net.is_cut(7, 3));
  CHECK_FALSE(net.is_cut(1, 2));
  CHECK(cuts(net).size() == 10);  // all 12 ordered pairs but 1->2 and 2->1
}

TEST_CASE("isolate cuts every link to and from one node") {
  Network net(kNodes, defaults());
  net.isolate(2);
  for (NodeId other : {1u, 3u, 7u}) {
    CAPTURE(other);
    CHECK(net.is_cut(2, other));
    CHECK(net.is_cut(other, 2));
  }
  CHECK(cuts(net).size() == 6);
}

TEST_CASE("heal restores every cut link") {
  Network net(kNodes, defaults());
  net.partition({{1}, {2}});
  net.cut(7, 1, false);
  net.isolate(3);
  REQUIRE(net.any_cut());
  net.heal();
  CHECK(cuts(net).empty());
  CHECK_FALSE(net.any_cut());
}

TEST_CASE("set without between changes every link; set between one pair overrides it both ways") {
  Network net(kNodes, defaults());
  NetworkPatch lossy;
  lossy.drop = 0.5;
  const std::pair<NodeId, NodeId> pair{7, 2};
  net.set(lossy, &pair);
  CHECK(net.settings(2, 7).drop == 0.5);
  CHECK(net.settings(7, 2).drop == 0.5);
  CHECK(net.settings(1, 2).drop == 0.0);
  CHECK(net.chances(2, 7).drop == probability_threshold(0.5));
  CHECK(net.chances(1, 2).drop == 0);

  // A global change reaches the overridden pair too, but only in the fields it sets.
  NetworkPatch slow;
  slow.latency = LatencyModel{LatencyModel::Kind::uniform, 10, 20};
  slow.duplicate = 0.1;
  net.set(slow, nullptr);
  for (const auto& link : {std::pair<NodeId, NodeId>{1, 2}, std::pair<NodeId, NodeId>{2, 7}}) {
    // (CAPTURE is a lambda: clang refuses structured bindings in it.)
    const NodeId a = link.first, b = link.second;
    CAPTURE(a);
    CAPTURE(b);
    const LinkSettings& s = net.settings(a, b);
    CHECK(s.latency.kind == LatencyModel::Kind::uniform);
    CHECK(s.latency.a_us == 10);
    CHECK(s.latency.b_us == 20);
    CHECK(s.duplicate == 0.1);
  }
  CHECK(net.settings(2, 7).drop == 0.5);  // the override keeps its own drop
  CHECK(net.settings(1, 2).drop == 0.0);
}

TEST_CASE("a per-pair override starts from the defaults of the moment") {
  Network net(kNodes, defaults());
  NetworkPatch dup;
  dup.duplicate = 0.25;
  const std::pair<NodeId, NodeId> pair{1, 3};
  net.set(dup, &pair);
  const LinkSettings& s = net.settings(3, 1);
  CHECK(s.duplicate == 0.25);
  CHECK(s.latency.kind == LatencyModel::Kind::constant);
  CHECK(s.latency.a_us == 1000);
  CHECK(net.chances(3, 1).duplicate == probability_threshold(0.25));
}

TEST_CASE("latency draws stay within each model's bounds") {
  Prng rng(9);
  SUBCASE("constant") {
    const LatencyModel m{LatencyModel::Kind::constant, 1234, 99};
    for (int i = 0; i < 100; ++i) REQUIRE(Network::draw_latency(m, rng) == 1234);
  }
  SUBCASE("uniform: within [a, b], reaching both ends") {
    const LatencyModel m{LatencyModel::Kind::uniform, 100, 110};
    bool lo = false, hi = false;
    for (int i = 0; i < 10000; ++i) {
      const TimeUs v = Network::draw_latency(m, rng);
      REQUIRE(v >= 100);
      REQUIRE(v <= 110);
      lo |= v == 100;
      hi |= v == 110;
    }
    CHECK(lo);
    CHECK(hi);
  }
  SUBCASE("normal: within mean +- 6 sigma") {
    const LatencyModel m{LatencyModel::Kind::normal, 5000, 500};
    for (int i = 0; i < 10000; ++i) {
      const TimeUs v = Network::draw_latency(m, rng);
      REQUIRE(v >= 5000 - 6 * 500);
      REQUIRE(v <= 5000 + 6 * 500);
    }
  }
  SUBCASE("normal: never negative, even with a wide spread") {
    const LatencyModel m{LatencyModel::Kind::normal, 100, 1000};
    bool clamped = false;
    for (int i = 0; i < 10000; ++i) {
      const TimeUs v = Network::draw_latency(m, rng);
      REQUIRE(v >= 0);
      clamped |= v == 0;
    }
    CHECK(clamped);
  }
}

}  // namespace
}  // namespace sim
