// RaftLog: indexing around a compacted prefix (paper §7), truncation (§5.3)
// and the term lookups fast backtracking uses.
#include "raft/log.h"

#include <doctest/doctest.h>

#include <vector>

namespace raft {
namespace {

// A log whose entries have these terms, from index 1.
RaftLog log_of(const std::vector<Term>& terms) {
  RaftLog log;
  for (Term t : terms) {
    Entry e;
    e.term = t;
    log.append(e);
  }
  return log;
}

TEST_CASE("an empty log: index 0 has term 0 and nothing lies beyond it") {
  const RaftLog log;
  CHECK(log.first_index() == 1);
  CHECK(log.last_index() == 0);
  CHECK(log.last_term() == 0);
  CHECK(log.size() == 0);
  CHECK(log.term_at(0) == Term{0});
  CHECK_FALSE(log.term_at(1).has_value());
}

TEST_CASE("term_at answers from the snapshot index to the last index, and nowhere else") {
  RaftLog log = log_of({1, 1, 2, 3, 3});
  CHECK(log.term_at(1) == Term{1});
  CHECK(log.term_at(3) == Term{2});
  CHECK(log.term_at(5) == Term{3});
  CHECK_FALSE(log.term_at(6).has_value());

  log.compact_to(2, 1);
  CHECK(log.term_at(2) == Term{1});  // the snapshot's last entry
  CHECK_FALSE(log.term_at(1).has_value());
  CHECK(log.term_at(3) == Term{2});
  CHECK(log.at(3).term == 2);
}

TEST_CASE("truncate_after keeps entries up to and including the index") {
  RaftLog log = log_of({1, 1, 2, 3, 3});
  log.truncate_after(3);
  CHECK(log.last_index() == 3);
  CHECK(log.last_term() == 2);

  log.truncate_after(10);  // beyond the end: nothing to drop
  CHECK(log.last_index() == 3);

  log.truncate_after(0);
  CHECK(log.last_index() == 0);
  CHECK(log.size() == 0);
}

TEST_CASE("truncate_after never reaches into the snapshot") {
  RaftLog log = log_of({1, 1, 2, 3, 3});
  log.compact_to(2, 1);
  log.truncate_after(1);  // below the snapshot: clamps to it
  CHECK(log.snapshot_index() == 2);
  CHECK(log.last_index() == 2);
  CHECK(log.last_term() == 1);
  CHECK(log.size() == 0);
}

TEST_CASE("compact_to drops the prefix a snapshot covers and keeps the rest") {
  RaftLog log = log_of({1, 1, 2, 3, 3});
  log.compact_to(3, 2);
  CHECK(log.snapshot_index() == 3);
  CHECK(log.snapshot_term() == 2);
  CHECK(log.first_index() == 4);
  CHECK(log.last_index() == 5);
  CHECK(log.size() == 2);
  CHECK(log.last_term() == 3);

  log.compact_to(2, 1);  // older than the current snapshot: ignored
  CHECK(log.snapshot_index() == 3);
  CHECK(log.size() == 2);

  log.compact_to(5, 3);  // everything: the log is empty but remembers its end
  CHECK(log.size() == 0);
  CHECK(log.last_index() == 5);
  CHECK(log.last_term() == 3);

  // New entries continue after it.
  Entry e;
  e.term = 4;
  log.append(e);
  CHECK(log.last_index() == 6);
  CHECK(log.term_at(6) == Term{4});
}

TEST_CASE("compact_to past the end leaves an empty log starting after the snapshot") {
  RaftLog log = log_of({1, 1});
  log.compact_to(7, 3);
  CHECK(log.size() == 0);
  CHECK(log.snapshot_index() == 7);
  CHECK(log.last_index() == 7);
  CHECK(log.first_index() == 8);
  CHECK(log.term_at(7) == Term{3});
}

TEST_CASE("§7 install_snapshot: a log holding the snapshot's last entry is kept") {
  RaftLog log = log_of({1, 1, 2, 3, 3});
  log.install_snapshot(3, 2);
  // Kept whole: compaction is a separate step.
  CHECK(log.snapshot_index() == 0);
  CHECK(log.last_index() == 5);
  CHECK(log.term_at(4) == Term{3});
}

TEST_CASE("§7 install_snapshot: a log that conflicts with the snapshot is discarded") {
  SUBCASE("different term at the snapshot's index") {
    RaftLog log = log_of({1, 1, 2, 3, 3});
    log.install_snapshot(3, 3);
    CHECK(log.snapshot_index() == 3);
    CHECK(log.snapshot_term() == 3);
    CHECK(log.size() == 0);
    CHECK(log.last_index() == 3);
    CHECK(log.last_term() == 3);
  }
  SUBCASE("snapshot beyond the end of the log") {
    RaftLog log = log_of({1, 1});
    log.install_snapshot(9, 4);
    CHECK(log.size() == 0);
    CHECK(log.last_index() == 9);
    CHECK(log.last_term() == 4);
  }
}

TEST_CASE("install_snapshot of a snapshot no newer than the current one changes nothing") {
  RaftLog log = log_of({1, 1, 2, 3, 3});
  log.compact_to(3, 2);
  log.install_snapshot(2, 7);
  CHECK(log.snapshot_index() == 3);
  CHECK(log.snapshot_term() == 2);
  CHECK(log.last_index() == 5);
}

TEST_CASE("last_term and term_at(last_index) follow every change, against a model log") {
  // The last entry's term is kept apart from the entries; a model that keeps
  // every term (index 0 is the snapshot's) says what it must be.
  RaftLog log;
  std::vector<Term> model = {0};  // model[i]: term at snapshot_index + i
  Index snapshot = 0;
  uint64_t state = 5;
  auto next = [&](uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  for (int step = 0; step < 20000; ++step) {
    const Index last = snapshot + model.size() - 1;
    const uint64_t roll = next(100);
    if (roll < 40) {
      Entry e;
      e.term = model.back() + next(2);
      log.append(e);
      model.push_back(e.term);
    } else if (roll < 55) {
      OffsetVector<Entry> batch;
      for (uint64_t k = next(4); k > 0; --k) {
        Entry e;
        e.term = model.back() + next(2);
        batch.push_back(e);
        model.push_back(e.term);
      }
      if (roll % 2) {
        log.append(batch.begin(), batch.end());
      } else {
        log.append(std::move(batch));  // (takes the batch's storage when the log is shorter)
      }
      // copy_to hands back what the log holds.
      OffsetVector<Entry> copy;
      log.copy_to(copy, log.first_index(), log.last_index());
      REQUIRE(copy.size() == model.size() - 1);
      if (!copy.empty()) REQUIRE(copy.back().term == model.back());
    } else if (roll < 70) {
      const Index keep = snapshot + next(model.size());
      log.truncate_after(keep);
      model.resize(keep - snapshot + 1);
    } else if (roll < 80 && last > snapshot) {
      const Index at = snapshot + 1 + next(last - snapshot);
      Entry e;
      e.term = model[at - snapshot];
      log.replace(at, e);
    } else if (roll < 92) {
      const Index to = snapshot + next(model.size() + 2);
      const Term term = to <= last ? model[to - snapshot] : model.back() + 1;
      log.compact_to(to, term);
      if (to > snapshot) {
        if (to <= last) {
          model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(to - snapshot));
        } else {
          model = {term};
        }
        snapshot = to;
      }
    } else {
      const Index at = snapshot + next(model.size() + 2);
      const bool holds = at <= last;
      const Term term = holds && next(2) ? model[at - snapshot] : model.back() + 1;
      log.install_snapshot(at, term);
      if (at > snapshot && !(holds && model[at - snapshot] == term)) {
        model = {term};
        snapshot = at;
      }
    }
    REQUIRE(log.snapshot_index() == snapshot);
    REQUIRE(log.last_index() == snapshot + model.size() - 1);
    REQUIRE(log.last_term() == model.back());
    REQUIRE(log.term_at(log.last_index()) == model.back());
    REQUIRE(log.term_at(snapshot) == model.front());
  }
}

TEST_CASE("last_index_of_term finds a term's last entry, the snapshot's, or nothing") {
  RaftLog log = log_of({1, 1, 2, 2, 4, 4});
  CHECK(log.last_index_of_term(4) == Index{6});
  CHECK(log.last_index_of_term(2) == Index{4});
  CHECK(log.last_index_of_term(1) == Index{2});
  CHECK_FALSE(log.last_index_of_term(3).has_value());  // a gap between terms
  CHECK_FALSE(log.last_index_of_term(5).has_value());  // newer than the log

  log.compact_to(4, 2);
  CHECK(log.last_index_of_term(2) == Index{4});        // the snapshot's last entry
  CHECK_FALSE(log.last_index_of_term(1).has_value());  // compacted away
  CHECK(log.last_index_of_term(4) == Index{6});
}

TEST_CASE("first_index_of_term_at finds the start of a run of one term, stopping at the snapshot") {
  RaftLog log = log_of({1, 1, 2, 2, 2, 4});
  CHECK(log.first_index_of_term_at(5) == 3);
  CHECK(log.first_index_of_term_at(3) == 3);
  CHECK(log.first_index_of_term_at(2) == 1);
  CHECK(log.first_index_of_term_at(6) == 6);

  log.compact_to(3, 2);
  // The run began at 3, inside the snapshot: the answer stops at the first index held.
  CHECK(log.first_index_of_term_at(5) == 4);
}

TEST_CASE("generation: changes when an entry held is replaced or dropped from the end, only then") {
  RaftLog log = log_of({1, 1, 2});
  uint64_t g = log.generation();
  Entry e;
  e.term = 2;
  log.append(e);
  log.compact_to(1, 1);
  log.truncate_after(9);       // keeps everything: nothing dropped
  log.install_snapshot(3, 2);  // holds the snapshot's last entry: the log is kept
  CHECK(log.generation() == g);
  log.truncate_after(3);
  CHECK(log.generation() != g);
  g = log.generation();
  e.term = 3;
  log.replace(3, e);
  CHECK(log.generation() != g);
  g = log.generation();
  log.install_snapshot(5, 4);  // does not hold it: the log is discarded
  CHECK(log.generation() != g);
}

}  // namespace
}  // namespace raft
