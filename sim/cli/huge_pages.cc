#include "sim/cli/huge_pages.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sim {

namespace {

constexpr const char* kHugeTunable = "glibc.malloc.hugetlb=1";
// Blocks up to 32 MiB from the heap (on huge pages) rather than from mmap
// (4 KiB pages, each faulted in): logs, lanes and tables grow past glibc's
// default 128 KiB threshold early in a long or large run.
constexpr const char* kMmapThresholdTunable = "glibc.malloc.mmap_threshold=33554432";

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool wants_huge_page_restart(const char* glibc_tunables, const char* raftsim_hugepages,
                             const char* ld_preload, const std::string& thp_mode) {
  if (raftsim_hugepages && std::strcmp(raftsim_hugepages, "0") == 0) return false;
  if (glibc_tunables && std::strstr(glibc_tunables, "glibc.malloc.hugetlb")) return false;
  if (ld_preload && std::strstr(ld_preload, "vgpreload")) return false;
  return thp_mode.find("[madvise]") != std::string::npos;
}

std::string tunables_with_huge_pages(const char* glibc_tunables) {
  std::string out = glibc_tunables ? glibc_tunables : "";
  if (!out.empty()) out += ":";
  out += kHugeTunable;
  // A threshold of the user's own stands.
  if (out.find("glibc.malloc.mmap_threshold") == std::string::npos) {
    out += std::string(":") + kMmapThresholdTunable;
  }
  return out;
}

void restart_with_huge_pages(char** argv) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (!wants_huge_page_restart(tunables, std::getenv("RAFTSIM_HUGEPAGES"),
                               std::getenv("LD_PRELOAD"),
                               read_file("/sys/kernel/mm/transparent_hugepage/enabled"))) {
    return;
  }
  const std::string before = tunables ? tunables : "";
  const bool was_set = tunables != nullptr;
  if (setenv("GLIBC_TUNABLES", tunables_with_huge_pages(tunables).c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // The restart failed: go on as before, with the environment as it was.
  if (was_set) {
    setenv("GLIBC_TUNABLES", before.c_str(), 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
}

long huge_pages_kb() {
  std::istringstream in(read_file("/proc/self/smaps_rollup"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("AnonHugePages:", 0) == 0) return std::strtol(line.c_str() + 14, nullptr, 10);
  }
  return 0;
}

}  // namespace sim
