// Linearizability checker: hand-written histories for each rule, and random
// histories compared with a brute-force oracle that tries every order.
#include "sim/check/linearizability.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "sim/base/prng.h"

namespace sim {
namespace {

Operation put(uint64_t client, uint64_t value, TimeUs call_us, std::optional<TimeUs> return_us,
              uint64_t order_hint = 0, uint32_t key = 0) {
  Operation op;
  op.client = client;
  op.key = key;
  op.kind = OpKind::put;
  op.value = value;
  op.call_us = call_us;
  op.return_us = return_us;
  op.order_hint = order_hint;
  return op;
}

Operation get(uint64_t client, uint64_t read_value, TimeUs call_us, std::optional<TimeUs> return_us,
              uint64_t order_hint = 0, uint32_t key = 0) {
  Operation op;
  op.client = client;
  op.key = key;
  op.kind = OpKind::get;
  op.read_value = read_value;
  op.call_us = call_us;
  op.return_us = return_us;
  op.order_hint = order_hint;
  return op;
}

Operation cas(uint64_t client, uint64_t expected, uint64_t value, bool ok, TimeUs call_us,
              std::optional<TimeUs> return_us, uint64_t order_hint = 0, uint32_t key = 0) {
  Operation op;
  op.client = client;
  op.key = key;
  op.kind = OpKind::cas;
  op.expected = expected;
  op.value = value;
  op.ok = ok;
  op.call_us = call_us;
  op.return_us = return_us;
  op.order_hint = order_hint;
  return op;
}

// The oracle: Herlihy & Wing's definition tried exhaustively, per key. An
// order exists that places every answered operation, each after every
// operation that returned before it was called, with the register's
// semantics; unanswered operations may be placed anywhere after their call,
// or left out.
bool precedes(const Operation& a, const Operation& b) {
  if (!a.return_us) return false;
  if (*a.return_us < b.call_us) return true;
  return a.client == b.client && *a.return_us == b.call_us && a.call_us < b.call_us;
}

bool extend(const std::vector<Operation>& ops, std::vector<bool>& placed, uint64_t state) {
  bool all_answered = true;
  for (size_t i = 0; i < ops.size(); ++i) all_answered &= placed[i] || !ops[i].return_us;
  if (all_answered) return true;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (placed[i]) continue;
    bool minimal = true;
    for (size_t j = 0; j < ops.size() && minimal; ++j)
      minimal = placed[j] || j == i || !precedes(ops[j], ops[i]);
    if (!minimal) continue;
    const Operation& op = ops[i];
    uint64_t after = state;
    if (op.kind == OpKind::put) {
      after = op.value;
    } else if (op.kind == OpKind::get) {
      if (op.return_us && state != op.read_value) continue;
    } else if (!op.return_us) {
      if (state == op.expected) after = op.value;
    } else if (op.ok) {
      if (state != op.expected) continue;
      after = op.value;
    } else if (state == op.expected) {
      continue;
    }
    placed[i] = true;
    const bool found = extend(ops, placed, after);
    placed[i] = false;
    if (found) return true;
  }
  return false;
}

bool brute_force_linearizable(const std::vector<Operation>& history) {
  std::set<uint32_t> keys;
  for (const Operation& op : history) keys.insert(op.key);
  for (uint32_t key : keys) {
    std::vector<Operation> ops;
    for (const Operation& op : history)
      if (op.key == key) ops.push_back(op);
    std::vector<bool> placed(ops.size(), false);
    if (!extend(ops, placed, 0)) return false;
  }
  return true;
}

std::vector<Operation> pick(const std::vector<Operation>& history,
                            const std::vector<size_t>& indexes) {
  std::vector<Operation> out;
  for (size_t i : indexes) out.push_back(history[i]);
  return out;
}

// The failing sub-history is not linearizable, and removing any one of its
// operations together with the reads of what it wrote makes it linearizable.
void require_minimal(const std::vector<Operation>& history, const LinearizabilityResult& result) {
  REQUIRE_FALSE(result.failing.empty());
  REQUIRE(std::is_sorted(result.failing.begin(), result.failing.end()));
  std::vector<Operation> failing = pick(history, result.failing);
  for (const Operation& op : failing) CHECK(op.key == result.key);
  CHECK_FALSE(brute_force_linearizable(failing));
  for (size_t drop = 0; drop < failing.size(); ++drop) {
    std::set<uint64_t> gone_values;
    std::vector<bool> gone(failing.size(), false);
    gone[drop] = true;
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = 0; i < failing.size(); ++i) {
        const Operation& op = failing[i];
        const bool writes =
            op.kind == OpKind::put || (op.kind == OpKind::cas && (!op.return_us || op.ok));
        if (gone[i] && writes && gone_values.insert(op.value).second) changed = true;
        uint64_t needs = 0;
        if (op.kind == OpKind::get) needs = op.read_value;
        if (op.kind == OpKind::cas && op.return_us && op.ok) needs = op.expected;
        if (!gone[i] && needs != 0 && gone_values.count(needs) != 0) {
          gone[i] = true;
          changed = true;
        }
      }
    }
    std::vector<Operation> rest;
    for (size_t i = 0; i < failing.size(); ++i)
      if (!gone[i]) rest.push_back(failing[i]);
    CAPTURE(drop);
    CHECK(brute_force_linearizable(rest));
  }
}

