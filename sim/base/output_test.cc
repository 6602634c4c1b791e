#include "sim/base/output.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("raftsim-output-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("OutputFile replaces a regular file only on commit") {
  const fs::path dir = scratch_dir("regular");
  const std::string path = (dir / "out.txt").string();
  REQUIRE(sim::write_file_atomically(path, "old\n"));
  {
    sim::OutputFile out;
    REQUIRE(out.open(path));
    out.stream() << "new\n";
    CHECK(fs::exists(path + ".tmp"));
    CHECK(read(path) == "old\n");  // untouched until commit
    REQUIRE(out.commit());
  }
  CHECK(read(path) == "new\n");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  {
    sim::OutputFile out;
    REQUIRE(out.open(path));
    out.stream() << "abandoned\n";
  }  // not committed: the old file stays, the .tmp goes
  CHECK(read(path) == "new\n");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  fs::remove_all(dir);
}

TEST_CASE("OutputFile removes its .tmp and names the reason when the rename fails") {
  const fs::path dir = scratch_dir("rename");
  const std::string path = (dir / "out").string();
  sim::OutputFile out;
  REQUIRE(out.open(path));
  out.stream() << "content\n";
  // A non-empty directory appears at the path: rename(2) must fail.
  fs::create_directories(dir / "out" / "inside");
  CHECK_FALSE(out.commit());
  CHECK(out.error().find(path + ": cannot rename") == 0);
  CHECK(out.error().find("directory") != std::string::npos);  // the OS reason
  CHECK_FALSE(fs::exists(path + ".tmp"));
  fs::remove_all(dir);
}

TEST_CASE("OutputFile writes through a symlink and keeps it") {
  const fs::path dir = scratch_dir("symlink");
  fs::create_symlink("target", dir / "link");
  REQUIRE(sim::write_file_atomically((dir / "link").string(), "through\n"));
  CHECK(fs::is_symlink(dir / "link"));
  CHECK(read(dir / "target") == "through\n");
  CHECK_FALSE(fs::exists(dir / "link.tmp"));
  fs::remove_all(dir);
}

TEST_CASE("OutputFile reports a full device with the OS reason") {
  if (!fs::exists("/dev/full")) return;
  std::string error;
  CHECK_FALSE(sim::write_file_atomically("/dev/full", std::string(1 << 16, 'x'), &error));
  INFO(error);
  CHECK(error.find("/dev/full: cannot write the file: No space left on device") == 0);
  struct stat st {};
  REQUIRE(::stat("/dev/full", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));  // still the device, even when run as root
}

TEST_CASE("OutputFile refuses a directory and a missing parent") {
  const fs::path dir = scratch_dir("refuse");
  sim::OutputFile a;
  CHECK_FALSE(a.open(dir.string()));
  CHECK(a.error().find("is a directory") != std::string::npos);
  sim::OutputFile b;
  CHECK_FALSE(b.open((dir / "missing" / "x").string()));
  CHECK(b.error().find("No such file or directory") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("clashing_paths finds an output onto an input or another output") {
  const fs::path dir = scratch_dir("clash");
  const std::string input = (dir / "in.json").string();
  REQUIRE(sim::write_file_atomically(input, "{}\n"));
  const sim::LabelledPaths inputs = {{"the scenario file", input}};
  CHECK(sim::clashing_paths({{"--trace", (dir / "t.jsonl").string()}}, inputs).empty());
  CHECK(sim::clashing_paths({{"--trace", (dir / "." / "in.json").string()}}, inputs)
            .find("--trace and the scenario file") == 0);
  CHECK(sim::clashing_paths(
            {{"--trace", (dir / "x").string()}, {"--summary", (dir / "x").string()}}, inputs)
            .find("--trace and --summary name the same file") == 0);
  // Two outputs to one device, "-" and unset paths are fine.
  CHECK(sim::clashing_paths({{"--trace", "/dev/null"}, {"--chrome-trace", "/dev/null"}}, inputs)
            .empty());
  CHECK(sim::clashing_paths({{"--trace", "-"}, {"--summary", ""}}, {{"file", "-"}}).empty());
  fs::remove_all(dir);
}
