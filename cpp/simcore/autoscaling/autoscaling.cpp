#include "simcore/autoscaling/autoscaling.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "simcore/common/parallel.hpp"

namespace simcore {
namespace autoscaling {
namespace {

// Zones per thread before splitting pays off.
constexpr std::size_t kMinChunk = 1024;
constexpr double kTwoPi = 6.283185307179586;

// Two standard normals from one Box-Muller pair (r cos, r sin): u1 then u2.
inline void normal_pair(Stream& r, double& z0, double& z1) {
  const double u1 = 1.0 - r.uniform();  // (0, 1]
  const double u2 = r.uniform();
  const double rad = std::sqrt(-2.0 * std::log(u1));
  z0 = rad * std::cos(kTwoPi * u2);
  z1 = rad * std::sin(kTwoPi * u2);
}

// The time features of episode time tau: sin/cos of the day's and the week's phase.
void time_features(std::int64_t tau, double& sd, double& cd, float* tf) {
  const double day = kTwoPi * (static_cast<double>(tau % kStepsPerDay) / static_cast<double>(kStepsPerDay));
  const double week = kTwoPi * (static_cast<double>(tau % kStepsPerWeek) / static_cast<double>(kStepsPerWeek));
  sd = std::sin(day), cd = std::cos(day);
  tf[0] = static_cast<float>(sd), tf[1] = static_cast<float>(cd);
  tf[2] = static_cast<float>(std::sin(week)), tf[3] = static_cast<float>(std::cos(week));
}

}  // namespace

Batch::Batch(Model model, Zones zones) : model_(std::move(model)), zones_(std::move(zones)) {}

void Batch::outcome(const StateView& s, std::size_t i, std::int64_t tau, double st, double ct, double* x,
                    double& mu, double& c) const {
  const double* p = &zones_.p[i * kParams];
  Stream r;
  r.state = s.rng[i];
  // Draw order (mirrored by the twin): burst uniform, one normal pair (traffic), one pair (CPU; second unused).
  const double ub = r.uniform();
  const double b = s.burst[i] * p[kBurstDecay] + (ub < p[kBurstProb] ? p[kBurstSize] : 0.0);
  s.burst[i] = b;
  const std::int64_t day = tau / kStepsPerDay;
  const bool weekend = day % 7 >= 5;
  const bool holiday = day < static_cast<std::int64_t>(model_.holiday.size()) && model_.holiday[day] != 0;
  const double wk = weekend ? 1.0 - p[kWeekendDip] : 1.0;
  const double tr = 1.0 + p[kTrend] * (static_cast<double>(tau) / static_cast<double>(kStepsPerWeek));
  const double hol = holiday ? p[kHolidayMult] : 1.0;
  const double common = ((wk * tr) * hol) * (1.0 + b);
  const double ds = st * p[kCosPhase] + ct * p[kSinPhase];  // sin(theta + phase)
  double e0, e1;
  normal_pair(r, e0, e1);
  const double e2 = r.normal();  // = the first of a pair (its partner is never computed)
  const double sd = p[kNoiseSd], half = 0.5 * sd * sd;
  x[0] = (p[kBase0] * (1.0 + p[kAmp0] * ds)) * common * std::exp(sd * e0 - half);
  x[1] = (p[kBase1] * (1.0 + p[kAmp1] * ds)) * common * std::exp(sd * e1 - half);
  const double u = (p[kW0] * x[0] + p[kW1] * x[1]) / static_cast<double>(s.vms[i]);
  const double z = u / p[kScale];
  // z^shape as exp(shape log z) (cheaper than pow; z = 0 gives exp(-inf) = 0), the twin alike
  const double zp = std::exp(p[kShape] * std::log(z));
  mu = p[kIdle] + (1.0 - p[kIdle]) * (1.0 - std::exp(-zp));
  c = std::min(1.0, std::max(0.0, mu + p[kCpuSd] * e2));
  s.rng[i] = r.state;
}

void Batch::write_obs(const StateView& s, std::size_t i, std::int64_t, float* o) const {
  const double* x = &s.traffic[i * kDims];
  std::int64_t pend = 0;
  for (std::size_t j = 0; j < kMaxDelay; ++j) pend += s.pending[i * kMaxDelay + j];
  const double l = static_cast<double>(s.vms[i]);
  o[0] = static_cast<float>(std::log1p(x[0]));
  o[1] = static_cast<float>(std::log1p(x[1]));
  o[2] = static_cast<float>(s.cpu[i]);
  o[3] = static_cast<float>(std::log(l));
  o[4] = static_cast<float>(static_cast<double>(pend) / l);
}

void Batch::begin(const StateView& s, std::size_t i, float* obs) const {
  s.rng[i] = stream_key(s.key_seed[i], s.key_stream[i], s.episode[i]);
  ++s.episode[i];
  s.vms[i] = zones_.init_vms[i];
  for (std::size_t j = 0; j < kMaxDelay; ++j) s.pending[i * kMaxDelay + j] = 0;
  s.burst[i] = 0.0;
  double mu = 0, c = 0;
  outcome(s, i, 0, 0.0, 1.0, &s.traffic[i * kDims], mu, c);
  s.cpu[i] = c;
  float* o = obs + i * kObsDim;
  write_obs(s, i, 0, o);
  o[5] = 0.0f, o[6] = 1.0f, o[7] = 0.0f, o[8] = 1.0f;
}

void Batch::reset(const StateView& s, float* obs, int threads) const {
  *s.t = 0;
  parallel_for(zones_.size, threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) begin(s, i, obs);
  });
}

