#include "simcore/autoscaling/autoscaling.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "simcore/autoscaling/vecmath.hpp"
#include "simcore/common/worker_pool.hpp"

// Run-time ISA dispatch of the block kernels (GCC ifunc clones; x86-64 Linux only).  All
// clones give identical results: -ffp-contract=off, no reassociation, IEEE operations only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(SIMCORE_NO_CLONES)
#define SIMCORE_AS_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define SIMCORE_AS_CLONES
#endif

namespace simcore {
namespace autoscaling {
namespace {

namespace vm = simcore::vecmath;

// Zones per thread before splitting pays off; zones per block (the temporaries below).
constexpr std::size_t kMinChunk = 1024;
constexpr std::size_t kBlock = 256;
constexpr double kTwoPi = 6.283185307179586;
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// The SplitMix64 output for the counter value x (Stream::next_u64 after state = x).
SIMCORE_VM_INLINE std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// What one step shares across zones: episode time, its phase and the calendar.
struct Time {
  double st = 0, ct = 1, trf = 0;  // sin/cos of the day's phase, tau / 1008
  bool weekend = false, holiday = false;
};

Time time_of(const Model& m, std::int64_t tau, double st, double ct) {
  Time t;
  t.st = st, t.ct = ct;
  t.trf = static_cast<double>(tau) / static_cast<double>(kStepsPerWeek);
  const std::int64_t day = tau / kStepsPerDay;
  t.weekend = day % 7 >= 5;
  t.holiday = day < static_cast<std::int64_t>(m.holiday.size()) && m.holiday[day] != 0;
  return t;
}

// The time features of episode time tau: sin/cos of the day's and the week's phase.
void time_features(std::int64_t tau, double& sd, double& cd, float* tf) {
  const double day = kTwoPi * (static_cast<double>(tau % kStepsPerDay) / static_cast<double>(kStepsPerDay));
  const double week = kTwoPi * (static_cast<double>(tau % kStepsPerWeek) / static_cast<double>(kStepsPerWeek));
  sd = std::sin(day), cd = std::cos(day);
  tf[0] = static_cast<float>(sd), tf[1] = static_cast<float>(cd);
  tf[2] = static_cast<float>(std::sin(week)), tf[3] = static_cast<float>(std::cos(week));
}

// Traffic and CPU of zones [i0, i0 + n) served by l[j] VMs (draws: 5 uniforms per zone,
// in stream order: burst, a Box-Muller pair for the traffic noise, a pair for the CPU
// noise whose sine is never used).  Writes s.rng, s.burst and x0, x1, mu, c[j].
SIMCORE_VM_INLINE void outcome_block(const double* pt, std::size_t B, const StateView& s, std::size_t i0,
                                     std::size_t n, const Time& tm, const double* l, double* x0, double* x1,
                                     double* mu, double* c) {
  const double* P = pt + i0;
  const auto col = [&](Param k) { return P + k * B; };
  const double *base0 = col(kBase0), *base1 = col(kBase1), *amp0 = col(kAmp0), *amp1 = col(kAmp1);
  const double *cph = col(kCosPhase), *sph = col(kSinPhase), *dip = col(kWeekendDip), *trend = col(kTrend);
  const double *nsd = col(kNoiseSd), *bprob = col(kBurstProb), *bsize = col(kBurstSize), *bdec = col(kBurstDecay);
  const double *hmul = col(kHolidayMult), *w0 = col(kW0), *w1 = col(kW1), *idle = col(kIdle);
  const double *scale = col(kScale), *shape = col(kShape), *csd = col(kCpuSd);
  // rng and burst through block-local copies: no run-time alias checks against the parameters
  std::uint64_t rng[kBlock];
  double burst[kBlock];
  for (std::size_t j = 0; j < n; ++j) rng[j] = s.rng[i0 + j], burst[j] = s.burst[i0 + j];
  const double st = tm.st, ct = tm.ct, trf = tm.trf;
  const double weekend = tm.weekend ? 1.0 : 0.0, holiday = tm.holiday ? 1.0 : 0.0;  // (bool selects block vectorising)
  double e0[kBlock], e1[kBlock], e2[kBlock];
  for (std::size_t j = 0; j < n; ++j) {  // draws: burst, two Box-Muller pairs (the second's sine unused)
    const std::uint64_t r0 = rng[j];
    const double ub = vm::uniform53(mix(r0 + kGolden));
    const double u1 = 1.0 - vm::uniform53(mix(r0 + 2 * kGolden));  // (0, 1]
    const double u2 = vm::uniform53(mix(r0 + 3 * kGolden));
    const double u3 = 1.0 - vm::uniform53(mix(r0 + 4 * kGolden));
    const double u4 = vm::uniform53(mix(r0 + 5 * kGolden));
    rng[j] = r0 + 5 * kGolden;
    const double bs = bsize[j];  // loaded unconditionally (if-conversion)
    burst[j] = burst[j] * bdec[j] + (ub < bprob[j] ? bs : 0.0);
    const double rad = std::sqrt(-2.0 * vm::log(u1));
    double cs, sn;
    vm::sincos2pi(u2, cs, sn);
    e0[j] = rad * cs, e1[j] = rad * sn;
    e2[j] = std::sqrt(-2.0 * vm::log(u3)) * vm::cos2pi(u4);
  }
  for (std::size_t j = 0; j < n; ++j) {  // traffic
    const double dj = dip[j], hm = hmul[j];
    const double wk = weekend != 0.0 ? 1.0 - dj : 1.0;
    const double tr = 1.0 + trend[j] * trf;
    const double hol = holiday != 0.0 ? hm : 1.0;
    const double common = ((wk * tr) * hol) * (1.0 + burst[j]);
    const double ds = st * cph[j] + ct * sph[j];  // sin(theta + phase)
    const double sd = nsd[j], half = 0.5 * sd * sd;
    x0[j] = (base0[j] * (1.0 + amp0[j] * ds)) * common * vm::exp(sd * e0[j] - half);
    x1[j] = (base1[j] * (1.0 + amp1[j] * ds)) * common * vm::exp(sd * e1[j] - half);
  }
  for (std::size_t j = 0; j < n; ++j) {  // CPU
    const double u = (w0[j] * x0[j] + w1[j] * x1[j]) / l[j];
    const double z = u / scale[j];
    const double zp = vm::exp(shape[j] * vm::log(z));  // z^shape (z = 0: exp(-inf) = 0)
    const double m = idle[j] + (1.0 - idle[j]) * (1.0 - vm::exp(-zp));
    mu[j] = m;
    c[j] = std::min(1.0, std::max(0.0, m + csd[j] * e2[j]));
  }
  for (std::size_t j = 0; j < n; ++j) s.rng[i0 + j] = rng[j], s.burst[i0 + j] = burst[j];
}

// Observation rows of zones [i0, i0 + n): traffic x0, x1, CPU c, VMs l and pending VMs pend
// (after arrivals) of zone i0 + j at j; the time features tf go to columns 5-8.
SIMCORE_VM_INLINE void obs_block(std::size_t i0, std::size_t n, const double* x0, const double* x1, const double* c,
                                 const double* l, const double* pend, const float* tf, float* obs) {
  float o[4][kBlock];
  for (std::size_t j = 0; j < n; ++j) {
    o[0][j] = static_cast<float>(vm::log1p(x0[j]));
    o[1][j] = static_cast<float>(vm::log1p(x1[j]));
    o[2][j] = static_cast<float>(vm::log(l[j]));
    o[3][j] = static_cast<float>(pend[j] / l[j]);
  }
  for (std::size_t j = 0; j < n; ++j) {
    float* r = obs + (i0 + j) * kObsDim;
    r[0] = o[0][j], r[1] = o[1][j], r[2] = static_cast<float>(c[j]), r[3] = o[2][j], r[4] = o[3][j];
    r[5] = tf[0], r[6] = tf[1], r[7] = tf[2], r[8] = tf[3];
  }
}

// A new episode for zones [b0, b1).
SIMCORE_AS_CLONES void reset_range(const Model& m, const Zones& z, const double* pt, const StateView& s,
                                   std::size_t b0, std::size_t b1, float* obs) {
  const Time tm = time_of(m, 0, 0.0, 1.0);
  const float tf[4] = {0.0f, 1.0f, 0.0f, 1.0f};
  double l[kBlock], x0[kBlock], x1[kBlock], mu[kBlock], c[kBlock], pend[kBlock] = {};
  for (std::size_t i0 = b0; i0 < b1; i0 += kBlock) {
    const std::size_t n = std::min(kBlock, b1 - i0);
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = i0 + j;
      s.rng[i] = stream_key(s.key_seed[i], s.key_stream[i], s.episode[i]);
      ++s.episode[i];
      s.vms[i] = z.init_vms[i];
      for (std::size_t k = 0; k < kMaxDelay; ++k) s.pending[i * kMaxDelay + k] = 0;
      s.burst[i] = 0.0;
      l[j] = static_cast<double>(s.vms[i]);
    }
    outcome_block(pt, z.size, s, i0, n, tm, l, x0, x1, mu, c);
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = i0 + j;
      s.traffic[i * kDims] = x0[j], s.traffic[i * kDims + 1] = x1[j], s.cpu[i] = c[j];
    }
    obs_block(i0, n, x0, x1, c, l, pend, tf, obs);
  }
}

// VM bookkeeping of zone i under ratio a: returns delta; prov and target by reference.
SIMCORE_VM_INLINE std::int64_t scale_zone(const Model& m, const Zones& z, const StateView& s, std::size_t i,
                                          double a, std::int64_t& prov, std::int64_t& target) {
  std::int64_t* pend = &s.pending[i * kMaxDelay];
  std::int64_t P = 0, any = 0;
  for (std::size_t j = 0; j < kMaxDelay; ++j) P += pend[j], any |= pend[j];
  prov = s.vms[i] + P;
  target = static_cast<std::int64_t>(std::floor(static_cast<double>(prov) * (1.0 + a) + 0.5));
  target = std::min(z.max_vms[i], std::max(z.min_vms[i], target));
  const std::int64_t delta = target - prov;
  if (any == 0 && m.delay == 0) {  // nothing pending, no delay: the branches below all give vms = target
    s.vms[i] = target;
    return delta;
  }
  if (delta > 0) {
    if (m.delay == 0) s.vms[i] += delta;
    else pend[m.delay - 1] += delta;
  } else if (delta < 0) {
    std::int64_t r = -delta;  // cancel pending VMs first (latest first), then active ones
    for (std::size_t j = kMaxDelay; j-- > 0 && r > 0;) {
      const std::int64_t take = std::min(r, pend[j]);
      pend[j] -= take, r -= take;
    }
    s.vms[i] -= r;
  }
  return delta;
}

// One step of zones [b0, b1) at episode time tau.
SIMCORE_AS_CLONES void step_range(const Model& m, const Zones& z, const double* pt, const StateView& s,
                                  const double* actions, const StepOut& out, std::size_t b0, std::size_t b1,
                                  std::int64_t tau, const Time& tm, const float* tf) {
  const std::size_t B = z.size;
  double l[kBlock], dabs[kBlock], dprov[kBlock], x0[kBlock], x1[kBlock], mu[kBlock], c[kBlock], lat[kBlock];
  double cost[kBlock], rew[kBlock], pend[kBlock];
  const std::uint8_t trunc = tau >= m.horizon ? 1 : 0;
  const double target = m.cpu_target, eta = m.eta, penalty = m.slo_penalty, band = m.band;
  for (std::size_t i0 = b0; i0 < b1; i0 += kBlock) {
    const std::size_t n = std::min(kBlock, b1 - i0);
    for (std::size_t j = 0; j < n; ++j) {  // scaling (integer bookkeeping)
      const std::size_t i = i0 + j;
      std::int64_t prov = 0, tgt = 0;
      const std::int64_t delta = scale_zone(m, z, s, i, actions[i], prov, tgt);
      out.vms[i] = s.vms[i], out.provisioned[i] = tgt, out.delta[i] = delta;
      out.action[i] = actions[i], out.terminated[i] = 0, out.truncated[i] = trunc;
      out.scaled[i] = delta != 0 ? 1 : 0, out.reset_row[i] = 0;
      l[j] = static_cast<double>(s.vms[i]);
      dabs[j] = static_cast<double>(delta < 0 ? -delta : delta), dprov[j] = static_cast<double>(prov);
    }
    outcome_block(pt, B, s, i0, n, tm, l, x0, x1, mu, c);
    const double *lat0 = pt + kLat0 * B + i0, *gain = pt + kLatGain * B + i0, *knee = pt + kKnee * B + i0;
    const double* slo = pt + kSloMs * B + i0;
    for (std::size_t j = 0; j < n; ++j) {  // latency, SLO, reward (into block temporaries)
      const double cj = c[j];
      const double lt = lat0[j] * (1.0 + gain[j] * std::max(0.0, cj - knee[j]) / std::max(1.0 - cj, 0.02));
      const double dev = target - cj;
      const double cst = dabs[j] / dprov[j];
      lat[j] = lt, cost[j] = cst;
      rew[j] = -(dev * dev) - eta * cst - (lt > slo[j] ? penalty : 0.0);
    }
    for (std::size_t j = 0; j < n; ++j) {  // outputs, flags, traffic, arrivals
      const std::size_t i = i0 + j;
      const double cj = c[j];
      out.reward[i] = rew[j], out.cpu[i] = cj, out.cpu_mean[i] = mu[j], out.latency[i] = lat[j];
      out.scaling_cost[i] = cost[j], s.cpu[i] = cj;
      out.slo_violation[i] = lat[j] > slo[j] ? 1 : 0;
      out.in_band[i] = std::fabs(target - cj) <= band ? 1 : 0;
      s.traffic[i * kDims] = x0[j], s.traffic[i * kDims + 1] = x1[j];
      out.traffic[i * kDims] = x0[j], out.traffic[i * kDims + 1] = x1[j];
      std::int64_t* pr = &s.pending[i * kMaxDelay];
      std::int64_t any = 0, P = 0;
      for (std::size_t k = 0; k < kMaxDelay; ++k) any |= pr[k];
      if (any != 0) {  // arrivals: the VMs due next step start serving, the ring shifts
        s.vms[i] += pr[0];
        for (std::size_t k = 0; k + 1 < kMaxDelay; ++k) pr[k] = pr[k + 1], P += pr[k];
        pr[kMaxDelay - 1] = 0;
      }
      l[j] = static_cast<double>(s.vms[i]), pend[j] = static_cast<double>(P);
    }
    obs_block(i0, n, x0, x1, c, l, pend, tf, out.obs);
  }
}

SIMCORE_AS_CLONES void vecmath_range(VecFn fn, const double* x, std::size_t n, double* y, double* y2) {
  switch (fn) {
    case VecFn::kExp: for (std::size_t i = 0; i < n; ++i) y[i] = vm::exp(x[i]); break;
    case VecFn::kLog: for (std::size_t i = 0; i < n; ++i) y[i] = vm::log(x[i]); break;
    case VecFn::kLog1p: for (std::size_t i = 0; i < n; ++i) y[i] = vm::log1p(x[i]); break;
    case VecFn::kCos2Pi: for (std::size_t i = 0; i < n; ++i) y[i] = vm::cos2pi(x[i]); break;
    case VecFn::kSinCos2Pi: for (std::size_t i = 0; i < n; ++i) vm::sincos2pi(x[i], y[i], y2[i]); break;
    case VecFn::kUniform53: for (std::size_t i = 0; i < n; ++i) y[i] = vm::uniform53(vm::bits(x[i])); break;
  }
}

}  // namespace

