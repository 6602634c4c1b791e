// The text side of the node's script tests (raft/script_test.cc): how
// everything a node emits is printed, one deterministic line per item, and how
// a command line is read.
#pragma once

#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "raft/node.h"

namespace raft::script_text {

// A script error (unknown command, bad argument): the test fails naming the
// file and line.
struct ScriptError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------
// Formatting of everything a node emits. One line per item, deterministic.

inline std::string ids_str(const std::vector<NodeId>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

inline std::string config_str(const Configuration& c) {
  std::string s = "voters=" + ids_str(c.voters) + " learners=" + ids_str(c.learners);
  if (!c.permanent_learners.empty()) s += " permanent=" + ids_str(c.permanent_learners);
  return s;
}

// "I@T kind": the entry at index I of term T.
inline std::string entry_str(Index index, const Entry& e) {
  std::string s = std::to_string(index) + "@" + std::to_string(e.term) + " ";
  switch (e.kind) {
    case EntryKind::noop: return s + "noop";
    case EntryKind::write: return s + "w" + std::to_string(e.write_id);
    case EntryKind::config: return s + "config(" + config_str(*e.config) + ")";
  }
  return s + "?";
}

template <typename Entries>  // std::vector<Entry> or OffsetVector<Entry>
std::string entries_str(Index first, const Entries& entries) {
  std::string s = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    s += (i ? ", " : "") + entry_str(first + i, entries[i]);
  }
  return s + "]";
}

inline std::string msg_str(const Message& m) {
  std::ostringstream s;
  s << m.from << "->" << m.to << " " << msg_type_name(m.type) << " term=" << m.term;
  switch (m.type) {
    case MsgType::append:
      s << " prev=" << m.index << "@" << m.log_term << " commit=" << m.commit;
      if (!m.entries.empty()) s << " entries=" << entries_str(m.index + 1, m.entries);
      break;
    case MsgType::append_resp:
      s << (m.success ? " ok" : " reject") << " index=" << m.index;
      if (m.success) s << " commit=" << m.commit;
      if (!m.success) s << " hint=" << m.hint_index << "@" << m.hint_term;
      break;
    case MsgType::vote:
    case MsgType::pre_vote:
      s << " last=" << m.index << "@" << m.log_term;
      if (m.transfer) s << " transfer";
      break;
    case MsgType::vote_resp:
    case MsgType::pre_vote_resp: s << (m.success ? " granted" : " rejected"); break;
    case MsgType::snapshot:
      s << " snap=" << m.index << "@" << m.log_term << " offset=" << m.offset
        << " bytes=" << m.chunk_bytes << (m.done ? " done" : "");
      break;
    case MsgType::snapshot_resp:
      s << (m.success ? " ok" : " reject") << " index=" << m.index << " offset=" << m.offset
        << (m.done ? " done" : "");
      break;
    case MsgType::timeout_now: break;
  }
  return s.str();
}

inline std::string event_str(const NodeEvent& e) {
  std::ostringstream s;
  switch (e.type) {
    case EventType::role:
      s << "role " << role_name(e.from) << "->" << role_name(e.to) << " term=" << e.term
        << " reason=" << e.reason;
      break;
    case EventType::election_started:
      s << "election_started term=" << e.term << (e.pre_vote ? " pre_vote" : "");
      break;
    case EventType::vote_granted:
      s << "vote_granted candidate=" << e.peer << " term=" << e.term
        << (e.pre_vote ? " pre_vote" : "");
      break;
    case EventType::elected: s << "elected term=" << e.term << " votes=" << e.votes; break;
    case EventType::step_down: s << "step_down term=" << e.term << " reason=" << e.reason; break;
    case EventType::commit: s << "commit index=" << e.index << " term=" << e.term; break;
    case EventType::config_committed:
      s << "config_committed index=" << e.index << " " << config_str(*e.config);
      for (const auto& [node, lag] : e.lags) s << " lag" << node << "=" << lag;
      break;
    case EventType::snapshot_taken:
      s << "snapshot_taken " << e.index << "@" << e.term << " bytes=" << e.bytes;
      break;
    case EventType::snapshot_sent:
      s << "snapshot_sent to=" << e.peer << " " << e.index << "@" << e.term << " bytes=" << e.bytes;
      break;
    case EventType::snapshot_installed:
      s << "snapshot_installed from=" << e.peer << " " << e.index << "@" << e.term;
      break;
  }
  return s.str();
}

inline std::string persist_str(const PersistOp& op) {
  std::ostringstream s;
  s << "persist #" << op.token << " term=" << op.hard_state.current_term
    << " vote=" << op.hard_state.voted_for << " commit=" << op.hard_state.commit_index;
  if (op.snapshot) {
    s << " snapshot=" << op.snapshot->last_included_index << "@" << op.snapshot->last_included_term;
  }
  if (op.compact_index) s << " compact=" << op.compact_index << "@" << op.compact_term;
  if (op.has_entries)
    s << " entries from " << op.first_index << " " << entries_str(op.first_index, op.entries);
  return s.str();
}

// ---------------------------------------------------------------------------
// The command line: a name, then words and key=value arguments.

struct Command {
  std::string name;
  std::vector<std::string> words;
  std::map<std::string, std::string> args;
  std::map<std::string, bool> used;

  bool has(const std::string& key) const { return args.count(key) != 0; }
  std::string str(const std::string& key) {
    auto it = args.find(key);
    if (it == args.end()) throw ScriptError("missing argument " + key + "=");
    used[key] = true;
    return it->second;
  }
  uint64_t num(const std::string& key) { return to_num(str(key), key); }
  uint64_t num(const std::string& key, uint64_t dflt) { return has(key) ? num(key) : dflt; }
  bool flag(const std::string& key, bool dflt) {
    if (!has(key)) return dflt;
    const std::string v = str(key);
    if (v == "true") return true;
    if (v == "false") return false;
    throw ScriptError(key + "= must be true or false, not " + v);
  }
  static uint64_t to_num(const std::string& v, const std::string& what) {
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      throw ScriptError(what + " must be a number, not '" + v + "'");
    }
    return std::stoull(v);
  }
  uint64_t word_num(size_t i, const std::string& what) {
    if (i >= words.size()) throw ScriptError("missing " + what);
    return to_num(words[i], what);
  }
  std::vector<uint64_t> list(const std::string& key) {
    std::vector<uint64_t> out;
    std::stringstream in(str(key));
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(to_num(item, key));
    return out;
  }
  void check_all_used() const {
    for (const auto& [key, value] : args) {
      if (!used.count(key)) throw ScriptError("unknown argument " + key + "=" + value);
    }
  }
};

inline Command parse_command(const std::string& line) {
  Command cmd;
  std::istringstream in(line);
  in >> cmd.name;
  std::string tok;
  while (in >> tok) {
    const auto eq = tok.find('=');
    if (eq == std::string::npos) {
      cmd.words.push_back(tok);
    } else {
      cmd.args[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
  }
  return cmd;
}

}  // namespace raft::script_text
