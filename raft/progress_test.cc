// Progress and Inflights through the transitions the leader drives: probe,
// replicate with a pipeline, refusals (fresh and stale), snapshot transfers.
#include "raft/progress.h"

#include <doctest/doctest.h>

namespace raft {
namespace {

TEST_CASE("Inflights frees every message an acknowledgement covers") {
  Inflights inflight;
  CHECK(inflight.empty());
  inflight.add(10, 100);
  inflight.add(20, 150);
  inflight.add(30, 200);
  CHECK(inflight.full(3));
  CHECK_FALSE(inflight.full(4));
  CHECK(inflight.oldest_sent_us() == 100);
  inflight.free_le(19);  // covers only the first
  CHECK(inflight.size() == 2);
  CHECK(inflight.oldest_sent_us() == 150);
  inflight.free_le(30);
  CHECK(inflight.empty());
  inflight.add(40, 300);
  inflight.reset();
  CHECK(inflight.empty());
}

TEST_CASE("Progress: a probe answered becomes a pipeline from the match") {
  Progress pr;
  pr.next_index = 11;
  pr.probe_sent = true;
  CHECK(pr.maybe_update(10));
  CHECK(pr.match_index == 10);
  CHECK(pr.next_index == 11);
  pr.become_replicate();
  CHECK(pr.state == Progress::State::replicate);
  CHECK_FALSE(pr.probe_sent);
  pr.sent_entries(15, 100);
  pr.sent_entries(20, 110);
  CHECK(pr.next_index == 21);
  CHECK(pr.inflight.size() == 2);
  CHECK(pr.maybe_update(15));
  CHECK(pr.inflight.size() == 1);
  CHECK(pr.next_index == 21);        // the pipeline keeps its place
  CHECK_FALSE(pr.maybe_update(12));  // a reordered older answer
  CHECK(pr.match_index == 15);
  CHECK(pr.match_index < pr.next_index);
}

TEST_CASE("Progress: a refusal probes from the hint, within the refused message and the match") {
  Progress pr;
  pr.match_index = 5;
  pr.next_index = 31;
  pr.state = Progress::State::replicate;
  pr.sent_entries(40, 100);
  CHECK(pr.maybe_decrease_to(30, 12));
  CHECK(pr.state == Progress::State::probe);
  CHECK(pr.next_index == 12);
  CHECK(pr.inflight.empty());
  CHECK_FALSE(pr.probe_sent);
  CHECK(pr.maybe_decrease_to(20, 25));  // the hint beyond the refused index
  CHECK(pr.next_index == 20);
  CHECK(pr.maybe_decrease_to(9, 2));  // never back to the match or below
  CHECK(pr.next_index == 6);
  CHECK_FALSE(pr.maybe_decrease_to(5, 1));  // stale: at the match
  CHECK(pr.next_index == 6);
}

TEST_CASE("Progress: a snapshot transfer ends in probe after its index") {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->last_included_index = 50;
  Progress pr;
  pr.match_index = 3;
  pr.next_index = 4;
  pr.sent_entries(10, 100);
  pr.become_snapshot(snapshot);
  CHECK(pr.state == Progress::State::snapshot);
  CHECK(pr.snapshot.get() == snapshot.get());
  CHECK(pr.snapshot_offset == 0);
  CHECK(pr.inflight.empty());
  pr.snapshot_done(50);
  CHECK(pr.state == Progress::State::probe);
  CHECK(pr.match_index == 50);
  CHECK(pr.next_index == 51);
  CHECK(pr.snapshot.get() == nullptr);
  pr.snapshot_done(40);  // an older report never lowers the match
  CHECK(pr.match_index == 50);
}

}  // namespace
}  // namespace raft
