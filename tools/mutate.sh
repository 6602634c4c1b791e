#!/usr/bin/env bash
# Mutation testing (docs/fuzzing.md, "Mutation testing"): applies each patch
# of tests/mutants/ to a scratch copy of the source tree (never to this
# checkout), builds raftsim there with ccache, runs the scenario library and a
# fuzz campaign against the mutant, and prints one table row per mutant: the
# scenarios that caught it, how many of the fuzz seeds caught it (and the
# first), and the signature of the first failing seed.
#
#   tools/mutate.sh [--seeds N] [--start S] [--jobs J] [--max-events N]
#                   [--scratch DIR] [--results PATH] [MUTANT...]
#
# MUTANT is a patch's name without .patch (default: every patch). A patch
# whose header has a line "# equivalent: REASON" is a mutant that cannot
# change behaviour; it is run all the same, and listed with its reason (a
# catch would prove the reason wrong, and says so). Exit 0 when every
# non-equivalent mutant was caught, 1 if not, 2 on bad usage or a mutant
# that no longer applies or builds.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
seeds=2000
start=0
jobs=2
max_events=2000000
scratch=${TMPDIR:-/tmp}/raftsim-mutate
results=
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --start) start=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --max-events) max_events=$2; shift 2 ;;
    --scratch) scratch=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutate.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  for p in "$repo"/tests/mutants/*.patch; do names+=("$(basename "$p" .patch)"); done
fi
for n in "${names[@]}"; do
  [ -f "$repo/tests/mutants/$n.patch" ] || { echo "mutate.sh: no mutant tests/mutants/$n.patch" >&2; exit 2; }
done

# The scratch copy holds the checkout's files as they are now (committed or
# not). Only files whose content differs are overwritten, so they alone get a
# new timestamp: the build directory persists between runs, and make then
# recompiles only what a patch (or the checkout) changed.
src=$scratch/src
mkdir -p "$src" "$scratch/build" "$scratch/stage"
rm -rf "$scratch/stage"/*
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
  (cd "$scratch/stage" && tar -xf -)
(cd "$scratch/stage" && find . -type f) | while IFS= read -r f; do
  if ! cmp -s "$scratch/stage/$f" "$src/$f"; then
    mkdir -p "$(dirname "$src/$f")"
    cp "$scratch/stage/$f" "$src/$f"
  fi
done
cmake -S "$src" -B "$scratch/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
build() { cmake --build "$scratch/build" -j"$jobs" --target raftsim >"$scratch/build.log" 2>&1; }
build || { echo "mutate.sh: the unmutated tree does not build (see $scratch/build.log)" >&2; exit 2; }
raftsim=$scratch/build/raftsim

row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
echo "fuzz: seeds $start..$((start + seeds - 1)), --max-events $max_events"
echo
row mutant "caught by scenarios" "caught by fuzz (seeds, first)" signature note
row --- --- --- --- ---
[ -n "$results" ] && : >"$results"
missed=0
for n in "${names[@]}"; do
  patch=$repo/tests/mutants/$n.patch
  equivalent=$(sed -n 's/^# equivalent: //p' "$patch")
  if ! (cd "$src" && git apply "$patch"); then
    echo "mutate.sh: $n no longer applies" >&2
    exit 2
  fi
  revert() { (cd "$src" && git apply -R "$patch"); }
  if ! build; then
    revert
    echo "mutate.sh: $n does not build (see $scratch/build.log)" >&2
    exit 2
  fi
  caught_by=()
  for f in "$src"/scenarios/*.json; do
    "$raftsim" run --quiet "$f" >/dev/null 2>&1 || caught_by+=("$(basename "$f" .json)")
  done
  out=$scratch/fuzz-$n
  rm -rf "$out"
  # No seed files: under a mutant most seeds may fail, and each trace can take
  # hundreds of megabytes (one mutant filled 75 GB). Only the first failing
  # seed is rerun with its files below, for the full signature.
  "$raftsim" fuzz --start "$start" --seeds "$seeds" --jobs "$jobs" --max-events "$max_events" \
    --no-seed-files --results "$out.jsonl" >/dev/null 2>&1 || true
  # failing seeds, first failing seed, its signature
  read -r failed first signature < <(python3 - "$out.jsonl" <<'EOF'
import json, sys
fails = [r for r in map(json.loads, open(sys.argv[1])) if r["result"] != "pass"]
fails.sort(key=lambda r: r["seed"])
print(len(fails), fails[0]["seed"] if fails else "-", fails[0]["signature"] if fails else "-")
EOF
  )
  if [ "$first" != - ]; then
    "$raftsim" fuzz --seed "$first" --max-events "$max_events" --out "$out" \
      --results "$out.first.jsonl" >/dev/null 2>&1 || true
    signature=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["signature"])' "$out.first.jsonl")
    rm -rf "$out" "$out.first.jsonl"
  fi
  revert
  scen=$(IFS=,; echo "${caught_by[*]:-}")
  scen=${scen//,/, }
  # The table names at most three of them; --results has them all.
  shown=$(IFS=,; echo "${caught_by[*]:0:3}")
  shown=${shown//,/, }
  [ ${#caught_by[@]} -gt 3 ] && shown="$shown, …"
  fuzz="$failed/$seeds ($(python3 -c "print(f'{100*$failed/$seeds:.1f}')") %)"
  [ "$failed" -gt 0 ] && fuzz="$fuzz, first $first"
  note=
  caught=$([ "$failed" -gt 0 ] || [ ${#caught_by[@]} -gt 0 ] && echo yes || echo no)
  if [ -n "$equivalent" ]; then
    note="equivalent: $equivalent"
    [ "$caught" = yes ] && note="NOT EQUIVALENT (claimed: $equivalent)"
  elif [ "$caught" = no ]; then
    note="MISSED"
    missed=$((missed + 1))
  fi
  row "$n" "${#caught_by[@]}${shown:+: $shown}" "$fuzz" "$signature" "$note"
  if [ -n "$results" ]; then
    python3 -c 'import json,sys; print(json.dumps(dict(mutant=sys.argv[1], scenarios=sys.argv[2].split(", ") if sys.argv[2] else [], fuzz_failed=int(sys.argv[3]), seeds=int(sys.argv[4]), first_seed=None if sys.argv[5]=="-" else int(sys.argv[5]), signature=sys.argv[6], equivalent=sys.argv[7] or None)))' \
      "$n" "$scen" "$failed" "$seeds" "$first" "$signature" "$equivalent" >>"$results"
  fi
done
[ "$missed" -eq 0 ]
