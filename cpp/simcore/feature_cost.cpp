#include "simcore/feature_cost.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "simcore/parallel.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SIMCORE_FC_X86 1
#endif

namespace simcore {
namespace {

// Above this k the top-k loss is D(all) - D(items outside the top-k) (two O(N log N)
// inversion counts) instead of the O(k N) direct count.
constexpr std::size_t kDirectMaxK = 48;

inline bool all_finite(const double* v, std::size_t n) {
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) ok &= (v[i] - v[i] == 0.0);
  return ok;
}

// ----------------------------------------------------------------- linear scoring
// out[i] = sum_j (mask[j] ? x[i,j] * w[j] : wfill[j]) in order j, starting from 0.0;
// wfill[j] = fill[j] * w[j] (exact in double).  mask == nullptr: all evaluated.
void score_linear_generic(const float* x, std::size_t N, std::size_t n, const double* w,
                          const double* wfill, const std::uint8_t* mask, double* out) {
  for (std::size_t i = 0; i < N; ++i) {
    const float* row = x + i * n;
    double acc = 0.0;
    for (std::size_t j = 0; j < n; ++j)
      acc += (!mask || mask[j]) ? static_cast<double>(row[j]) * w[j] : wfill[j];
    out[i] = acc;
  }
}

#ifdef SIMCORE_FC_X86
bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

// Eight items at a time; features transposed four at a time in registers.  The
// product of two floats is exact in double, so fma(x, w, acc) == acc + x * w.
__attribute__((target("avx2,fma"))) void score_linear_avx2(const float* x, std::size_t N,
                                                            std::size_t n, const double* w,
                                                            const double* wfill,
                                                            const std::uint8_t* mask,
                                                            double* out) {
  std::size_t i = 0;
  for (; i + 8 <= N; i += 8) {
    const float* p = x + i * n;
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
// (a macro: a lambda would not inherit the function's target attributes)
#define SIMCORE_FC_STEP(c0, c1, jj)                                  \
  do {                                                               \
    if (!mask || mask[jj]) {                                         \
      const __m256d wv = _mm256_set1_pd(w[jj]);                      \
      a0 = _mm256_fmadd_pd(_mm256_cvtps_pd(c0), wv, a0);             \
      a1 = _mm256_fmadd_pd(_mm256_cvtps_pd(c1), wv, a1);             \
    } else {                                                         \
      const __m256d fv = _mm256_set1_pd(wfill[jj]);                  \
      a0 = _mm256_add_pd(a0, fv);                                    \
      a1 = _mm256_add_pd(a1, fv);                                    \
    }                                                                \
  } while (0)
    std::size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      __m128 r0 = _mm_loadu_ps(p + j), r1 = _mm_loadu_ps(p + n + j),
             r2 = _mm_loadu_ps(p + 2 * n + j), r3 = _mm_loadu_ps(p + 3 * n + j);
      __m128 r4 = _mm_loadu_ps(p + 4 * n + j), r5 = _mm_loadu_ps(p + 5 * n + j),
             r6 = _mm_loadu_ps(p + 6 * n + j), r7 = _mm_loadu_ps(p + 7 * n + j);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _MM_TRANSPOSE4_PS(r4, r5, r6, r7);
      SIMCORE_FC_STEP(r0, r4, j);
      SIMCORE_FC_STEP(r1, r5, j + 1);
      SIMCORE_FC_STEP(r2, r6, j + 2);
      SIMCORE_FC_STEP(r3, r7, j + 3);
    }
    for (; j < n; ++j) {
      const __m128 c0 = _mm_set_ps(p[3 * n + j], p[2 * n + j], p[n + j], p[j]);
      const __m128 c1 = _mm_set_ps(p[7 * n + j], p[6 * n + j], p[5 * n + j], p[4 * n + j]);
      SIMCORE_FC_STEP(c0, c1, j);
    }
    _mm256_storeu_pd(out + i, a0);
    _mm256_storeu_pd(out + i + 4, a1);
  }
#undef SIMCORE_FC_STEP
  if (i < N) score_linear_generic(x + i * n, N - i, n, w, wfill, mask, out + i);
}
#endif

