// Script tests of raft::Node in the style of etcd raft's datadriven tests:
// each raft/testdata/*.txt holds commands (one line each), a "----" line and
// the full expected output. The interpreter below drives several nodes by
// hand (no simulator: this tests the pure core), prints everything each node
// emits for each input, and compares. RAFT_SCRIPT_REWRITE=1 rewrites the
// files with the actual outputs instead (raft/testdata/README.md).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "raft/node.h"
#include "raft/script_text.h"
#include "raft/test_cluster.h"

namespace raft {
namespace {

using test::FakeRandom;

using namespace script_text;  // the scripts' output format and command lines

// ---------------------------------------------------------------------------
// The cluster the commands drive.

class Script {
 public:
  // Every node runs with these planted bugs (none in the shipped scripts).
  explicit Script(const PlantedBugs& bugs) { options_.bugs = bugs; }

  // Runs one command; returns its output (never empty: "ok" stands for nothing).
  std::string run(const std::string& line) {
    out_.str("");
    Command cmd = parse_command(line);
    dispatch(cmd);
    cmd.check_all_used();
    std::string text = out_.str();
    if (text.empty()) text = "ok\n";
    return text;
  }

 private:
  struct Member {
    DurableState disk;
    std::unique_ptr<Node> node;
    std::deque<PersistOp> pending;
    std::map<TimerKind, TimeUs> timers;  // armed timers, by kind
    // The entries the node holds, as its disk and then its writes describe
    // them: an Applied record names its entry by key only, and the node
    // may compact an entry away in the input that applies it. Kept past
    // compaction (only committed entries are applied, and they never change).
    std::map<Index, Entry> held;
    bool up = true;
  };

  static void hold_disk(Member& m) {
    m.held.clear();
    for (Index i = m.disk.log.first_index(); i <= m.disk.log.last_index(); ++i) {
      m.held[i] = m.disk.log.at(i);
    }
  }
  static void hold_write(Member& m, const PersistOp& op) {
    if (!op.has_entries) return;
    m.held.erase(m.held.lower_bound(op.first_index), m.held.end());
    for (size_t k = 0; k < op.entries.size(); ++k) m.held[op.first_index + k] = op.entries[k];
  }

  void dispatch(Command& cmd) {
    const std::string& n = cmd.name;
    if (n == "options") return options(cmd);
    if (n == "add-nodes") return add_nodes(cmd);
    if (n == "add-node") return add_node(cmd);
    if (n == "campaign")
      return input(node_arg(cmd), "campaign", [&](Node& x, Outputs& o) { x.campaign(now_, o); });
    if (n == "timeout") return timeout(cmd);
    if (n == "advance") return advance(cmd);
    if (n == "persist") return persist(cmd);
    if (n == "deliver") return deliver(cmd, false);
    if (n == "drop") return deliver(cmd, true);
    if (n == "msgs") return msgs(cmd);
    if (n == "stabilize") return stabilize();
    if (n == "propose") return propose(cmd);
    if (n == "config-change") return config_change(cmd);
    if (n == "transfer") return transfer(cmd);
    if (n == "snapshot")
      return input(node_arg(cmd), "snapshot",
                   [&](Node& x, Outputs& o) { x.take_snapshot(now_, o); });
    if (n == "crash") return crash(cmd);
    if (n == "restart") return restart(cmd);
    if (n == "inject") return inject(cmd);
    if (n == "status") return status(cmd);
    throw ScriptError("unknown command " + n);
  }

  NodeId node_arg(Command& cmd, size_t i = 0) {
    const NodeId id = static_cast<NodeId>(cmd.word_num(i, "node id"));
    if (!members_.count(id)) throw ScriptError("no node " + std::to_string(id));
    return id;
  }
  Member& member(NodeId id) { return *members_.at(id); }