TEST_CASE("linearizability: an empty history and a sequential one are linearizable") {
  CHECK(check_linearizable({}).ok);
  const std::vector<Operation> history = {
      put(1, 11, 0, 10),
      get(2, 11, 20, 30),
      cas(3, 11, 12, true, 40, 50),
      cas(1, 11, 13, false, 60, 70),
      get(2, 12, 80, 90),
  };
  const LinearizabilityResult result = check_linearizable(history);
  CHECK(result.ok);
  CHECK_FALSE(result.undecided);
  CHECK(brute_force_linearizable(history));
}

TEST_CASE("linearizability: a read after a completed write must see it") {
  // Client 2 reads the key absent after client 1's put returned: a stale read.
  const std::vector<Operation> history = {put(1, 11, 1'000'000, 1'500'000),
                                          get(2, 0, 2'000'000, 2'250'000)};
  const LinearizabilityResult result = check_linearizable(history);
  REQUIRE_FALSE(result.ok);
  CHECK_FALSE(result.undecided);
  CHECK(result.failing == std::vector<size_t>{0, 1});
  CHECK(result.detail ==
        "client 1 put 11, called 1s, returned 1.5s\n"
        "client 2 get -> absent, called 2s, returned 2.25s\n");
}

TEST_CASE("linearizability: concurrent operations may take effect in either order") {
  // The get overlaps the put: it may read the old or the new value.
  for (uint64_t read : {uint64_t{0}, uint64_t{11}}) {
    CHECK(check_linearizable({put(1, 11, 0, 100), get(2, read, 50, 150)}).ok);
  }
  // Two concurrent puts, then reads agreeing on one of them.
  CHECK(check_linearizable(
            {put(1, 11, 0, 100), put(2, 12, 10, 90), get(3, 11, 200, 210), get(4, 11, 220, 230)})
            .ok);
  // Once one reader saw 11 after both puts, a later reader cannot see 12.
  const LinearizabilityResult flip = check_linearizable(
      {put(1, 11, 0, 100), put(2, 12, 10, 90), get(3, 11, 200, 210), get(4, 12, 220, 230)});
  CHECK_FALSE(flip.ok);
  // Two reads concurrent with each other and with the put may disagree only
  // in an order the put allows: old then new is fine...
  CHECK(check_linearizable({put(1, 11, 0, 300), get(2, 0, 10, 100), get(3, 11, 150, 200)}).ok);
  // ...new then old is not, once the first read returned before the second began.
  CHECK_FALSE(
      check_linearizable({put(1, 11, 0, 300), get(2, 11, 10, 100), get(3, 0, 150, 200)}).ok);
}