bool score_linear(const float* x, std::size_t N, std::size_t n, const double* w,
                  const double* wfill, const std::uint8_t* mask, bool simd, double* out) {
#ifdef SIMCORE_FC_X86
  if (simd && cpu_has_avx2_fma()) {
    score_linear_avx2(x, N, n, w, wfill, mask, out);
    return all_finite(out, N);
  }
#endif
  (void)simd;
  score_linear_generic(x, N, n, w, wfill, mask, out);
  return all_finite(out, N);
}

// -------------------------------------------------------------------- MLP scoring
struct MlpScratch {
  std::vector<double> a, z;
};

bool score_mlp(const float* x, std::size_t N, std::size_t n, const Ranker& rk, const float* fill,
               const std::uint8_t* mask, MlpScratch& sc, double* out) {
  std::size_t width = n;
  for (std::size_t l = 0; l < rk.n_layers; ++l) width = std::max(width, rk.layers[l].out);
  sc.a.resize(width);
  sc.z.resize(width);
  bool ok = true;
  for (std::size_t i = 0; i < N; ++i) {
    const float* row = x + i * n;
    for (std::size_t j = 0; j < n; ++j) {
      const double v = (!mask || mask[j]) ? static_cast<double>(row[j]) : fill[j];
      ok &= (v - v == 0.0);
      sc.a[j] = v;
    }
    for (std::size_t l = 0; l < rk.n_layers; ++l) {
      const DenseLayer& L = rk.layers[l];
      double* z = sc.z.data();
      for (std::size_t u = 0; u < L.out; ++u) z[u] = static_cast<double>(L.b[u]);
      for (std::size_t j = 0; j < L.in; ++j) {
        const double aj = sc.a[j];
        const float* Wj = L.W + j * L.out;
        for (std::size_t u = 0; u < L.out; ++u) {
          const double prod = aj * static_cast<double>(Wj[u]);
          z[u] = z[u] + prod;
        }
      }
      if (l + 1 < rk.n_layers)
        for (std::size_t u = 0; u < L.out; ++u) z[u] = z[u] > 0.0 ? z[u] : 0.0;
      std::swap(sc.a, sc.z);
    }
    out[i] = sc.a[0];
  }
  return ok && all_finite(out, N);
}

// ------------------------------------------------------------------ pairwise loss
//
// Rankings order items by score descending, ties by lower index (as simcore::topk and
// the simulator).  The full ranking is computed once per query and shared by the
// consecutive rows of that query: perm maps position -> item.  With v_p = -s[perm[p]],
// a pair of positions p < q is ordered differently by the subset ranking iff
//   v_p > v_q (the later item scores strictly higher), or
//   v_p == v_q and perm[p] > perm[q] (tied subset scores: the lower index goes first).
// Pairs tied in f are already ordered by index in perm, so they need no special case.
// The first kind is a strict-inversion count (merge sort); the second, a correction
// computed only when the row has tied subset scores.

