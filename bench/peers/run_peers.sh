#!/usr/bin/env bash
# Build and run the peer benchmark harnesses; print one JSON line per run.
#
#   bench/peers/run_peers.sh [--quick]
#
# BUILD_DIR (default build/peers under the repository root) receives the
# binaries. --quick runs a tenth of the sizes (10,000 writes, 100 failovers,
# 1,000 failover trials, 2,000,000 bare-loop events) for CI. A peer whose Debian package is missing is
# reported as {"peer":...,"skipped":"reason"} and does not fail the script; a
# harness that fails to build or run is reported with "error" and makes the
# script exit 1 at the end.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="${BUILD_DIR:-$repo/build/peers}"
mkdir -p "$build"
build="$(cd "$build" && pwd)"

writes=100000
failovers=1000
trials=10000
loop_events=20000000
if [ "${1:-}" = "--quick" ]; then
    writes=10000
    failovers=100
    trials=1000
    loop_events=2000000
elif [ -n "${1:-}" ]; then
    echo "usage: $0 [--quick]" >&2
    exit 2
fi

status=0
limit=1800 # seconds per run; the slowest full-size run takes well under this

json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\n' ' ' | cut -c1-300; }

# run PEER WORKLOAD CMD...: print the harness's JSON line, or an error line.
run() {
    local peer="$1" workload="$2"
    shift 2
    local out rc
    out="$(timeout "$limit" "$@" 2>"$build/$peer-$workload.stderr")"
    rc=$?
    if [ $rc -eq 0 ] && [ -n "$out" ]; then
        echo "$out"
    else
        local why
        why="$(tail -c 300 "$build/$peer-$workload.stderr" | json_escape)"
        echo "{\"peer\":\"$peer\",\"workload\":\"$workload\",\"error\":\"exit $rc: $why\"}"
        status=1
    fi
}

# ---- bare event loop (the ceiling; no dependencies) ------------------------
if command -v c++ >/dev/null 2>&1; then
    if c++ -O2 -std=c++17 -o "$build/bare_loop" "$repo/bench/bare_loop/bare_loop.cc" \
        2>"$build/bare_loop.build.log"; then
        out="$(timeout "$limit" "$build/bare_loop" "$loop_events")" && echo "$out" ||
            { echo '{"bench":"bare_loop","error":"run failed"}'; status=1; }
    else
        echo '{"bench":"bare_loop","error":"build failed, see bare_loop.build.log"}'
        status=1
    fi
else
    echo '{"bench":"bare_loop","skipped":"no C++ compiler"}'
fi

# ---- canonical/raft (libraft-dev) -------------------------------------------
cc="${CC:-cc}"
if [ ! -f /usr/include/raft/fixture.h ]; then
    echo '{"peer":"canonical-raft","skipped":"libraft-dev not installed (no raft/fixture.h)"}'
elif ! command -v "$cc" >/dev/null 2>&1; then
    echo '{"peer":"canonical-raft","skipped":"no C compiler"}'
elif ! "$cc" -O2 -Wall -o "$build/canonical_raft_bench" "$here/canonical_raft_bench.c" -lraft \
    2>"$build/canonical_raft_bench.build.log"; then
    echo '{"peer":"canonical-raft","error":"build failed, see canonical_raft_bench.build.log"}'
    status=1
else
    run canonical-raft replication "$build/canonical_raft_bench" replication "$writes"
    run canonical-raft replication_batch64 "$build/canonical_raft_bench" replication_batch64 "$writes"
    run canonical-raft failover "$build/canonical_raft_bench" failover "$failovers"
    run canonical-raft failover_trials "$build/canonical_raft_bench" failover_trials "$trials"
fi

# ---- etcd raft (golang-etcd-server-dev, golang-go) --------------------------
# Built in GOPATH mode against the Debian source tree: no module download.
etcd_src=/usr/share/gocode/src/go.etcd.io/etcd/raft
if ! command -v go >/dev/null 2>&1; then
    echo '{"peer":"etcd-raft","skipped":"golang-go not installed"}'
elif [ ! -f "$etcd_src/rawnode.go" ]; then
    echo '{"peer":"etcd-raft","skipped":"golang-etcd-server-dev not installed (no go.etcd.io/etcd/raft)"}'
else
    gopath="$build/gopath"
    mkdir -p "$gopath/src/raftsimbench/etcdpeer"
    cp "$here/etcd/main.go" "$gopath/src/raftsimbench/etcdpeer/main.go"
    if ! env -u GOFLAGS GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" \
        GOCACHE="$build/go-cache" GOPROXY=off \
        go build -o "$build/etcd_raft_bench" raftsimbench/etcdpeer \
        2>"$build/etcd_raft_bench.build.log"; then
        echo '{"peer":"etcd-raft","error":"build failed, see etcd_raft_bench.build.log"}'
        status=1
    else
        run etcd-raft replication "$build/etcd_raft_bench" replication "$writes"
        run etcd-raft failover "$build/etcd_raft_bench" failover "$failovers"
    fi
fi

exit $status
