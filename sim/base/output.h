// Writing output files without ever destroying data by accident.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace sim {

// One output file. A regular file (or a path that does not exist yet) is
// written to PATH.tmp and renamed over PATH on commit, so that a failed or
// interrupted write leaves the previous file whole. Anything else - a device
// such as /dev/null or /dev/full, a FIFO, a symlink - is written in place:
// renaming over it would replace the device node, the pipe or the link.
class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();  // abandons the file unless committed

  // Opens for writing; false with error() set (it names the path and the OS
  // reason).
  bool open(const std::string& path);
  std::ostream& stream() { return out_; }
  // Flushes, closes and (for a regular file) renames into place; false with
  // error() set, and then the temporary file is gone.
  bool commit();
  // Removes the temporary file, leaving PATH as it was.
  void abandon();
  const std::string& error() const { return error_; }

 private:
  void fail(const std::string& what);
  std::string path_, tmp_;  // tmp_ empty: written in place
  std::ofstream out_;
  std::string error_;
  bool open_ = false;
};

// Writes a file whole or not at all (OutputFile); false with `error` set.
bool write_file_atomically(const std::string& path, const std::string& content,
                           std::string* error = nullptr);

// Whether two paths name the same file: the same inode when both exist, else
// the same normalized absolute path. "-" (stdout or stdin) is never a file.
bool same_file(const std::string& a, const std::string& b);

using LabelledPaths = std::vector<std::pair<std::string, std::string>>;  // (label, path)

// The first clash of an output with another output or with an input, as
// "LABEL_A and LABEL_B name the same file PATH", or "" when there is none.
// Empty paths and "-" are skipped; so are outputs that exist and are not
// regular files (two outputs to /dev/null harm nothing).
std::string clashing_paths(const LabelledPaths& outputs, const LabelledPaths& inputs);

// Flushes stdout and reports whether everything written to it arrived: a full
// disk or a closed pipe must not end in exit code 0. Prints the reason.
bool stdout_ok();

}  // namespace sim
