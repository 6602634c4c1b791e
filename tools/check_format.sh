#!/usr/bin/env bash
# Fails if any C++ source differs from .clang-format's layout.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cc' '*.h' 2>/dev/null || find raft sim tests bench -name '*.cc' -o -name '*.h')
clang-format --dry-run --Werror $files
echo "format: $(echo "$files" | wc -w) files clean"
# No function over 70 lines may grow (issue #15); the ratchet file lists them.
python3 tools/function_lengths.py tools/function_lengths.txt
