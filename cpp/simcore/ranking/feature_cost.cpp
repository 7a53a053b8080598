#include "simcore/ranking/feature_cost.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "simcore/common/parallel.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SIMCORE_FC_X86 1
#endif

namespace simcore {
namespace {

// Above this k the top-k loss is D(all) - D(items outside the top-k) (two O(N log N)
// counts) instead of the O(k N) direct count.
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
        for (std::size_t u = 0; u < L.out; ++u) z[u] = z[u] > 0.0 || std::isnan(z[u]) ? z[u] : 0.0;  // NaN propagates
      std::swap(sc.a, sc.z);
    }
    out[i] = sc.a[0];
  }
  return ok && all_finite(out, N);
}

// ------------------------------------------------------------------ pairwise loss
//
// Rankings order items by score descending, ties by lower index (as simcore::topk and
// the simulator).  The full ranking (position -> item) is computed once per query and
// shared by the consecutive rows of that query.  For a row, the subset ranking gives
// every item its subset position; read in full-ranking order these positions form a
// sequence of distinct integers whose inversions are exactly the pairs the two
// rankings order differently.  They are counted with a Fenwick tree.

struct OrderScratch {
  std::vector<std::uint32_t> count, bucket;
};

// perm = items in ranking order.  A bucket sort on the score's position between the
// extremes (N buckets, index order kept inside a bucket), then each bucket finished
// by insertion sort (std::sort past 32 items) on the exact order, so the result is
// exact whatever the distribution; typical scores give O(1) items per bucket.
void ranking_order(const double* f, std::size_t N, std::uint32_t* perm, OrderScratch& sc) {
  double lo = f[0], hi = f[0];
  for (std::size_t i = 1; i < N; ++i) {
    lo = std::min(lo, f[i]);
    hi = std::max(hi, f[i]);
  }
  const double span = hi - lo;
  double scale = span > 0.0 ? (static_cast<double>(N) - 0.5) / span : 0.0;
  if (!(scale < 1e300)) scale = 0.0;  // span subnormal or overflowed: one bucket
  sc.count.assign(N + 1, 0);
  sc.bucket.resize(N);
  for (std::size_t i = 0; i < N; ++i) {
    std::size_t b = static_cast<std::size_t>((hi - f[i]) * scale);  // bucket 0 = best
    b = std::min(b, N - 1);
    sc.bucket[i] = static_cast<std::uint32_t>(b);
    ++sc.count[b + 1];
  }
  for (std::size_t b = 0; b < N; ++b) sc.count[b + 1] += sc.count[b];
  for (std::size_t i = 0; i < N; ++i) perm[sc.count[sc.bucket[i]]++] = static_cast<std::uint32_t>(i);
  auto before = [f](std::uint32_t a, std::uint32_t b) { return f[a] > f[b] || (f[a] == f[b] && a < b); };
  std::size_t start = 0;
  for (std::size_t b = 0; b < N && start < N; ++b) {
    const std::size_t end = sc.count[b];  // after the scatter: the end of bucket b
    if (end - start > 32) {
      std::sort(perm + start, perm + end, before);
    } else {
      for (std::size_t i = start + 1; i < end; ++i) {
        const std::uint32_t x = perm[i];
        std::size_t p = i;
        while (p > start && before(x, perm[p - 1])) {
          perm[p] = perm[p - 1];
          --p;
        }
        perm[p] = x;
      }
    }
    start = end;
  }
}

struct RankScratch {
  std::vector<std::uint32_t> full;   // (N,) the full ranking: position -> item
  std::vector<std::uint32_t> sub;    // (N,) the subset ranking
  std::vector<std::uint32_t> pos;    // (N,) item -> subset position
  std::vector<std::uint32_t> seq;    // subset positions in full-ranking order
  std::vector<std::uint32_t> tree;   // Fenwick tree
  OrderScratch order;
};