  // options key=value...: settings for the nodes added afterwards.
  void options(Command& cmd) {
    Options& o = options_;
    o.pre_vote = cmd.flag("pre-vote", o.pre_vote);
    o.check_quorum = cmd.flag("check-quorum", o.check_quorum);
    o.auto_promote = cmd.flag("auto-promote", o.auto_promote);
    o.election_timeout_min_us = static_cast<int64_t>(
        cmd.num("election-min", static_cast<uint64_t>(o.election_timeout_min_us)));
    o.election_timeout_max_us = static_cast<int64_t>(
        cmd.num("election-max", static_cast<uint64_t>(o.election_timeout_max_us)));
    o.heartbeat_interval_us =
        static_cast<int64_t>(cmd.num("heartbeat", static_cast<uint64_t>(o.heartbeat_interval_us)));
    o.snapshot_threshold = cmd.num("snapshot-threshold", o.snapshot_threshold);
    o.snapshot_chunk_size = cmd.num("snapshot-chunk", o.snapshot_chunk_size);
    o.max_inflight = static_cast<uint32_t>(cmd.num("max-inflight", o.max_inflight));
    o.max_entries_per_message =
        static_cast<uint32_t>(cmd.num("max-entries", o.max_entries_per_message));
    o.promotion_threshold = cmd.num("promotion-threshold", o.promotion_threshold);
    o.max_lag_threshold = cmd.num("max-lag", o.max_lag_threshold);
    o.min_voters = static_cast<uint32_t>(cmd.num("min-voters", o.min_voters));
  }

  static Configuration config_args(Command& cmd) {
    Configuration c;
    for (uint64_t v : cmd.list("voters")) c.voters.push_back(static_cast<NodeId>(v));
    if (cmd.has("learners")) {
      for (uint64_t l : cmd.list("learners")) c.learners.push_back(static_cast<NodeId>(l));
    }
    std::sort(c.voters.begin(), c.voters.end());
    std::sort(c.learners.begin(), c.learners.end());
    return c;
  }

  // add-nodes voters=1,2,3 [learners=4]: fresh nodes of one configuration, started.
  void add_nodes(Command& cmd) {
    const Configuration c = config_args(cmd);
    std::vector<NodeId> ids = c.voters;
    ids.insert(ids.end(), c.learners.begin(), c.learners.end());
    std::sort(ids.begin(), ids.end());
    for (NodeId id : ids) create(id, test::disk_with(c, {}));
  }

  // add-node ID voters=... [learners=...] [log=T1,T2,...] [term=T] [vote=V]
  // [commit=C]: one node whose disk holds a log of writes w1, w2, ... of
  // these terms, a term, a vote and a commit index.
  void add_node(Command& cmd) {
    const NodeId id = static_cast<NodeId>(cmd.word_num(0, "node id"));
    const Configuration c = config_args(cmd);
    std::vector<Term> terms;
    if (cmd.has("log")) {
      for (uint64_t t : cmd.list("log")) terms.push_back(t);
    }
    create(id, test::disk_with(c, terms, cmd.num("term", 0),
                               static_cast<NodeId>(cmd.num("vote", 0)), cmd.num("commit", 0)));
  }

  void create(NodeId id, const DurableState& disk) {
    if (members_.count(id)) throw ScriptError("node " + std::to_string(id) + " exists");
    auto m = std::make_unique<Member>();
    m->disk = disk;
    hold_disk(*m);
    m->node = std::make_unique<Node>(id, options_, random_, m->disk, configs_);
    members_[id] = std::move(m);
    input(id, "start", [&](Node& x, Outputs& o) { x.start(now_, o); });
  }