inline std::uint32_t float_key(double d) {
  const float x = static_cast<float>(d);  // monotone (non-decreasing) in d
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

struct FullOrder {
  std::vector<std::uint64_t> a, b;  // radix buffers
  std::vector<std::uint32_t> perm;  // (N,) the full ranking: position -> item
  std::vector<double> v, tmp;       // (N + 1,) per-row scratch
  std::vector<double> item;          // (N,) item of each kept position (as double)
  std::vector<std::pair<double, std::uint32_t>> tied;  // tie correction: (v, position)
  std::vector<double> iv, itmp;                         // tie correction: index runs
};

// LSD radix sort on the float32-rounded score (3 passes of 11 bits, constant digits
// skipped; stable, so equal keys keep index order), then runs of equal float32 keys
// refined by the exact order (f descending, index ascending).
void full_order(const double* f, std::size_t N, FullOrder& o) {
  o.a.resize(N);
  o.b.resize(N);
  std::vector<std::uint32_t> hist(3 * 2048, 0);
  std::uint32_t* h = hist.data();
  for (std::size_t i = 0; i < N; ++i) {
    const std::uint32_t k = ~float_key(f[i]);  // ascending key = descending score
    o.a[i] = (static_cast<std::uint64_t>(k) << 32) | static_cast<std::uint32_t>(i);
    ++h[k & 2047];
    ++h[2048 + ((k >> 11) & 2047)];
    ++h[4096 + (k >> 22)];
  }
  std::uint64_t* src = o.a.data();
  std::uint64_t* dst = o.b.data();
  for (int p = 0; p < 3; ++p) {
    const int shift = 32 + 11 * p;
    std::uint32_t* hp = h + 2048 * p;
    if (hp[(src[0] >> shift) & 2047] == N) continue;  // every key has this digit
    std::uint32_t sum = 0;
    for (int d = 0; d < 2048; ++d) {
      const std::uint32_t c = hp[d];
      hp[d] = sum;
      sum += c;
    }
    for (std::size_t i = 0; i < N; ++i) {
      const std::uint64_t x = src[i];
      dst[hp[(x >> shift) & 2047]++] = x;
    }
    std::swap(src, dst);
  }
  auto exact_before = [f](std::uint64_t x, std::uint64_t y) {
    const auto i = static_cast<std::uint32_t>(x), j = static_cast<std::uint32_t>(y);
    return f[i] > f[j] || (f[i] == f[j] && i < j);
  };
  for (std::size_t s = 0; s < N;) {
    std::size_t e = s + 1;
    const std::uint64_t ks = src[s] >> 32;
    while (e < N && (src[e] >> 32) == ks) ++e;
    if (e - s > 1) std::sort(src + s, src + e, exact_before);
    s = e;
  }
  o.perm.resize(N);
  for (std::size_t p = 0; p < N; ++p) o.perm[p] = static_cast<std::uint32_t>(src[p]);
  o.v.assign(N + 1, 0.0);  // + 1: merge_count reads one past a run
  o.tmp.assign(N + 1, 0.0);
}

// Sorts v in blocks of 4 (a branch-free network), returning the inversions inside
// the blocks; a short tail block is insertion-sorted.
std::int64_t sort_blocks4(double* v, std::size_t n) {
  std::int64_t inv = 0;
  std::size_t b = 0;
  for (; b + 4 <= n; b += 4) {
    const double a0 = v[b], a1 = v[b + 1], a2 = v[b + 2], a3 = v[b + 3];
    inv += static_cast<std::int64_t>(a0 > a1) + (a0 > a2) + (a0 > a3) + (a1 > a2) + (a1 > a3) +
           (a2 > a3);
    const double l0 = std::min(a0, a1), h0 = std::max(a0, a1);
    const double l1 = std::min(a2, a3), h1 = std::max(a2, a3);
    const double m0 = std::min(l0, l1), m1 = std::max(l0, l1);
    const double n0 = std::min(h0, h1), n1 = std::max(h0, h1);
    v[b] = m0;
    v[b + 1] = std::min(m1, n0);
    v[b + 2] = std::max(m1, n0);
    v[b + 3] = n1;
  }
  for (std::size_t i = b + 1; i < n; ++i) {
    const double x = v[i];
    std::size_t p = i;
    while (p > b && v[p - 1] > x) {
      v[p] = v[p - 1];
      --p;
      ++inv;
    }
    v[p] = x;
  }
  return inv;
}

// Stable merge of the sorted runs src[lo, mid) and src[mid, hi) into dst, returning
// the strict inversions between them (pairs left > right).  The output is split in
// two halves at the merge path, and the two halves are merged in one branch-free loop
// so that their dependency chains overlap.  A right element taken while the left
// pointer is at i is smaller than every left element from i to mid (those of the
// other half included: the merge path puts them after it), hence + (mid - i).
// Reads src[hi] (callers pad the buffers by one element).
std::int64_t merge_count(const double* src, double* dst, std::size_t lo, std::size_t mid,
                         std::size_t hi) {
  const std::size_t lenL = mid - lo, lenR = hi - mid, len = hi - lo, h = len / 2;
  std::size_t a = h > lenR ? h - lenR : 0, b = std::min(h, lenL);
  while (a < b) {  // a = left elements among the first h outputs
    const std::size_t m = (a + b) / 2;
    if (src[lo + m] <= src[mid + h - m - 1])
      a = m + 1;
    else
      b = m;
  }
  std::size_t i0 = lo, ie0 = lo + a, j0 = mid, je0 = mid + (h - a), o0 = lo;
  std::size_t i1 = ie0, ie1 = mid, j1 = je0, je1 = hi, o1 = lo + h;
  std::int64_t inv = 0;
  // Both values are loaded unconditionally and combined with integer masks so that
  // the compiler emits no data-dependent branch.
#define SIMCORE_FC_MERGE_STEP(i, ie, j, je, o)                                    \
  do {                                                                            \
    const double x_ = src[i], y_ = src[j];                                        \
    const std::size_t t_ = static_cast<std::size_t>(j < je) &                     \
                           (static_cast<std::size_t>(i >= ie) |                   \
                            static_cast<std::size_t>(y_ < x_));                   \
    const std::uint64_t mk_ = std::uint64_t{0} - t_;                              \
    std::uint64_t xb_, yb_;                                                       \
    std::memcpy(&xb_, &x_, 8);                                                    \
    std::memcpy(&yb_, &y_, 8);                                                    \
    const std::uint64_t r_ = (yb_ & mk_) | (xb_ & ~mk_);                          \
    std::memcpy(dst + o, &r_, 8);                                                 \
    ++o;                                                                          \
    inv += static_cast<std::int64_t>((mid - i) & mk_);                            \
    i += t_ ^ 1;                                                                  \
    j += t_;                                                                      \
  } while (0)
  for (std::size_t k = 0; k < h; ++k) {
    SIMCORE_FC_MERGE_STEP(i0, ie0, j0, je0, o0);
    SIMCORE_FC_MERGE_STEP(i1, ie1, j1, je1, o1);
  }
  if (len - h > h) SIMCORE_FC_MERGE_STEP(i1, ie1, j1, je1, o1);
#undef SIMCORE_FC_MERGE_STEP
  return inv;
}

// Strict inversions (p < q, v_p > v_q) of v[0, n) by a bottom-up merge sort; v and
// tmp must hold n + 1 elements.  *sorted receives the buffer holding v sorted.
std::int64_t strict_inversions(double* v, double* tmp, std::size_t n, const double** sorted) {
  std::int64_t inv = sort_blocks4(v, n);
  double* src = v;
  double* dst = tmp;
  for (std::size_t width = 4; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      if (mid >= hi)
        std::copy(src + lo, src + hi, dst + lo);
      else
        inv += merge_count(src, dst, lo, mid, hi);
    }
    std::swap(src, dst);
  }
  *sorted = src;
  return inv;
}

