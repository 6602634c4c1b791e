/*
 * Peer benchmark: canonical/raft (libraft) driven through its deterministic
 * in-memory cluster, raft_fixture.
 *
 * Workloads (see README.md in this folder for the shared definition):
 *   replication  5 voters, 15 ms one-way latency, 10 ms disk writes, election
 *                timeout 1000-2000 ms, heartbeat 100 ms; N client writes of
 *                8 bytes submitted to the leader at once; stop when every node
 *                has applied all of them.
 *   failover     same cluster; K times: crash the leader at a random instant
 *                of a 10 s slot, restart it 6 s later.
 *   failover_trials  same cluster; N trials of: step until a stable leader,
 *                a random extra 0-999 ms, kill the leader, step until a new
 *                leader is stable, revive the old one (failoverTrials()).
 *
 * Usage: canonical_raft_bench replication [writes] [seed]
 *        canonical_raft_bench replication_batch64 [writes] [seed]
 *        canonical_raft_bench failover [cycles] [seed]
 *        canonical_raft_bench failover_trials [trials] [seed]
 * Output: one JSON line on stdout.
 *
 * How the fixture maps the workload, and where it cannot:
 *  - Time: the fixture has one global clock in milliseconds and advances it to
 *    the next event (tick, disk completion, message delivery) in
 *    raft_fixture_step(); one step fires one event.
 *  - Latencies: raft_fixture_set_network_latency(15) and
 *    raft_fixture_set_disk_latency(10) on every server (constant, as asked).
 *  - Election timeout: the fixture's raft_io->random() returns a fixed value
 *    per server (by default 1000 + i*100), so libraft's own 1x..2x
 *    randomization never happens. To get the same randomization as the other
 *    simulators, an event hook draws a fresh value in [1000, 2000) ms for the
 *    server that just handled an event; libraft reads it the next time it
 *    resets its election timer.
 *  - check_quorum: libraft always does it (a leader steps down after an
 *    election timeout without hearing from a majority). Pre-vote: off
 *    (raft_set_pre_vote(false), also the default).
 *  - In-flight limit: libraft has no knob for it; in pipeline mode it sends
 *    every new batch of entries to each follower as soon as it is appended.
 *    This is a deviation in the peer's favour or disfavour, not a choice of
 *    ours; see README.md.
 *  - Crash / restart: raft_fixture_kill() / raft_fixture_revive() are the only
 *    crash primitives. They cut the server off and stop its ticks, then
 *    reconnect it; the in-memory raft state is kept (a freeze, not a reboot
 *    from durable state). The revived ex-leader steps down on the first
 *    message with a higher term, as a rebooted one would ignore the old term.
 *  - Snapshots: the FSM supports them and libraft's default threshold (1024
 *    entries, 128 trailing) is kept, the same threshold raftsim uses by
 *    default, so the log does not grow without bound.
 *  - Invariant checks: raft_fixture_step() itself checks election safety and
 *    leader append-only on every step (it copies the stable leader's log to do
 *    so). That cost is part of the peer and is not disabled.
 */

#define _POSIX_C_SOURCE 200809L
#include <raft.h>
#include <raft/fixture.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_SERVERS 5
#define NETWORK_LATENCY_MS 15
#define DISK_LATENCY_MS 10
#define ELECTION_TIMEOUT_MS 1000
#define HEARTBEAT_MS 100
#define ENTRY_SIZE 8

#define FAILOVER_SLOT_MS 10000
#define FAILOVER_DOWN_MS 6000
/* The crash instant is uniform in [0, 4 s) of each 10 s slot, so the restart
 * (6 s later) lands before the next slot begins. */
#define FAILOVER_CRASH_WINDOW_MS 4000

static void die(const char *what, int rv)
{
    fprintf(stderr, "canonical_raft_bench: %s failed: %d\n", what, rv);
    exit(1);
}

/* ---- random numbers: xorshift64*, seeded from the command line ---------- */

