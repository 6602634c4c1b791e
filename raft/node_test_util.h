// What the rule tests of raft::Node (raft/node*_test.cc) share: the
// test-cluster names they use and a few checks of a node's outputs.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "raft/node.h"
#include "raft/test_cluster.h"

namespace doctest {
template <>
struct StringMaker<raft::Role> {
  static String convert(raft::Role role) { return raft::role_name(role); }
};
}  // namespace doctest

namespace raft::node_test {

using test::append_msg;
using test::append_resp_msg;
using test::Cluster;
using test::disk_with;
using test::find_event;
using test::has_election_timer;
using test::make_config;
using test::make_leader;
using test::of_type;
using test::Solo;
using test::timeout_now_msg;
using test::vote_msg;
using test::vote_resp_msg;
using test::write_entry;

inline const Configuration kThree = make_config({1, 2, 3});

// The one message of this type the node emitted.
inline Message only(const Outputs& out, MsgType type) {
  const std::vector<Message> found = of_type(out, type);
  REQUIRE(found.size() == 1);
  return found[0];
}

// What a node emits for a message once its durable writes complete: the
// response to a request that changed the term or vote waits for the disk.
inline Outputs respond(Solo& n, const Message& m) {
  Outputs out = n.step(m);
  test::append_outputs(out, n.persist());
  return out;
}

// The step_down event's reason, or "" when the node did not step down.
inline std::string step_down_reason(const std::vector<NodeEvent>& events) {
  const NodeEvent* ev = find_event(events, EventType::step_down);
  return ev ? ev->reason : "";
}
inline std::string step_down_reason(const Outputs& out) {
  return step_down_reason(out.events);
}

// A leader elected at t=0 whose heartbeat timer fires at `at` with no
// response ever received.
inline Outputs silent_leader_tick(TimeUs at, Solo& n) {
  n.start();
  make_leader(n, {2});
  REQUIRE(n.node().role() == Role::leader);
  n.now = at;
  return n.timer(TimerKind::heartbeat);
}

}  // namespace raft::node_test
