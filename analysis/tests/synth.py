"""Synthetic raftsim traces and summaries for the tests (format: traces.md)."""

import json
import os
import random

STORY_ELECTIONS = 6  # `elected` events written by story()
STORY_STEP_DOWNS = {1: ["lost_quorum", "removed"], 3: ["transfer"], 2: ["granted_vote"],
                    4: ["higher_term"]}


class TraceBuilder:
    def __init__(self, nodes=(1, 2, 3), voters=None, learners=(), spares=(),
                 scenario="synthetic", seed=1, duration_us=6000000):
        self.lines = [dict(type="header", format="raftsim-trace", version=1,
                           scenario=scenario, seed=seed, nodes=list(nodes),
                           voters=list(voters if voters is not None else nodes),
                           learners=list(learners), spares=list(spares),
                           duration_us=duration_us, raft={}, network={})]
        self.next_msg = 1

    def ev(self, t, type_, **fields):
        self.lines.append(dict(t=t, type=type_, **fields))

    def role(self, t, node, frm, to, term, reason="test"):
        self.ev(t, "role", node=node, **{"from": frm, "to": to, "term": term, "reason": reason})

    def elect(self, t, node, term, voters, old_role="follower"):
        """A won election: candidate, votes, elected, leader."""
        self.ev(t, "election_started", node=node, term=term, pre_vote=False)
        self.role(t, node, old_role, "candidate", term, "election_timeout")
        for i, v in enumerate(voters):
            self.ev(t + 1000 + i, "vote_granted", node=v, candidate=node, term=term,
                    pre_vote=False)
        self.ev(t + 3000, "elected", node=node, term=term, votes=len(voters) + 1)
        self.role(t + 3000, node, "candidate", "leader", term, "elected")

    def step_down(self, t, node, term, reason):
        self.ev(t, "step_down", node=node, term=term, reason=reason)
        self.role(t, node, "leader", "follower", term, reason)

    def message(self, t, src, dst, msg, term, latency_us=2000, drop=False, duplicate=False):
        mid = self.next_msg
        self.next_msg += 1
        fields = {"from": src, "to": dst, "msg": msg, "term": term, "id": mid}
        self.ev(t, "send", **fields)
        if drop:
            self.ev(t + latency_us, "drop", **fields)
        else:
            self.ev(t + latency_us, "deliver", **fields)
            if duplicate:
                self.ev(t + 2 * latency_us, "deliver", **fields)

    def text(self, footer=True):
        lines = sorted(self.lines[1:], key=lambda e: e["t"])  # stable: keeps same-t order
        out = [self.lines[0]] + lines
        if footer:
            end = max([self.lines[0]["duration_us"]] + [e["t"] for e in lines])
            out.append(dict(type="end", t=end, events=len(lines), digest="0123456789abcdef",
                            result="pass", reason=""))
        return "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in out)

    def write(self, path, footer=True):
        with open(path, "w") as f:
            f.write(self.text(footer))
        return path


