#!/usr/bin/env bash
# Test of tools/campaign.sh: a campaign split into shards run by GNU parallel
# must, once merged, give exactly the per-seed results of one process; a
# failing seed's file must replay with `raftsim run` to the same digest; and
# the merge must refuse results that disagree.
#   usage: tools/campaign_test.sh RAFTSIM [BUG]
set -euo pipefail
raftsim="$1"
bug="${2:-no_check_quorum}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "campaign_test: $*" >&2; exit 1; }

seeds=24
rc=0
"$here/campaign.sh" run --raftsim "$raftsim" --shards 3 --out "$work/c" -- --seeds "$seeds" --bug "$bug" \
  > "$work/campaign.txt" || rc=$?
[[ $rc -le 1 ]] || fail "campaign.sh exited with $rc: $(cat "$work/campaign.txt")"
single_rc=0
"$raftsim" fuzz --seeds "$seeds" --bug "$bug" --jobs 2 --results "$work/single.jsonl" --out "$work/single-out" \
  > "$work/single.txt" || single_rc=$?
[[ $rc -eq $single_rc ]] || fail "campaign exit $rc, one process exit $single_rc"
grep -q "^campaign: $seeds seeds" "$work/campaign.txt" || fail "no summary line: $(tail -n 2 "$work/campaign.txt")"

python3 - "$work/c/results.jsonl" "$work/single.jsonl" <<'PY' || fail "merged results differ from one process's"
import json, sys
merged = [json.loads(l) for l in open(sys.argv[1])]
single = [json.loads(l) for l in open(sys.argv[2])]
assert [r["seed"] for r in merged] == list(range(len(single))), "seeds missing or out of order"
assert merged == single, "per-seed results differ"
PY

# A failing seed, if the bug produced one, replays from its file.
first_fail="$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["result"] == "fail":
        print(r["seed"], r["digest"]); break' "$work/c/results.jsonl")"
if [[ $rc -eq 1 ]]; then
  [[ -n "$first_fail" ]] || fail "exit 1 but no failing seed in the results"
  read -r seed digest <<< "$first_fail"
  [[ -s "$work/c/fuzz-out/seed-$seed.trace.jsonl" ]] || fail "no trace written for seed $seed"
  replay_rc=0
  "$raftsim" run "$work/c/fuzz-out/seed-$seed.json" > "$work/replay.txt" || replay_rc=$?
  [[ $replay_rc -eq 1 ]] || fail "seed $seed's file does not fail when replayed (exit $replay_rc)"
  grep -q "digest=$digest" "$work/replay.txt" || fail "seed $seed replays with another digest: $(tail -n 3 "$work/replay.txt")"
fi

# Two results files that disagree about a seed are refused.
head -n 1 "$work/single.jsonl" | sed 's/"digest":"[0-9a-f]*"/"digest":"0000000000000000"/' > "$work/bad.jsonl"
merge_rc=0
"$here/campaign.sh" merge "$work/single.jsonl" "$work/bad.jsonl" > /dev/null 2>&1 || merge_rc=$?
[[ $merge_rc -eq 2 ]] || fail "merge of disagreeing results exited $merge_rc, not 2"
echo "campaign_test: ok ($seeds seeds in 3 shards, exit $rc)"
