#!/usr/bin/env bash
# The whole test suite in an AddressSanitizer + UndefinedBehaviorSanitizer
# build (LeakSanitizer included), failing on the first report.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" >/dev/null
cmake --build build-asan -j2
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The Python plots do not exercise C++ beyond what the other tests do.
ctest --test-dir build-asan --output-on-failure -j2 -E '^analysis_tests$' "$@"