  // Feeds one input to a node and prints all it emitted, in a fixed order.
  void input(NodeId id, const std::string& what, const std::function<void(Node&, Outputs&)>& f) {
    Member& m = member(id);
    if (!m.up) throw ScriptError("node " + std::to_string(id) + " is down");
    Outputs o;
    f(*m.node, o);
    out_ << "> " << id << " " << what << "\n";
    for (const NodeEvent& e : o.events) out_ << "  " << event_str(e) << "\n";
    for (const TimerRequest& t : o.timers) {
      if (t.cancel) {
        m.timers.erase(t.kind);
      } else {
        m.timers[t.kind] = t.at_us;
      }
      out_ << "  timer " << (t.kind == TimerKind::election ? "election" : "heartbeat")
           << (t.cancel ? " cancel" : " at=" + std::to_string(t.at_us)) << "\n";
    }
    for (PersistOp& op : o.persists) {
      out_ << "  " << persist_str(op) << "\n";
      hold_write(m, op);
      m.pending.push_back(std::move(op));
    }
    for (Message& msg : o.messages) {
      out_ << "  send " << msg_str(msg) << "\n";
      queue_.push_back(std::move(msg));
    }
    for (const Applied& a : o.applied) {
      out_ << "  apply " << entry_str(a.index, m.held.at(a.index))
           << (a.duplicate ? " duplicate" : "") << "\n";
    }
    for (const ClientReply& r : o.replies) {
      out_ << "  reply w" << r.write_id;
      if (r.ok) {
        out_ << " ok index=" << r.index << "\n";
      } else {
        out_ << " redirect leader=" << r.leader_hint << "\n";
      }
    }
  }

  // timeout N election|heartbeat: the node's timer fires now, armed or not.
  void timeout(Command& cmd) {
    const NodeId id = node_arg(cmd);
    if (cmd.words.size() < 2) throw ScriptError("timeout N election|heartbeat");
    const TimerKind kind = timer_kind(cmd.words[1]);
    member(id).timers.erase(kind);
    fire(id, kind);
  }
  static TimerKind timer_kind(const std::string& w) {
    if (w == "election") return TimerKind::election;
    if (w == "heartbeat") return TimerKind::heartbeat;
    throw ScriptError("timer kind must be election or heartbeat, not " + w);
  }
  void fire(NodeId id, TimerKind kind) {
    input(id, kind == TimerKind::election ? "election timer" : "heartbeat timer",
          [&](Node& x, Outputs& o) { x.on_timer(kind, now_, o); });
  }

  // advance US: time passes (all clocks agree); each armed timer that comes
  // due fires at its time, earliest first (ties by node id, then kind).
  void advance(Command& cmd) {
    const TimeUs until = now_ + static_cast<TimeUs>(cmd.word_num(0, "microseconds"));
    for (;;) {
      std::optional<std::tuple<TimeUs, NodeId, TimerKind>> next;
      for (auto& [id, m] : members_) {
        if (!m->up) continue;
        for (auto& [kind, at] : m->timers) {
          auto key = std::make_tuple(at, id, kind);
          if (at <= until && (!next || key < *next)) next = key;
        }
      }
      if (!next) break;
      const auto [at, id, kind] = *next;
      now_ = std::max(now_, at);
      member(id).timers.erase(kind);
      out_ << "t=" << now_ << "\n";
      fire(id, kind);
    }
    now_ = until;
    out_ << "t=" << now_ << "\n";
  }

  // persist N [count=K]: the node's pending durable writes (the first K)
  // complete, and the node is told so.
  void persist(Command& cmd) {
    const NodeId id = node_arg(cmd);
    Member& m = member(id);
    size_t count = static_cast<size_t>(cmd.num("count", m.pending.size()));
    if (count > m.pending.size()) throw ScriptError("fewer writes pending than count=");
    if (count == 0) return;
    uint64_t last = 0;
    for (size_t i = 0; i < count; ++i) {
      last = m.pending.front().token;
      apply_persist(m.disk, std::move(m.pending.front()));
      m.pending.pop_front();
    }
    input(id, "persisted #" + std::to_string(last),
          [&](Node& x, Outputs& o) { x.on_persisted(last, now_, o); });
  }

  // The from=, to= and type= arguments of deliver, drop and msgs.
  struct Filter {
    std::optional<uint64_t> from, to;
    std::optional<std::string> type;
    bool operator()(const Message& m) const {
      return (!from || m.from == *from) && (!to || m.to == *to) &&
             (!type || msg_type_name(m.type) == *type);
    }
  };
  static Filter filter_args(Command& cmd) {
    Filter f;
    if (cmd.has("from")) f.from = cmd.num("from");
    if (cmd.has("to")) f.to = cmd.num("to");
    if (cmd.has("type")) {
      f.type = cmd.str("type");
      bool known = false;
      for (int t = 0; t <= static_cast<int>(MsgType::timeout_now); ++t) {
        known = known || *f.type == msg_type_name(static_cast<MsgType>(t));
      }
      if (!known) throw ScriptError("unknown message type " + *f.type);
    }
    return f;
  }

