#include "sim/base/output.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace sim {

namespace {

// The OS reason of the last failure, when the library left one.
std::string reason() {
  return errno != 0 ? std::string(std::strerror(errno)) : std::string("write failed");
}

}  // namespace

OutputFile::~OutputFile() {
  abandon();
}

bool OutputFile::open(const std::string& path) {
  path_ = path;
  struct stat st {};
  const bool exists = ::lstat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    error_ = path + ": cannot write the file: it is a directory";
    return false;
  }
  tmp_ = !exists || S_ISREG(st.st_mode) ? path + ".tmp" : std::string();
  errno = 0;
  out_.open(tmp_.empty() ? path : tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    fail("cannot write the file");
    tmp_.clear();  // nothing was created
    return false;
  }
  open_ = true;
  return true;
}

void OutputFile::fail(const std::string& what) {
  error_ = path_ + ": " + what + ": " + reason();
}

bool OutputFile::commit() {
  if (!open_) return false;
  // A write that already failed left its reason in errno; keep it.
  if (out_) errno = 0;
  out_.flush();
  if (!out_) {
    fail("cannot write the file");
    abandon();
    return false;
  }
  out_.close();
  if (!out_) {
    fail("cannot write the file");
    abandon();
    return false;
  }
  open_ = false;
  if (!tmp_.empty()) {
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      fail("cannot rename " + tmp_ + " into place");
      std::remove(tmp_.c_str());
      tmp_.clear();
      return false;
    }
    tmp_.clear();
  }
  return true;
}

void OutputFile::abandon() {
  if (out_.is_open()) out_.close();
  open_ = false;
  if (!tmp_.empty()) {
    std::remove(tmp_.c_str());
    tmp_.clear();
  }
}

bool write_file_atomically(const std::string& path, const std::string& content,
                           std::string* error) {
  OutputFile out;
  bool ok = out.open(path);
  if (ok) {
    out.stream() << content;
    ok = out.commit();
  }
  if (!ok && error) *error = out.error();
  return ok;
}

bool same_file(const std::string& a, const std::string& b) {
  if (a == "-" || b == "-") return false;
  struct stat sa {
  }, sb{};
  const bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (ea != eb) return false;
  std::error_code ec1, ec2;
  const auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a), ec1);
  const auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b), ec2);
  return !ec1 && !ec2 && ca == cb;
}

std::string clashing_paths(const LabelledPaths& outputs, const LabelledPaths& inputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    // (Not a structured binding: C++17 lambdas cannot capture one, clang says.)
    const std::string& label = outputs[i].first;
    const std::string& path = outputs[i].second;
    if (path.empty() || path == "-") continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) continue;
    auto check = [&](const std::pair<std::string, std::string>& other) {
      return !other.second.empty() && same_file(path, other.second);
    };
    for (size_t j = i + 1; j < outputs.size(); ++j) {
      if (check(outputs[j]))
        return label + " and " + outputs[j].first + " name the same file " + path;
    }
    for (const auto& input : inputs) {
      if (check(input)) {
        return label + " and " + input.first + " name the same file " + path +
               "; writing it would destroy the input";
      }
    }
  }
  return "";
}

bool stdout_ok() {
  static bool reported = false;
  // No errno reset: when a write failed earlier, errno still holds its
  // reason unless a later call failed too.
  std::cout.flush();
  const bool ok = std::cout.good() && std::fflush(stdout) == 0 && !std::ferror(stdout);
  if (!ok && !reported) {
    std::cerr << "raftsim: cannot write to stdout: " << reason() << "\n";
    reported = true;
  }
  return ok;
}

}  // namespace sim
