#!/usr/bin/env bash
# Golden digests: the digest of every shipped scenario, kept in
# tests/golden_digests.txt so that a change to the simulation's behaviour is
# noticed in review.
#   tools/golden_digests.sh RAFTSIM            compare (exit 1 on a difference)
#   tools/golden_digests.sh RAFTSIM --update   rewrite the file
set -euo pipefail
cd "$(dirname "$0")/.."
raftsim=${1:?usage: tools/golden_digests.sh RAFTSIM [--update]}
golden=tests/golden_digests.txt
current=$(mktemp)
trap 'rm -f "$current"' EXIT
for f in scenarios/*.json scenarios/planted/*.json; do
  digest=$("$raftsim" run --quiet "$f" 2>/dev/null | grep -o 'digest=[0-9a-f]*' | head -n1 || true)
  echo "$f ${digest#digest=}" >>"$current"
done
if [[ ${2:-} == --update ]]; then
  cp "$current" "$golden"
  echo "golden digests: wrote $(wc -l <"$golden") to $golden"
  exit 0
fi
if ! diff -u "$golden" "$current"; then
  echo "golden digests differ: the simulation's behaviour changed." >&2
  echo "If that is intended, regenerate with: tools/golden_digests.sh $raftsim --update" >&2
  exit 1
fi
echo "golden digests: $(wc -l <"$golden") scenarios match"
