"""Tests of the plotting scripts, run as a user would (subprocess, exit codes).

Input errors are checked with any interpreter (inputs are validated before
matplotlib is imported); rendering tests need matplotlib and are skipped
without it (analysis/run.sh picks an interpreter that has it).
With RAFTSIM_BIN and RAFTSIM_SCENARIO set, a real raftsim trace is plotted.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import synth

sys.path.insert(0, synth.analysis_dir())
import raftsim_trace as rt  # noqa: E402

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SCRIPTS = ("plot_timeline.py", "plot_elections.py", "plot_messages.py", "plot_history.py")


class ScriptTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="raftsim-plots-")
        self.addCleanup(shutil.rmtree, self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def run_script(self, script, *args, env=None):
        """Runs from the temp dir, so relative paths name files there and the
        script must find raftsim_trace on its own."""
        return subprocess.run([sys.executable, os.path.join(synth.analysis_dir(), script)]
                              + list(args), cwd=self.dir, capture_output=True, text=True,
                              timeout=300, env=env)

    def assertFailsClearly(self, result, *fragments):
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        for f in fragments:
            self.assertIn(f, result.stderr)

    def assertImage(self, name):
        with open(self.path(name), "rb") as f:
            data = f.read()
        if name.endswith(".png"):
            self.assertTrue(data.startswith(PNG_MAGIC), name)
            self.assertGreater(len(data), 10000, name)
        else:
            self.assertIn(b"<svg", data[:2000], name)

    def write_trace(self, name, builder=None, footer=True):
        return (builder or synth.story()).write(self.path(name), footer=footer)


class InputErrorTest(ScriptTest):
    def test_truncated_trace(self):
        self.write_trace("cut.jsonl", footer=False)
        for script in ("plot_timeline.py", "plot_messages.py"):
            r = self.run_script(script, "cut.jsonl", "-o", "x.png")
            self.assertFailsClearly(r, script + ": cut.jsonl: line", "truncated")

    def test_non_utf8_start(self):
        with open(self.path("bin.jsonl"), "wb") as f:
            f.write(b"\xff\xfe\x00garbage\n")
        for script in ("plot_timeline.py", "plot_messages.py"):
            r = self.run_script(script, "bin.jsonl", "-o", "x.png")
            self.assertFailsClearly(r, "%s: bin.jsonl: line 1: not UTF-8" % script)

    def test_partial_plots_a_truncated_trace(self):
        text = synth.story().text()
        with open(self.path("killed.jsonl"), "w") as f:
            f.write(text[:len(text) * 2 // 3])
        for script in ("plot_timeline.py", "plot_messages.py"):
            r = self.run_script(script, "killed.jsonl", "-o", "x.png")
            self.assertFailsClearly(r, "--partial")
            r = self.run_script(script, "killed.jsonl", "-o", "k.png", "--partial")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertImage("k.png")

    def test_garbage_line(self):
        lines = synth.story().text().splitlines(True)
        lines[16] = "garbage\n"
        with open(self.path("bad.jsonl"), "w") as f:
            f.writelines(lines)
        for script in ("plot_timeline.py", "plot_messages.py"):
            r = self.run_script(script, "bad.jsonl", "-o", "x.png")
            self.assertFailsClearly(r, "%s: bad.jsonl: line 17: not valid JSON" % script)

    def test_missing_file(self):
        for script in SCRIPTS:
            r = self.run_script(script, "absent.json", "-o", "x.png")
            self.assertFailsClearly(r, "absent.json", "no such file")
        self.assertFalse(os.path.exists(self.path("x.png")))

    def test_bad_summary(self):
        with open(self.path("s.json"), "w") as f:
            f.write('{"scenario": "x", "metrics": {"election_time_ms": {"values": [1, "two"]}}}')
        r = self.run_script("plot_elections.py", "s.json", "-o", "x.png")
        self.assertFailsClearly(r, "s.json: /metrics/election_time_ms/values/1")

    def test_bad_time_argument(self):
        self.write_trace("t.jsonl")
        r = self.run_script("plot_timeline.py", "t.jsonl", "-o", "x.png", "--from", "soon")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a time", r.stderr)
        self.assertNotIn("Traceback", r.stderr)

    def test_without_matplotlib(self):
        # A package named matplotlib that fails to import stands in for a
        # Python that lacks it.
        fake = self.path("fake")
        os.makedirs(os.path.join(fake, "matplotlib"))
        with open(os.path.join(fake, "matplotlib", "__init__.py"), "w") as f:
            f.write("raise ImportError('no matplotlib here')\n")
        self.write_trace("t.jsonl")
        env = dict(os.environ, PYTHONPATH=fake)
        r = self.run_script("plot_timeline.py", "t.jsonl", "-o", "x.png", env=env)
        self.assertFailsClearly(r, "matplotlib is not available to", "python3-matplotlib")


@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed for this Python")
class RenderTest(ScriptTest):
    def test_timeline_png_and_svg(self):
        self.write_trace("t.jsonl")
        for out in ("t.png", "t.svg"):
            r = self.run_script("plot_timeline.py", "t.jsonl", "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertImage(out)

    def test_history_per_key(self):
        self.write_trace("kv.jsonl", synth.kv_story())
        for args in ((), ("--key", "1"), ("--from", "150ms", "--to", "350ms")):
            r = self.run_script("plot_history.py", "kv.jsonl", "-o", "h.png", *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertImage("h.png")
        r = self.run_script("plot_timeline.py", "kv.jsonl", "-o", "t.png")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertImage("t.png")

    def test_history_refuses_a_trace_without_operations_or_an_absent_key(self):
        self.write_trace("t.jsonl")
        r = self.run_script("plot_history.py", "t.jsonl", "-o", "h.png")
        self.assertFailsClearly(r, "no key-value operations")
        self.write_trace("kv.jsonl", synth.kv_story())
        r = self.run_script("plot_history.py", "kv.jsonl", "-o", "h.png", "--key", "9")
        self.assertFailsClearly(r, "no operations on key 9", "keys in the trace: 0, 1")

    def test_timeline_window(self):
        self.write_trace("t.jsonl")
        r = self.run_script("plot_timeline.py", "t.jsonl", "-o", "w.png",
                            "--from", "1.5s", "--to", "5000")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertImage("w.png")
        r = self.run_script("plot_timeline.py", "t.jsonl", "-o", "w.png",
                            "--from", "2s", "--to", "1s")
        self.assertFailsClearly(r, "empty window")

    def test_timeline_of_a_large_busy_cluster(self):
        # 15 nodes flapping between roles every 2ms for 60s: bands must be
        # merged and series thinned for this to stay quick and readable.
        b = synth.TraceBuilder(nodes=range(1, 16), duration_us=60000 * 1000)
        roles = ("follower", "precandidate", "candidate")
        for n in range(1, 16):
            for i in range(1, 30000, 7):
                b.role(i * 2000 + n, n, roles[(i - 1) % 3], roles[i % 3], i // 3)
            for i in range(3000):
                b.ev(i * 20000 + n, "commit", node=n, index=i, term=1)
        self.write_trace("big.jsonl", b)
        r = self.run_script("plot_timeline.py", "big.jsonl", "-o", "big.png")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertImage("big.png")

    def test_unsupported_output_type(self):
        self.write_trace("t.jsonl")
        r = self.run_script("plot_timeline.py", "t.jsonl", "-o", "t.txt")
        self.assertFailsClearly(r, "t.txt", "unsupported output type")

    def test_unwritable_output(self):
        self.write_trace("t.jsonl")
        r = self.run_script("plot_timeline.py", "t.jsonl", "-o", "no/such/dir/t.png")
        self.assertFailsClearly(r, "no/such/dir/t.png")

    def test_elections_two_summaries(self):
        synth.write_summary(self.path("a.json"), "pre-vote", [150, 180.5, 210, 260, 300])
        synth.write_summary(self.path("b.json"), "no pre-vote", [160, 400, 950])
        synth.write_summary(self.path("c.json"), "quiet", [])
        for extra in ([], ["--log"]):
            r = self.run_script("plot_elections.py", "a.json", "b.json", "c.json",
                                "-o", "e.png", *extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertImage("e.png")

    def test_messages(self):
        self.write_trace("t.jsonl")
        r = self.run_script("plot_messages.py", "t.jsonl", "-o", "m.png",
                            "--from", "199ms", "--to", "330ms")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertImage("m.png")

    def test_messages_cap(self):
        self.write_trace("many.jsonl", synth.many_messages(1000))
        r = self.run_script("plot_messages.py", "many.jsonl", "-o", "m.svg")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertImage("m.svg")
        with open(self.path("m.svg")) as f:
            self.assertIn("first 400 of 1000", f.read())

    def test_run_sh_launcher(self):
        self.write_trace("t.jsonl")
        r = subprocess.run([os.path.join(synth.analysis_dir(), "run.sh"), "plot_timeline.py",
                            "t.jsonl", "-o", "r.png"], cwd=self.dir, capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertImage("r.png")


@unittest.skipUnless(os.environ.get("RAFTSIM_BIN") and os.environ.get("RAFTSIM_SCENARIO"),
                     "RAFTSIM_BIN and RAFTSIM_SCENARIO not set")
@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed for this Python")
class RaftsimBinaryTest(ScriptTest):
    def raftsim(self, *args):
        r = subprocess.run([os.environ["RAFTSIM_BIN"], "run", os.environ["RAFTSIM_SCENARIO"]]
                           + list(args), cwd=self.dir, capture_output=True, text=True,
                           timeout=600)
        # 1 = the run's checks failed; the trace and summary are still written.
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)

    def test_real_trace_loads_and_plots(self):
        self.raftsim("--trace", "real.jsonl", "--trace-level", "messages", "--quiet")
        trace = rt.load_trace(self.path("real.jsonl"), messages=True)
        with open(self.path("real.jsonl")) as f:
            lines = [json.loads(line) for line in f]
        elected = sum(1 for ev in lines if ev.get("type") == "elected")
        self.assertGreater(elected, 0)
        # Every marker the timeline draws is a trace line of that type, with
        # its node, time and (for step-downs) reason.
        for kind in ("election_started", "vote_granted", "elected", "step_down"):
            expected = [(ev["t"], ev["node"], ev.get("reason")) for ev in lines
                        if ev.get("type") == kind]
            got = [(m.t, m.node, m.info.get("reason")) for m in trace.markers_of(kind)]
            self.assertEqual(got, expected, kind)
        # A leader band right after a pause continues the same leadership.
        tenures = sum(1 for ivs in trace.roles.values() for i, iv in enumerate(ivs)
                      if iv.role == "leader" and not (i and ivs[i - 1].role == "paused"))
        self.assertEqual(tenures, elected)
        self.assertTrue(trace.messages, "no send/deliver lines at --trace-level messages")

        self.raftsim("--seeds", "1..4", "--summary", "summary.json", "--quiet")
        first_ms = trace.markers_of("elected")[0].t / 1000.0
        for args in (["plot_timeline.py", "real.jsonl", "-o", "tl.png"],
                     ["plot_elections.py", "summary.json", "-o", "el.png"],
                     ["plot_messages.py", "real.jsonl", "-o", "msg.png",
                      "--from", str(max(0.0, first_ms - 20)), "--to", str(first_ms + 80)]):
            r = self.run_script(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertImage(args[args.index("-o") + 1])


if __name__ == "__main__":
    unittest.main()