// Pairs of positions p < q with equal v whose items are in decreasing index order.
std::int64_t tie_correction(FullOrder& o, std::size_t m) {
  o.tied.resize(m);
  for (std::size_t p = 0; p < m; ++p) o.tied[p] = {o.v[p], static_cast<std::uint32_t>(p)};
  std::sort(o.tied.begin(), o.tied.end());
  std::int64_t extra = 0;
  for (std::size_t s = 0; s < m;) {
    std::size_t e = s + 1;
    while (e < m && o.tied[e].first == o.tied[s].first) ++e;
    if (e - s > 1) {
      o.iv.resize(e - s + 1);
      o.itmp.resize(e - s + 1);
      for (std::size_t t = s; t < e; ++t) o.iv[t - s] = o.item[o.tied[t].second];
      const double* unused;
      extra += strict_inversions(o.iv.data(), o.itmp.data(), e - s, &unused);
    }
    s = e;
  }
  return extra;
}

// Pairs ordered differently by the full and the subset ranking, over the items with
// skip[item] == 0 (skip == nullptr: all items).
std::int64_t ranking_discordance(const double* s, FullOrder& o, const std::uint8_t* skip) {
  const std::size_t N = o.perm.size();
  auto gather = [&](bool with_items) {
    std::size_t m = 0;
    if (with_items) o.item.resize(N);
    for (std::size_t p = 0; p < N; ++p) {
      const std::uint32_t it = o.perm[p];
      if (skip && skip[it]) continue;
      o.v[m] = -s[it];
      if (with_items) o.item[m] = static_cast<double>(it);
      ++m;
    }
    return m;
  };
  const std::size_t m = gather(false);
  const double* sorted;
  std::int64_t d = strict_inversions(o.v.data(), o.tmp.data(), m, &sorted);
  bool tie = false;
  for (std::size_t p = 1; p < m; ++p) tie |= sorted[p] == sorted[p - 1];
  if (tie) {
    gather(true);
    d += tie_correction(o, m);
  }
  return d;
}

// Does item t come before item j in the ranking by score x (descending, lower index
// first on ties)?
inline bool ahead(double xt, double xj, std::size_t t, std::size_t j) {
  return xt > xj || (xt == xj && t < j);
}

inline bool disagree(const double* f, const double* s, std::size_t t, std::size_t j) {
  return ahead(f[t], f[j], t, j) != ahead(s[t], s[j], t, j);
}