TEST_CASE("linearizability: compare-and-set swaps exactly when the value matches") {
  CHECK(
      check_linearizable({put(1, 11, 0, 10), cas(2, 11, 12, true, 20, 30), get(3, 12, 40, 50)}).ok);
  // A successful cas whose expected value was not there.
  CHECK_FALSE(check_linearizable({put(1, 11, 0, 10), cas(2, 99, 12, true, 20, 30)}).ok);
  // A failed cas although the value matched and nothing ran concurrently.
  CHECK_FALSE(check_linearizable({put(1, 11, 0, 10), cas(2, 11, 12, false, 20, 30)}).ok);
  // A failed cas writes nothing.
  CHECK_FALSE(
      check_linearizable({put(1, 11, 0, 10), cas(2, 7, 12, false, 20, 30), get(3, 12, 40, 50)}).ok);
  // Concurrent with a put that changes the value, a failed cas is fine.
  CHECK(check_linearizable({put(1, 11, 0, 10), put(3, 13, 15, 35), cas(2, 11, 12, false, 20, 30)})
            .ok);
  // cas on an absent key (expected 0).
  CHECK(check_linearizable({cas(1, 0, 12, true, 0, 10), get(2, 12, 20, 30)}).ok);
}

TEST_CASE("linearizability: operations without a return take effect after their call, or never") {
  // An unanswered put may have taken effect: a later read sees it...
  CHECK(check_linearizable({put(1, 11, 0, std::nullopt), get(2, 11, 100, 110)}).ok);
  // ...or not: a read still sees the key absent.
  CHECK(check_linearizable({put(1, 11, 0, std::nullopt), get(2, 0, 100, 110)}).ok);
  // ...but never before it was called.
  CHECK_FALSE(check_linearizable({get(2, 11, 0, 10), put(1, 11, 50, std::nullopt)}).ok);
  // Once seen, it stays (it took effect once, at one instant).
  CHECK_FALSE(
      check_linearizable({put(1, 11, 0, std::nullopt), get(2, 11, 100, 110), get(3, 0, 200, 210)})
          .ok);
  // An unanswered get constrains nothing, whatever it holds.
  CHECK(check_linearizable({put(1, 11, 0, 10), get(2, 99, 20, std::nullopt)}).ok);
  // A failed cas expecting the current value needs a write between: an
  // unanswered one nobody reads will do, if it was called before the cas
  // returned (with and without the hints that leave it out).
  CHECK(check_linearizable(
            {put(1, 11, 0, 10), put(2, 12, 20, std::nullopt), cas(3, 11, 13, false, 30, 40)})
            .ok);
  CHECK(check_linearizable(
            {put(1, 11, 0, 10, 2), put(2, 12, 20, std::nullopt), cas(3, 11, 13, false, 30, 40, 4)})
            .ok);
  CHECK_FALSE(check_linearizable({put(1, 11, 0, 10), cas(3, 11, 13, false, 30, 40)}).ok);
  CHECK_FALSE(check_linearizable(
                  {put(1, 11, 0, 10), cas(3, 11, 13, false, 30, 40), put(2, 12, 50, std::nullopt)})
                  .ok);
  // An unanswered cas swaps only if the value matched when it took effect.
  CHECK(check_linearizable(
            {put(1, 11, 0, 10), cas(2, 11, 12, false, 20, std::nullopt), get(3, 12, 40, 50)})
            .ok);
  CHECK_FALSE(check_linearizable(
                  {put(1, 11, 0, 10), cas(2, 7, 12, false, 20, std::nullopt), get(3, 12, 40, 50)})
                  .ok);
}

TEST_CASE("linearizability: a stale read is reported with a smallest failing sub-history") {
  // Many operations on key 3, one stale read among them (and a clean key 4).
  std::vector<Operation> history;
  TimeUs t = 0;
  for (uint64_t v = 1; v <= 40; ++v, t += 100) {
    history.push_back(put(v % 5, v, t, t + 30, 0, 3));
    history.push_back(get(10 + v % 3, v, t + 40, t + 60, 0, 3));
    history.push_back(put(20, 1000 + v, t, t + 50, 0, 4));
  }
  const size_t stale = 3 * 20 + 1;  // the get after put 21 ...
  history[stale].read_value = 20;   // ... reads 20, whose successor had returned
  const LinearizabilityResult result = check_linearizable(history);
  REQUIRE_FALSE(result.ok);
  CHECK(result.key == 3);
  // put 20, put 21, the stale get: nothing smaller fails.
  CHECK(result.failing == std::vector<size_t>{stale - 4, stale - 1, stale});
  require_minimal(history, result);
  CHECK(result.detail.find("get -> 20") != std::string::npos);
}

