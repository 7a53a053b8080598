// The lifecycle step's block kernel: slots [i0, i0 + n) (n <= kBlock) processed field
// by field, in loops of one element width without calls or branches (so that the
// compiler vectorises them across slots); the transcendental functions (the sigmoids'
// exp, the purchase value) run in loops of their own.  Compiled for x86-64-v4 (AVX-512),
// AVX2 and the x86-64 baseline, chosen at load time (target_clones); -ffp-contract=off
// and IEEE operations only, so every ISA gives the same bits.  The formulas and their
// order are those of the NumPy twin (reference.py, exact.py; docs/lifecycle_model.md).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "simcore/lifecycle/lifecycle.hpp"
#include "simcore/lifecycle/lifecycle_block.hpp"

namespace simcore {
namespace lifecycle {
namespace {

// The slot state after the day (win-back, joining, dropout after a purchase, counts,
// stage, histories); b holds the applied actions' rows and the phase-1 flags.
SIMCORE_LC_INLINE void transitions(const KernelCtx& c, i64 i0, i64 n, Block& b) {
  const Model& m = *c.model;
  SlotArrays& s = *c.slots;
  const double *__restrict pp = s.p.data() + i0, *__restrict ud = b.u_drop;
  const double mult = m.club_dropout_mult;
  const i64 lapse = m.lapse_days, loyal = m.loyal_purchases;
  for (i64 k = 0; k < n; ++k) {  // 0/1 flags combined with & and | (no short-circuit branches)
    const i64 alive = b.alive[k] | b.offer_conv[k];
    const i64 member = b.mem[k] | (b.converted[k] & (b.kind[k] == kClub ? 1 : 0));
    const double drop = member != 0 ? pp[k] * mult : pp[k];
    b.alive[k] = alive & (1 - (b.purchased[k] & (ud[k] < drop ? 1 : 0)));
    b.mem[k] = member;
    const i64 nn = b.nn[k] + b.purchased[k], rec = b.purchased[k] != 0 ? 0 : b.rec[k] + 1;
    b.nn[k] = nn, b.rec[k] = rec;
    i64 st = nn >= 2 ? 1 : 0;  // the next stage
    st = (member | (nn >= loyal ? 1 : 0)) != 0 ? 2 : st;
    b.next[k] = rec > lapse ? 3 : st;
  }
  i64 *__restrict rec = s.recency.data() + i0, *__restrict nn = s.n.data() + i0;
  std::uint8_t *__restrict al = s.alive.data() + i0, *__restrict mem = s.member.data() + i0;
  for (i64 k = 0; k < n; ++k) {
    rec[k] = b.rec[k], nn[k] = b.nn[k];
    al[k] = static_cast<std::uint8_t>(b.alive[k]), mem[k] = static_cast<std::uint8_t>(b.mem[k]);
  }
  const double decay = m.decay;
  for (std::size_t j = 0; j < kChannels; ++j) {
    double* __restrict h = s.hist[j].data() + i0;
    for (i64 k = 0; k < n; ++k)
      h[k] = h[k] * decay + ((b.kind[k] != kNothing && b.chan_raw[k] == static_cast<i64>(j)) ? 1.0 : 0.0);
  }
  double *__restrict h3 = s.hist[3].data() + i0, *__restrict h4 = s.hist[4].data() + i0;
  for (i64 k = 0; k < n; ++k) {
    h3[k] = h3[k] * decay + (b.clicked[k] != 0 ? 1.0 : 0.0);
    h4[k] = h4[k] * decay + (b.converted[k] != 0 ? 1.0 : 0.0);
  }
}

// The step's per-slot outputs but the observation.
SIMCORE_LC_INLINE void outputs(const KernelCtx& c, i64 i0, i64 n, const Block& b, const std::uint8_t* ok,
                               const StepOut& o) {
  SlotArrays& s = *c.slots;
  const double *__restrict spend = s.spend.data() + i0, *__restrict pc = b.pc, *__restrict pconv = b.pconv,
               *__restrict ppur = b.ppur, *__restrict ecost = b.ecost, *__restrict val = b.value,
               *__restrict cost = b.cost;
  double* __restrict spent = s.spent.data() + i0;
  double *__restrict opc = o.p_click + i0, *__restrict opv = o.p_convert + i0, *__restrict opp = o.p_purchase + i0,
         *__restrict oev = o.expected_value + i0, *__restrict oec = o.expected_cost + i0,
         *__restrict orw = o.reward + i0, *__restrict ova = o.value + i0, *__restrict oco = o.cost + i0,
         *__restrict osp = o.user_spent + i0;
  for (i64 k = 0; k < n; ++k) {
    const double pu = ppur[k], v = val[k], co = cost[k], sp = spent[k] + co;
    opc[k] = pc[k], opv[k] = pconv[k], opp[k] = pu, oev[k] = pu * spend[k], oec[k] = ecost[k];
    spent[k] = sp;
    orw[k] = v - co, ova[k] = v, oco[k] = co, osp[k] = sp;
  }
  const i64* __restrict user = s.user.data() + i0;
  i64 *__restrict oa = o.action + i0, *__restrict ou = o.user + i0;
  for (i64 k = 0; k < n; ++k) oa[k] = b.a[k], ou[k] = user[k];
  std::uint8_t *__restrict te = o.terminated + i0, *__restrict bl = o.blocked + i0, *__restrict cl = o.clicked + i0,
               *__restrict cv = o.converted + i0, *__restrict pu = o.purchased + i0, *__restrict al = o.alive + i0,
               *__restrict me = o.member + i0;
  std::int8_t *__restrict st = o.stage + i0, *__restrict ns = o.next_stage + i0;
  for (i64 k = 0; k < n; ++k) {
    te[k] = 0, bl[k] = ok ? (ok[k] ? 0 : 1) : 0;
    cl[k] = static_cast<std::uint8_t>(b.clicked[k]), cv[k] = static_cast<std::uint8_t>(b.converted[k]);
    pu[k] = static_cast<std::uint8_t>(b.purchased[k]);
    al[k] = static_cast<std::uint8_t>(b.alive[k]), me[k] = static_cast<std::uint8_t>(b.mem[k]);
    st[k] = static_cast<std::int8_t>(b.stage[k]), ns[k] = static_cast<std::int8_t>(b.next[k]);
  }
}

// The observation after the day (obs_spec), written once the day's budget fraction is
// known: from the slot state (the post-day stage recomputed).
SIMCORE_LC_INLINE void observe(const KernelCtx& c, i64 i0, i64 n, float* obs, i64 t1, float frac) {
  const Model& m = *c.model;
  const SlotArrays& s = *c.slots;
  alignas(64) float col[9][kBlock];  // entries 8..16
  alignas(64) i64 stage[kBlock];
  const double cap = m.user_cap;
  const i64 *__restrict rec = s.recency.data() + i0, *__restrict nn = s.n.data() + i0;
  const std::uint8_t* __restrict mem = s.member.data() + i0;
  const double* __restrict spent = s.spent.data() + i0;
  const i64 lapse = m.lapse_days, loyal = m.loyal_purchases;
  for (i64 k = 0; k < n; ++k) {
    const i64 r = rec[k], c = nn[k], me = mem[k];
    i64 st = c >= 2 ? 1 : 0;
    st = (me != 0 || c >= loyal) ? 2 : st;
    stage[k] = r > lapse ? 3 : st;
    const double nd = static_cast<double>(c);
    col[0][k] = static_cast<float>(std::min(static_cast<double>(r), 365.0) / 365.0);
    col[1][k] = static_cast<float>(nd / (nd + 4.0));
    col[2][k] = me != 0 ? 1.0f : 0.0f;
    col[8][k] = cap > 0 ? static_cast<float>(std::min(1.0, spent[k] / cap)) : 0.0f;
  }
  for (std::size_t j = 0; j < kHist; ++j) {
    const double* __restrict h = s.hist[j].data() + i0;
    for (i64 k = 0; k < n; ++k) col[3 + j][k] = static_cast<float>(h[k] / (1.0 + h[k]));
  }
  const float day = static_cast<float>(static_cast<double>(t1) / static_cast<double>(m.horizon));
  const float* __restrict feat = s.features.data() + i0 * kFeatures;
  float* __restrict out = obs + i0 * kObsDim;
  for (i64 k = 0; k < n; ++k) {
    float* o = out + k * kObsDim;
    for (std::size_t j = 0; j < kFeatures; ++j) o[j] = feat[k * kFeatures + j];
    for (i64 j = 0; j < 4; ++j) o[4 + j] = j == stage[k] ? 1.0f : 0.0f;
    for (std::size_t j = 0; j < 9; ++j) o[8 + j] = col[j][k];
    o[17] = frac, o[18] = day;
  }
}

}  // namespace

SIMCORE_LC_CLONES
void step_block(const KernelCtx& c, const std::int64_t* actions, std::size_t i0, std::size_t n, const StepOut& out) {
  Block b;
  const i64 N = static_cast<i64>(n), I0 = static_cast<i64>(i0);
  sample_into(c, actions + i0, I0, N, b);
  transitions(c, I0, N, b);
  outputs(c, I0, N, b, nullptr, out);
}

SIMCORE_LC_CLONES
void sample_block(const KernelCtx& c, const std::int64_t* actions, std::size_t i0, std::size_t n,
                  const Pending& p) {
  Block b;
  sample_into(c, actions + i0, static_cast<i64>(i0), static_cast<i64>(n), b);
  to_pending(static_cast<i64>(n), b, p);
}

SIMCORE_LC_CLONES
void commit_block(const KernelCtx& c, const std::int64_t* actions, std::size_t i0, std::size_t n,
                  const Pending& p, const std::uint8_t* ok, const StepOut& out) {
  Block b;
  const i64 N = static_cast<i64>(n), I0 = static_cast<i64>(i0);
  const bool blocked = unblocked_actions(actions + i0, N, ok, b.a);
  load_block(c, b.a, I0, N, b);
  from_pending(N, p, b);
  if (blocked) {  // the blocked slots: action 0's probabilities
    Block r;
    load_block(c, b.a, I0, N, r);
    probs(c, I0, N, r);
    apply_blocks(N, r, b, ok);
  }
  transitions(c, I0, N, b);
  outputs(c, I0, N, b, ok, out);
}

SIMCORE_LC_CLONES
void observe_block(const KernelCtx& c, std::size_t i0, std::size_t n, float* obs, std::int64_t t1, float frac) {
  observe(c, static_cast<i64>(i0), static_cast<i64>(n), obs, t1, frac);
}

}  // namespace lifecycle
}  // namespace simcore
