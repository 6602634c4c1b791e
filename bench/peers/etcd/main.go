// Peer benchmark: etcd raft (go.etcd.io/etcd/raft, v3.4 as packaged by
// Debian) driven by a minimal single-threaded discrete-event simulator.
//
// Workloads (see ../README.md for the shared definition):
//
//	replication  5 voters, 15 ms one-way latency, 10 ms durable writes,
//	             election timeout 1000-2000 ms, heartbeat 100 ms; N client
//	             writes of 8 bytes proposed to the leader at once; stop when
//	             every node has applied all of them.
//	failover     same cluster; K times: crash the leader at a random instant
//	             of a 10 s slot, restart it 6 s later.
//
// Usage: etcd_raft_bench replication [writes] [seed]
//
//	etcd_raft_bench failover [cycles] [seed]
//
// Output: one JSON line on stdout.
//
// How the workload maps onto etcd raft:
//   - Time is virtual, in microseconds, kept by a binary heap of events ordered
//     by (time, sequence number); nothing sleeps and nothing runs in parallel.
//   - etcd raft is tick-driven: every node's RawNode.Tick() runs every 10 ms of
//     virtual time (each node with its own phase). ElectionTick = 100 and
//     HeartbeatTick = 10, so the election timeout is 1000 ms, randomized by
//     etcd itself in [ElectionTick, 2*ElectionTick) ticks = [1000, 2000) ms
//     quantized to 10 ms, and heartbeats go out every 100 ms.
//   - CheckQuorum on, PreVote off, MaxInflightMsgs = 64. MaxSizePerMsg is 64
//     times the encoded size of one 8-byte entry, so an append carries up to 64
//     entries (the same per-message cap as raftsim's default).
//   - The Ready contract with a 10 ms disk: when a Ready needs a synchronous
//     write (raft.MustSync: new entries, or a new term or vote), the write is
//     made to the MemoryStorage only when it becomes durable, 10 ms later; the
//     node handles no further Ready until then (one write in flight per node,
//     which batches whatever arrives meanwhile into the next write). Messages
//     wait for the write, except that a leader whose term and vote did not
//     change sends its appends and heartbeats at once, as etcd's server does
//     (thesis 10.2.1). Committed entries are applied after the write, then
//     Advance() is called. A Ready that needs no sync is handled at once.
//   - Messages are delivered 15 ms after they are sent; a message to a crashed
//     node is lost. Messages are passed in memory, not encoded (etcd's own
//     test network does the same).
//   - Crash: the node's RawNode and all its pending events are dropped; writes
//     not yet durable are lost. Restart: a new RawNode over the same
//     MemoryStorage (the durable state), state machine restored from the last
//     snapshot. This is a real restart from durable state.
//   - Snapshots every 1024 applied entries, keeping 128 trailing entries
//     (the same defaults as canonical/raft; raftsim's threshold is 1024 too).
//   - Logging is off (a no-op Logger), as in the other simulators' runs.
//   - etcd draws election timeouts from a package-level generator seeded with
//     the wall clock, so elections differ from run to run; everything else
//     (tick phases, crash instants) comes from the seed argument.
package main

import (
	"container/heap"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"time"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"
)

const (
	nNodes          = 5
	tickUs          = 10_000 // one Tick() every 10 ms
	electionTicks   = 100    // 1000 ms
	heartbeatTicks  = 10     // 100 ms
	networkUs       = 15_000
	diskUs          = 10_000
	maxInflight     = 64
	entriesPerMsg   = 64
	entrySize       = 8
	snapThreshold   = 1024
	snapTrailing    = 128
	failoverSlotUs  = 10_000_000
	failoverDownUs  = 6_000_000
	crashWindowUs   = 4_000_000 // crash uniform in [0, 4 s) of each slot
	replicationStop = int64(24 * 3600 * 1_000_000)
)

// ---- events -------------------------------------------------------------

type kind uint8

const (
	evTick kind = iota
	evDeliver
	evDisk
)