def story():
    """Five voters and a learner through elections, every step-down reason,
    a crash, a pause, an isolation, a partition, snapshots, demotion and
    promotion, commits and client writes, with some messages."""
    b = TraceBuilder(nodes=[1, 2, 3, 4, 5, 6], voters=[1, 2, 3, 4, 5], learners=[6],
                     scenario="story")
    rnd = random.Random(7)
    ms = 1000
    b.elect(200 * ms, 1, 1, [2, 3])
    b.ev(2000 * ms, "network", action="isolate", node=1)
    b.step_down(2250 * ms, 1, 1, "lost_quorum")
    b.ev(2300 * ms, "election_started", node=1, term=2, pre_vote=True)
    b.role(2300 * ms, 1, "follower", "precandidate", 1, "election_timeout")
    b.elect(2400 * ms, 3, 2, [2, 4])
    b.ev(3000 * ms, "crash", node=4)
    b.ev(3500 * ms, "restart", node=4)
    b.ev(3600 * ms, "pause", node=5)
    b.ev(3900 * ms, "resume", node=5)
    b.ev(4000 * ms, "network", action="heal")
    b.role(4010 * ms, 1, "precandidate", "follower", 2, "heard_leader")
    b.step_down(4500 * ms, 3, 2, "transfer")
    b.elect(4510 * ms, 2, 3, [3, 4], old_role="follower")
    b.ev(4800 * ms, "vote_granted", node=2, candidate=4, term=4, pre_vote=False)
    b.step_down(4800 * ms, 2, 4, "granted_vote")
    b.elect(4800 * ms, 4, 4, [2, 3])
    b.ev(4900 * ms, "network", action="partition", groups=[[1, 2], [3, 4, 5, 6]])
    b.ev(5000 * ms, "network", action="heal")
    b.elect(5050 * ms, 1, 5, [2, 3])
    b.step_down(5060 * ms, 4, 5, "higher_term")
    b.ev(5100 * ms, "demoted", node=5, lag=1500, index=900)
    b.ev(5100 * ms, "config_committed", node=1, voters=[1, 2, 3, 4], learners=[5, 6], index=900)
    b.ev(5200 * ms, "snapshot_sent", node=1, to=5, index=880, bytes=4096)
    b.ev(5260 * ms, "snapshot_installed", node=5, **{"from": 1, "index": 880, "bytes": 4096})
    b.ev(5400 * ms, "promoted", node=5, lag=3, index=950)
    b.ev(5400 * ms, "config_committed", node=1, voters=[2, 3, 4, 5], learners=[6], index=950)
    b.step_down(5400 * ms, 1, 5, "removed")
    b.elect(5600 * ms, 2, 6, [3, 4])
    b.ev(5700 * ms, "future_event", node=3, x=1)  # unknown types are ignored
    b.ev(5800 * ms, "clock_drift", node=3, rate=1.1)
    # Commits: every 100ms on each node up, a little after the leader.
    index = {n: 0 for n in range(1, 7)}
    for step in range(3, 60):
        t = step * 100 * ms
        for n in range(1, 7):
            if n == 4 and 3000 * ms <= t < 3500 * ms or n == 1 and 2000 * ms <= t < 4000 * ms:
                continue
            index[n] += rnd.randint(1, 20)
            b.ev(t + n * 500, "commit", node=n, index=index[n], term=1)
    for i in range(200):
        t = 300 * ms + i * 25 * ms
        b.ev(t, "write", id=i + 1, node=1 + i % 5)
        b.ev(t + rnd.randint(2, 30) * ms, "write_committed", id=i + 1, node=1 + i % 5,
             latency_us=rnd.randint(2, 30) * ms)
    # A few messages around the first election.
    for v in (2, 3, 4, 5):
        b.message(200 * ms + v * 10, 1, v, "vote", 1, drop=(v == 5))
        b.message(201 * ms + v * 10, v, 1, "vote_resp", 1, duplicate=(v == 2))
    for k in range(3):
        for v in (2, 3, 4, 5, 6):
            b.message(210 * ms + k * 50 * ms + v, 1, v, "append", 1, latency_us=1000 + v * 300)
            b.message(212 * ms + k * 50 * ms + v * 300, v, 1, "append_resp", 1)
    return b


def kv_story():
    """Key-value clients on two keys: puts, a cas that swaps and one that does
    not, read_index and stale reads, one put and one read never answered."""
    b = TraceBuilder(scenario="kv")
    ms = 1000
    b.elect(100 * ms, 1, 1, [2, 3])
    b.ev(200 * ms, "write", id=1, node=2, key=0, op="put", client=1)
    b.ev(210 * ms, "write_committed", id=1, node=1, index=2, latency_us=10 * ms, key=0, ok=True)
    b.ev(220 * ms, "read", id=1, node=3, key=0, mode="read_index", client=1)
    b.ev(230 * ms, "read_done", id=1, node=1, key=0, value=1, index=2, latency_us=10 * ms)
    b.ev(240 * ms, "write", id=2, node=1, key=1, op="cas", client=2, expected=0)
    b.ev(260 * ms, "write_committed", id=2, node=1, index=3, latency_us=20 * ms, key=1, ok=True)
    b.ev(270 * ms, "write", id=3, node=1, key=1, op="cas", client=2, expected=0)
    b.ev(290 * ms, "write_committed", id=3, node=1, index=4, latency_us=20 * ms, key=1, ok=False)
    b.ev(300 * ms, "read", id=2, node=2, key=1, mode="stale", client=1)
    b.ev(301 * ms, "read_done", id=2, node=2, key=1, value=0, index=1, latency_us=1 * ms)
    b.ev(400 * ms, "write", id=4, node=1, key=0, op="put", client=3)  # never answered
    b.ev(420 * ms, "read", id=3, node=1, key=1, mode="lease", client=4)  # never answered
    b.ev(600 * ms, "write", id=5, node=1, client=5)  # no key: not a key-value operation
    return b


def many_messages(count):
    b = TraceBuilder()
    for i in range(count):
        b.message(1000 + i * 100, 1 + i % 3, 1 + (i + 1) % 3, "append", 1)
    return b


def write_summary(path, scenario, values, **extra):
    obj = {"scenario": scenario, "seeds": [1, len(values)], "runs": len(values),
           "passed": len(values), "failed_seeds": [],
           "metrics": {"election_time_ms": {"count": len(values), "values": values},
                       "elections_per_run": {"mean": 1, "max": 1},
                       "commit_latency_ms": {"count": 0}, "events_per_run": {"mean": 1}}}
    obj.update(extra)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def analysis_dir():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
