// When raftsim restarts itself for transparent huge pages, and with what.
#include "sim/cli/huge_pages.h"

#include <doctest/doctest.h>

namespace sim {
namespace {

const std::string kMadvise = "always [madvise] never\n";

TEST_CASE("a restart for huge pages only where the kernel gives them on request") {
  CHECK(wants_huge_page_restart(nullptr, nullptr, nullptr, kMadvise));
  CHECK_FALSE(wants_huge_page_restart(nullptr, nullptr, nullptr, "[always] madvise never\n"));
  CHECK_FALSE(wants_huge_page_restart(nullptr, nullptr, nullptr, "always madvise [never]\n"));
  CHECK_FALSE(wants_huge_page_restart(nullptr, nullptr, nullptr, ""));  // unreadable
}

TEST_CASE("no restart when the tunable is set already, opted out, or under valgrind") {
  // The first start sets it: the restarted program must not restart again.
  CHECK_FALSE(wants_huge_page_restart("glibc.malloc.hugetlb=1", nullptr, nullptr, kMadvise));
  CHECK_FALSE(wants_huge_page_restart("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0", nullptr,
                                      nullptr,
                                      kMadvise));  // the user's choice stands
  CHECK_FALSE(wants_huge_page_restart(nullptr, "0", nullptr, kMadvise));
  CHECK(wants_huge_page_restart(nullptr, "1", nullptr, kMadvise));
  CHECK_FALSE(wants_huge_page_restart(
      nullptr, nullptr, "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so", kMadvise));
  CHECK(wants_huge_page_restart("glibc.malloc.arena_max=2", nullptr, "libfoo.so", kMadvise));
}

TEST_CASE("the tunables are added to what GLIBC_TUNABLES held, a threshold of its own kept") {
  const std::string ours = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432";
  CHECK(tunables_with_huge_pages(nullptr) == ours);
  CHECK(tunables_with_huge_pages("") == ours);
  CHECK(tunables_with_huge_pages("glibc.malloc.arena_max=2") == "glibc.malloc.arena_max=2:" + ours);
  CHECK(tunables_with_huge_pages("glibc.malloc.mmap_threshold=65536") ==
        "glibc.malloc.mmap_threshold=65536:glibc.malloc.hugetlb=1");
}

}  // namespace
}  // namespace sim
