#!/usr/bin/env bash
# A sharded fuzz campaign with GNU parallel, and the merge of its results.
#
#   tools/campaign.sh run [--raftsim PATH] [--shards N] [--out DIR] [-- FUZZ OPTIONS...]
#       Runs `raftsim fuzz --shard K/N` for K = 0..N-1 as parallel jobs (one
#       simulation thread each), every shard writing DIR/shard-K.jsonl
#       (--results), DIR/shard-K.log and failing seeds under DIR/fuzz-out,
#       then merges. FUZZ OPTIONS go to every shard (--seeds, --start, --bug,
#       --nodes, --duration, --time-limit ...).
#   tools/campaign.sh merge [--merged PATH] RESULTS.jsonl...
#       Merges results files (from this machine or others: see
#       docs/fuzzing.md for ssh, Slurm and Kubernetes), prints the failures
#       grouped by signature, the protocol coverage and a summary line; with
#       --merged also writes the merged lines, in seed order, to PATH.
#
# Exit codes: 0 no seed failed, 1 some seed failed, 2 bad usage, a shard that
# could not run, or results that disagree (one seed, two digests).
set -euo pipefail

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

merge() {
  local merged=""
  if [[ "${1:-}" == "--merged" ]]; then
    merged="$2"
    shift 2
  fi
  [[ $# -ge 1 ]] || usage
  python3 - "$merged" "$@" <<'PY'
import json, sys

merged_path, paths = sys.argv[1], sys.argv[2:]
by_seed = {}
for path in paths:
    try:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                    seed = int(r["seed"])
                    r["result"], r["digest"]
                except (ValueError, KeyError, TypeError) as e:
                    print(f"{path}:{number}: not a results line ({e})", file=sys.stderr)
                    sys.exit(2)
                old = by_seed.get(seed)
                if old is not None and old["digest"] != r["digest"]:
                    print(f"{path}:{number}: seed {seed} has digest {r['digest']} here and "
                          f"{old['digest']} elsewhere: the runs disagree", file=sys.stderr)
                    sys.exit(2)
                by_seed[seed] = r
    except OSError as e:
        print(f"{path}: cannot read the results file ({e.strerror})", file=sys.stderr)
        sys.exit(2)

seeds = sorted(by_seed)
failed = [by_seed[s] for s in seeds if by_seed[s]["result"] != "pass"]
groups = {}
coverage, coverage_seeds = {}, {}
events = 0
for s in seeds:
    r = by_seed[s]
    events += int(r.get("events", 0))
    for name, count in r.get("coverage", {}).items():
        coverage[name] = coverage.get(name, 0) + count
        coverage_seeds[name] = coverage_seeds.get(name, 0) + (1 if count else 0)
for r in failed:
    g = groups.setdefault(r["signature"], [0, r["seed"]])
    g[0] += 1
    g[1] = min(g[1], r["seed"])
for r in failed:
    print(f"FAIL seed {r['seed']}: {r.get('failure', '')}")
if groups:
    print("failures by signature:")
    for signature in sorted(groups):
        count, smallest = groups[signature]
        print(f"  {signature}: {count} seed{'' if count == 1 else 's'}, smallest {smallest}")
print(f"protocol coverage ({len(seeds)} seeds):")
for name in sorted(coverage):
    print(f"  {name:<26} {coverage[name]:>10} {coverage_seeds[name]:>10}")
if merged_path:
    with open(merged_path + ".tmp", "w") as out:
        for s in seeds:
            out.write(json.dumps(by_seed[s], separators=(",", ":")) + "\n")
    import os
    os.replace(merged_path + ".tmp", merged_path)
span = f"{seeds[0]}..{seeds[-1]}" if seeds else "none"
print(f"campaign: {len(seeds)} seeds ({span}), {len(failed)} failed, {events} events")
sys.exit(1 if failed else 0)
PY
}

run() {
  local raftsim="" shards=4 out="campaign-out"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --raftsim) raftsim="$2"; shift 2 ;;
      --shards) shards="$2"; shift 2 ;;
      --out) out="$2"; shift 2 ;;
      --) shift; break ;;
      *) echo "campaign.sh: unknown option \"$1\"" >&2; usage ;;
    esac
  done
  if [[ -z "$raftsim" ]]; then
    raftsim="$(cd "$(dirname "$0")/.." && pwd)/build/raftsim"
  fi
  [[ -x "$raftsim" ]] || { echo "campaign.sh: $raftsim is not an executable raftsim" >&2; exit 2; }
  [[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "campaign.sh: --shards must be a positive integer" >&2; exit 2; }
  command -v parallel >/dev/null || { echo "campaign.sh: GNU parallel is not installed" >&2; exit 2; }
  mkdir -p "$out"
  local quoted=""
  if [[ $# -gt 0 ]]; then quoted="$(printf "'%s' " "$@")"; fi
  # Each shard is one job with one simulation thread; parallel runs as many
  # at once as there are cores. A shard exits 1 when one of its seeds failed,
  # which is a result, not an error: its exit code is kept in shard-K.rc.
  seq 0 $((shards - 1)) | parallel --halt never \
    "'$raftsim' fuzz --shard {}/$shards --jobs 1 --results '$out/shard-{}.jsonl' --out '$out/fuzz-out' $quoted> '$out/shard-{}.log' 2>&1; echo \$? > '$out/shard-{}.rc'" || true
  local k rc
  for ((k = 0; k < shards; k++)); do
    rc="$(cat "$out/shard-$k.rc" 2>/dev/null || echo missing)"
    if [[ "$rc" != 0 && "$rc" != 1 ]]; then
      echo "campaign.sh: shard $k/$shards did not run (exit $rc); see $out/shard-$k.log" >&2
      tail -n 3 "$out/shard-$k.log" >&2 || true
      exit 2
    fi
  done
  local files=()
  for ((k = 0; k < shards; k++)); do files+=("$out/shard-$k.jsonl"); done
  merge --merged "$out/results.jsonl" "${files[@]}"
}

case "${1:-}" in
  run) shift; run "$@" ;;
  merge) shift; merge "$@" ;;
  *) usage ;;
esac
