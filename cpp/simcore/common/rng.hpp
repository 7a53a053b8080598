// Counter-seeded per-session random streams (SplitMix64).
//
// Every session owns one Stream whose starting state is a hash of
// (seed, slot, episode).  Draws never touch shared state, so results do not
// depend on how sessions are split across threads.
#pragma once
#include <cmath>
#include <cstdint>

namespace simcore {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Key of the stream for (seed, slot, episode); documented in docs/user_model.md.
inline std::uint64_t stream_key(std::uint64_t seed, std::uint64_t slot, std::uint64_t episode) {
  return splitmix64(splitmix64(splitmix64(seed) ^ slot) ^ (episode * 0xD1B54A32D192ED03ULL));
}

struct Stream {
  std::uint64_t state = 0;

  std::uint64_t next_u64() {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Standard normal by Box-Muller (one normal per two uniforms; the second is discarded
  // so that the number of draws per call is fixed).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

}  // namespace simcore