void vecmath_apply(VecFn fn, const double* x, std::size_t n, double* y, double* y2) {
  vecmath_range(fn, x, n, y, y2);
}

Batch::Batch(Model model, Zones zones) : model_(std::move(model)), zones_(std::move(zones)) {
  const std::size_t B = zones_.size;
  pt_.resize(B * kParams);
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t k = 0; k < kParams; ++k) pt_[k * B + i] = zones_.p[i * kParams + k];
}

void Batch::reset(const StateView& s, float* obs, const Exec& ex) const {
  *s.t = 0;
  parallel_for(ex, zones_.size, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    reset_range(model_, zones_, pt_.data(), s, b0, b1, obs);
  });
}

void Batch::step(const StateView& s, const double* actions, const StepOut& out, const Exec& ex) const {
  const std::size_t B = zones_.size;
  if (*s.t >= model_.horizon) {  // NEXT_STEP autoreset of every zone
    reset(s, out.obs, ex);
    for (std::size_t i = 0; i < B; ++i) {
      out.reward[i] = 0, out.terminated[i] = 0, out.truncated[i] = 0, out.action[i] = 0;
      out.vms[i] = s.vms[i], out.provisioned[i] = s.vms[i], out.delta[i] = 0;
      out.traffic[i * kDims] = s.traffic[i * kDims], out.traffic[i * kDims + 1] = s.traffic[i * kDims + 1];
      out.cpu[i] = s.cpu[i], out.cpu_mean[i] = 0, out.latency[i] = 0, out.scaling_cost[i] = 0;
      out.slo_violation[i] = 0, out.in_band[i] = 0, out.scaled[i] = 0, out.reset_row[i] = 1;
    }
    return;
  }
  const std::int64_t tau = *s.t + 1;
  double st = 0, ct = 0;
  float tf[4];
  time_features(tau, st, ct, tf);
  const Time tm = time_of(model_, tau, st, ct);
  parallel_for(ex, B, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    step_range(model_, zones_, pt_.data(), s, actions, out, b0, b1, tau, tm, tf);
  });
  *s.t = tau;
}

}  // namespace autoscaling
}  // namespace simcore
