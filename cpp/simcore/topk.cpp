#include "simcore/topk.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "simcore/parallel.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SIMCORE_X86 1
#endif

namespace simcore {
namespace {

constexpr std::size_t kBlock = 256;         // rows scored per block (fits in L1)
constexpr std::size_t kBufferMaxK = 128;    // above this, select with nth_element

// Generic scorer: sequential-order double accumulation. Returns false on non-finite.
bool score_rows_generic(const float* x, std::size_t rows, std::size_t m, const double* w,
                        double* out) {
  bool ok = true;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * m;
    double acc = static_cast<double>(row[0]) * w[0];
    for (std::size_t j = 1; j < m; ++j) acc += static_cast<double>(row[j]) * w[j];
    out[r] = acc;
    ok &= (acc - acc == 0.0);
  }
  return ok;
}

#ifdef SIMCORE_X86
// m == 8: four rows at a time, transposed in registers, FMA chain over features.
__attribute__((target("avx2,fma"))) bool score_rows_m8_avx2(const float* x, std::size_t rows,
                                                             const double* w, double* out) {
  __m256d wv[8];
  for (int j = 0; j < 8; ++j) wv[j] = _mm256_set1_pd(w[j]);
  __m256d bad = _mm256_setzero_pd();
  const __m256d zero = _mm256_setzero_pd();
  std::size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* p = x + r * 8;
    __m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + 8), r2 = _mm256_loadu_ps(p + 16),
           r3 = _mm256_loadu_ps(p + 24);
    __m256d lo0 = _mm256_cvtps_pd(_mm256_castps256_ps128(r0));
    __m256d lo1 = _mm256_cvtps_pd(_mm256_castps256_ps128(r1));
    __m256d lo2 = _mm256_cvtps_pd(_mm256_castps256_ps128(r2));
    __m256d lo3 = _mm256_cvtps_pd(_mm256_castps256_ps128(r3));
    __m256d hi0 = _mm256_cvtps_pd(_mm256_extractf128_ps(r0, 1));
    __m256d hi1 = _mm256_cvtps_pd(_mm256_extractf128_ps(r1, 1));
    __m256d hi2 = _mm256_cvtps_pd(_mm256_extractf128_ps(r2, 1));
    __m256d hi3 = _mm256_cvtps_pd(_mm256_extractf128_ps(r3, 1));
    // transpose 4x4 (features 0..3)
    __m256d t0 = _mm256_unpacklo_pd(lo0, lo1), t1 = _mm256_unpackhi_pd(lo0, lo1);
    __m256d t2 = _mm256_unpacklo_pd(lo2, lo3), t3 = _mm256_unpackhi_pd(lo2, lo3);
    __m256d c0 = _mm256_permute2f128_pd(t0, t2, 0x20), c1 = _mm256_permute2f128_pd(t1, t3, 0x20);
    __m256d c2 = _mm256_permute2f128_pd(t0, t2, 0x31), c3 = _mm256_permute2f128_pd(t1, t3, 0x31);
    // features 4..7
    __m256d u0 = _mm256_unpacklo_pd(hi0, hi1), u1 = _mm256_unpackhi_pd(hi0, hi1);
    __m256d u2 = _mm256_unpacklo_pd(hi2, hi3), u3 = _mm256_unpackhi_pd(hi2, hi3);
    __m256d c4 = _mm256_permute2f128_pd(u0, u2, 0x20), c5 = _mm256_permute2f128_pd(u1, u3, 0x20);
    __m256d c6 = _mm256_permute2f128_pd(u0, u2, 0x31), c7 = _mm256_permute2f128_pd(u1, u3, 0x31);
    // products of floats are exact in double, so fma == mul + add here
    __m256d acc = _mm256_mul_pd(c0, wv[0]);
    acc = _mm256_fmadd_pd(c1, wv[1], acc);
    acc = _mm256_fmadd_pd(c2, wv[2], acc);
    acc = _mm256_fmadd_pd(c3, wv[3], acc);
    acc = _mm256_fmadd_pd(c4, wv[4], acc);
    acc = _mm256_fmadd_pd(c5, wv[5], acc);
    acc = _mm256_fmadd_pd(c6, wv[6], acc);
    acc = _mm256_fmadd_pd(c7, wv[7], acc);
    _mm256_storeu_pd(out + r, acc);
    bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(acc, acc), zero, _CMP_NEQ_UQ));
  }
  bool ok = _mm256_movemask_pd(bad) == 0;
  if (r < rows) ok &= score_rows_generic(x + r * 8, rows - r, 8, w, out + r);
  return ok;
}

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

