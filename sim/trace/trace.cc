#include "sim/trace/trace.h"

#include <cstdio>

namespace sim {

void append_json_string(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void Trace::key(std::string_view k) {
  // Keys are not hashed: each event type has a fixed set of fields, so the
  // type and the values in order determine the line.
  buffer_ += buffer_.empty() ? '{' : ',';
  buffer_ += '"';
  buffer_ += k;
  buffer_ += "\":";
}

void Trace::text_num(std::string_view k, int64_t value) {
  key(k);
  buffer_ += std::to_string(value);
}

void Trace::text_unum(std::string_view k, uint64_t value) {
  key(k);
  buffer_ += std::to_string(value);
}

void Trace::text_str(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(buffer_, value);
}

void Trace::text_raw(std::string_view k, std::string_view json) {
  key(k);
  buffer_ += json;
}

void Trace::finish_line() {
  buffer_ += "}\n";
  out_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
}

Trace::Line& Trace::Line::ids(std::string_view k, const std::vector<raft::NodeId>& values) {
  if (text_) trace_.key(k);
  hash_u64(values.size());
  for (raft::NodeId v : values) hash_u64(v);
  if (text_) {
    std::string& b = trace_.buffer_;
    b += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) b += ',';
      b += std::to_string(values[i]);
    }
    b += ']';
  }
  return *this;
}

Trace::Line& Trace::Line::groups(std::string_view k,
                                 const std::vector<std::vector<raft::NodeId>>& values) {
  if (text_) trace_.key(k);
  hash_u64(values.size());
  std::string& b = trace_.buffer_;
  if (text_) b += '[';
  for (size_t g = 0; g < values.size(); ++g) {
    hash_u64(values[g].size());
    if (text_) b += g ? ",[" : "[";
    for (size_t i = 0; i < values[g].size(); ++i) {
      hash_u64(values[g][i]);
      if (text_) {
        if (i) b += ',';
        b += std::to_string(values[g][i]);
      }
    }
    if (text_) b += ']';
  }
  if (text_) b += ']';
  return *this;
}

void Trace::write_raw_line(const std::string& json) {
  if (!out_) return;
  out_->write(json.data(), static_cast<std::streamsize>(json.size()));
  out_->put('\n');
}

std::string Trace::digest_hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(digest_));
  return buf;
}

}  // namespace sim