TEST_CASE(
    "linearizability: the simulator's order is tried first, and the search corrects wrong hints") {
  // Hints that agree with real time and values: no search.
  const std::vector<Operation> hinted = {put(1, 11, 0, 100, 2), put(2, 12, 10, 90, 4),
                                         get(3, 12, 200, 210, 5), get(4, 12, 95, 230, 5),
                                         cas(5, 12, 13, true, 300, 310, 6)};
  const LinearizabilityResult by_hint = check_linearizable(hinted);
  CHECK(by_hint.ok);
  CHECK(by_hint.keys_by_hint == 1);
  CHECK(by_hint.keys_searched == 0);
  CHECK(by_hint.states_visited == 0);

  // The same with the two concurrent puts' hints swapped: the hint order now
  // ends on 11, contradicting the reads, but the history is linearizable.
  std::vector<Operation> wrong = hinted;
  std::swap(wrong[0].order_hint, wrong[1].order_hint);
  const LinearizabilityResult searched = check_linearizable(wrong);
  CHECK(searched.ok);
  CHECK(searched.keys_by_hint == 0);
  CHECK(searched.keys_searched == 1);
  CHECK(searched.states_visited > 0);

  // A hint order that breaks real time (the get placed before the put that
  // returned before it began) is refused, and the search finds the order.
  const LinearizabilityResult real_time =
      check_linearizable({put(1, 11, 0, 10, 4), get(2, 0, 20, 30, 3)});
  CHECK_FALSE(real_time.ok);
  CHECK(real_time.keys_searched == 1);
  CHECK(check_linearizable({put(1, 11, 0, 10, 4), get(2, 11, 20, 30, 3)}).ok);

  // An answered operation without a hint sends the key to the search.
  const LinearizabilityResult partial =
      check_linearizable({put(1, 11, 0, 10, 2), get(2, 11, 20, 30, 0)});
  CHECK(partial.ok);
  CHECK(partial.keys_searched == 1);
}

TEST_CASE("linearizability: keys are independent registers") {
  const std::vector<Operation> history = {
      put(1, 11, 0, 10, 0, 7),  put(2, 21, 0, 10, 0, 5),
      get(3, 11, 20, 30, 0, 7), get(4, 11, 20, 30, 0, 5),  // key 5 never held 11
      get(5, 21, 40, 50, 0, 5),
  };
  const LinearizabilityResult result = check_linearizable(history);
  REQUIRE_FALSE(result.ok);
  CHECK(result.key == 5);
  CHECK(result.failing == std::vector<size_t>{3});  // reading a value nobody wrote fails alone
  // Keys 5 and 7 apart are each fine.
  CHECK(check_linearizable({history[0], history[2]}).ok);
  CHECK(check_linearizable({history[1], history[4]}).ok);
}

TEST_CASE(
    "linearizability: a client's next call follows its previous return in the same microsecond") {
  // Different clients at the same instant: concurrent, either order.
  CHECK(check_linearizable({put(1, 11, 0, 10), get(2, 0, 10, 20)}).ok);
  // The same client: its get was issued after its put returned.
  const LinearizabilityResult same = check_linearizable({put(1, 11, 0, 10), get(1, 0, 10, 20)});
  CHECK_FALSE(same.ok);
  CHECK(same.failing.size() == 2);
  // The same with hints that claim the get came first.
  CHECK_FALSE(check_linearizable({put(1, 11, 0, 10, 4), get(1, 0, 10, 20, 1)}).ok);
}

