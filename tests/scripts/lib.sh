# Helpers for the shell tests: RAFTSIM is the binary, SRC the source tree,
# WORK a scratch directory of the test's own.
set -u
fails=0
fail() {
  echo "FAIL: $*" >&2
  fails=$((fails + 1))
}
# expect_rc WANT DESCRIPTION COMMAND...: runs COMMAND, output in $WORK/out, $WORK/err.
expect_rc() {
  local want=$1 what=$2
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$what: exit code $rc, expected $want; stderr: $(head -c 400 "$WORK/err")"
    return 1
  fi
  return 0
}
# expect_err FRAGMENT DESCRIPTION: the last command's stderr holds FRAGMENT.
expect_err() {
  grep -qF -- "$1" "$WORK/err" || fail "$2: stderr lacks \"$1\": $(head -c 400 "$WORK/err")"
}
finish() {
  if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}