type event struct {
	at   int64
	seq  uint64
	kind kind
	node int    // 0-based node index
	inc  uint32 // node incarnation the event belongs to (ticks, disk writes)
	msg  *pb.Message
	rd   *raft.Ready
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x interface{}) { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() interface{} {
	old := *h
	n := len(old)
	e := old[n-1]
	*h = old[:n-1]
	return e
}

// ---- nodes --------------------------------------------------------------

type node struct {
	id       uint64
	rn       *raft.RawNode
	storage  *raft.MemoryStorage // the durable state; survives crashes
	alive    bool
	inc      uint32
	diskBusy bool
	hs       pb.HardState // last HardState handed to storage
	state    raft.StateType
	applied  uint64 // last applied index
	snapIdx  uint64
	writes   uint64 // client writes applied (the state machine)
}

type sim struct {
	now      int64
	seq      uint64
	events   eventHeap
	nodes    [nNodes]*node
	rng      *rand.Rand
	cs       pb.ConfState
	maxMsg   uint64
	elected  uint64 // times a node became leader
	started  uint64 // elections started (a node voted for itself in a new term)
	nEvents  uint64
	campTerm [nNodes]uint64
}

type quietLogger struct{}

func (quietLogger) Debug(v ...interface{})                   {}
func (quietLogger) Debugf(format string, v ...interface{})   {}
func (quietLogger) Error(v ...interface{})                   {}
func (quietLogger) Errorf(format string, v ...interface{})   {}
func (quietLogger) Info(v ...interface{})                    {}
func (quietLogger) Infof(format string, v ...interface{})    {}
func (quietLogger) Warning(v ...interface{})                 {}
func (quietLogger) Warningf(format string, v ...interface{}) {}
func (quietLogger) Fatal(v ...interface{})                   { panic(fmt.Sprint(v...)) }
func (quietLogger) Fatalf(format string, v ...interface{})   { panic(fmt.Sprintf(format, v...)) }
func (quietLogger) Panic(v ...interface{})                   { panic(fmt.Sprint(v...)) }
func (quietLogger) Panicf(format string, v ...interface{})   { panic(fmt.Sprintf(format, v...)) }

func (s *sim) push(e event) {
	e.seq = s.seq
	s.seq++
	heap.Push(&s.events, e)
}

func (s *sim) config(n *node) *raft.Config {
	return &raft.Config{
		ID:              n.id,
		ElectionTick:    electionTicks,
		HeartbeatTick:   heartbeatTicks,
		Storage:         n.storage,
		Applied:         n.applied,
		MaxSizePerMsg:   s.maxMsg,
		MaxInflightMsgs: maxInflight,
		// Applying is not what is measured: hand every committed entry over
		// at once instead of MaxSizePerMsg at a time (etcd's default).
		MaxCommittedSizePerReady: 1 << 40,
		CheckQuorum:              true,
		PreVote:                  false,
		Logger:                   quietLogger{},
	}
}

func newSim(seed int64) *sim {
	s := &sim{rng: rand.New(rand.NewSource(seed))}
	for i := 0; i < nNodes; i++ {
		s.cs.Voters = append(s.cs.Voters, uint64(i+1))
	}
	// Encoded size of one 8-byte client entry with a large index; 64 of them
	// fit in one append.
	one := pb.Entry{Term: 1, Index: 1 << 20, Type: pb.EntryNormal, Data: make([]byte, entrySize)}
	s.maxMsg = uint64(entriesPerMsg * one.Size())
	for i := 0; i < nNodes; i++ {
		st := raft.NewMemoryStorage()
		// Bootstrap: every node starts from the same snapshot at index 1 that
		// holds the 5-voter configuration.
		if err := st.ApplySnapshot(pb.Snapshot{Metadata: pb.SnapshotMetadata{
			Index: 1, Term: 1, ConfState: s.cs}}); err != nil {
			panic(err)
		}
		n := &node{id: uint64(i + 1), storage: st, applied: 1, snapIdx: 1}
		s.nodes[i] = n
		s.start(i, int64(s.rng.Intn(tickUs)))
	}
	return s
}

// start (or restart) node i from its durable state.
func (s *sim) start(i int, phase int64) {
	n := s.nodes[i]
	snap, err := n.storage.Snapshot()
	if err != nil {
		panic(err)
	}
	// The state machine is volatile: rebuild it from the snapshot.
	n.applied = snap.Metadata.Index
	n.snapIdx = snap.Metadata.Index
	n.writes = decodeWrites(snap.Data)
	hs, _, err := n.storage.InitialState()
	if err != nil {
		panic(err)
	}
	n.hs = hs
	rn, err := raft.NewRawNode(s.config(n))
	if err != nil {
		panic(err)
	}
	n.rn = rn
	n.alive = true
	n.inc++
	n.diskBusy = false
	n.state = raft.StateFollower
	s.push(event{at: s.now + phase + tickUs, kind: evTick, node: i, inc: n.inc})
}

func (s *sim) crash(i int) {
	n := s.nodes[i]
	n.alive = false
	n.rn = nil
	n.inc++ // pending ticks and disk writes of the old incarnation are void
	n.diskBusy = false
	n.state = raft.StateFollower
}

func decodeWrites(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	var v uint64
	for k := 0; k < 8; k++ {
		v |= uint64(b[k]) << (8 * k)
	}
	return v
}

func encodeWrites(v uint64) []byte {
	b := make([]byte, 8)
	for k := 0; k < 8; k++ {
		b[k] = byte(v >> (8 * k))
	}
	return b
}

func (s *sim) send(msgs []pb.Message) {
	for k := range msgs {
		m := msgs[k]
		s.push(event{at: s.now + networkUs, kind: evDeliver, node: int(m.To - 1), msg: &m})
	}
}

// handleReady runs the Ready loop of node i until it has nothing to do or is
// waiting for a durable write.
func (s *sim) handleReady(i int) {
	n := s.nodes[i]
	for n.alive && !n.diskBusy && n.rn.HasReady() {
		rd := n.rn.Ready()
		if rd.SoftState != nil {
			if rd.SoftState.RaftState == raft.StateLeader && n.state != raft.StateLeader {
				s.elected++
			}
			n.state = rd.SoftState.RaftState
		}
		hsChanged := false
		if !raft.IsEmptyHardState(rd.HardState) {
			hsChanged = rd.HardState.Term != n.hs.Term || rd.HardState.Vote != n.hs.Vote
			if rd.HardState.Vote == n.id && rd.HardState.Term > s.campTerm[i] {
				s.campTerm[i] = rd.HardState.Term
				s.started++
			}
		}
		mustSync := !raft.IsEmptySnap(rd.Snapshot) ||
			(!raft.IsEmptyHardState(rd.HardState) && raft.MustSync(rd.HardState, n.hs, len(rd.Entries))) ||
			len(rd.Entries) > 0
		if !mustSync {
			// Nothing that must be durable first (at most a new commit index).
			s.persist(n, &rd)
			s.send(rd.Messages)
			s.finish(i, &rd)
			continue
		}
		if n.state == raft.StateLeader && !hsChanged {
			// A leader may replicate while it writes its own log.
			s.send(rd.Messages)
			rd.Messages = nil
		}
		n.diskBusy = true
		r := rd
		s.push(event{at: s.now + diskUs, kind: evDisk, node: i, inc: n.inc, rd: &r})
	}
}

func (s *sim) persist(n *node, rd *raft.Ready) {
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			panic(err)
		}
		n.writes = decodeWrites(rd.Snapshot.Data)
		n.applied = rd.Snapshot.Metadata.Index
		n.snapIdx = n.applied
	}
	if len(rd.Entries) > 0 {
		if err := n.storage.Append(rd.Entries); err != nil {
			panic(err)
		}
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		if err := n.storage.SetHardState(rd.HardState); err != nil {
			panic(err)
		}
		n.hs = rd.HardState
	}
}

