#!/bin/sh
# Fuzz the scenario loader with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer (issue 7).
#
#   tools/fuzz_loader.sh [SECONDS]     (default 60)
#
# Builds build-fuzz/fuzz_loader with clang++ (Debian: clang, libclang-rt-dev),
# seeds build-fuzz/corpus from scenarios/ and tests/bad_scenarios/, and runs
# for SECONDS of wall time. Exit code 0: no finding. A finding leaves its input
# in build-fuzz/ (crash-*, leak-*, timeout-*) and a non-zero exit code;
# reproduce with build-fuzz/fuzz_loader FILE.
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build-fuzz
cxx=${CXX_FUZZ:-clang++}
mkdir -p "$out/corpus"

"$cxx" -std=c++17 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" \
  "$root/tests/fuzz_loader.cc" "$root/sim/scenario/scenario_loader.cc" "$root/sim/scenario/canonical_caps.cc" \
  "$root/sim/scenario/loader_actions.cc" "$root/sim/scenario/loader_expectations.cc" \
  "$root/sim/base/time.cc" \
  "$root/raft/types.cc" \
  -o "$out/fuzz_loader"

# Seeds: every shipped scenario and every malformed example. libFuzzer adds
# what it finds to the corpus directory, which persists between runs.
for f in "$root"/scenarios/*.json "$root"/scenarios/planted/*.json "$root"/tests/bad_scenarios/*.json; do
  [ -f "$f" ] && cp "$f" "$out/corpus/"
done

cd "$out"
# -max_len: room for the longest shipped scenario; -timeout: one input may not
# take a second; -rss_limit_mb: no input may use a lot of memory.
exec ./fuzz_loader corpus -max_total_time="$seconds" -max_len=8192 -timeout=2 -rss_limit_mb=2048 \
  -dict="$root/tests/fuzz_loader.dict" -print_final_stats=1
