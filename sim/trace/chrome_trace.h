// Converts a raftsim trace (JSON Lines, shared/spec/traces.md) into Chrome
// trace-event JSON, the format Perfetto (ui.perfetto.dev) and chrome://tracing
// open, so a run can be browsed, zoomed and searched in those viewers.
//
// Layout: one process for the run; one thread (track) per node, tid = node id.
// - Role slices: B/E pairs named by role (follower, precandidate, candidate,
//   leader, learner, crashed) with the term in args; a pause is a "paused"
//   slice nested inside the role slice, since a paused node keeps its role.
// - Instant events on the node's track for election_started, vote_granted,
//   elected, step_down (reason in args), crash, restart, pause, resume,
//   snapshot_*, demoted, promoted and any other per-node event; network
//   changes, checks and configuration commits are process-wide instants.
// - Counters: each node's commit index, and client write latency.
// - At `messages` level: a zero-length "send X"/"recv X" slice per send and
//   delivery, joined by a flow arrow (ph "s"/"f", one id per delivery, so a
//   duplicated message gets two arrows); drops are instants ("drop X").
// `ts` is in microseconds, which is exactly the trace's virtual time `t`.
#pragma once

#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>

namespace sim {

class ChromeTraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads the whole trace from `jsonl` and writes one JSON object to `out`.
// The input is read once, line by line, and the output streamed; memory
// grows only by a small record per message sent (to draw its arrows).
// Throws ChromeTraceError ("line N: ...") on input that is not a raftsim trace.
void convert_to_chrome_trace(std::istream& jsonl, std::ostream& out);

}  // namespace sim