static uint64_t rng_state = 1;
static uint64_t rngNext(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static double nowSeconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- FSM: counts applied writes; state is 16 bytes ---------------------- */

struct counter
{
    uint64_t applied; /* client writes applied (no-ops/config never reach apply) */
    uint64_t sum;     /* sum of payloads, so the apply does touch the data */
};

static struct counter counters[N_SERVERS];
static struct raft_fsm fsms[N_SERVERS];

static int fsmApply(struct raft_fsm *fsm,
                    const struct raft_buffer *buf,
                    void **result)
{
    struct counter *c = fsm->data;
    uint64_t v;
    memcpy(&v, buf->base, sizeof v);
    c->applied++;
    c->sum += v;
    *result = NULL;
    return 0;
}

static int fsmSnapshot(struct raft_fsm *fsm,
                       struct raft_buffer *bufs[],
                       unsigned *n_bufs)
{
    struct counter *c = fsm->data;
    *bufs = raft_malloc(sizeof **bufs);
    if (*bufs == NULL) {
        return RAFT_NOMEM;
    }
    (*bufs)[0].len = sizeof *c;
    (*bufs)[0].base = raft_malloc(sizeof *c);
    if ((*bufs)[0].base == NULL) {
        return RAFT_NOMEM;
    }
    memcpy((*bufs)[0].base, c, sizeof *c);
    *n_bufs = 1;
    return 0;
}

static int fsmSnapshotFinalize(struct raft_fsm *fsm,
                               struct raft_buffer *bufs[],
                               unsigned *n_bufs)
{
    unsigned i;
    (void)fsm;
    for (i = 0; i < *n_bufs; i++) {
        raft_free((*bufs)[i].base);
    }
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

static int fsmRestore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct counter *c = fsm->data;
    memcpy(c, buf->base, sizeof *c);
    raft_free(buf->base);
    return 0;
}

/* ---- event hook: election-timeout randomization and election counting --- */

static unsigned short last_state[N_SERVERS];
static raft_term last_campaign_term[N_SERVERS];
static uint64_t n_elected;   /* times a server became leader */
static uint64_t n_campaigns; /* elections started (candidate, new term) */
static uint64_t n_events;    /* raft_fixture_step() calls that fired an event */

static void randomizeTimeout(struct raft_fixture *f, unsigned i)
{
    raft_fixture_set_randomized_election_timeout(
        f, i, ELECTION_TIMEOUT_MS + (unsigned)(rngNext() % ELECTION_TIMEOUT_MS));
}

static void hook(struct raft_fixture *f, struct raft_fixture_event *event)
{
    unsigned i = event->server_index;
    struct raft *r = raft_fixture_get(f, i);
    unsigned short state = (unsigned short)raft_state(r);
    n_events++;
    if (state == RAFT_CANDIDATE && r->current_term != last_campaign_term[i]) {
        last_campaign_term[i] = r->current_term;
        n_campaigns++;
    }
    if (state == RAFT_LEADER && last_state[i] != RAFT_LEADER) {
        n_elected++;
    }
    last_state[i] = state;
    randomizeTimeout(f, i);
}

/* ---- cluster ------------------------------------------------------------ */

static void clusterSetUp(struct raft_fixture *f)
{
    struct raft_configuration conf;
    unsigned i;
    int rv;

    /* raft_fixture_initialize() leaves parts of the servers' state (such as
     * the tracer's "enabled" flag) uninitialized; zero it first. */
    memset(f, 0, sizeof *f);
    rv = raft_fixture_initialize(f);
    if (rv != 0) die("raft_fixture_initialize", rv);
    for (i = 0; i < N_SERVERS; i++) {
        memset(&fsms[i], 0, sizeof fsms[i]);
        fsms[i].version = 2;
        fsms[i].data = &counters[i];
        fsms[i].apply = fsmApply;
        fsms[i].snapshot = fsmSnapshot;
        fsms[i].snapshot_finalize = fsmSnapshotFinalize;
        fsms[i].restore = fsmRestore;
        rv = raft_fixture_grow(f, &fsms[i]);
        if (rv != 0) die("raft_fixture_grow", rv);
        /* Debug tracing off, as in the other simulators' benchmark runs. */
        f->servers[i].tracer.enabled = false;
    }
    for (i = 0; i < N_SERVERS; i++) {
        struct raft *r = raft_fixture_get(f, i);
        raft_set_election_timeout(r, ELECTION_TIMEOUT_MS);
        raft_set_heartbeat_timeout(r, HEARTBEAT_MS);
        raft_set_pre_vote(r, false);
        raft_fixture_set_network_latency(f, i, NETWORK_LATENCY_MS);
        raft_fixture_set_disk_latency(f, i, DISK_LATENCY_MS);
        randomizeTimeout(f, i);
    }
    rv = raft_fixture_configuration(f, N_SERVERS, &conf);
    if (rv != 0) die("raft_fixture_configuration", rv);
    rv = raft_fixture_bootstrap(f, &conf);
    if (rv != 0) die("raft_fixture_bootstrap", rv);
    raft_configuration_close(&conf);
    rv = raft_fixture_start(f);
    if (rv != 0) die("raft_fixture_start", rv);
    raft_fixture_hook(f, hook);
}

/* The live leader with the highest term, or N_SERVERS if there is none. */
static unsigned liveLeader(struct raft_fixture *f)
{
    unsigned i, best = N_SERVERS;
    raft_term best_term = 0;
    for (i = 0; i < N_SERVERS; i++) {
        struct raft *r = raft_fixture_get(f, i);
        if (raft_fixture_alive(f, i) && raft_state(r) == RAFT_LEADER &&
            r->current_term >= best_term) {
            best = i;
            best_term = r->current_term;
        }
    }
    return best;
}

static unsigned waitForLeader(struct raft_fixture *f, raft_time limit)
{
    unsigned l;
    while ((l = liveLeader(f)) == N_SERVERS) {
        if (raft_fixture_time(f) > limit) {
            fprintf(stderr, "canonical_raft_bench: no leader by %" PRIu64 " ms\n",
                    (uint64_t)raft_fixture_time(f));
            exit(1);
        }
        raft_fixture_step(f);
    }
    return l;
}

/* ---- workloads ---------------------------------------------------------- */

static void applyCb(struct raft_apply *req, int status, void *result)
{
    (void)req;
    (void)result;
    if (status != 0) {
        fprintf(stderr, "canonical_raft_bench: write failed: %d\n", status);
        exit(1);
    }
}

/* batch = 1: one raft_apply() per client write (the workload as defined).
 * batch = 64: the client hands libraft up to 64 writes per raft_apply() call,
 * still one 8-byte log entry per write. libraft has no in-flight limit and
 * sends each raft_apply() to every follower as its own AppendEntries, so this
 * variant shows it with the same 64 entries per message that raftsim uses;
 * it is reported under its own workload name, never as "replication". */
static int replication(uint64_t writes, unsigned batch)
{
    struct raft_fixture f;
    struct raft_apply *reqs;
    struct raft *leader;
    raft_time t0;
    double w0, w1, virt;
    uint64_t i, events0;
    unsigned l;
    bool done;

    clusterSetUp(&f);
    l = waitForLeader(&f, 60000);
    leader = raft_fixture_get(&f, l);

    reqs = calloc(writes, sizeof *reqs);
    if (reqs == NULL) die("calloc", 0);

    /* The clock starts before the writes are submitted: submitting is part of
     * the work measured, as it is for the other simulators. */
    w0 = nowSeconds();
    t0 = raft_fixture_time(&f);
    events0 = n_events;
    for (i = 0; i < writes; i += batch) {
        /* Each client write is one 8-byte command = one log entry. */
        struct raft_buffer bufs[64];
        unsigned n = (unsigned)(writes - i < batch ? writes - i : batch);
        unsigned j;
        int rv;
        for (j = 0; j < n; j++) {
            uint64_t v = i + j;
            bufs[j].len = ENTRY_SIZE;
            bufs[j].base = raft_malloc(ENTRY_SIZE);
            if (bufs[j].base == NULL) die("raft_malloc", 0);
            memcpy(bufs[j].base, &v, ENTRY_SIZE);
        }
        rv = raft_apply(leader, &reqs[i], bufs, n, applyCb);
        if (rv != 0) die("raft_apply", rv);
    }
    do {
        raft_fixture_step(&f);
        done = true;
        for (l = 0; l < N_SERVERS; l++) {
            if (counters[l].applied < writes) {
                done = false;
                break;
            }
        }
        if (raft_fixture_time(&f) - t0 > 24ull * 3600 * 1000) {
            fprintf(stderr, "canonical_raft_bench: replication did not finish\n");
            exit(1);
        }
    } while (!done);
    w1 = nowSeconds();
    virt = (double)(raft_fixture_time(&f) - t0) / 1000.0;

    printf("{\"peer\":\"canonical-raft\",\"workload\":\"%s\","
           "\"writes\":%" PRIu64 ",\"wall_s\":%.6f,\"virtual_s\":%.3f,"
           "\"entries_per_s\":%.0f,\"virtual_per_wall\":%.6g,\"steps\":%" PRIu64 "}\n",
           batch == 1 ? "replication" : "replication_batch64", writes, w1 - w0,
           virt, (double)writes / (w1 - w0), virt / (w1 - w0), n_events - events0);
    /* The fixture is not closed: freeing 100k requests' worth of state is not
     * part of the workload, and the process exits right away. */
    free(reqs);
    return 0;
}

static void stepUntil(struct raft_fixture *f, raft_time t)
{
    /* raft_fixture_step() jumps to the next event, which may lie past t; the
     * crash or restart then happens at that event's time. Events are at most
     * one tick (100 ms, the heartbeat) apart in a live cluster. */
    while (raft_fixture_time(f) < t) {
        raft_fixture_step(f);
    }
}

static int failover(uint64_t cycles)
{
    struct raft_fixture f;
    raft_time t0, slot;
    double w0, w1, virt;
    uint64_t k, elected0, campaigns0, events0, late = 0;

    clusterSetUp(&f);
    waitForLeader(&f, 60000);

    w0 = nowSeconds();
    t0 = raft_fixture_time(&f);
    elected0 = n_elected;
    events0 = n_events;
    campaigns0 = n_campaigns;
    for (k = 0; k < cycles; k++) {
        unsigned victim;
        slot = t0 + k * FAILOVER_SLOT_MS;
        stepUntil(&f, slot + rngNext() % FAILOVER_CRASH_WINDOW_MS);
        victim = liveLeader(&f);
        if (victim == N_SERVERS) {
            /* No leader at that instant (an election is still running): crash
             * the next one as soon as it exists. */
            late++;
            victim = waitForLeader(&f, raft_fixture_time(&f) + 60000);
        }
        raft_fixture_kill(&f, victim);
        stepUntil(&f, raft_fixture_time(&f) + FAILOVER_DOWN_MS);
        raft_fixture_revive(&f, victim);
        stepUntil(&f, slot + FAILOVER_SLOT_MS);
    }
    w1 = nowSeconds();
    virt = (double)(raft_fixture_time(&f) - t0) / 1000.0;

    printf("{\"peer\":\"canonical-raft\",\"workload\":\"failover\","
           "\"failovers\":%" PRIu64 ",\"wall_s\":%.6f,\"virtual_s\":%.3f,"
           "\"virtual_per_wall\":%.6g,\"elections\":%" PRIu64
           ",\"elections_started\":%" PRIu64 ",\"crash_delayed\":%" PRIu64
           ",\"steps\":%" PRIu64 "}\n",
           cycles, w1 - w0, virt, virt / (w1 - w0), n_elected - elected0,
           n_campaigns - campaigns0, late, n_events - events0);
    return 0;
}

/* The failover trial as the fixture defines it: step until there is a stable
 * leader (raft_fixture_step_until_has_leader: the live leader with the
 * highest term, acknowledged by every live follower connected to it, which
 * with it form a majority), step on for a random extra 0-999 ms, kill the
 * leader, step until a new leader (another server) is stable, revive the old
 * one.
 * bench/failover_trials/failover_trials.cc runs the same trial on raftsim. */
static bool hasStableLeaderOtherThan(struct raft_fixture *f, void *arg)
{
    unsigned excluded = *(unsigned *)arg;
    return f->leader_id != 0 && f->leader_id != excluded;
}

/* Step until the fixture's stable leader exists and is not server id
 * @excluded (0 for any). The fixture updates its leader only in
 * raft_fixture_step(), so right after a kill it still names the killed
 * server: raft_fixture_step_until_has_leader() would return at once. */
static void stepUntilHasLeader(struct raft_fixture *f, unsigned excluded)
{
    if (!raft_fixture_step_until(f, hasStableLeaderOtherThan, &excluded, 60000)) {
        fprintf(stderr, "canonical_raft_bench: no stable leader for 60 s at %" PRIu64 " ms\n",
                (uint64_t)raft_fixture_time(f));
        exit(1);
    }
}

static int failoverTrials(uint64_t trials)
{
    struct raft_fixture f;
    raft_time t0;
    double w0, w1;
    uint64_t k, elected0, events0, gone = 0;

    clusterSetUp(&f);
    w0 = nowSeconds();
    t0 = raft_fixture_time(&f);
    elected0 = n_elected;
    events0 = n_events;
    for (k = 0; k < trials; k++) {
        unsigned victim;
        stepUntilHasLeader(&f, 0);
        raft_fixture_step_until_elapsed(&f, (unsigned)(rngNext() % 1000));
        victim = raft_fixture_leader_index(&f);
        if (victim == N_SERVERS) {
            gone++;
            stepUntilHasLeader(&f, 0);
            victim = raft_fixture_leader_index(&f);
        }
        raft_fixture_kill(&f, victim);
        stepUntilHasLeader(&f, victim + 1);
        raft_fixture_revive(&f, victim);
    }
    w1 = nowSeconds();

    printf("{\"peer\":\"canonical-raft\",\"workload\":\"failover_trials\","
           "\"trials\":%" PRIu64 ",\"wall_s\":%.6f,\"trials_per_s\":%.1f,"
           "\"virtual_s\":%.3f,\"elections\":%" PRIu64 ",\"leader_gone_at_kill\":%" PRIu64
           ",\"steps\":%" PRIu64 "}\n",
           trials, w1 - w0, (double)trials / (w1 - w0),
           (double)(raft_fixture_time(&f) - t0) / 1000.0, n_elected - elected0, gone,
           n_events - events0);
    return 0;
}

int main(int argc, char **argv)
{
    const char *workload = argc > 1 ? argv[1] : "replication";
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    if (strcmp(workload, "replication") == 0) {
        return replication(argc > 2 ? strtoull(argv[2], NULL, 10) : 100000, 1);
    }
    if (strcmp(workload, "replication_batch64") == 0) {
        return replication(argc > 2 ? strtoull(argv[2], NULL, 10) : 100000, 64);
    }
    if (strcmp(workload, "failover") == 0) {
        return failover(argc > 2 ? strtoull(argv[2], NULL, 10) : 1000);
    }
    if (strcmp(workload, "failover_trials") == 0) {
        return failoverTrials(argc > 2 ? strtoull(argv[2], NULL, 10) : 10000);
    }
    fprintf(stderr, "usage: %s replication|replication_batch64|failover|failover_trials [count] [seed]\n",
            argv[0]);
    return 2;
}
