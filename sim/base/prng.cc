#include "sim/base/prng.h"

#include "raft/types.h"

namespace sim {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Prng::Prng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = splitmix64(state);
}

Prng Prng::stream(uint64_t run_seed, std::string_view name) {
  // FNV-1a of the name, mixed with the seed.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return Prng(raft::hash_combine(run_seed, h));
}

uint64_t Prng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

int64_t Prng::uniform_int(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  if (range == 0) return static_cast<int64_t>(next_u64());  // the full 64-bit range
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * range;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < range) {
    const uint64_t threshold = (0 - range) % range;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * range;
      low = static_cast<uint64_t>(m);
    }
  }
  return lo + static_cast<int64_t>(static_cast<uint64_t>(m >> 64));
}

int64_t Prng::normal_int(int64_t mean, int64_t stddev) {
  // The sum of 12 uniforms on [0, 1) has mean 6 and variance 1.
  __int128 sum = 0;
  for (int i = 0; i < 12; ++i) sum += next_u64() >> 32;  // 32-bit uniforms
  const __int128 centred = sum - static_cast<__int128>(6) * (static_cast<__int128>(1) << 32);
  const __int128 offset = centred * stddev / (static_cast<__int128>(1) << 32);
  return mean + static_cast<int64_t>(offset);
}

int64_t Prng::exponential_int(int64_t mean) {
  // U in (0, 1]: 53 random bits, shifted away from zero.
  const double u = static_cast<double>((next_u64() >> 11) + 1) * (1.0 / 9007199254740992.0);
  const double value = -det_log(u) * static_cast<double>(mean);
  return static_cast<int64_t>(value + 0.5);
}

uint64_t probability_threshold(double p) {
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return UINT64_MAX;
  return static_cast<uint64_t>(p * 18446744073709551616.0);  // p * 2^64, exact scaling
}

double det_log(double x) {
  // x = m * 2^k with m in [sqrt(1/2), sqrt(2)); ln x = k ln 2 + 2 atanh((m-1)/(m+1)).
  constexpr double kLn2 = 0.693147180559945309417232121458;
  int k = 0;
  double m = x;
  while (m < 0.70710678118654752440) {
    m *= 2.0;
    --k;
  }
  while (m >= 1.41421356237309504880) {
    m *= 0.5;
    ++k;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  // atanh series: s + s^3/3 + s^5/5 + ...; |s| < 0.172, so 12 terms reach
  // double precision.
  double term = s;
  double sum = 0.0;
  for (int n = 1; n <= 25; n += 2) {
    sum += term / n;
    term *= s2;
  }
  return static_cast<double>(k) * kLn2 + 2.0 * sum;
}

}  // namespace sim
