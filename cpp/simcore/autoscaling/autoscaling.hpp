// Batched cloud-autoscaling simulator: B application zones (app, zone pairs), each with
// its own traffic, CPU and SLO parameters, stepped one 10-minute interval at a time.
// Traffic per zone is K = 2 dimensional (RPC calls, message subscriptions) with daily
// and weekly seasonality, trend, log-normal noise, decaying bursts and holidays; CPU
// c = clip(g(u) + sd * eps, 0, 1), u = (w . x) / l, g(u) = c0 + (1 - c0) (1 - exp(-(u/s)^p));
// scaling actions are ratios a (l' = round(l (1 + a)), bounded, optional delay).
// Specification: docs/autoscaling_model.md; NumPy twin:
// simcore.domains.autoscaling.reference (same draws, same order).
//
// The mutable state lives in caller-owned buffers (StateView), so the Python face
// owns, copies and pickles it; the Batch holds only the validated parameters.
// The step runs in blocks of zones: scalar VM bookkeeping, then loops over the block
// that the compiler vectorises (SplitMix64 draws, Box-Muller, traffic, CPU, reward) with
// the transcendentals of vecmath.hpp (bit-identical at every ISA; clones chosen at run
// time on x86-64 Linux).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "simcore/common/rng.hpp"
#include "simcore/common/worker_pool.hpp"

namespace simcore {
namespace autoscaling {

constexpr std::size_t kDims = 2;       // traffic dimensions (RPC, message subscription)
constexpr std::size_t kObsDim = 9;     // see write_obs
constexpr std::size_t kMaxDelay = 8;   // provisioning delay, steps (pending ring length)
constexpr std::int64_t kStepsPerDay = 144, kStepsPerWeek = 1008;

// Columns of the per-zone parameter matrix (B, kParams).
enum Param : std::size_t {
  kBase0 = 0, kBase1, kAmp0, kAmp1, kCosPhase, kSinPhase, kWeekendDip, kTrend, kNoiseSd,
  kBurstProb, kBurstSize, kBurstDecay, kHolidayMult, kW0, kW1, kIdle, kScale, kShape,
  kCpuSd, kLat0, kKnee, kLatGain, kSloMs, kParams
};

// Run-wide constants.
struct Model {
  double cpu_target = 0.5, band = 0.1, eta = 0.05, slo_penalty = 1.0, a_min = -0.5, a_max = 1.0;
  std::int64_t horizon = kStepsPerWeek, delay = 0;
  std::vector<std::uint8_t> holiday;  // (n_days,): day d of the episode is a holiday
};

// Per-zone parameters (validated by the caller; the binding does).
struct Zones {
  std::size_t size = 0;
  std::vector<double> p;                        // (B, kParams)
  std::vector<std::int64_t> min_vms, max_vms, init_vms;  // (B,)
};

// Caller-owned mutable state, B rows each.
struct StateView {
  std::int64_t* vms;        // (B,) serving VMs
  std::int64_t* pending;    // (B, kMaxDelay): pending[j] VMs become active after j + 1 steps
  double* burst;            // (B,) burst level b
  double* traffic;          // (B, kDims) last traffic
  double* cpu;              // (B,) last CPU utilisation
  std::uint64_t *key_seed, *key_stream, *episode, *rng;  // (B,) stream keys and state
  std::int64_t* t;          // (1,) steps done in the episode (horizon: the next step resets)
};

// Caller-owned outputs, B rows each.
struct StepOut {
  float* obs;                     // (B, kObsDim)
  double* reward;
  std::uint8_t *terminated, *truncated;
  double* action;                 // the ratio applied (0 on an autoreset row)
  std::int64_t *vms, *provisioned, *delta;
  double *traffic, *cpu, *cpu_mean, *latency, *scaling_cost;  // traffic (B, kDims)
  std::uint8_t *slo_violation, *in_band, *scaled, *reset_row;
};

class Batch {
 public:
  Batch(Model model, Zones zones);
  std::size_t num_zones() const { return zones_.size; }
  const Model& model() const { return model_; }
  const Zones& zones() const { return zones_; }

  // New episode everywhere (zone i's e-th episode: stream (key_seed, key_stream, e)).
  void reset(const StateView& s, float* obs, const Exec& ex) const;
  // One interval under ratios a (B,) in [a_min, a_max] (checked by the caller);
  // NEXT_STEP autoreset: the step after the horizon resets and writes a reset row.
  void step(const StateView& s, const double* actions, const StepOut& out, const Exec& ex) const;

 private:
  Model model_;
  Zones zones_;
  std::vector<double> pt_;  // the parameters column by column, (kParams, B): pt_[k * B + i]
};

// The step's transcendentals (vecmath.hpp) over n values, as compiled into the step (same
// flags and ISA clone), for tests against the NumPy twin: fn 0 exp, 1 log, 2 log1p,
// 3 cos(2 pi x), 4 (cos, sin)(2 pi x) into (y, y2), 5 uniform53 of the bits of x.
enum class VecFn { kExp = 0, kLog, kLog1p, kCos2Pi, kSinCos2Pi, kUniform53 };
void vecmath_apply(VecFn fn, const double* x, std::size_t n, double* y, double* y2);

}  // namespace autoscaling
}  // namespace simcore