// finish applies the committed entries of rd, snapshots if due, and advances.
func (s *sim) finish(i int, rd *raft.Ready) {
	n := s.nodes[i]
	for k := range rd.CommittedEntries {
		e := &rd.CommittedEntries[k]
		if e.Index <= n.applied {
			continue
		}
		if e.Type == pb.EntryNormal && len(e.Data) > 0 {
			n.writes++
		}
		n.applied = e.Index
	}
	if n.applied-n.snapIdx >= snapThreshold {
		if _, err := n.storage.CreateSnapshot(n.applied, &s.cs, encodeWrites(n.writes)); err != nil {
			panic(err)
		}
		if n.applied > snapTrailing {
			if err := n.storage.Compact(n.applied - snapTrailing); err != nil && err != raft.ErrCompacted {
				panic(err)
			}
		}
		n.snapIdx = n.applied
	}
	n.rn.Advance(*rd)
}

// step handles one event. It reports whether the event did anything.
func (s *sim) step() bool {
	if len(s.events) == 0 {
		return false
	}
	e := heap.Pop(&s.events).(event)
	s.now = e.at
	s.nEvents++
	n := s.nodes[e.node]
	switch e.kind {
	case evTick:
		if !n.alive || e.inc != n.inc {
			return true
		}
		n.rn.Tick()
		s.handleReady(e.node)
		s.push(event{at: s.now + tickUs, kind: evTick, node: e.node, inc: n.inc})
	case evDeliver:
		if !n.alive {
			return true // lost: the destination is down
		}
		_ = n.rn.Step(*e.msg)
		s.handleReady(e.node)
		if e.msg.Type == pb.MsgSnap {
			// The transport would report the snapshot as sent.
			from := int(e.msg.From - 1)
			if f := s.nodes[from]; f.alive {
				f.rn.ReportSnapshot(e.msg.To, raft.SnapshotFinish)
				s.handleReady(from)
			}
		}
	case evDisk:
		if !n.alive || e.inc != n.inc {
			return true // the write never became durable
		}
		s.persist(n, e.rd)
		s.send(e.rd.Messages)
		n.diskBusy = false
		s.finish(e.node, e.rd)
		s.handleReady(e.node)
	}
	return true
}

