#!/usr/bin/env bash
# Ctrl-C and SIGTERM always work: while blocked opening a FIFO with no
# writer, during a run and during a range of seeds. SIGINT exits 130,
# SIGTERM 143, and an interrupted run offers no command to reproduce a
# failure that did not happen. No timing is asserted: the script waits for
# the handlers to be installed (/proc/PID/status) and only bounds the wait
# for the exit generously, to catch a hang.
RAFTSIM=$1 SRC=$2 WORK=$3
. "$(dirname "$0")/lib.sh"
rm -rf "$WORK" && mkdir -p "$WORK"

# Waits until process $1 catches signal number $2 (its handler is installed).
wait_for_handler() {
  local pid=$1 bit=$(($2 - 1)) i mask
  for i in $(seq 1 600); do
    mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 1
    [ -n "$mask" ] && [ $(((0x$mask >> bit) & 1)) -eq 1 ] && return 0
    sleep 0.1
  done
  return 1
}
# Waits (at most 120 s, to catch a hang) for process $1 to exit; its code in $rc.
wait_exit() {
  local pid=$1 i
  for i in $(seq 1 1200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      rc=$?
      return 0
    fi
    sleep 0.1
  done
  kill -KILL "$pid"
  wait "$pid"
  rc=hung
  return 1
}
# signal_test NAME SIGNAL WANT_RC COMMAND...: starts COMMAND, sends SIGNAL
# once its handler is there, expects WANT_RC.
signal_test() {
  local name=$1 sig=$2 want=$3 num
  shift 3
  num=$(kill -l "$sig")
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  wait_for_handler "$pid" "$num" || fail "$name: no handler for $sig appeared"
  kill -"$sig" "$pid"
  wait_exit "$pid"
  [ "$rc" = "$want" ] || fail "$name: exit code $rc after $sig, expected $want"
}

mkfifo "$WORK/fifo"
signal_test fifo_term TERM 143 "$RAFTSIM" check "$WORK/fifo"
signal_test fifo_int INT 130 "$RAFTSIM" run "$WORK/fifo"
grep -q "interrupted" "$WORK/fifo_int.err" || fail "fifo_int: the message does not say interrupted"

# A long single run (40 virtual hours): interrupted, it prints INTERRUPTED and
# no reproduce line.
sed 's/"duration": "6s"/"duration": "144000s"/' "$SRC/scenarios/leader_loses_quorum.json" >"$WORK/long.json"
signal_test run_int INT 130 "$RAFTSIM" run "$WORK/long.json"
grep -q "^INTERRUPTED " "$WORK/run_int.out" || fail "run_int: no INTERRUPTED line: $(cat "$WORK/run_int.out")"
grep -q "reproduce" "$WORK/run_int.out" && fail "run_int: a reproduce line after an interrupt"
grep -q "^PASS\|^FAIL" "$WORK/run_int.out" && fail "run_int: PASS or FAIL after an interrupt"
signal_test run_term TERM 143 "$RAFTSIM" run "$WORK/long.json" --json
grep -q '"interrupted":true' "$WORK/run_term.out" || fail "run_term: --json does not say interrupted"
grep -q '"reproduce"' "$WORK/run_term.out" && fail "run_term: --json has a reproduce command"

# A range of seeds: the summary of what ran, no PASS ... runs=0.
signal_test seeds_int INT 130 "$RAFTSIM" run "$SRC/scenarios/leader_loses_quorum.json" \
  --seeds 1..9000000 --jobs 2 --summary "$WORK/summary.json"
grep -q "^INTERRUPTED .* runs=" "$WORK/seeds_int.out" || fail "seeds_int: no INTERRUPTED line"
grep -q "^PASS" "$WORK/seeds_int.out" && fail "seeds_int: PASS after an interrupt"
grep -q '"interrupted": true' "$WORK/summary.json" || fail "seeds_int: the summary does not say interrupted"

# shrink: a first run of 40 virtual hours that fails only at its end, so the
# signal comes during it; shrink stops, says so and writes nothing.
python3 - "$WORK/long.json" "$WORK/long_failing.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["expect"] = [{"at": "143999s", "check": "leader", "is": "none"}]
json.dump(doc, open(sys.argv[2], "w"))
PY
signal_test shrink_int INT 130 "$RAFTSIM" shrink "$WORK/long_failing.json" --out "$WORK/min.json"
grep -q "interrupted" "$WORK/shrink_int.err" || fail "shrink_int: the message does not say interrupted"
[ -e "$WORK/min.json" ] && fail "shrink_int: wrote a result before its first run finished"

# A second signal ends the process at once, even while the first one's
# clean stop is under way. (Which of the two ends it depends on timing, so
# this only checks that two signals in a row end it with 130.)
"$RAFTSIM" run "$WORK/long.json" >"$WORK/twice.out" 2>&1 &
pid=$!
wait_for_handler "$pid" 2 || fail "twice: no handler"
kill -INT "$pid"
kill -INT "$pid"
wait_exit "$pid"
[ "$rc" = 130 ] || fail "twice: exit code $rc after two SIGINTs, expected 130"
finish
