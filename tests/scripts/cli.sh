#!/usr/bin/env bash
# The command line refuses impossible numbers and unknown names with one
# clear sentence, a did-you-mean and a pointer to the command's help (exit
# 2); help shows examples, exit codes and the planted bugs; - reads stdin;
# --quiet prints only the summary line.
RAFTSIM=$1 SRC=$2 WORK=$3
. "$(dirname "$0")/lib.sh"
rm -rf "$WORK" && mkdir -p "$WORK"
scenario="$SRC/scenarios/leader_loses_quorum.json"

refused() {  # refused FRAGMENT ARGS...: exit 2, FRAGMENT and the help pointer on stderr
  local fragment=$1
  shift
  expect_rc 2 "raftsim $*" "$RAFTSIM" "$@" || return
  expect_err "$fragment" "raftsim $*"
  expect_err "Try 'raftsim" "raftsim $*"
  [ -s "$WORK/out" ] && fail "raftsim $*: printed on stdout: $(head -c 200 "$WORK/out")"
}
refused '--seed must be a whole number' run "$scenario" --seed -1
refused '--seed must be a whole number' run "$scenario" --seed 18446744073709551616
refused '--seed must be a whole number' run "$scenario" --seed 12x
refused '--jobs must be a whole number' run "$scenario" --seeds 1..3 --jobs -1
refused '--seeds must be A..B' run "$scenario" --seeds -3..-1
refused '--seeds must be A..B' run "$scenario" --seeds 1..
refused '--seeds A..B needs A <= B' run "$scenario" --seeds 5..1
refused '--jobs must be a whole number' fuzz --jobs -1
refused '--seeds must be a whole number' fuzz --seeds -5
refused 'runs past the largest seed' fuzz --start 18446744073709551615 --seeds 2
refused '--start must be a whole number' fuzz --start 18446744073709551616
refused '--nodes must be between 1 and 50' fuzz --nodes 0
refused '--nodes must be a whole number' fuzz --nodes 51
# One- and two-node clusters (#17): only families they can have, all clean.
for n in 1 2; do
  expect_rc 0 "fuzz --nodes $n" "$RAFTSIM" fuzz --nodes $n --seeds 40 --jobs 2 --out "$WORK/fuzz-$n"
done
refused '--max-runs must be a whole number' shrink "$scenario" --max-runs -1
refused '(did you mean "run"?)' rnu "$scenario"
refused "Try 'raftsim --help'" frobnicate
refused '(did you mean --seed?)' run "$scenario" --sed 3
refused '(did you mean --trace-level?)' run "$scenario" --trace-levle messages
refused "Try 'raftsim fuzz --help'" fuzz --sedes 3
refused '(did you mean "commit_prior_term"?)' fuzz --bug commit_prior

# The largest seed is a valid seed, and the last one fuzz can start at.
expect_rc 0 "--seed 2^64-1" "$RAFTSIM" run "$scenario" --quiet --seed 18446744073709551615

# Help: examples, exit codes, planted bugs.
for command in run fuzz shrink check; do
  expect_rc 0 "$command --help" "$RAFTSIM" "$command" --help
  grep -q "examples:" "$WORK/out" || fail "$command --help has no examples"
  grep -q "exit codes" "$WORK/out" || fail "$command --help has no exit codes"
done
for command in run fuzz; do
  "$RAFTSIM" "$command" --help | grep -q "demote_without_consensus" ||
    fail "$command --help does not list the planted bugs"
done

# - reads the scenario from stdin.
expect_rc 0 "check -" sh -c '"$0" check - <"$1"' "$RAFTSIM" "$scenario"
expect_rc 0 "run -" sh -c '"$0" run - --quiet <"$1"' "$RAFTSIM" "$scenario"
grep -q "^PASS - seed=1 " "$WORK/out" || fail "run - did not run stdin: $(cat "$WORK/out")"

# --quiet with --seeds prints only the summary line.
expect_rc 0 "run --seeds --quiet" "$RAFTSIM" run "$scenario" --seeds 1..4 --jobs 2 --quiet
[ "$(wc -l <"$WORK/out")" -eq 1 ] && grep -q "^PASS .* runs=4 passed=4 " "$WORK/out" ||
  fail "run --seeds --quiet printed: $(cat "$WORK/out")"
# The aggregate does not depend on --jobs (it is folded in seed order).
"$RAFTSIM" run "$scenario" --seeds 1..40 --jobs 1 --summary "$WORK/j1.json" >/dev/null
"$RAFTSIM" run "$scenario" --seeds 1..40 --jobs 2 --summary "$WORK/j2.json" >/dev/null
cmp -s "$WORK/j1.json" "$WORK/j2.json" || fail "--seeds summaries differ between --jobs 1 and 2"
finish
