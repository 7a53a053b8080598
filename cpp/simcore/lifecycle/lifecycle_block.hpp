// The lifecycle block kernel's pieces (included by lifecycle_kernel.cpp only): each is a
// few loops over the block's slots with one element width (int64 / double), raw
// restrict pointers and selects instead of branches, so that GCC vectorises them.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "simcore/lifecycle/lifecycle.hpp"

#define SIMCORE_LC_INLINE __attribute__((always_inline)) inline
// target_clones needs GCC and ifunc (glibc); elsewhere the kernel is built for the
// compiler's target only (as with -DSIMCORE_NO_CLONES), with the same results.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__) && !defined(SIMCORE_NO_CLONES)
#define SIMCORE_LC_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define SIMCORE_LC_CLONES
#endif

namespace simcore {
namespace lifecycle {
namespace {

using i64 = std::int64_t;
using u64 = std::uint64_t;
constexpr u64 kGamma = 0x9E3779B97F4A7C15ULL;

// SplitMix64's output function (Stream::next_u64 after its state increment).
SIMCORE_LC_INLINE u64 mix(u64 z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// Stream::uniform of the state z (53 bits; the conversion is exact).
SIMCORE_LC_INLINE double unif(u64 z) { return static_cast<double>(static_cast<i64>(mix(z) >> 11)) * 0x1.0p-53; }

// One block's working set (kBlock rows each).
struct Block {
  i64 a[kBlock], kind[kBlock], chan[kBlock], chan_raw[kBlock], pair[kBlock];
  i64 rec[kBlock], nn[kBlock], mem[kBlock], alive[kBlock], stage[kBlock], next[kBlock];
  bool touched, paired;  // some slot's action is not do-nothing / has a cached pair
  double click_logit[kBlock], depth[kBlock], dpd[kBlock], conv_logit[kBlock];
  double touch[kBlock], click[kBlock], fixed[kBlock], rate[kBlock], cap[kBlock];
  double capm[kBlock], zc[kBlock], zv[kBlock], ec[kBlock], ev[kBlock];
  double pc[kBlock], pv[kBlock], qraw[kBlock], ppur[kBlock], pconv[kBlock], ecost[kBlock];
  double u_click[kBlock], u_conv[kBlock], u_org[kBlock], u_drop[kBlock], u1[kBlock], u2[kBlock];
  i64 organic[kBlock], clicked[kBlock], induced[kBlock], offer_conv[kBlock], purchased[kBlock], converted[kBlock];
  double value[kBlock], cost[kBlock];
};

// The actions' table rows and the slots' stage inputs.
SIMCORE_LC_INLINE void load_block(const KernelCtx& c, const i64* a, i64 i0, i64 n, Block& b) {
  const ActionArrays& t = *c.table;
  const SlotArrays& s = *c.slots;
  const Model& m = *c.model;
  i64* __restrict ba = b.a;
  if (a != b.a)
    for (i64 k = 0; k < n; ++k) ba[k] = a[k];
  const i64 *__restrict kind = t.kind.data(), *__restrict chan = t.chan.data(), *__restrict raw = t.chan_raw.data(),
            *__restrict pair = t.pair.data();
  for (i64 k = 0; k < n; ++k) {
    const i64 A = ba[k];
    b.kind[k] = kind[A], b.chan[k] = chan[A], b.chan_raw[k] = raw[A], b.pair[k] = pair[A];
  }
  i64 touched = 0, paired = 0;
  for (i64 k = 0; k < n; ++k) touched |= b.kind[k], paired |= b.pair[k] >= 0 ? 1 : 0;
  b.touched = touched != 0, b.paired = paired != 0;
  const double *__restrict cl = t.click_logit.data(), *__restrict dp = t.depth.data(), *__restrict dd = t.dpd.data(),
               *__restrict cv = t.conv_logit.data();
  for (i64 k = 0; k < n; ++k) {
    const i64 A = ba[k];
    b.click_logit[k] = cl[A], b.depth[k] = dp[A], b.dpd[k] = dd[A], b.conv_logit[k] = cv[A];
  }
  const double *__restrict to = t.touch.data(), *__restrict ck = t.click.data(), *__restrict fx = t.fixed.data(),
               *__restrict rt = t.rate.data(), *__restrict cp = t.cap.data();
  for (i64 k = 0; k < n; ++k) {
    const i64 A = ba[k];
    b.touch[k] = to[A], b.click[k] = ck[A], b.fixed[k] = fx[A], b.rate[k] = rt[A], b.cap[k] = cp[A];
  }
  const i64 *__restrict rec = s.recency.data() + i0, *__restrict nn = s.n.data() + i0;
  const std::uint8_t *__restrict mem = s.member.data() + i0, *__restrict alive = s.alive.data() + i0;
  for (i64 k = 0; k < n; ++k) b.rec[k] = rec[k], b.nn[k] = nn[k], b.mem[k] = mem[k], b.alive[k] = alive[k];
  const i64 lapse = m.lapse_days, loyal = m.loyal_purchases;
  for (i64 k = 0; k < n; ++k) {  // exact.stage_of
    i64 st = b.nn[k] >= 2 ? 1 : 0;
    st = (b.mem[k] != 0 || b.nn[k] >= loyal) ? 2 : st;
    b.stage[k] = b.rec[k] > lapse ? 3 : st;
  }
}

// The capped means E[min(rate V, cap)] (cached per customer; computed for uncached pairs).
SIMCORE_LC_INLINE void capped_means(const KernelCtx& c, i64 i0, i64 n, Block& b) {
  const SlotArrays& s = *c.slots;
  const double* __restrict cms = s.capm.data() + i0 * kCachedPairs;
  if (!b.paired)
    for (i64 k = 0; k < n; ++k) b.capm[k] = 0.0;
  for (i64 k = 0; k < (b.paired ? n : 0); ++k) {
    // (a valid row either way; cached >= 0, so cached * 0.0 is the 0.0 of "no pair")
    const double cached = cms[k * kCachedPairs + std::max<i64>(b.pair[k], 0)];
    b.capm[k] = cached * (b.pair[k] >= 0 ? 1.0 : 0.0);
  }
  if (!c.table->uncached) return;
  for (i64 k = 0; k < n; ++k)
    if (b.pair[k] < 0) b.capm[k] = capped_rate_mean(b.rate[k], b.cap[k], s.spend[i0 + k], c.model->within_sd);
}

// The day's exact probabilities (exact.expectations, the same operations in the same order).
SIMCORE_LC_INLINE void probs(const KernelCtx& c, i64 i0, i64 n, Block& b) {
  const Model& m = *c.model;
  const SlotArrays& s = *c.slots;
  capped_means(c, i0, n, b);
  const double *__restrict sc = &m.stage_click[0][0], *__restrict oc = m.offer_conv, *__restrict kc = m.club_conv;
  const double *__restrict h0 = s.hist[0].data() + i0, *__restrict h1 = s.hist[1].data() + i0,
               *__restrict h2 = s.hist[2].data() + i0, *__restrict sens = s.sens.data() + i0,
               *__restrict resp = s.resp.data() + i0 * kChannels;
  const double fat = m.fatigue_coef, dead_logit = m.dead_logit, dc = m.depth_coef;
  const i64 nz = b.touched ? n : 0;  // (a block of do-nothing days needs no log-odds)
  for (i64 k = 0; k < nz; ++k) {
    const i64 st = b.stage[k], ch = b.chan[k];
    const double F = (h0[k] + h1[k]) + h2[k];
    b.zc[k] = ((b.click_logit[k] + sc[st * 3 + ch]) + resp[k * 3 + ch]) - fat * F;
    const double dead = b.alive[k] != 0 ? 0.0 : dead_logit;
    const double depth = b.depth[k] + b.dpd[k] * b.capm[k];
    const double zo = ((oc[st] + b.conv_logit[k]) + (dc * sens[k]) * depth) + dead;
    const double zk = (kc[st] + b.conv_logit[k]) + dead;
    b.zv[k] = b.kind[k] == kOffer ? zo : zk;
  }
  // sigmoid(z) = 1 / (1 + exp(-z)), exp only where it applies: the slots compacted first
  // (no unpredictable branches around the calls)
  alignas(64) i64 ic[kBlock], iv[kBlock];
  i64 mc = 0, mv = 0;
  for (i64 k = 0; k < nz; ++k) {
    ic[mc] = k, iv[mv] = k;
    mc += b.kind[k] != kNothing ? 1 : 0;
    mv += (b.kind[k] == kOffer || (b.kind[k] == kClub && b.mem[k] == 0)) ? 1 : 0;
  }
  for (i64 k = 0; k < n; ++k) b.ec[k] = b.ev[k] = 0.0;
  for (i64 j = 0; j < mc; ++j) b.ec[ic[j]] = std::exp(-b.zc[ic[j]]);
  for (i64 j = 0; j < mv; ++j) b.ev[iv[j]] = std::exp(-b.zv[iv[j]]);
  const double *__restrict q0 = s.q0.data() + i0, *__restrict q1 = s.q1.data() + i0;
  for (i64 k = 0; k < n; ++k) {
    const bool offer = b.kind[k] == kOffer;
    const double pc = b.kind[k] != kNothing ? 1.0 / (1.0 + b.ec[k]) : 0.0;
    const double pv = (offer || (b.kind[k] == kClub && b.mem[k] == 0)) ? 1.0 / (1.0 + b.ev[k]) : 0.0;
    const double induced = pc * pv;
    const double qraw = b.mem[k] != 0 ? q1[k] : q0[k];
    const double q = b.alive[k] != 0 ? qraw : 0.0;
    b.pc[k] = pc, b.pv[k] = pv, b.qraw[k] = qraw;
    b.ppur[k] = offer ? (q + induced) - q * induced : q;
    // an opened offer is redeemed on any purchase of the day, organic ones included
    const double pconv = offer ? pc * ((pv + q) - pv * q) : induced;
    b.pconv[k] = pconv;
    b.ecost[k] = (b.touch[k] + pc * b.click[k]) + pconv * (b.fixed[k] + b.capm[k]);
  }
}

// Draws (six uniforms a day, fixed order: click, convert, organic purchase, dropout, then
// the value's Box-Muller pair) and the day's events.
SIMCORE_LC_INLINE void draws(const KernelCtx& c, i64 i0, i64 n, Block& b) {
  u64* __restrict rng = c.slots->rng.data() + i0;
  for (i64 k = 0; k < n; ++k) {
    const u64 s0 = rng[k];
    b.u_click[k] = unif(s0 + kGamma), b.u_conv[k] = unif(s0 + 2 * kGamma), b.u_org[k] = unif(s0 + 3 * kGamma);
    b.u_drop[k] = unif(s0 + 4 * kGamma);
    b.u1[k] = 1.0 - unif(s0 + 5 * kGamma), b.u2[k] = unif(s0 + 6 * kGamma);
    rng[k] = s0 + 6 * kGamma;
  }
  for (i64 k = 0; k < n; ++k) {  // 0/1 flags combined with & and | (no short-circuit branches)
    const i64 offer = b.kind[k] == kOffer ? 1 : 0, touched = b.kind[k] != kNothing ? 1 : 0;
    const i64 organic = b.alive[k] & (b.u_org[k] < b.qraw[k] ? 1 : 0);
    const i64 clicked = touched & (b.u_click[k] < b.pc[k] ? 1 : 0);
    const i64 induced = clicked & (b.u_conv[k] < b.pv[k] ? 1 : 0);
    const i64 offer_conv = induced & offer;
    const i64 purchased = organic | offer_conv;
    b.organic[k] = organic, b.clicked[k] = clicked, b.induced[k] = induced, b.offer_conv[k] = offer_conv;
    b.purchased[k] = purchased;
    b.converted[k] = offer != 0 ? (clicked & purchased) : induced;
  }
}

// The purchase value (lognormal, mean spend; only where purchased) and the realised cost.
SIMCORE_LC_INLINE void value_cost(const KernelCtx& c, i64 i0, i64 n, Block& b) {
  const double* __restrict spend = c.slots->spend.data() + i0;
  const double sd = c.model->within_sd;
  alignas(64) i64 ip[kBlock];
  i64 mp = 0;
  for (i64 k = 0; k < n; ++k) {
    b.value[k] = 0.0;
    ip[mp] = k;
    mp += b.purchased[k] != 0 ? 1 : 0;
  }
  for (i64 j = 0; j < mp; ++j) {
    const i64 k = ip[j];
    const double z = std::sqrt(-2.0 * std::log(b.u1[k])) * std::cos(6.283185307179586 * b.u2[k]);
    b.value[k] = spend[k] * std::exp(sd * z - 0.5 * sd * sd);
  }
  for (i64 k = 0; k < n; ++k) {
    const bool conv = b.converted[k] != 0;
    double cost = b.touch[k];
    cost = cost + (b.clicked[k] != 0 ? b.click[k] : 0.0);
    cost = cost + (conv ? b.fixed[k] : 0.0);
    const double capped = std::min(b.rate[k] * b.value[k], b.cap[k]);
    b.cost[k] = cost + (conv ? capped : 0.0);
  }
}

// Phase 1 of slots [i0, i0 + n) under actions a: probabilities, draws, events, value, cost.
SIMCORE_LC_INLINE void sample_into(const KernelCtx& c, const i64* a, i64 i0, i64 n, Block& b) {
  load_block(c, a, i0, n, b);
  probs(c, i0, n, b);
  draws(c, i0, n, b);
  value_cost(c, i0, n, b);
}

// The block's phase-1 outcome to / from a Pending (the three-phase path).
inline void to_pending(i64 n, const Block& b, const Pending& p) {
  for (i64 k = 0; k < n; ++k) {
    p.pc[k] = b.pc[k], p.pconv[k] = b.pconv[k], p.ppur[k] = b.ppur[k], p.ecost[k] = b.ecost[k];
    p.value[k] = b.value[k], p.cost[k] = b.cost[k], p.u_drop[k] = b.u_drop[k];
    p.stage[k] = static_cast<std::int8_t>(b.stage[k]);
    p.organic[k] = static_cast<std::uint8_t>(b.organic[k]), p.clicked[k] = static_cast<std::uint8_t>(b.clicked[k]);
    p.offer_conv[k] = static_cast<std::uint8_t>(b.offer_conv[k]);
    p.purchased[k] = static_cast<std::uint8_t>(b.purchased[k]);
    p.converted[k] = static_cast<std::uint8_t>(b.converted[k]);
  }
}
inline void from_pending(i64 n, const Pending& p, Block& b) {
  for (i64 k = 0; k < n; ++k) {
    b.pc[k] = p.pc[k], b.pconv[k] = p.pconv[k], b.ppur[k] = p.ppur[k], b.ecost[k] = p.ecost[k];
    b.value[k] = p.value[k], b.cost[k] = p.cost[k], b.u_drop[k] = p.u_drop[k], b.stage[k] = p.stage[k];
    b.organic[k] = p.organic[k], b.clicked[k] = p.clicked[k], b.offer_conv[k] = p.offer_conv[k];
    b.purchased[k] = p.purchased[k], b.converted[k] = p.converted[k];
  }
}

// a[k] = the action that runs (0 where ok[k] == 0); whether any slot is blocked.
SIMCORE_LC_INLINE bool unblocked_actions(const i64* req, i64 n, const std::uint8_t* ok, i64* a) {
  i64 blocked = 0;
  if (!ok) {
    for (i64 k = 0; k < n; ++k) a[k] = req[k];
    return false;
  }
  for (i64 k = 0; k < n; ++k) {
    a[k] = ok[k] != 0 ? req[k] : 0;
    blocked |= ok[k] != 0 ? 0 : 1;
  }
  return blocked != 0;
}

// Blocked slots (ok[k] == 0) get the do-nothing day under the same draws (organic
// purchase only, cost 0) and the probabilities of action 0 (r: the block under b's
// applied actions).
inline void apply_blocks(i64 n, const Block& r, Block& b, const std::uint8_t* ok) {
  for (i64 k = 0; k < n; ++k) {
    if (ok[k]) continue;
    b.pc[k] = r.pc[k], b.pconv[k] = r.pconv[k], b.ppur[k] = r.ppur[k], b.ecost[k] = r.ecost[k];
    b.clicked[k] = b.offer_conv[k] = b.converted[k] = 0;
    b.purchased[k] = b.organic[k];
    b.value[k] = b.organic[k] ? b.value[k] : 0.0;
    b.cost[k] = 0.0;
  }
}

}  // namespace
}  // namespace lifecycle
}  // namespace simcore