  // deliver [from=] [to=] [type=] [dup=true]: the queued messages that match,
  // in the order they were sent; messages they cause are queued, not
  // delivered. drop: the matching messages are lost instead. dup=true
  // delivers them and keeps them queued (a duplicating network).
  void deliver(Command& cmd, bool drop) {
    const bool dup = !drop && cmd.flag("dup", false);
    const Filter matches = filter_args(cmd);
    std::deque<Message> chosen, kept;
    for (Message& m : queue_) (matches(m) ? chosen : kept).push_back(m);
    queue_ = dup ? queue_ : std::move(kept);
    for (Message& m : chosen) {
      if (drop) {
        out_ << "dropped " << msg_str(m) << "\n";
        continue;
      }
      deliver_one(m);
    }
  }

  void deliver_one(const Message& m) {
    if (!members_.count(m.to) || !member(m.to).up) {
      out_ << "lost " << msg_str(m) << " (node down)\n";
      return;
    }
    input(m.to, "recv " + msg_str(m), [&](Node& x, Outputs& o) { x.step(m, now_, o); });
  }

  void msgs(Command& cmd) {
    const Filter matches = filter_args(cmd);
    for (const Message& m : queue_) {
      if (matches(m)) out_ << msg_str(m) << "\n";
    }
  }

