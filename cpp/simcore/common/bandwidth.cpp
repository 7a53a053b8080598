#include "simcore/common/bandwidth.hpp"

#include <algorithm>
#include <vector>

#include "simcore/common/parallel.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SIMCORE_X86 1
#endif

namespace simcore {
namespace {

double sum_generic(const float* x, std::size_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += x[i + l];
  double s = 0;
  for (float v : lane) s += v;
  for (; i < n; ++i) s += x[i];
  return s;
}

#ifdef SIMCORE_X86
__attribute__((target("avx2"))) double sum_avx2(const float* x, std::size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  alignas(32) float lane[8];
  _mm256_store_ps(lane, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  double s = 0;
  for (float v : lane) s += v;
  for (; i < n; ++i) s += x[i];
  return s;
}
#endif

double sum_range(const float* x, std::size_t n) {
#ifdef SIMCORE_X86
  if (__builtin_cpu_supports("avx2")) return sum_avx2(x, n);
#endif
  return sum_generic(x, n);
}

}  // namespace

double stream_sum(const float* x, std::size_t n, int threads) {
  const std::size_t t = threads <= 0 ? static_cast<std::size_t>(default_threads())
                                     : static_cast<std::size_t>(threads);
  const std::size_t parts = std::max<std::size_t>(1, std::min(t, n / 4096));
  std::vector<double> partial(parts, 0.0);
  parallel_for(parts, static_cast<int>(parts), 1, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t b = n * p / parts, e = n * (p + 1) / parts;
      partial[p] = sum_range(x + b, e - b);
    }
  });
  double s = 0;
  for (double v : partial) s += v;
  return s;
}

}  // namespace simcore
