// Conversions between canonical/raft's C structures and the simulator's
// types: entries and their payloads, configurations, snapshot keys. Shared by
// the adapter's files (sim/canonical/canonical_node.cc, canonical_io.cc,
// canonical_observe.cc); docs/canonical.md describes the encodings.
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

// raft.h declares a `struct raft`, which clashes with our namespace raft, and
// has no extern "C" of its own: both are supplied here.
namespace craft {
extern "C" {
#include <raft.h>
}
}  // namespace craft

#include <cstdint>
#include <string>
#include <vector>

#include "raft/node.h"

namespace sim::canonical {

constexpr ::raft::TimeUs kUsPerMs = 1000;

// A client write travels as 16 bytes: the write id and its nominal size (the
// simulator's state machine needs only those). Configurations use the
// library's own encoding (raft_configuration_encode); barriers carry 8 zero
// bytes, as raft_barrier's do.
constexpr size_t kWriteBytes = 16;

// The library keeps an address per server; ours is the decimal id.
std::string address_of(::raft::NodeId id);

// Little-endian 64-bit fields of payloads and snapshot keys.
void put64(uint8_t* p, uint64_t v);
uint64_t get64(const uint8_t* p);

// The library's configuration from ours: voters are RAFT_VOTER, learners
// RAFT_STANDBY (they replicate the log but do not count).
void to_raft_configuration(const ::raft::Configuration& c, struct craft::raft_configuration* out);

// Ours from the library's: spares (RAFT_SPARE) are left out, as nodes
// outside the configuration.
::raft::Configuration from_raft_configuration(const struct craft::raft_configuration& c);

// The simulator's entry for a library entry, its configuration (if any) in
// `configs`; throws on a payload it cannot decode.
::raft::Entry to_entry(const struct craft::raft_entry& e, ::raft::ConfigArena& configs);

// Library entries for simulator entries, all payloads in one raft_malloc'd
// batch (the library frees entries by batch: entryBatchesDestroy); nullptr
// for none.
struct craft::raft_entry* to_raft_entries(const ::raft::EntryBatch& entries);

// A snapshot's data, as the library carries it: 8 bytes naming the snapshot
// by content (index and state), resolved through the ::raft::Snapshot the
// simulator's message or disk holds alongside. The library never looks
// inside it.
uint64_t snapshot_key(const ::raft::Snapshot& s);

// The simulator's role for the library's state.
::raft::Role role_of(const craft::raft& r, const ::raft::Configuration& config, ::raft::NodeId id);

}  // namespace sim::canonical
