#!/usr/bin/env bash
# Determinism across builds: Release and Debug, g++ and clang++ must give the
# golden digests of every shipped scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
for build in "Debug g++ build-debug-gcc" "Release clang++ build-release-clang"; do
  read -r type cxx dir <<<"$build"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  cmake --build "$dir" -j2 --target raftsim >/dev/null
  echo "== $type build with $cxx"
  tools/golden_digests.sh "$dir/raftsim"
done