  // stabilize: complete every durable write and deliver every message until
  // nothing is left (no timer fires).
  void stabilize() {
    for (;;) {
      bool progressed = false;
      for (auto& [id, m] : members_) {
        if (!m->up || m->pending.empty()) continue;
        Command c = parse_command("persist " + std::to_string(id));
        persist(c);
        progressed = true;
      }
      if (!queue_.empty()) {
        std::deque<Message> batch = std::move(queue_);
        queue_.clear();
        for (const Message& m : batch) deliver_one(m);
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  // propose N ID [ID...] [size=B]: client writes with these ids reach node N together.
  void propose(Command& cmd) {
    const NodeId id = node_arg(cmd);
    const uint32_t size = static_cast<uint32_t>(cmd.num("size", 8));
    std::vector<ClientWrite> writes;
    std::string what = "propose";
    for (size_t i = 1; i < cmd.words.size(); ++i) {
      writes.push_back({cmd.word_num(i, "write id"), size});
      what += " w" + cmd.words[i];
    }
    if (writes.empty()) throw ScriptError("propose N ID...");
    input(id, what, [&](Node& x, Outputs& o) { x.client_writes(writes, now_, o); });
  }

  // config-change N add-learner|promote|demote|remove ID [promote=true|false]
  void config_change(Command& cmd) {
    const NodeId id = node_arg(cmd);
    if (cmd.words.size() < 3) throw ScriptError("config-change N CHANGE ID");
    const std::string& c = cmd.words[1];
    ConfigChange change;
    if (c == "add-learner") {
      change = ConfigChange::add_learner;
    } else if (c == "promote") {
      change = ConfigChange::promote;
    } else if (c == "demote") {
      change = ConfigChange::demote;
    } else if (c == "remove") {
      change = ConfigChange::remove;
    } else {
      throw ScriptError("unknown configuration change " + c);
    }
    const NodeId target = static_cast<NodeId>(cmd.word_num(2, "node id"));
    std::optional<bool> promote;
    if (cmd.has("promote")) promote = cmd.flag("promote", false);
    bool accepted = false;
    input(id, "config-change " + c + " " + std::to_string(target), [&](Node& x, Outputs& o) {
      accepted = x.request_config_change(change, target, promote, now_, o);
    });
    if (!accepted) out_ << "  refused\n";
  }

  void transfer(Command& cmd) {
    const NodeId id = node_arg(cmd);
    const NodeId to = static_cast<NodeId>(cmd.word_num(1, "target id"));
    bool accepted = false;
    input(id, "transfer to " + std::to_string(to),
          [&](Node& x, Outputs& o) { accepted = x.transfer_leadership(to, now_, o); });
    if (!accepted) out_ << "  refused\n";
  }

  // crash N: the writes still pending are lost, timers stop, messages to it are lost.
  void crash(Command& cmd) {
    const NodeId id = node_arg(cmd);
    Member& m = member(id);
    out_ << "> " << id << " crash\n";
    for (const PersistOp& op : m.pending) out_ << "  lost persist #" << op.token << "\n";
    m.up = false;
    m.pending.clear();
    m.timers.clear();
  }

  // restart N: the node comes back from its disk.
  void restart(Command& cmd) {
    const NodeId id = node_arg(cmd);
    Member& m = member(id);
    hold_disk(m);
    m.node = std::make_unique<Node>(id, options_, random_, m.disk, configs_);
    m.up = true;
    input(id, "restart", [&](Node& x, Outputs& o) { x.start(now_, o); });
  }

  // inject TYPE from= to= term= ...: a hand-made message delivered to `to`
  // at once. append: prev=I@T commit=C entries=I@T,I@T,... (writes w(100T+I));
  // append_resp: ok=true|false index=I [hint=I@T] [commit=C]; vote/pre_vote:
  // last=I@T [transfer=true]; vote_resp/pre_vote_resp: granted=true|false;
  // snapshot: snap=I@T [voters=... learners=...] (one chunk of 64 bytes, an
  // empty state machine, the receiver's configuration unless given);
  // timeout_now.
  void inject(Command& cmd) {
    if (cmd.words.empty()) throw ScriptError("inject TYPE ...");
    Message m;
    const std::string& type = cmd.words[0];
    bool known = false;
    for (MsgType t :
         {MsgType::append, MsgType::append_resp, MsgType::vote, MsgType::vote_resp,
          MsgType::pre_vote, MsgType::pre_vote_resp, MsgType::snapshot, MsgType::timeout_now}) {
      if (type == msg_type_name(t)) {
        m.type = t;
        known = true;
      }
    }
    if (!known) throw ScriptError("cannot inject messages of type " + type);
    m.from = static_cast<NodeId>(cmd.num("from"));
    m.to = static_cast<NodeId>(cmd.num("to"));
    m.term = cmd.num("term");
    if (!members_.count(m.to)) throw ScriptError("no node " + std::to_string(m.to));
    switch (m.type) {
      case MsgType::append: {
        std::tie(m.index, m.log_term) = index_term(cmd.str("prev"));
        m.commit = cmd.num("commit", 0);
        if (cmd.has("entries")) {
          std::stringstream in(cmd.str("entries"));
          std::string item;
          Index expect = m.index + 1;
          std::vector<Entry> entries;
          while (std::getline(in, item, ',')) {
            const auto [index, term] = index_term(item);
            if (index != expect) throw ScriptError("entries must follow prev without gaps");
            entries.push_back(test::write_entry(term, 100 * term + index));
            ++expect;
          }
          m.entries = std::move(entries);
        }
        break;
      }
      case MsgType::append_resp:
        m.success = cmd.flag("ok", true);
        m.index = cmd.num("index");
        m.commit = cmd.num("commit", 0);
        if (cmd.has("hint")) std::tie(m.hint_index, m.hint_term) = index_term(cmd.str("hint"));
        break;
      case MsgType::vote:
      case MsgType::pre_vote:
        std::tie(m.index, m.log_term) = index_term(cmd.str("last"));
        m.transfer = cmd.flag("transfer", false);
        break;
      case MsgType::vote_resp:
      case MsgType::pre_vote_resp: m.success = cmd.flag("granted", true); break;
      case MsgType::snapshot: {
        auto snap = std::make_shared<Snapshot>();
        std::tie(snap->last_included_index, snap->last_included_term) = index_term(cmd.str("snap"));
        snap->config = cmd.has("voters") ? config_args(cmd) : member(m.to).node->config();
        snap->bytes = 64;
        m.snapshot = snap;
        m.index = snap->last_included_index;
        m.log_term = snap->last_included_term;
        m.chunk_bytes = snap->bytes;
        m.done = true;
        break;
      }
      default: break;
    }
    deliver_one(m);
  }

  static std::pair<Index, Term> index_term(const std::string& s) {
    const auto at = s.find('@');
    if (at == std::string::npos) throw ScriptError("expected INDEX@TERM, not " + s);
    return {Command::to_num(s.substr(0, at), "index"), Command::to_num(s.substr(at + 1), "term")};
  }

  // status [N...]: each node's role, term, vote, leader, commit, log and
  // configuration; a leader's progress per peer.
  void status(Command& cmd) {
    std::vector<NodeId> ids;
    for (size_t i = 0; i < cmd.words.size(); ++i) ids.push_back(node_arg(cmd, i));
    if (ids.empty()) {
      for (auto& [id, m] : members_) ids.push_back(id);
    }
    for (NodeId id : ids) {
      Member& m = member(id);
      if (!m.up) {
        out_ << id << " down\n";
        continue;
      }
      const Node& x = *m.node;
      const RaftLog& log = x.log();
      out_ << id << " " << role_name(x.role()) << " term=" << x.current_term()
           << " vote=" << x.voted_for() << " leader=" << x.leader_id()
           << " commit=" << x.commit_index() << " applied=" << x.last_applied() << "\n";
      out_ << "  log";
      if (log.snapshot_index()) {
        out_ << " snapshot=" << log.snapshot_index() << "@" << log.snapshot_term();
      }
      OffsetVector<Entry> entries;
      log.copy_to(entries, log.first_index(), log.last_index());
      out_ << " " << entries_str(log.first_index(), entries);
      out_ << "\n  config " << config_str(x.config()) << "\n";
      if (x.role() != Role::leader) continue;
      for (const auto* peers : {&x.voter_progress(), &x.learner_progress()}) {
        for (const auto& [peer, pr] : *peers) {
          static const char* const kStates[] = {"probe", "replicate", "snapshot"};
          out_ << "  progress " << peer << (peers == &x.learner_progress() ? " learner" : "")
               << " match=" << pr.match_index << " next=" << pr.next_index << " "
               << kStates[static_cast<int>(pr.state)] << "\n";
        }
      }
    }
  }

  Options options_;
  FakeRandom random_;
  ConfigArena configs_;  // the nodes'
  TimeUs now_ = 0;
  std::map<NodeId, std::unique_ptr<Member>> members_;
  std::deque<Message> queue_;
  std::ostringstream out_;
};

// ---------------------------------------------------------------------------
// The file format: lines starting with '#' and blank lines between blocks are
// kept as they are; a block is a command line, "----", and the output up to
// the next blank line.

struct Block {
  std::vector<std::string> before;  // comments and blank lines ahead of it
  std::string command;
  int line = 0;
  std::string expected;
};

std::vector<Block> parse_file(const std::string& path, std::vector<std::string>& trailer) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<Block> blocks;
  std::vector<std::string> pending;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty() || l[0] == '#') {
      pending.push_back(l);
      continue;
    }
    Block b;
    b.before = std::move(pending);
    pending.clear();
    b.command = l;
    b.line = static_cast<int>(i + 1);
    if (i + 1 >= lines.size() || lines[i + 1] != "----") {
      throw ScriptError(path + ":" + std::to_string(i + 1) + ": expected ---- after the command");
    }
    for (i += 2; i < lines.size() && !lines[i].empty(); ++i) b.expected += lines[i] + "\n";
    if (i < lines.size()) pending.push_back("");  // the blank line that ended the block
    blocks.push_back(std::move(b));
  }
  trailer = std::move(pending);
  return blocks;
}

// Runs the script in `path`; returns one message per block whose output
// differs from the expected one, or for the error that stopped the script.
// With `rewrite`, a script that ran to its end is written back with the
// actual outputs (comments and commands kept as they are).
std::vector<std::string> run_script_file(const std::string& path, bool rewrite,
                                         const PlantedBugs& bugs = {}) {
  std::vector<std::string> failures;
  std::vector<std::string> trailer;
  std::vector<Block> blocks;
  try {
    blocks = parse_file(path, trailer);
  } catch (const ScriptError& e) {
    return {e.what()};
  }
  Script script(bugs);
  std::ostringstream rewritten;
  for (const Block& b : blocks) {
    const std::string where = path + ":" + std::to_string(b.line) + ": " + b.command;
    std::string actual;
    try {
      actual = script.run(b.command);
    } catch (const ScriptError& e) {
      failures.push_back(where + ": " + e.what());
      return failures;
    }
    for (const std::string& l : b.before) rewritten << l << "\n";
    rewritten << b.command << "\n----\n" << actual;
    if (!rewrite && actual != b.expected) {
      failures.push_back(where + "\n--- expected\n" + b.expected + "--- actual\n" + actual);
    }
  }
  for (const std::string& l : trailer) rewritten << l << "\n";
  if (rewrite) std::ofstream(path) << rewritten.str();
  return failures;
}

std::vector<std::string> script_files() {
  std::vector<std::string> files;
  // RAFT_SCRIPT_DIR runs the scripts of another directory (a scratch one, say).
  const char* dir = std::getenv("RAFT_SCRIPT_DIR");
  for (const auto& entry : std::filesystem::directory_iterator(dir ? dir : RAFT_TESTDATA)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("raft/testdata scripts: every output of the node as expected") {
  const bool rewrite = std::getenv("RAFT_SCRIPT_REWRITE") != nullptr;
  const std::vector<std::string> files = script_files();
  REQUIRE(!files.empty());
  for (const std::string& path : files) {
    for (const std::string& failure : run_script_file(path, rewrite)) FAIL_CHECK(failure);
  }
}

// The scripts' power to find protocol mistakes: each planted bug must make
// at least one script's output differ. The read bugs are the exception: the
// script language has no read command yet, so their planted scenarios
// (scenarios/planted/) are what must catch them.
TEST_CASE("raft/testdata scripts: every planted bug changes some script's output") {
  const std::vector<std::string> files = script_files();
  const std::vector<std::string> read_bugs = {"lease_ignores_drift", "read_index_without_heartbeat",
                                              "read_before_noop_commit"};
  for (const std::string& name : PlantedBugs::names()) {
    if (std::find(read_bugs.begin(), read_bugs.end(), name) != read_bugs.end()) continue;
    PlantedBugs bugs;
    REQUIRE(bugs.enable(name));
    size_t scripts_failing = 0;
    for (const std::string& path : files) {
      if (!run_script_file(path, false, bugs).empty()) ++scripts_failing;
    }
    CHECK_MESSAGE(scripts_failing > 0, "no script notices planted bug " << name);
  }
}

TEST_CASE("script harness: a wrong expectation is reported, and rewriting fixes it") {
  const std::string path =
      (std::filesystem::temp_directory_path() / "raft_script_harness_test.txt").string();
  const std::string header = "# a comment the rewrite keeps\n";
  std::ofstream(path) << header << "add-node 1 voters=1\n----\n> 1 start\n  timer election at=1\n";
  std::vector<std::string> failures = run_script_file(path, false);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find(path + ":2: add-node 1 voters=1") == 0);
  CHECK(failures[0].find("--- actual\n> 1 start\n  timer election at=150000\n") !=
        std::string::npos);

  CHECK(run_script_file(path, true).empty());
  CHECK(run_script_file(path, false).empty());
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == header + "add-node 1 voters=1\n----\n> 1 start\n  timer election at=150000\n");

  std::ofstream(path) << "add-node 1 voters=1\n----\n\nfrobnicate 1\n----\n";
  failures = run_script_file(path, false);
  REQUIRE(failures.size() == 2);
  CHECK(failures[1] == path + ":4: frobnicate 1: unknown command frobnicate");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace raft
