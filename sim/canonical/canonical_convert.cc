// Conversions between canonical/raft's structures and the simulator's
// (sim/canonical/canonical_convert.h).
#include "sim/canonical/canonical_convert.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sim::canonical {

using namespace craft;  // NOLINT: the C API, prefixed raft_ throughout

using ::raft::Entry;
using ::raft::EntryKind;
using ::raft::NodeId;

std::string address_of(NodeId id) {
  return std::to_string(id);
}

namespace {

// Barriers carry 8 zero bytes, as raft_barrier's do.
constexpr size_t kBarrierBytes = 8;

size_t pad8(size_t n) {
  return (n + 7) / 8 * 8;
}

}  // namespace

void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// The library's configuration from ours: voters are RAFT_VOTER, learners
// RAFT_STANDBY (they replicate the log but do not count).
void to_raft_configuration(const ::raft::Configuration& c, struct raft_configuration* out) {
  raft_configuration_init(out);
  for (NodeId v : c.voters) raft_configuration_add(out, v, address_of(v).c_str(), RAFT_VOTER);
  for (NodeId l : c.learners) raft_configuration_add(out, l, address_of(l).c_str(), RAFT_STANDBY);
}

// Ours from the library's: spares (RAFT_SPARE) are members the library does
// not replicate to; ::raft::Configuration has no such role, so they are left
// out, as a node outside the configuration. Learners are permanent: the
// library never promotes on its own.
::raft::Configuration from_raft_configuration(const struct raft_configuration& c) {
  ::raft::Configuration out;
  for (unsigned i = 0; i < c.n; ++i) {
    const NodeId id = static_cast<NodeId>(c.servers[i].id);
    if (c.servers[i].role == RAFT_VOTER) out.voters.push_back(id);
    if (c.servers[i].role == RAFT_STANDBY) out.learners.push_back(id);
  }
  std::sort(out.voters.begin(), out.voters.end());
  std::sort(out.learners.begin(), out.learners.end());
  out.permanent_learners = out.learners;
  return out;
}

namespace {

// Decodes raft_configuration_encode's format (configuration.c of 0.15): a
// format byte (1), the number of servers (64-bit little endian), then per
// server its id (64-bit), its address (NUL-terminated) and its role (byte).
// The library does not export its decoder.
bool decode_configuration(const uint8_t* p, size_t len, ::raft::Configuration& out) {
  if (len < 9 || p[0] != 1) return false;
  const uint64_t n = get64(p + 1);
  size_t at = 9;
  struct raft_configuration c;
  raft_configuration_init(&c);
  bool ok = true;
  for (uint64_t i = 0; i < n && ok; ++i) {
    if (at + 8 > len) {
      ok = false;
      break;
    }
    const uint64_t id = get64(p + at);
    at += 8;
    const void* nul = std::memchr(p + at, 0, len - at);
    if (!nul) {
      ok = false;
      break;
    }
    const auto alen = static_cast<size_t>(static_cast<const uint8_t*>(nul) - (p + at));
    const std::string address(reinterpret_cast<const char*>(p + at), alen);
    at += alen + 1;
    if (at + 1 > len) {
      ok = false;
      break;
    }
    const int role = p[at++];
    ok = raft_configuration_add(&c, id, address.c_str(), role) == 0;
  }
  if (ok) out = from_raft_configuration(c);
  raft_configuration_close(&c);
  return ok;
}

}  // namespace

// The simulator's entry for a library entry.
Entry to_entry(const struct raft_entry& e, ::raft::ConfigArena& configs) {
  Entry out;
  out.term = e.term;
  const auto* p = static_cast<const uint8_t*>(e.buf.base);
  switch (e.type) {
    case RAFT_COMMAND:
      if (e.buf.len < kWriteBytes) throw std::runtime_error("canonical: short command entry");
      out.kind = EntryKind::write;
      out.write_id = get64(p);
      out.expected = 0;  // a put (the write's member of the union, see Entry)
      out.size_bytes = static_cast<uint32_t>(get64(p + 8));
      break;
    case RAFT_CHANGE: {
      ::raft::Configuration c;
      if (!decode_configuration(p, e.buf.len, c)) {
        throw std::runtime_error("canonical: undecodable configuration entry");
      }
      out.kind = EntryKind::config;
      out.config = configs.intern(c);
      break;
    }
    default: out.kind = EntryKind::noop; break;
  }
  return out;
}

namespace {

// The payload bytes of a simulator entry, for the library.
std::vector<uint8_t> payload_of(const Entry& e) {
  std::vector<uint8_t> bytes;
  switch (e.kind) {
    case EntryKind::write:
      bytes.resize(kWriteBytes);
      put64(bytes.data(), e.write_id);
      put64(bytes.data() + 8, e.size_bytes);
      break;
    case EntryKind::config: {
      struct raft_configuration c;
      to_raft_configuration(*e.config, &c);
      struct raft_buffer buf;
      if (raft_configuration_encode(&c, &buf) != 0) throw std::bad_alloc();
      const auto* p = static_cast<const uint8_t*>(buf.base);
      bytes.assign(p, p + buf.len);
      raft_free(buf.base);
      raft_configuration_close(&c);
      break;
    }
    case EntryKind::noop: bytes.assign(kBarrierBytes, 0); break;
  }
  return bytes;
}

unsigned short type_of(const Entry& e) {
  switch (e.kind) {
    case EntryKind::write: return RAFT_COMMAND;
    case EntryKind::config: return RAFT_CHANGE;
    case EntryKind::noop: break;
  }
  return RAFT_BARRIER;
}

}  // namespace

// Library entries for simulator entries, all payloads in one raft_malloc'd
// batch (the library frees entries by batch: entryBatchesDestroy).
struct raft_entry* to_raft_entries(const ::raft::EntryBatch& entries) {
  if (entries.empty()) return nullptr;
  std::vector<std::vector<uint8_t>> payloads;
  size_t total = 0;
  for (const Entry& e : entries) {
    payloads.push_back(payload_of(e));
    total += pad8(payloads.back().size());
  }
  auto* out = static_cast<struct raft_entry*>(raft_calloc(entries.size(), sizeof(raft_entry)));
  auto* batch = static_cast<uint8_t*>(raft_calloc(1, total));
  if (!out || !batch) throw std::bad_alloc();
  size_t at = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::memcpy(batch + at, payloads[i].data(), payloads[i].size());
    out[i].term = entries[i].term;
    out[i].type = type_of(entries[i]);
    out[i].buf.base = batch + at;
    out[i].buf.len = payloads[i].size();
    out[i].batch = batch;
    at += pad8(payloads[i].size());
  }
  return out;
}

// A snapshot's data, as the library carries it: 8 bytes naming the snapshot
// by content (index and state), resolved through the ::raft::Snapshot the
// simulator's message or disk holds alongside. The library never looks
// inside it.
uint64_t snapshot_key(const ::raft::Snapshot& s) {
  return ::raft::hash_combine(::raft::hash_combine(s.last_included_index, s.state.state_hash()),
                              s.state.applied_writes());
}

::raft::Role role_of(const craft::raft& r, const ::raft::Configuration& config, NodeId id) {
  switch (r.state) {
    case RAFT_LEADER: return ::raft::Role::leader;
    case RAFT_CANDIDATE:
      return r.candidate_state.in_pre_vote ? ::raft::Role::precandidate : ::raft::Role::candidate;
    default: return config.is_voter(id) ? ::raft::Role::follower : ::raft::Role::learner;
  }
}

}  // namespace sim::canonical
