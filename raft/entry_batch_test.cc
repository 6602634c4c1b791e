// EntryBatch: a message's entries, shared by the messages of a broadcast.
#include "raft/entry_batch.h"

#include <doctest/doctest.h>

#include <vector>

namespace raft {
namespace {

std::vector<Entry> entries_with_ids(uint64_t first, uint64_t count) {
  std::vector<Entry> out;
  for (uint64_t id = first; id < first + count; ++id) {
    Entry e;
    e.term = 1;
    e.write_id = id;
    e.kind = EntryKind::write;
    e.expected = 0;
    out.push_back(e);
  }
  return out;
}

TEST_CASE("an empty batch has no entries and no buffer") {
  const EntryBatch none;
  CHECK(none.empty());
  CHECK(none.size() == 0);
  CHECK(none.begin() == none.end());
  const EntryBatch from_empty{std::vector<Entry>{}};
  CHECK(from_empty.empty());
}

TEST_CASE("a batch reads as the entries it was made from, in order") {
  const EntryBatch batch(entries_with_ids(7, 3));
  REQUIRE(batch.size() == 3);
  CHECK(batch.front().write_id == 7);
  CHECK(batch[1].write_id == 8);
  CHECK(batch.back().write_id == 9);
  uint64_t expect = 7;
  for (const Entry& e : batch) CHECK(e.write_id == expect++);
  CHECK(expect == 10);
}

TEST_CASE("copies and slices share the buffer, and keep it alive after the original goes") {
  EntryBatch slice;
  EntryBatch copy;
  {
    const std::vector<Entry> source = entries_with_ids(1, 5);
    const EntryBatch batch(source.data(), source.data() + source.size());
    CHECK(batch.data() != source.data());  // a copy of its own
    copy = batch;
    CHECK(copy.data() == batch.data());
    slice = batch.slice(2, 2);
    CHECK(slice.data() == batch.data() + 2);
    CHECK(batch.slice(4, 0).empty());
  }
  REQUIRE(slice.size() == 2);
  CHECK(slice.front().write_id == 3);
  CHECK(slice.back().write_id == 4);
  REQUIRE(copy.size() == 5);
  CHECK(copy.back().write_id == 5);
}

}  // namespace
}  // namespace raft
