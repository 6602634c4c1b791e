#!/usr/bin/env bash
# Output writing never destroys data: devices, FIFOs and symlinks are written
# in place, an output may not be an input or another output, and a write
# that fails (a full device, stdout included) is exit code 2 with the reason.
RAFTSIM=$1 SRC=$2 WORK=$3
. "$(dirname "$0")/lib.sh"
rm -rf "$WORK" && mkdir -p "$WORK"
scenario="$WORK/scenario.json"
cp "$SRC/scenarios/leader_loses_quorum.json" "$scenario"
cp "$scenario" "$WORK/original.json"

# An output equal to an input is refused and the input is left as it was.
expect_rc 2 "--trace onto the scenario" "$RAFTSIM" run "$scenario" --trace "$scenario" &&
  expect_err "would destroy the input" "--trace onto the scenario"
cmp -s "$scenario" "$WORK/original.json" || fail "--trace onto the scenario changed it"
expect_rc 2 "--trace onto the scenario by another name" \
  "$RAFTSIM" run "$scenario" --trace "$WORK/./scenario.json"
ln -s scenario.json "$WORK/alias.json"
expect_rc 2 "--chrome-trace onto a symlink to the scenario" \
  "$RAFTSIM" run "$scenario" --chrome-trace "$WORK/alias.json"
expect_rc 2 "--summary onto the scenario" \
  "$RAFTSIM" run "$scenario" --seeds 1..2 --summary "$scenario"
cmp -s "$scenario" "$WORK/original.json" || fail "an output onto the scenario changed it"
expect_rc 2 "--trace and --chrome-trace the same new file" \
  "$RAFTSIM" run "$scenario" --trace "$WORK/x.json" --chrome-trace "$WORK/x.json" &&
  expect_err "name the same file" "--trace and --chrome-trace"
[ -e "$WORK/x.json" ] && fail "a refused run created its output"
cp "$scenario" "$WORK/to_shrink.json"
expect_rc 2 "shrink --out onto its input" "$RAFTSIM" shrink "$WORK/to_shrink.json" --out "$WORK/to_shrink.json"

# A symlink is written through, and stays a symlink.
: >"$WORK/target.jsonl"
ln -s target.jsonl "$WORK/link.jsonl"
expect_rc 0 "--trace to a symlink" "$RAFTSIM" run "$scenario" --trace "$WORK/link.jsonl"
[ -L "$WORK/link.jsonl" ] || fail "--trace replaced the symlink"
[ -s "$WORK/target.jsonl" ] || fail "--trace to a symlink did not reach its target"

# A FIFO is written in place (a reader gets the trace), and stays a FIFO;
# with --chrome-trace too, which is converted from a scratch copy.
mkfifo "$WORK/fifo"
cat "$WORK/fifo" >"$WORK/from_fifo.jsonl" &
reader=$!
expect_rc 0 "--trace to a FIFO" "$RAFTSIM" run "$scenario" --trace "$WORK/fifo" \
  --chrome-trace "$WORK/chrome.json"
wait "$reader"
[ -p "$WORK/fifo" ] || fail "--trace replaced the FIFO"
expect_rc 0 "the same run to a file" "$RAFTSIM" run "$scenario" --trace "$WORK/file.jsonl"
cmp -s "$WORK/from_fifo.jsonl" "$WORK/file.jsonl" || fail "the FIFO did not carry the whole trace"
[ -s "$WORK/chrome.json" ] || fail "no Chrome trace beside a FIFO trace"

# Devices: written in place, never replaced; a full device is exit 2 with
# the OS reason (and, as root, /dev/full must survive).
expect_rc 0 "--trace to /dev/null" "$RAFTSIM" run "$scenario" --trace /dev/null --chrome-trace /dev/null
[ -c /dev/null ] || fail "/dev/null is no longer a device"
if [ -c /dev/full ]; then
  expect_rc 2 "--trace to /dev/full" "$RAFTSIM" run "$scenario" --trace /dev/full &&
    expect_err "No space left on device" "--trace to /dev/full"
  [ -c /dev/full ] || fail "--trace replaced /dev/full"
  expect_rc 2 "--chrome-trace to /dev/full" "$RAFTSIM" run "$scenario" --chrome-trace /dev/full
  [ -c /dev/full ] || fail "--chrome-trace replaced /dev/full"
  expect_rc 2 "--json on a full stdout" sh -c '"$0" run "$1" --json >/dev/full' "$RAFTSIM" "$scenario" &&
    expect_err "cannot write to stdout: No space left on device" "--json on a full stdout"
  expect_rc 2 "--trace - on a full stdout" sh -c '"$0" run "$1" --trace - >/dev/full' "$RAFTSIM" "$scenario"
  expect_rc 2 "--seeds on a full stdout" sh -c '"$0" run "$1" --seeds 1..3 >/dev/full' "$RAFTSIM" "$scenario"
  expect_rc 2 "check on a full stdout" sh -c '"$0" check "$1" >/dev/full' "$RAFTSIM" "$scenario"
fi

# A write that cannot start names the reason and leaves no .tmp behind.
expect_rc 2 "--trace into a missing directory" "$RAFTSIM" run "$scenario" --trace "$WORK/missing/t.jsonl" &&
  expect_err "No such file or directory" "--trace into a missing directory"
expect_rc 2 "--trace onto a directory" "$RAFTSIM" run "$scenario" --trace "$WORK" &&
  expect_err "is a directory" "--trace onto a directory"
ls "$WORK"/*.tmp >/dev/null 2>&1 && fail "a .tmp file was left behind: $(ls "$WORK"/*.tmp)"

# A regular file is replaced whole: the old content goes, no .tmp stays.
echo "old" >"$WORK/regular.jsonl"
expect_rc 0 "--trace over a regular file" "$RAFTSIM" run "$scenario" --trace "$WORK/regular.jsonl"
cmp -s "$WORK/regular.jsonl" "$WORK/file.jsonl" || fail "--trace over a regular file"
ls "$WORK"/*.tmp >/dev/null 2>&1 && fail "a .tmp file was left behind"
finish
