// Transparent huge pages for raftsim's heap.
//
// A large cluster's run touches a few cache lines of a different node's
// state at every event, spread over a heap of hundreds of megabytes: with
// 4 KiB pages nearly every such line is also a TLB miss and a page walk. At
// 1,001 voters that was most of the run (docs/performance.md). glibc backs
// its heap with transparent huge pages when the tunable
// glibc.malloc.hugetlb=1 is set, but it reads tunables only when a program
// starts, from the environment variable GLIBC_TUNABLES.
#pragma once

#include <string>

namespace sim {

// Whether a program should restart itself with glibc.malloc.hugetlb=1
// added to GLIBC_TUNABLES, given the environment's values (nullptr: unset)
// and the kernel's transparent-huge-page mode (the contents of
// /sys/kernel/mm/transparent_hugepage/enabled, empty if unreadable). Only
// when the kernel gives huge pages on request ("[madvise]"; under
// "[always]" the heap has them already), the tunable is not set already
// (by the user or by the first start), RAFTSIM_HUGEPAGES is not "0", and
// the program is not running under valgrind (which replaces malloc, and
// which a restart would leave).
bool wants_huge_page_restart(const char* glibc_tunables, const char* raftsim_hugepages,
                             const char* ld_preload, const std::string& thp_mode);

// GLIBC_TUNABLES with glibc.malloc.hugetlb=1 added to what it held, and
// glibc.malloc.mmap_threshold=33554432 unless it sets a threshold: blocks up
// to 32 MiB then come from the heap, on huge pages, instead of from mmap.
std::string tunables_with_huge_pages(const char* glibc_tunables);

// Restarts the program (execv of /proc/self/exe with the same arguments)
// with the tunable set, when wants_huge_page_restart says so. Returns if it
// did not restart, or the restart failed (the run then goes on as before).
// Call first thing in main: nothing may have been printed or started yet.
void restart_with_huge_pages(char** argv);

// The process's memory in transparent huge pages (AnonHugePages of
// /proc/self/smaps_rollup), in KiB; 0 if none or unknown.
long huge_pages_kb();

}  // namespace sim