void Batch::step_zone(const StateView& s, std::size_t i, std::int64_t tau, double st, double ct, double a,
                      const StepOut& out) const {
  std::int64_t* pend = &s.pending[i * kMaxDelay];
  std::int64_t P = 0;
  for (std::size_t j = 0; j < kMaxDelay; ++j) P += pend[j];
  const std::int64_t prov = s.vms[i] + P;
  std::int64_t target = static_cast<std::int64_t>(std::floor(static_cast<double>(prov) * (1.0 + a) + 0.5));
  target = std::min(zones_.max_vms[i], std::max(zones_.min_vms[i], target));
  const std::int64_t delta = target - prov;
  if (delta > 0) {
    if (model_.delay == 0) s.vms[i] += delta;
    else pend[model_.delay - 1] += delta;
  } else if (delta < 0) {
    std::int64_t r = -delta;  // cancel pending VMs first (latest first), then active ones
    for (std::size_t j = kMaxDelay; j-- > 0 && r > 0;) {
      const std::int64_t take = std::min(r, pend[j]);
      pend[j] -= take, r -= take;
    }
    s.vms[i] -= r;
  }
  const double* p = &zones_.p[i * kParams];
  double* x = &s.traffic[i * kDims];
  double mu = 0, c = 0;
  const std::int64_t serving = s.vms[i];
  outcome(s, i, tau, st, ct, x, mu, c);
  s.cpu[i] = c;
  const double lat = p[kLat0] * (1.0 + p[kLatGain] * std::max(0.0, c - p[kKnee]) / std::max(1.0 - c, 0.02));
  const bool viol = lat > p[kSloMs];
  const double cost = static_cast<double>(delta < 0 ? -delta : delta) / static_cast<double>(prov);
  const double dev = model_.cpu_target - c;
  out.reward[i] = -(dev * dev) - model_.eta * cost - (viol ? model_.slo_penalty : 0.0);
  out.terminated[i] = 0, out.truncated[i] = tau >= model_.horizon ? 1 : 0;
  out.action[i] = a, out.vms[i] = serving, out.provisioned[i] = target, out.delta[i] = delta;
  out.traffic[i * kDims] = x[0], out.traffic[i * kDims + 1] = x[1];
  out.cpu[i] = c, out.cpu_mean[i] = mu, out.latency[i] = lat, out.scaling_cost[i] = cost;
  out.slo_violation[i] = viol ? 1 : 0;
  out.in_band[i] = std::fabs(dev) <= model_.band ? 1 : 0;
  out.scaled[i] = delta != 0 ? 1 : 0, out.reset_row[i] = 0;
  // Arrivals: the VMs due next step become active.
  s.vms[i] += pend[0];
  for (std::size_t j = 0; j + 1 < kMaxDelay; ++j) pend[j] = pend[j + 1];
  pend[kMaxDelay - 1] = 0;
  write_obs(s, i, tau, out.obs + i * kObsDim);
}

void Batch::step(const StateView& s, const double* actions, const StepOut& out, int threads) const {
  const std::size_t B = zones_.size;
  if (*s.t >= model_.horizon) {  // NEXT_STEP autoreset of every zone
    reset(s, out.obs, threads);
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
  parallel_for(B, threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) {
      step_zone(s, i, tau, st, ct, actions[i], out);
      float* o = out.obs + i * kObsDim;
      o[5] = tf[0], o[6] = tf[1], o[7] = tf[2], o[8] = tf[3];
    }
  });
  *s.t = tau;
}

}  // namespace autoscaling
}  // namespace simcore
