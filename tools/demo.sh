#!/usr/bin/env bash
# The main job: build raftsim, run a shipped scenario with its trace, and plot
# its election timeline.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/leader_loses_quorum.json}
name=$(basename "$scenario" .json)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2
./build/raftsim run "$scenario" --trace "build/$name.trace.jsonl"
analysis/run.sh analysis/plot_timeline.py "build/$name.trace.jsonl" -o "build/$name.timeline.png"
echo "trace:    build/$name.trace.jsonl"
echo "timeline: build/$name.timeline.png"