TEST_CASE("linearizability: the search stops at max_states and says undecided") {
  // Twelve concurrent puts and a read of the first: linearizable, but only a
  // search finds it (no hints), trying the others' orders first; one state is
  // not enough.
  std::vector<Operation> history;
  for (uint64_t c = 1; c <= 12; ++c) history.push_back(put(c, c, 0, 100));
  history.push_back(get(30, 1, 200, 210));
  LinearizabilityOptions options;
  options.max_states = 1;
  const LinearizabilityResult result = check_linearizable(history, options);
  CHECK_FALSE(result.ok);
  CHECK(result.undecided);
  CHECK(result.failing.empty());
  CHECK(result.detail.find("undecided") != std::string::npos);
  CHECK(check_linearizable(history).ok);
  // A violation in another key wins over undecided.
  history.push_back(put(40, 41, 0, 10, 0, 9));
  history.push_back(get(41, 0, 20, 30, 0, 9));
  const LinearizabilityResult both = check_linearizable(history, options);
  CHECK_FALSE(both.ok);
  CHECK_FALSE(both.undecided);
  CHECK(both.key == 9);
}

// A random history of one or two keys: a sequential execution (one
// operation every 10 us) whose calls and returns spread around each
// operation's instant, so that operations overlap; some have no return
// (and may not have taken effect). Hints are the true order.
std::vector<Operation> random_history(Prng& prng, size_t size, int keys, TimeUs spread_us,
                                      int open_one_in = 10) {
  std::vector<Operation> history;
  std::vector<uint64_t> value(static_cast<size_t>(keys), 0);
  uint64_t next_value = 1;
  uint64_t index = 0;
  for (size_t i = 0; i < size; ++i) {
    const TimeUs at = 10 * static_cast<TimeUs>(i + 1) * 10;
    const uint32_t key = static_cast<uint32_t>(prng.uniform_int(0, keys - 1));
    Operation op;
    op.client = i + 1;  // distinct clients: no same-microsecond program order
    op.key = key;
    op.call_us = at - prng.uniform_int(0, spread_us);
    const bool open = prng.uniform_int(1, open_one_in) == 1;
    if (!open) op.return_us = at + prng.uniform_int(0, spread_us);
    const bool took_effect = !open || prng.uniform_int(0, 1) == 0;
    uint64_t& current = value[key];
    switch (prng.uniform_int(0, 2)) {
      case 0:
        op.kind = OpKind::put;
        op.value = next_value++;
        if (took_effect) current = op.value;
        break;
      case 1:
        op.kind = OpKind::get;
        op.read_value = current;
        break;
      default:
        op.kind = OpKind::cas;
        op.value = next_value++;
        op.expected =
            prng.uniform_int(0, 1) == 0
                ? current
                : static_cast<uint64_t>(prng.uniform_int(0, static_cast<int64_t>(next_value)));
        op.ok = op.expected == current;
        if (took_effect && op.ok) current = op.value;
        break;
    }
    if (took_effect) op.order_hint = op.kind == OpKind::get ? 2 * index + 1 : 2 * ++index;
    history.push_back(op);
  }
  return history;
}

TEST_CASE("linearizability: random histories agree with the brute-force oracle") {
  Prng prng(14);
  int mutated_caught = 0;
  for (int round = 0; round < 3000; ++round) {
    const size_t size = static_cast<size_t>(prng.uniform_int(1, 8));
    std::vector<Operation> history = random_history(prng, size, 1 + round % 2, 250);
    if (round % 3 == 1)
      for (Operation& op : history) op.order_hint = 0;  // force the search
    CAPTURE(round);
    const LinearizabilityResult clean = check_linearizable(history);
    REQUIRE(clean.ok);
    // Mutate one answered read or cas outcome; the checker must agree with
    // the oracle, and a violation it reports must be minimal.
    std::vector<size_t> answered;
    for (size_t i = 0; i < history.size(); ++i)
      if (history[i].return_us && history[i].kind != OpKind::put) answered.push_back(i);
    if (answered.empty()) continue;
    Operation& op = history[answered[static_cast<size_t>(
        prng.uniform_int(0, static_cast<int64_t>(answered.size()) - 1))]];
    if (op.kind == OpKind::get) {
      op.read_value = static_cast<uint64_t>(prng.uniform_int(0, static_cast<int64_t>(size)));
    } else {
      op.ok = !op.ok;
    }
    const LinearizabilityResult result = check_linearizable(history);
    REQUIRE_FALSE(result.undecided);
    REQUIRE(result.ok == brute_force_linearizable(history));
    if (!result.ok) {
      ++mutated_caught;
      require_minimal(history, result);
    }
  }
  CHECK(mutated_caught > 500);
}

