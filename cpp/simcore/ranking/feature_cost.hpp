// Feature-subset evaluation for the engine-cost optimisation (seed article, section
// 引擎性能优化): rank each query's candidates with only a subset S of the ranking
// features and measure how far that ranking is from the full-feature ranking, and
// what the evaluated features cost.
//
// Definitions (mirrored exactly by simcore.feature_cost.reference):
//
// * Subset features.  For a row r (query q = query(r)) with evaluation mask m_r (n,),
//   item i's features are x~_ij = X[q, i, j] if m_r[j] else fill[j].
// * Linear ranker w (n,):  s_i = sum_j x~_ij * w_j, accumulated in float64 in the order
//   j = 0, 1, ..., n-1 (products of two floats are exact in float64, so this equals
//   the NumPy reference bit for bit).  The full score f_i is the same with every
//   feature evaluated.
// * MLP ranker: layers (W_l float32 (in_l, out_l), b_l float32 (out_l,)), ReLU after
//   every layer but the last, out_last = 1.  Unit u of a layer with input a (float64):
//   z_u = ((b_u + a_0 W_0u) + a_1 W_1u) + ... + a_{in-1} W_{in-1,u}, each product and
//   sum rounded to float64 separately (no FMA), then ReLU z -> (z > 0 ? z : 0).
// * Rankings: items by score descending, ties by lower index (as simcore::topk and the
//   session simulator).  So every subset, the empty one included, gives a strict
//   order; an all-skipped linear ranker (constant scores) ranks by index.
// * Pairwise loss (top_k == 0, "all pairs"): the number of unordered pairs {i, j}
//   that the full and the subset ranking order differently (the Kendall distance
//   between the two rankings; equal to simcore::discordant_pairs of the two rankings'
//   positions).
// * Pairwise loss restricted to the full ranking's top-k (0 < top_k < N): the same
//   count over the pairs {i, j} with at least one of i, j in T, the first k items of
//   the full ranking.  top_k >= N gives the all-pairs loss.
// * KL loss (optional, temperature T > 0): the seed's objective D(F_o || F_a) with the
//   two score vectors turned into distributions over the query's items,
//   p = softmax(f / T), q = softmax(s / T):  KL = sum_i p_i (log p_i - log q_i), computed
//   as sum_i p_i (f_i - s_i) / T - LSE(f / T) + LSE(s / T) with max-shifted sums over
//   i = 0..N-1 in order, clamped at 0 (NaN, from f / T overflowing, is kept, and the
//   binding raises for a non-finite KL).  Uses exp/log, so the NumPy reference agrees to
//   rounding (~1e-12 relative), not bit for bit.
// * Cost of a row: sum_j m_r[j] * cost_total[q', j] in the order j = 0..n-1, where
//   cost_total holds each query's per-feature cost summed over its items (q' = q, or
//   0 when one cost row is shared by all queries).
#pragma once
#include <cstddef>
#include <cstdint>

namespace simcore {

// One dense layer: W row-major (in, out), b (out,).
struct DenseLayer {
  const float* W = nullptr;
  const float* b = nullptr;
  std::size_t in = 0;
  std::size_t out = 0;
};

// Linear (layers == nullptr / n_layers == 0: weights w (n,)) or MLP ranker.
struct Ranker {
  const float* w = nullptr;
  const DenseLayer* layers = nullptr;
  std::size_t n_layers = 0;
  bool is_linear() const { return n_layers == 0; }
};

struct SubsetEvalArgs {
  const float* X = nullptr;     // (Q, N, n) candidate features
  std::size_t Q = 0, N = 0, n = 0;
  Ranker ranker;
  const std::uint8_t* mask = nullptr;       // (R, n), nonzero = evaluated
  std::size_t R = 0;                        // rows
  const std::int64_t* row_query = nullptr;  // (R,) query of each row; null: row r = query r
  const float* fill = nullptr;              // (n,) value of a skipped feature
  const double* cost_total = nullptr;       // (cost_rows, n), cost_rows in {1, Q}
  std::size_t cost_rows = 1;
  std::size_t top_k = 0;                    // 0: all pairs
  double kl_temperature = 0;                // > 0: also compute the KL loss (out.kl)
  bool simd = true;                         // false: force the portable scalar path
};

struct SubsetEvalOut {
  std::int64_t* loss = nullptr;    // (R,)
  double* cost = nullptr;          // (R,)
  double* scores = nullptr;        // (R, N) subset scores, or null
  double* full_scores = nullptr;   // (R, N) full scores, or null
  double* kl = nullptr;            // (R,) KL loss, required when kl_temperature > 0
  std::uint8_t* finite = nullptr;  // (R,) 0 where a full or subset score was NaN/inf
};

// Evaluates every row, rows split into contiguous chunks over `threads` threads
// (<= 0: all cores).  Results do not depend on the thread count.  Consecutive rows of
// the same query share the full-ranking work.  Inputs are assumed valid (checked at
// the binding boundary); non-finite scores are reported through out.finite.
void subset_eval(const SubsetEvalArgs& args, const SubsetEvalOut& out, int threads);

// Per-feature mean of X over all Q*N candidates: for each query the items are summed
// in order in float64, the per-query sums are added in query order, the total is
// divided by Q*N and rounded to float32.  Multi-threaded, thread-count independent.
void feature_mean(const float* X, std::size_t Q, std::size_t N, std::size_t n, float* out,
                  int threads);

// KL(softmax(f / T) || softmax(s / T)) over n scores, as defined above.
double softmax_kl(const double* f, const double* s, std::size_t n, double T);

// Number of pairs the loss counts over: N(N-1)/2 for all pairs, else
// k(k-1)/2 + k(N-k) for 0 < k < N.  Computed exactly (128-bit); returns -1 when the count
// does not fit in int64 (N >= 2^32 or so).
std::int64_t pair_count(std::size_t N, std::size_t top_k);

}  // namespace simcore