// liveLeader returns the live leader with the highest term, or -1.
func (s *sim) liveLeader() int {
	best, bestTerm := -1, uint64(0)
	for i, n := range s.nodes {
		if n.alive && n.state == raft.StateLeader && n.hs.Term >= bestTerm {
			best, bestTerm = i, n.hs.Term
		}
	}
	return best
}

func (s *sim) runUntil(t int64) {
	for len(s.events) > 0 && s.events[0].at <= t {
		s.step()
	}
	if s.now < t {
		s.now = t
	}
}

func (s *sim) waitForLeader(limit int64) int {
	for {
		if l := s.liveLeader(); l >= 0 {
			return l
		}
		if s.now > limit || !s.step() {
			fmt.Fprintf(os.Stderr, "etcd_raft_bench: no leader by %d us\n", s.now)
			os.Exit(1)
		}
	}
}

func replication(writes uint64, seed int64) {
	s := newSim(seed)
	l := s.waitForLeader(60_000_000)
	w0 := time.Now()
	t0 := s.now
	leader := s.nodes[l]
	for k := uint64(0); k < writes; k++ {
		// One client write = one Propose() of an 8-byte command.
		data := make([]byte, entrySize)
		for b := 0; b < entrySize; b++ {
			data[b] = byte(k >> (8 * b))
		}
		if err := leader.rn.Propose(data); err != nil {
			fmt.Fprintf(os.Stderr, "etcd_raft_bench: propose: %v\n", err)
			os.Exit(1)
		}
	}
	s.handleReady(l)
	for {
		done := true
		for _, n := range s.nodes {
			if n.writes < writes {
				done = false
				break
			}
		}
		if done {
			break
		}
		if !s.step() || s.now-t0 > replicationStop {
			fmt.Fprintln(os.Stderr, "etcd_raft_bench: replication did not finish")
			os.Exit(1)
		}
	}
	wall := time.Since(w0).Seconds()
	virt := float64(s.now-t0) / 1e6
	fmt.Printf("{\"peer\":\"etcd-raft\",\"workload\":\"replication\",\"writes\":%d,"+
		"\"wall_s\":%.6f,\"virtual_s\":%.3f,\"entries_per_s\":%.0f,\"virtual_per_wall\":%.6g,"+
		"\"events\":%d}\n",
		writes, wall, virt, float64(writes)/wall, virt/wall, s.nEvents)
}

func failover(cycles uint64, seed int64) {
	s := newSim(seed)
	s.waitForLeader(60_000_000)
	w0 := time.Now()
	t0 := s.now
	elected0, started0, ev0 := s.elected, s.started, s.nEvents
	late := 0
	for k := uint64(0); k < cycles; k++ {
		slot := t0 + int64(k)*failoverSlotUs
		s.runUntil(slot + s.rng.Int63n(crashWindowUs))
		victim := s.liveLeader()
		if victim < 0 {
			// No leader at that instant: crash the next one as soon as it exists.
			late++
			victim = s.waitForLeader(s.now + 60_000_000)
		}
		s.crash(victim)
		s.runUntil(s.now + failoverDownUs)
		s.start(victim, int64(s.rng.Intn(tickUs)))
		s.handleReady(victim)
		s.runUntil(slot + failoverSlotUs)
	}
	wall := time.Since(w0).Seconds()
	virt := float64(s.now-t0) / 1e6
	fmt.Printf("{\"peer\":\"etcd-raft\",\"workload\":\"failover\",\"failovers\":%d,"+
		"\"wall_s\":%.6f,\"virtual_s\":%.3f,\"virtual_per_wall\":%.6g,\"elections\":%d,"+
		"\"elections_started\":%d,\"crash_delayed\":%d,\"events\":%d}\n",
		cycles, wall, virt, virt/wall, s.elected-elected0, s.started-started0, late,
		s.nEvents-ev0)
}

func main() {
	workload := "replication"
	if len(os.Args) > 1 {
		workload = os.Args[1]
	}
	count := uint64(0)
	if len(os.Args) > 2 {
		v, err := strconv.ParseUint(os.Args[2], 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad count:", err)
			os.Exit(2)
		}
		count = v
	}
	seed := int64(1)
	if len(os.Args) > 3 {
		v, err := strconv.ParseInt(os.Args[3], 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad seed:", err)
			os.Exit(2)
		}
		seed = v
	}
	switch workload {
	case "replication":
		if count == 0 {
			count = 100_000
		}
		replication(count, seed)
	case "failover":
		if count == 0 {
			count = 1000
		}
		failover(count, seed)
	default:
		fmt.Fprintf(os.Stderr, "usage: %s replication|failover [count] [seed]\n", os.Args[0])
		os.Exit(2)
	}
}