bool score_rows(const float* x, std::size_t rows, std::size_t m, const double* w, double* out) {
#ifdef SIMCORE_X86
  if (m == 8 && cpu_has_avx2_fma()) return score_rows_m8_avx2(x, rows, w, out);
#endif
  return score_rows_generic(x, rows, m, w, out);
}

// Sorted buffer of the best candidates: score descending, index ascending on ties.
struct BestBuffer {
  std::size_t k;
  std::size_t count = 0;
  double score[kBufferMaxK];
  std::int64_t index[kBufferMaxK];

  explicit BestBuffer(std::size_t k_) : k(k_) {}
  double threshold() const {
    return count < k ? -std::numeric_limits<double>::infinity() : score[count - 1];
  }
  // Candidates arrive in increasing index order, so an equal score never displaces.
  void push(double s, std::int64_t i) {
    std::size_t pos = count < k ? count : k - 1;
    if (count == k && !(s > score[k - 1])) return;
    while (pos > 0 && score[pos - 1] < s) {
      score[pos] = score[pos - 1];
      index[pos] = index[pos - 1];
      --pos;
    }
    score[pos] = s;
    index[pos] = i;
    if (count < k) ++count;
  }
};

TopKResult topk_buffered(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* ex,
                         std::int64_t* out) {
  BestBuffer best(k);
  double s[kBlock];
  bool finite = true;
  for (std::size_t r0 = 0; r0 < X.rows; r0 += kBlock) {
    const std::size_t nb = std::min(kBlock, X.rows - r0);
    finite &= score_rows(X.data + r0 * X.cols, nb, X.cols, w, s);
    double thr = best.threshold();
    for (std::size_t r = 0; r < nb; ++r) {
      if (s[r] > thr || best.count < k) {
        if (ex && ex[r0 + r]) continue;
        best.push(s[r], static_cast<std::int64_t>(r0 + r));
        thr = best.threshold();
      }
    }
  }
  for (std::size_t i = 0; i < best.count; ++i) out[i] = best.index[i];
  return {best.count, finite};
}

TopKResult topk_select(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* ex,
                       std::int64_t* out) {
  std::vector<double> s(X.rows);
  const bool finite = score_rows(X.data, X.rows, X.cols, w, s.data());
  std::vector<std::int64_t> idx;
  idx.reserve(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i)
    if (!ex || !ex[i]) idx.push_back(static_cast<std::int64_t>(i));
  auto better = [&s](std::int64_t a, std::int64_t b) {
    return s[a] > s[b] || (s[a] == s[b] && a < b);
  };
  const std::size_t take = std::min(k, idx.size());
  if (take < idx.size()) {
    std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take), idx.end(),
                     better);
  }
  std::sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take), better);
  std::copy(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take), out);
  return {take, finite};
}

}  // namespace

bool scores(ItemMatrix X, const float* w, double* out) {
  std::vector<double> wd(w, w + X.cols);
  return score_rows(X.data, X.rows, X.cols, wd.data(), out);
}

TopKResult topk(ItemMatrix X, const float* w, std::size_t k, const std::uint8_t* exclude,
                std::int64_t* out) {
  if (k == 0 || X.rows == 0) return {0, true};
  double wd[64];
  std::vector<double> wbig;
  const double* wp = wd;
  if (X.cols <= 64) {
    for (std::size_t j = 0; j < X.cols; ++j) wd[j] = w[j];
  } else {
    wbig.assign(w, w + X.cols);
    wp = wbig.data();
  }
  if (k <= kBufferMaxK) return topk_buffered(X, wp, k, exclude, out);
  return topk_select(X, wp, k, exclude, out);
}

void topk_batch(const float* X, std::size_t B, std::size_t n, std::size_t m, const float* W,
                std::size_t k, const std::uint8_t* exclude, std::int64_t* out,
                std::uint8_t* finite_out, int threads) {
  parallel_for(B, threads, 8, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      std::int64_t* o = out + b * k;
      ItemMatrix xm{X + b * n * m, n, m};
      const std::uint8_t* ex = exclude ? exclude + b * n : nullptr;
      const TopKResult r = topk(xm, W + b * m, k, ex, o);
      for (std::size_t i = r.count; i < k; ++i) o[i] = -1;
      finite_out[b] = r.finite ? 1 : 0;
    }
  });
}

}  // namespace simcore
