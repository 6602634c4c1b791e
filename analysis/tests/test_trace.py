"""Tests of raftsim_trace: loading, checking and deriving views of traces."""

import json
import os
import shutil
import sys
import tempfile
import unittest

import synth

sys.path.insert(0, synth.analysis_dir())
import raftsim_stats as rs  # noqa: E402
import raftsim_trace as rt  # noqa: E402

MS = 1000


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="raftsim-analysis-")
        self.addCleanup(shutil.rmtree, self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_text(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def load(self, builder, **kw):
        return rt.load_trace(builder.write(self.path("t.jsonl")), **kw)


class StoryTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.trace = self.load(synth.story())

    def test_one_leader_band_per_election(self):
        leaders = [(n, iv.term) for n, ivs in self.trace.roles.items()
                   for iv in ivs if iv.role == "leader"]
        elected = [(m.node, m.term) for m in self.trace.markers_of("elected")]
        self.assertEqual(len(elected), synth.STORY_ELECTIONS)
        self.assertEqual(sorted(leaders), sorted(elected))

    def test_intervals_cover_the_run_in_order(self):
        self.assertEqual(self.trace.end_us, 6000 * MS)
        for n, ivs in self.trace.roles.items():
            self.assertEqual(ivs[0].start, 0, n)
            self.assertEqual(ivs[-1].end, self.trace.end_us, n)
            for a, b in zip(ivs, ivs[1:]):
                self.assertEqual(a.end, b.start, (n, a, b))
                self.assertNotEqual((a.role, a.term), (b.role, b.term), (n, a, b))
            for iv in ivs:
                self.assertLess(iv.start, iv.end)
                self.assertIn(iv.role, rt.ROLES)

    def band_at(self, node, t):
        return next(iv for iv in self.trace.roles[node] if iv.start <= t < iv.end)

    def test_crash_runs_from_crash_to_restart(self):
        crashed = [iv for iv in self.trace.roles[4] if iv.role == "crashed"]
        self.assertEqual([(iv.start, iv.end) for iv in crashed], [(3000 * MS, 3500 * MS)])
        self.assertEqual(self.band_at(4, 3500 * MS).role, "follower")

    def test_pause_runs_from_pause_to_resume(self):
        paused = [iv for iv in self.trace.roles[5] if iv.role == "paused"]
        self.assertEqual([(iv.start, iv.end) for iv in paused], [(3600 * MS, 3900 * MS)])

    def test_step_downs_carry_their_reasons(self):
        got = {}
        for m in self.trace.markers_of("step_down"):
            got.setdefault(m.node, []).append(m.info["reason"])
        self.assertEqual(got, synth.STORY_STEP_DOWNS)
        self.assertEqual(sorted(r for rs in got.values() for r in rs),
                         sorted(rt.STEP_DOWN_REASONS))

    def test_terms_follow_roles_and_votes(self):
        self.assertEqual(self.band_at(1, 1000 * MS), rt.Interval(203 * MS, 2250 * MS, "leader", 1))
        self.assertEqual(self.band_at(1, 3000 * MS).role, "precandidate")
        self.assertEqual(self.band_at(1, 3000 * MS).term, 1, "a pre-vote raises no term")
        self.assertEqual(self.band_at(4, 2450 * MS).term, 2, "a granted vote adopts the term")

    def test_demotion_and_promotion_change_the_band(self):
        self.assertEqual(self.band_at(5, 5200 * MS).role, "learner")
        self.assertEqual(self.band_at(5, 5500 * MS).role, "follower")
        self.assertEqual({iv.role for iv in self.trace.roles[6]}, {"learner"})

    def test_commit_series_are_monotone(self):
        for n, points in self.trace.commits.items():
            self.assertTrue(points, n)
            for a, b in zip(points, points[1:]):
                self.assertLessEqual(a.t, b.t)
                self.assertLessEqual(a.index, b.index)

    def test_write_latencies(self):
        self.assertEqual(len(self.trace.writes), 200)
        self.assertTrue(all(2 * MS <= w.latency_us <= 30 * MS for w in self.trace.writes))

    def test_network_intervals(self):
        isolate, partition = self.trace.network
        self.assertEqual((isolate.start, isolate.end), (2000 * MS, 4000 * MS))
        self.assertEqual(isolate.groups, [[1], [2, 3, 4, 5, 6]])
        self.assertEqual(isolate.cut_off, {1})
        self.assertEqual((partition.start, partition.end), (4900 * MS, 5000 * MS))
        self.assertEqual(partition.groups, [[1, 2], [3, 4, 5, 6]])
        self.assertEqual(partition.cut_off, {1, 2})
        self.assertIn((1, 3), partition.cut)
        self.assertNotIn((1, 2), partition.cut)

    def test_configs_and_snapshots(self):
        self.assertEqual([c.voters for c in self.trace.configs], [[1, 2, 3, 4], [2, 3, 4, 5]])
        (sent,) = self.trace.markers_of("snapshot_sent")
        (installed,) = self.trace.markers_of("snapshot_installed")
        self.assertEqual((sent.node, sent.info["to"]), (1, 5))
        self.assertEqual((installed.node, installed.info["from"]), (5, 1))

    def test_messages_only_on_request(self):
        self.assertEqual(self.trace.messages, [])


class RoleEdgeCaseTest(TempDirTest):
    def test_role_line_at_time_zero(self):
        b = synth.TraceBuilder(duration_us=1000)
        for n in (1, 2, 3):
            b.role(0, n, "follower", "follower", 0, "start")
        trace = self.load(b)
        self.assertEqual(trace.roles[1], [rt.Interval(0, 1000, "follower", 0)])

    def test_paused_leader_is_leader_again_after_resume(self):
        b = synth.TraceBuilder(duration_us=1000 * MS)
        b.elect(100 * MS, 1, 1, [2])
        b.ev(300 * MS, "pause", node=1)
        b.ev(400 * MS, "resume", node=1)
        roles = [(iv.role, iv.term) for iv in self.load(b).roles[1]]
        self.assertEqual(roles, [("follower", 0), ("candidate", 1), ("leader", 1),
                                 ("paused", 1), ("leader", 1)])

    def test_crashed_leader_restarts_as_follower(self):
        b = synth.TraceBuilder(duration_us=1000 * MS)
        b.elect(100 * MS, 1, 1, [2])
        b.ev(300 * MS, "crash", node=1)
        b.ev(400 * MS, "restart", node=1)
        ivs = self.load(b).roles[1]
        self.assertEqual([iv.role for iv in ivs][-3:], ["leader", "crashed", "follower"])
        self.assertEqual(ivs[-2].start, 300 * MS)
        self.assertEqual(ivs[-2].end, 400 * MS)

    def test_unknown_events_are_ignored(self):
        b = synth.TraceBuilder()
        b.ev(5, "from_the_future", node=99, anything=[1, 2])
        b.ev(6, "check", ok=True, what="x")
        b.role(7, 3, "follower", "observer", 0)  # a role name from a newer simulator
        trace = self.load(b)
        self.assertEqual(len(trace.roles), 3)
        self.assertEqual(trace.roles[3][-1].role, "observer")


class MessageTest(TempDirTest):
    def test_send_deliver_drop_and_duplicates(self):
        b = synth.TraceBuilder()
        b.message(100, 1, 2, "vote", 1)
        b.message(200, 1, 3, "vote", 1, drop=True)
        b.message(300, 2, 1, "vote_resp", 1, duplicate=True)
        msgs = {m.id: m for m in self.load(b, messages=True).messages}
        self.assertEqual((msgs[1].src, msgs[1].dst, msgs[1].msg, msgs[1].term), (1, 2, "vote", 1))
        self.assertEqual((msgs[1].sent, msgs[1].delivered, msgs[1].dropped), (100, [2100], None))
        self.assertEqual((msgs[2].delivered, msgs[2].dropped), ([], 2200))
        self.assertEqual(msgs[3].delivered, [2300, 4300])

    def test_window_keeps_messages_sent_in_it(self):
        b = synth.many_messages(100)  # sent at 1000 + 100 i
        msgs = self.load(b, messages=True, window=(2000, 2999)).messages
        self.assertEqual([m.sent for m in msgs], list(range(2000, 3000, 100)))
        self.assertTrue(all(m.delivered for m in msgs))


class TraceErrorTest(TempDirTest):
    def assertTraceError(self, path, *fragments):
        with self.assertRaises(rt.TraceError) as cm:
            rt.load_trace(path)
        message = str(cm.exception)
        self.assertTrue(message.startswith(path + ": "), message)
        for f in fragments:
            self.assertIn(f, message)
        self.assertNotIn("\n", message)

    def story_lines(self):
        return synth.story().text().splitlines(True)

    def test_missing_file(self):
        self.assertTraceError(self.path("nope.jsonl"), "no such file")

    def test_empty_file(self):
        self.assertTraceError(self.write_text("e.jsonl", ""), "empty file")

    def test_garbage_line(self):
        lines = self.story_lines()
        lines[16] = "{not json\n"
        self.assertTraceError(self.write_text("g.jsonl", "".join(lines)),
                              "line 17:", "not valid JSON")

    def test_missing_header(self):
        lines = self.story_lines()
        self.assertTraceError(self.write_text("h.jsonl", "".join(lines[1:])),
                              "line 1:", "header")

    def test_wrong_format(self):
        lines = self.story_lines()
        header = json.loads(lines[0])
        header["format"] = "other-trace"
        lines[0] = json.dumps(header) + "\n"
        self.assertTraceError(self.write_text("f.jsonl", "".join(lines)),
                              "line 1:", '"other-trace"', '"raftsim-trace"')

    def test_truncated_trace(self):
        lines = self.story_lines()
        self.assertTraceError(self.write_text("t.jsonl", "".join(lines[:-1])),
                              "line %d:" % (len(lines) - 1), "end line", "truncated")

    def test_cut_mid_line(self):
        text = synth.story().text()
        self.assertTraceError(self.write_text("c.jsonl", text[:len(text) // 2]),
                              "not valid JSON")

    def test_not_utf8_from_the_first_byte(self):
        path = self.path("u16.jsonl")
        with open(path, "wb") as f:
            f.write(b"\xff\xfe{\x00\"\x00t\x00")
        self.assertTraceError(path, "line 1:", "not UTF-8")

    def test_partial_accepts_a_killed_run(self):
        text = synth.story().text()
        cut = text[:len(text) // 2]
        self.assertFalse(cut.endswith("\n"))
        path = self.write_text("k.jsonl", cut)
        trace = rt.load_trace(path, partial=True)
        self.assertTrue(trace.truncated)
        self.assertIsNone(trace.footer)
        full = rt.load_trace(self.write_text("full.jsonl", text))
        self.assertFalse(full.truncated)
        self.assertLess(trace.end_us, full.end_us)
        self.assertEqual(set(trace.roles), set(full.roles))

    def test_partial_still_refuses_garbage_inside(self):
        lines = self.story_lines()
        lines[16] = "{not json\n"
        with self.assertRaises(rt.TraceError):
            rt.load_trace(self.write_text("g.jsonl", "".join(lines)), partial=True)

    def test_line_after_the_end(self):
        lines = self.story_lines()
        lines.append(lines[5])
        self.assertTraceError(self.write_text("a.jsonl", "".join(lines)),
                              "line %d:" % len(lines), "after the end")

    def test_bad_field(self):
        b = synth.TraceBuilder()
        b.ev(10, "commit", node=1, term=1)  # no index
        self.assertTraceError(b.write(self.path("b.jsonl")), "line 2:", '"commit"', '"index"')

    def test_event_without_time(self):
        lines = self.story_lines()
        lines.insert(3, '{"type":"crash","node":1}\n')
        self.assertTraceError(self.write_text("n.jsonl", "".join(lines)), "line 4:", '"t"')

    def test_unknown_node(self):
        b = synth.TraceBuilder()
        b.ev(10, "crash", node=9)
        self.assertTraceError(b.write(self.path("u.jsonl")), "line 2:", "node 9")


class SummaryTest(TempDirTest):
    def test_load(self):
        path = synth.write_summary(self.path("s.json"), "quorum", [3, 1.5, 2])
        name, values, obj = rt.load_summary(path)
        self.assertEqual((name, values), ("quorum", [3.0, 1.5, 2.0]))
        self.assertEqual(obj["runs"], 3)

    def test_errors(self):
        cases = {
            "missing.json": None,
            "empty.json": "",
            "syntax.json": '{"scenario": "x",\n "metrics": }',
            "novalues.json": '{"scenario": "x", "metrics": {"election_time_ms": {}}}',
            "strings.json": '{"scenario": "x", "metrics": {"election_time_ms": {"values": ["a"]}}}',
            "noname.json": '{"metrics": {"election_time_ms": {"values": []}}}',
        }
        expect = {"missing.json": "no such file", "empty.json": "empty",
                  "syntax.json": "line 2 column", "novalues.json": "/metrics/election_time_ms/values",
                  "strings.json": "values/0", "noname.json": "/scenario"}
        for name, text in cases.items():
            path = self.path(name) if text is None else self.write_text(name, text)
            with self.assertRaises(rt.TraceError, msg=name) as cm:
                rt.load_summary(path)
            self.assertIn(path + ": ", str(cm.exception))
            self.assertIn(expect[name], str(cm.exception))


class HelperTest(unittest.TestCase):
    def test_parse_time(self):
        self.assertEqual(rt.parse_time("1.5s"), 1500000)
        self.assertEqual(rt.parse_time("250ms"), 250000)
        self.assertEqual(rt.parse_time("100us"), 100)
        self.assertEqual(rt.parse_time("2"), 2000)
        self.assertEqual(rt.parse_time("0.5"), 500)
        for bad in ("", "1.5 min", "-3ms", "ms", "1e3"):
            with self.assertRaises(ValueError, msg=bad):
                rt.parse_time(bad)

    def test_percentile_nearest_rank(self):
        self.assertEqual(rs.percentile([15, 20, 35, 40, 50], 30), 20)
        self.assertEqual(rs.percentile([15, 20, 35, 40, 50], 40), 20)
        self.assertEqual(rs.percentile([50, 40, 35, 20, 15], 50), 35)
        self.assertEqual(rs.percentile([15, 20, 35, 40, 50], 100), 50)
        values = list(range(1, 101))
        self.assertEqual([rs.percentile(values, p) for p in (50, 90, 99)], [50, 90, 99])
        self.assertEqual(rs.percentile([7], 99), 7)
        self.assertIsNone(rs.percentile([], 50))

    def test_cdf_points(self):
        self.assertEqual(rs.cdf_points([3, 1, 2, 4]), ([1, 2, 3, 4], [0.25, 0.5, 0.75, 1.0]))

    def test_downsample_steps(self):
        points = [(t, t // 3) for t in range(0, 100000, 10)]
        out = rs.downsample_steps(points, 5005, 95000, 2000)
        self.assertLessEqual(len(out), 2002)
        self.assertEqual(out[0], (5005, 5000 // 3))  # the value in force at the start
        self.assertEqual(out[-1][0], 95000)
        self.assertEqual(out[-1][1], 95000 // 3)
        for a, b in zip(out, out[1:]):
            self.assertLessEqual(a[0], b[0])
            self.assertLessEqual(a[1], b[1])
        short = [(1, 1), (2, 2)]
        self.assertEqual(rs.downsample_steps(short, 0, 10), [(1, 1), (2, 2), (10, 2)])

    def test_downsample_points_keeps_extremes(self):
        points = [(t, (t * 7919) % 1000) for t in range(100000)]
        out = rs.downsample_points(points, 0, 100000, 1000)
        self.assertLessEqual(len(out), 1000)
        self.assertEqual(max(v for _, v in out), 999)
        self.assertEqual(min(v for _, v in out), 0)

    def test_merge_narrow(self):
        flips = [rt.Interval(i, i + 1, "candidate" if i % 3 else "follower", i)
                 for i in range(100)]
        ivs = [rt.Interval(-50, 0, "leader", 0)] + flips + [rt.Interval(100, 200, "leader", 9)]
        out = rs.merge_narrow(ivs, 10)
        self.assertEqual(out[0], ivs[0])
        self.assertEqual(out[-1], ivs[-1])
        for a, b in zip(out, out[1:]):
            self.assertEqual(a.end, b.start)
        self.assertTrue(all(iv.end - iv.start >= 10 for iv in out))
        self.assertEqual({iv.role for iv in out[1:-1]}, {"candidate"})
        self.assertEqual(out[1].term, 9)

    def test_clip_intervals(self):
        ivs = [rt.Interval(0, 10, "follower", 0), rt.Interval(10, 20, "leader", 1)]
        self.assertEqual(rs.clip_intervals(ivs, 5, 12),
                         [rt.Interval(5, 10, "follower", 0), rt.Interval(10, 12, "leader", 1)])
        self.assertEqual(rs.clip_intervals(ivs, 20, 30), [])



class KeyValueTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="raftsim-kv-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.trace = rt.load_trace(synth.kv_story().write(os.path.join(self.dir, "kv.jsonl")))

    def test_operations_pair_calls_with_returns(self):
        ops = self.trace.operations
        self.assertEqual([(o.kind, o.id) for o in ops],
                         [("put", 1), ("get", 1), ("cas", 2), ("cas", 3), ("get", 2),
                          ("put", 4), ("get", 3)])
        put, get = ops[0], ops[1]
        self.assertEqual((put.call, put.ret, put.value, put.node), (200000, 210000, 1, 1))
        self.assertEqual((get.key, get.value, get.mode, get.client), (0, 1, "read_index", 1))

    def test_cas_outcome_and_open_ended_operations(self):
        ops = {(o.kind, o.id): o for o in self.trace.operations}
        self.assertTrue(ops[("cas", 2)].ok)
        self.assertFalse(ops[("cas", 3)].ok)
        self.assertIsNone(ops[("put", 4)].ret)
        self.assertIsNone(ops[("get", 3)].ret)
        self.assertEqual(ops[("get", 2)].mode, "stale")

    def test_reads_have_latencies_and_a_keyless_write_is_no_operation(self):
        self.assertEqual([(r.id, r.latency_us) for r in self.trace.reads],
                         [(1, 10000), (2, 1000)])
        self.assertNotIn(5, [o.id for o in self.trace.operations if o.kind == "put"])


if __name__ == "__main__":
    unittest.main()