// The full ranking's top-k items (score descending, ties by lower index), found with a
// sorted buffer; `in` flags them.
void select_topk(const double* f, std::size_t N, std::size_t k, std::vector<std::uint32_t>& T,
                 std::vector<double>& ts, std::vector<std::uint8_t>& in) {
  T.clear();
  ts.clear();
  for (std::size_t i = 0; i < N; ++i) {
    const double x = f[i];
    if (T.size() == k && !(x > ts.back())) continue;  // equal scores never displace
    if (T.size() == k) {
      T.pop_back();
      ts.pop_back();
    }
    std::size_t pos = T.size();
    while (pos > 0 && ts[pos - 1] < x) --pos;
    T.insert(T.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<std::uint32_t>(i));
    ts.insert(ts.begin() + static_cast<std::ptrdiff_t>(pos), x);
  }
  in.assign(N, 0);
  for (auto i : T) in[i] = 1;
}

// sum over t in T of #{j : the rankings disagree on (t, j)} (pairs inside T twice).
std::int64_t count_against_all_generic(const double* f, const double* s, std::size_t N,
                                       const std::uint32_t* T, std::size_t k) {
  std::int64_t all = 0;
  for (std::size_t a = 0; a < k; ++a) {
    const std::size_t t = T[a];
    std::int64_t c = 0;
    for (std::size_t j = 0; j < N; ++j) c += disagree(f, s, t, j) ? 1 : 0;
    all += c;
  }
  return all;
}

#ifdef SIMCORE_FC_X86
__attribute__((target("avx2"))) std::int64_t count_against_all_avx2(
    const double* f, const double* s, std::size_t N, const std::uint32_t* T, std::size_t k) {
  std::int64_t all = 0;
  for (std::size_t a = 0; a < k; ++a) {
    const std::size_t t = T[a];
    const __m256d ft = _mm256_set1_pd(f[t]), st = _mm256_set1_pd(s[t]);
    const __m256d tv = _mm256_set1_pd(static_cast<double>(t));
    const __m256d four = _mm256_set1_pd(4.0);
    __m256d jv = _mm256_set_pd(3.0, 2.0, 1.0, 0.0);
    __m256i acc = _mm256_setzero_si256();
    std::size_t j = 0;
    for (; j + 4 <= N; j += 4) {
      const __m256d fj = _mm256_loadu_pd(f + j), sj = _mm256_loadu_pd(s + j);
      const __m256d lower = _mm256_cmp_pd(tv, jv, _CMP_LT_OQ);
      const __m256d aF = _mm256_or_pd(_mm256_cmp_pd(ft, fj, _CMP_GT_OQ),
                                      _mm256_and_pd(_mm256_cmp_pd(ft, fj, _CMP_EQ_OQ), lower));
      const __m256d aS = _mm256_or_pd(_mm256_cmp_pd(st, sj, _CMP_GT_OQ),
                                      _mm256_and_pd(_mm256_cmp_pd(st, sj, _CMP_EQ_OQ), lower));
      acc = _mm256_sub_epi64(acc, _mm256_castpd_si256(_mm256_xor_pd(aF, aS)));  // -1 per hit
      jv = _mm256_add_pd(jv, four);
    }
    alignas(32) std::int64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
    std::int64_t c = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (; j < N; ++j) c += disagree(f, s, t, j) ? 1 : 0;
    all += c;
  }
  return all;
}
#endif

// Pairs with at least one member in T (|T| = k <= kDirectMaxK), in O(k N).
std::int64_t topk_loss_direct(const double* f, const double* s, std::size_t N,
                              const std::vector<std::uint32_t>& T, bool simd) {
  const std::size_t k = T.size();
  std::int64_t all;
#ifdef SIMCORE_FC_X86
  if (simd && cpu_has_avx2_fma())
    all = count_against_all_avx2(f, s, N, T.data(), k);
  else
#endif
    all = count_against_all_generic(f, s, N, T.data(), k);
  (void)simd;
  std::int64_t inside = 0;
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = a + 1; b < k; ++b) inside += disagree(f, s, T[a], T[b]) ? 1 : 0;
  return all - inside;
}

