#!/usr/bin/env python3
"""Writes the benchmark scenarios that are generated rather than hand-written
(the failover series, the scale family and the write bursts). Run from anywhere; rewrites
bench/scenarios/*.json deterministically."""
import json
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")
TIMING = {"election_timeout": ["1000ms", "2000ms"], "heartbeat_interval": "100ms",
          "pre_vote": False, "check_quorum": True, "max_inflight": 64}


def write(name, scenario):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(scenario, f, indent=1)
        f.write("\n")


def failover(rounds=1000):
    # Each 10 s slot: crash the leader at a random instant in its first 4 s,
    # restart it at 9.5 s (between 5.5 s and 9.5 s later: the format has no
    # relative times), so every slot begins with the cluster whole.
    timeline = []
    for k in range(rounds):
        base = 10 * k + 5
        timeline.append({"at": {"min": f"{base}s", "max": f"{base + 4}s"}, "action": "crash",
                         "node": "leader", "as": f"L{k}"})
        timeline.append({"at": f"{base + 9.5}s", "action": "restart", "node": f"L{k}"})
    # No client workload, as in the peer harnesses (bench/peers/README.md):
    # the figure compares failover machinery, heartbeats and elections. A
    # burst of writes at the end shows the last leader still commits.
    end = 10 * rounds + 5
    timeline.append({"at": f"{end - 3}s", "action": "write", "count": 100, "size": 8})
    return {"name": f"bench: failover x{rounds}",
            "description": "5 voters, 15 ms links, 10 ms disk; the leader crashes at a random instant of each 10 s slot and restarts before the next; no client load until 100 writes at the end.",
            "duration": f"{end}s", "cluster": {"voters": 5}, "raft": TIMING,
            "network": {"latency": "15ms"}, "disk": {"write_latency": "10ms"},
            "timeline": timeline,
            "expect": [{"at": f"{end}s", "check": "leader", "is": "any"},
                       {"at": f"{end}s", "check": "committed", "min": 100}]}


def scale(voters):
    return {"name": f"bench: scale {voters} voters",
            "description": "60 s of heartbeats plus 200 writes/s.",
            "duration": "60s", "cluster": {"voters": voters}, "raft": TIMING,
            "network": {"latency": "15ms"}, "disk": {"write_latency": "10ms"},
            "workload": {"rate": 200, "start": "5s", "stop": "58s", "size": 8},
            "expect": [{"at": "60s", "check": "committed", "min": 10000}]}


def long_run(minutes):
    return {"name": f"bench: long run {minutes} min",
            "description": "1,000 writes/s with snapshots on (default snapshot_threshold).",
            "duration": f"{minutes * 60}s", "cluster": {"voters": 5}, "raft": TIMING,
            "network": {"latency": "15ms"}, "disk": {"write_latency": "10ms"},
            "workload": {"rate": 1000, "start": "3s", "size": 8},
            "expect": [{"at": f"{minutes * 60}s", "check": "committed", "min": minutes * 60 * 990}]}


def burst(writes):
    # Issue 17: default settings (1-5 ms links, no disk latency), every write
    # submitted at once to a random node, so each is its own request at a
    # random arrival time: a million queued out of order.
    return {"name": f"bench: burst of {writes:,} writes",
            "description": "5 voters, default settings; all writes at 1 s, each to a random node.",
            "duration": "60s", "cluster": {"voters": 5},
            "timeline": [{"at": "1s", "action": "write", "count": writes}],
            "expect": [{"at": "60s", "check": "committed", "min": writes}]}


if __name__ == "__main__":
    write("failover.json", failover())
    for n in (5, 101, 1001):
        write(f"scale_{n}.json", scale(n))
    for m in (10, 60):
        write(f"long_run_{m}min.json", long_run(m))
    write("burst_100k.json", burst(100_000))
    write("burst_1m.json", burst(1_000_000))
