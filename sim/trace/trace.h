// The run's event stream: the digest (always) and the JSON Lines trace
// (when asked for), format in shared/spec/traces.md.
//
// Every line is built field by field; each value feeds the digest, and the
// text is formatted only when a trace file at that level is being written,
// so tracing costs little when off. The digest covers the whole stream at
// `messages` detail whatever the trace level, so it names the run exactly.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.h"
#include "sim/base/time.h"

namespace sim {

// FNV-1a: how the digest hashes every string value.
constexpr uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

// A string value fixed when the program is compiled, hashed then: the lines
// written for every message (its event type, its kind) would otherwise hash
// their names byte by byte, a sizeable share of a whole run. Declare them
// `constexpr` so the compiler computes the hash.
struct TraceName {
  constexpr explicit TraceName(std::string_view name) : text(name), hash(fnv1a(name)) {}
  std::string_view text;
  uint64_t hash;
};

class Trace {
 public:
  enum class Level : uint8_t { off, events, messages };

  void open(std::ostream* out, Level level) {
    out_ = out;
    level_ = out ? level : Level::off;
  }
  bool writing(bool message_level) const {
    return level_ == Level::messages || (level_ == Level::events && !message_level);
  }

  // One line. The value-hashing half of each method is inline (it runs for
  // every message even with tracing off); the text half only when writing.
  // A line hashes into its own copy of the digest, stored back when it ends:
  // the text calls could write the trace's, so the digest would otherwise
  // go through memory for every value. (One line is open at a time.)
  class Line {
   public:
    Line(Trace& trace, bool text, TimeUs t, const TraceName& type, raft::NodeId node)
        : trace_(trace), digest_(trace.digest_), text_(text) {
      num("t", t);
      str("type", type);
      if (node != 0) unum("node", node);
    }
    Line(const Line&) = delete;
    ~Line() {
      hash_u64(0x0a);  // end of line
      trace_.digest_ = digest_;
      ++trace_.lines_;
      if (text_) trace_.finish_line();
    }
    Line& num(std::string_view key, int64_t value) {
      hash_u64(static_cast<uint64_t>(value));
      if (text_) trace_.text_num(key, value);
      return *this;
    }
    Line& unum(std::string_view key, uint64_t value) {
      hash_u64(value);
      if (text_) trace_.text_unum(key, value);
      return *this;
    }
    Line& str(std::string_view key, std::string_view value) {
      hash_u64(fnv1a(value));
      if (text_) trace_.text_str(key, value);
      return *this;
    }
    // The same as str(key, name.text), already hashed.
    Line& str(std::string_view key, const TraceName& name) {
      hash_u64(name.hash);
      if (text_) trace_.text_str(key, name.text);
      return *this;
    }
    Line& boolean(std::string_view key, bool value) {
      hash_u64(value ? 1 : 2);
      if (text_) trace_.text_raw(key, value ? "true" : "false");
      return *this;
    }
    Line& ids(std::string_view key, const std::vector<raft::NodeId>& values);
    Line& groups(std::string_view key, const std::vector<std::vector<raft::NodeId>>& values);
    // A JSON value written as it is (already valid JSON); hashed as text.
    Line& raw(std::string_view key, std::string_view json) {
      hash_u64(fnv1a(json));
      if (text_) trace_.text_raw(key, json);
      return *this;
    }

   private:
    void hash_u64(uint64_t value) { digest_ = Trace::mix(digest_, value); }
    Trace& trace_;
    uint64_t digest_;
    bool text_;
  };

  // Starts an event line; `node` 0 means the event belongs to no node.
  // (Inline: a line is started for every message and client write.)
  Line event(TimeUs t, const TraceName& type, raft::NodeId node, bool message_level = false) {
    const bool text = writing(message_level);
    if (text) buffer_.clear();
    return Line(*this, text, t, type, node);
  }
  Line event(TimeUs t, std::string_view type, raft::NodeId node, bool message_level = false) {
    return event(t, TraceName(type), node, message_level);
  }
  // Header and footer lines are not part of the digest.
  void write_raw_line(const std::string& json);

  uint64_t digest() const { return digest_; }
  std::string digest_hex() const;
  uint64_t lines() const { return lines_; }

 private:
  friend class Line;
  // A cheap multiply-xorshift step: the digest only has to change whenever
  // the stream does, not resist an adversary.
  static uint64_t mix(uint64_t digest, uint64_t value) {
    digest = (digest ^ value) * 0x9e3779b97f4a7c15ULL;
    return digest ^ (digest >> 29);
  }
  void key(std::string_view k);
  void text_num(std::string_view k, int64_t value);
  void text_unum(std::string_view k, uint64_t value);
  void text_str(std::string_view k, std::string_view value);
  void text_raw(std::string_view k, std::string_view json);
  void finish_line();

  std::ostream* out_ = nullptr;
  Level level_ = Level::off;
  uint64_t digest_ = 0x243f6a8885a308d3ULL;
  uint64_t lines_ = 0;
  std::string buffer_;
};

// JSON string escaping for trace and report output.
void append_json_string(std::string& out, std::string_view value);

}  // namespace sim