TEST_CASE("linearizability: arbitrary small histories agree with the brute-force oracle") {
  // Many unanswered operations, and mutations of any field: expected values,
  // answered or not, and one client for several operations (same-microsecond
  // program order).
  Prng prng(1414);
  int violations = 0;
  for (int round = 0; round < 5000; ++round) {
    const size_t size = static_cast<size_t>(prng.uniform_int(1, 9));
    std::vector<Operation> history =
        random_history(prng, size, 1 + round % 2, prng.uniform_int(50, 400),
                       static_cast<int>(prng.uniform_int(2, 6)));
    if (prng.uniform_int(0, 1) == 0)
      for (Operation& op : history) op.order_hint = 0;
    for (int64_t mutations = prng.uniform_int(0, 2); mutations > 0; --mutations) {
      Operation& op =
          history[static_cast<size_t>(prng.uniform_int(0, static_cast<int64_t>(size) - 1))];
      const auto any_value = [&] {
        return static_cast<uint64_t>(prng.uniform_int(0, static_cast<int64_t>(size) + 1));
      };
      switch (prng.uniform_int(0, 3)) {
        case 0:
          if (op.kind == OpKind::get) op.read_value = any_value();
          break;
        case 1: op.ok = !op.ok; break;
        case 2: op.expected = any_value(); break;
        default:
          if (op.return_us) {
            op.return_us.reset();
          } else {
            op.return_us = op.call_us + prng.uniform_int(0, 300);
          }
      }
      if (prng.uniform_int(0, 3) == 0) op.client = 1;
    }
    CAPTURE(round);
    const LinearizabilityResult result = check_linearizable(history);
    REQUIRE_FALSE(result.undecided);
    REQUIRE(result.ok == brute_force_linearizable(history));
    if (!result.ok) {
      ++violations;
      require_minimal(history, result);
    }
  }
  CHECK(violations > 300);
}

TEST_CASE("linearizability: long random histories pass with and without hints") {
  Prng prng(41);
  for (int round = 0; round < 10; ++round) {
    std::vector<Operation> history = random_history(prng, 3000, 3, 400, 50);
    const LinearizabilityResult hinted = check_linearizable(history);
    CHECK(hinted.ok);
    CHECK(hinted.keys_searched == 0);
    for (Operation& op : history) op.order_hint = 0;
    const LinearizabilityResult searched = check_linearizable(history);
    CHECK(searched.ok);
    CHECK(searched.keys_searched == 3);
    // Mutating one late read to the value of a put p overwritten by a put q
    // that returned before the read began, itself called after p returned,
    // is caught and shrunk to a handful of operations.
    bool mutated = false;
    for (size_t g = history.size() - 1; g > 0 && !mutated; --g) {
      if (history[g].kind != OpKind::get || !history[g].return_us) continue;
      auto closed_put_before = [&](TimeUs before_us, size_t from) -> std::optional<size_t> {
        for (size_t i = from; i-- > 0;) {
          const Operation& op = history[i];
          if (op.kind == OpKind::put && op.key == history[g].key && op.return_us &&
              *op.return_us < before_us)
            return i;
        }
        return std::nullopt;
      };
      const std::optional<size_t> q = closed_put_before(history[g].call_us, g);
      if (!q) continue;
      const std::optional<size_t> p = closed_put_before(history[*q].call_us, *q);
      if (!p) continue;
      history[g].read_value = history[*p].value;
      mutated = true;
    }
    REQUIRE(mutated);
    const LinearizabilityResult caught = check_linearizable(history);
    REQUIRE_FALSE(caught.ok);
    CHECK_FALSE(caught.undecided);
    CHECK(caught.failing.size() <= 8);
    require_minimal(history, caught);
  }
}

}  // namespace
}  // namespace sim