// Large k: D(all items) - D(items outside the top-k); the top-k are perm[0, k).
std::int64_t topk_loss_split(const double* s, FullOrder& o, std::size_t k,
                             std::vector<std::uint8_t>& in) {
  const std::size_t N = o.perm.size();
  in.assign(N, 0);
  for (std::size_t p = 0; p < k; ++p) in[o.perm[p]] = 1;
  return ranking_discordance(s, o, nullptr) - ranking_discordance(s, o, in.data());
}

}  // namespace

std::int64_t pair_count(std::size_t N, std::size_t top_k) {
  const auto n = static_cast<std::int64_t>(N);
  if (top_k == 0 || top_k >= N) return n * (n - 1) / 2;
  const auto k = static_cast<std::int64_t>(top_k);
  return k * (k - 1) / 2 + k * (n - k);
}

void subset_eval(const SubsetEvalArgs& A, const SubsetEvalOut& O, int threads) {
  const std::size_t N = A.N, n = A.n;
  const bool linear = A.ranker.is_linear();
  std::vector<double> w, wfill;
  if (linear) {
    w.resize(n);
    wfill.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
      w[j] = static_cast<double>(A.ranker.w[j]);
      wfill[j] = static_cast<double>(A.fill[j]) * w[j];
    }
  }
  const bool use_topk = A.top_k > 0 && A.top_k < N;

  const bool direct = use_topk && A.top_k <= kDirectMaxK;

  parallel_for(A.R, threads, 4, [&](std::size_t r0, std::size_t r1) {
    std::vector<double> f(N), s_local(O.scores ? 0 : N), ts;
    std::vector<std::uint32_t> T;
    std::vector<std::uint8_t> in;
    MlpScratch mlp;
    FullOrder order;
    std::int64_t cached_q = -1;
    bool full_ok = true;
    for (std::size_t r = r0; r < r1; ++r) {
      const std::int64_t q = A.row_query ? A.row_query[r] : static_cast<std::int64_t>(r);
      const float* Xq = A.X + static_cast<std::size_t>(q) * N * n;
      if (q != cached_q) {
        full_ok = linear ? score_linear(Xq, N, n, w.data(), wfill.data(), nullptr, A.simd, f.data())
                         : score_mlp(Xq, N, n, A.ranker, A.fill, nullptr, mlp, f.data());
        if (full_ok) {
          if (direct)
            select_topk(f.data(), N, A.top_k, T, ts, in);
          else
            full_order(f.data(), N, order);
        }
        cached_q = q;
      }
      const std::uint8_t* m = A.mask + r * n;
      double* s = O.scores ? O.scores + r * N : s_local.data();
      const bool sub_ok = linear
                              ? score_linear(Xq, N, n, w.data(), wfill.data(), m, A.simd, s)
                              : score_mlp(Xq, N, n, A.ranker, A.fill, m, mlp, s);
      if (O.full_scores) std::copy(f.begin(), f.end(), O.full_scores + r * N);
      const bool ok = full_ok && sub_ok;
      O.finite[r] = ok ? 1 : 0;
      const double* ct = A.cost_total + (A.cost_rows == 1 ? 0 : static_cast<std::size_t>(q)) * n;
      double c = 0.0;
      for (std::size_t j = 0; j < n; ++j)
        if (m[j]) c += ct[j];
      O.cost[r] = c;
      if (!ok) {
        O.loss[r] = 0;
        continue;
      }
      if (direct)
        O.loss[r] = topk_loss_direct(f.data(), s, N, T, A.simd);
      else if (use_topk)
        O.loss[r] = topk_loss_split(s, order, A.top_k, in);
      else
        O.loss[r] = ranking_discordance(s, order, nullptr);
    }
  });
}

void feature_mean(const float* X, std::size_t Q, std::size_t N, std::size_t n, float* out,
                  int threads) {
  std::vector<double> per_q(Q * n, 0.0);
  parallel_for(Q, threads, 4, [&](std::size_t q0, std::size_t q1) {
    for (std::size_t q = q0; q < q1; ++q) {
      double* acc = per_q.data() + q * n;
      const float* x = X + q * N * n;
      for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = 0; j < n; ++j) acc[j] += static_cast<double>(x[i * n + j]);
    }
  });
  const double denom = static_cast<double>(Q) * static_cast<double>(N);
  for (std::size_t j = 0; j < n; ++j) {
    double t = 0.0;
    for (std::size_t q = 0; q < Q; ++q) t += per_q[q * n + j];
    out[j] = static_cast<float>(t / denom);
  }
}

}  // namespace simcore
