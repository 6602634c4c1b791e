#include "raft/progress.h"

#include <algorithm>

namespace raft {

void Progress::become_probe(Index next) {
  state = State::probe;
  next_index = next;
  probe_sent = false;
  inflight.reset();
  snapshot.reset();
}

void Progress::become_replicate() {
  state = State::replicate;
  probe_sent = false;
  next_index = match_index + 1;
  inflight.reset();
}

void Progress::become_snapshot(std::shared_ptr<const Snapshot> from) {
  state = State::snapshot;
  snapshot = std::move(from);
  snapshot_offset = 0;
  inflight.reset();
}

void Progress::sent_entries(Index last_index, TimeUs sent_us) {
  inflight.add(last_index, sent_us);
  next_index = last_index + 1;
}

bool Progress::maybe_update(Index index) {
  const bool advanced = index > match_index;
  if (advanced) match_index = index;
  next_index = std::max(next_index, match_index + 1);
  inflight.free_le(match_index);
  return advanced;
}

bool Progress::maybe_decrease_to(Index rejected, Index hint) {
  if (rejected <= match_index) return false;
  Index next = std::min(hint, rejected);
  next = std::max(next, match_index + 1);
  become_probe(next);
  return true;
}

void Progress::snapshot_done(Index index) {
  match_index = std::max(match_index, index);
  become_probe(match_index + 1);
}

}  // namespace raft