// Inversions of seq[0, m), distinct values in [0, n).
std::int64_t inversions(const std::uint32_t* seq, std::size_t m, std::size_t n,
                        std::vector<std::uint32_t>& tree) {
  tree.assign(n + 1, 0);
  std::int64_t inv = 0;
  for (std::size_t p = 0; p < m; ++p) {
    const std::uint32_t x = seq[p] + 1;
    std::uint32_t not_above = 0;  // earlier values <= seq[p]
    for (std::uint32_t i = x; i > 0; i &= i - 1) not_above += tree[i];
    inv += static_cast<std::int64_t>(p - not_above);
    for (std::size_t i = x; i <= n; i += i & (0 - i)) ++tree[i];
  }
  return inv;
}

// Pairs ordered differently by the full ranking (rs.full) and the ranking of s, over
// the items with skip[item] == 0 (skip == nullptr: all items).  Reuses rs.pos when
// `positions_ready` (the subset ranking of s is already in rs.pos).
std::int64_t ranking_discordance(const double* s, RankScratch& rs, const std::uint8_t* skip,
                                 bool positions_ready) {
  const std::size_t N = rs.full.size();
  if (!positions_ready) {
    rs.sub.resize(N);
    rs.pos.resize(N);
    ranking_order(s, N, rs.sub.data(), rs.order);
    for (std::size_t p = 0; p < N; ++p) rs.pos[rs.sub[p]] = static_cast<std::uint32_t>(p);
  }
  rs.seq.resize(N);
  std::size_t m = 0;
  for (std::size_t p = 0; p < N; ++p) {
    const std::uint32_t it = rs.full[p];
    if (skip && skip[it]) continue;
    rs.seq[m++] = rs.pos[it];
  }
  return inversions(rs.seq.data(), m, N, rs.tree);
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

// Large k: D(all items) - D(items outside the top-k); the top-k are full[0, k).
std::int64_t topk_loss_split(const double* s, RankScratch& rs, std::size_t k,
                             std::vector<std::uint8_t>& in) {
  const std::size_t N = rs.full.size();
  in.assign(N, 0);
  for (std::size_t p = 0; p < k; ++p) in[rs.full[p]] = 1;
  const std::int64_t all = ranking_discordance(s, rs, nullptr, false);
  return all - ranking_discordance(s, rs, in.data(), true);
}

}  // namespace

std::int64_t pair_count(std::size_t N, std::size_t top_k) {
  using u128 = unsigned __int128;  // N(N-1) < 2^128 for any 64-bit N
  const u128 n = N;
  u128 c;
  if (top_k == 0 || top_k >= N) {
    c = N == 0 ? 0 : n * (n - 1) / 2;
  } else {
    const u128 k = top_k;
    c = k * (k - 1) / 2 + k * (n - k);
  }
  if (c > static_cast<u128>(INT64_MAX)) return -1;
  return static_cast<std::int64_t>(c);
}

double softmax_kl(const double* f, const double* s, std::size_t n, double T) {
  double fmax = f[0] / T, smax = s[0] / T;
  for (std::size_t i = 1; i < n; ++i) {
    fmax = std::max(fmax, f[i] / T);
    smax = std::max(smax, s[i] / T);
  }
  double zf = 0, zs = 0, cross = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double ef = std::exp(f[i] / T - fmax);
    zf += ef;
    zs += std::exp(s[i] / T - smax);
    cross += ef * (f[i] / T - s[i] / T);
  }
  const double kl = cross / zf - (fmax + std::log(zf)) + (smax + std::log(zs));
  // Clamp rounding noise below 0, but keep NaN (an overflow of f / T) visible.
  return kl > 0 || std::isnan(kl) ? kl : 0.0;
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
    RankScratch ranks;
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
          else {
            ranks.full.resize(N);
            ranking_order(f.data(), N, ranks.full.data(), ranks.order);
          }
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
        if (O.kl) O.kl[r] = 0;
        continue;
      }
      if (O.kl) O.kl[r] = softmax_kl(f.data(), s, N, A.kl_temperature);
      if (direct)
        O.loss[r] = topk_loss_direct(f.data(), s, N, T, A.simd);
      else if (use_topk)
        O.loss[r] = topk_loss_split(s, ranks, A.top_k, in);
      else
        O.loss[r] = ranking_discordance(s, ranks, nullptr, false);
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
