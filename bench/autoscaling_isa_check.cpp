// ISA / thread-count identity check of the autoscaling step (issue 15): steps B zones with
// random ratios and prints an FNV-1a hash of the outputs (cpu, traffic, obs, reward, latency,
// cpu_mean, vms).  Build the step at several ISAs and compare the hashes (they must agree):
//
//   for f in -march=x86-64 -march=x86-64-v3 -march=x86-64-v4; do
//     g++ -std=c++17 -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math -DSIMCORE_NO_CLONES $f -Icpp -c cpp/simcore/autoscaling/autoscaling.cpp -o /tmp/as.o &&
//     g++ -std=c++17 -O2 -Icpp bench/autoscaling_isa_check.cpp /tmp/as.o build/<you>/libsimcore_core.a -lpthread -o /tmp/as_isa && /tmp/as_isa 3000 300 1 && /tmp/as_isa 3000 300 2; done
//
// (without -DSIMCORE_NO_CLONES: the run-time dispatched clones).  Arguments: B, steps, threads.
// Also prints the thread CPU time per zone-step.
#include "simcore/autoscaling/autoscaling.hpp"
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
using namespace simcore::autoscaling;
int main(int argc, char** argv) {
  const std::size_t B = argc > 1 ? atol(argv[1]) : 4096; const int steps = argc > 2 ? atoi(argv[2]) : 2000; const int th = argc > 3 ? atoi(argv[3]) : 1;
  Zones z; z.size = B; z.p.resize(B * kParams);
  std::mt19937_64 g(1); std::uniform_real_distribution<double> U(0, 1);
  for (std::size_t i = 0; i < B; ++i) {
    double* p = &z.p[i * kParams];
    p[kBase0] = 1000 * (0.5 + U(g)); p[kBase1] = 500 * U(g); p[kAmp0] = 0.5; p[kAmp1] = 0.3; p[kCosPhase] = 1; p[kSinPhase] = 0;
    p[kWeekendDip] = 0.2; p[kTrend] = 0.1; p[kNoiseSd] = 0.1; p[kBurstProb] = 0.01; p[kBurstSize] = 1; p[kBurstDecay] = 0.5;
    p[kHolidayMult] = 1.2; p[kW0] = 0.002; p[kW1] = 0.001; p[kIdle] = 0.05; p[kScale] = 1; p[kShape] = 1.5; p[kCpuSd] = 0.03;
    p[kLat0] = 40; p[kKnee] = 0.6; p[kLatGain] = 2; p[kSloMs] = 100;
  }
  z.min_vms.assign(B, 1); z.max_vms.assign(B, 1000); z.init_vms.assign(B, 4);
  Model m; m.horizon = 100000000; m.holiday.assign(10, 0);
  Batch b(m, z);
  std::vector<std::int64_t> vms(B), pend(B * kMaxDelay), t(1), ovms(B), oprov(B), odel(B);
  std::vector<double> burst(B), traffic(2 * B), cpu(B), act(B, 0.0), rew(B), oa(B), otr(2 * B), oc(B), ocm(B), ol(B), osc(B);
  std::vector<std::uint64_t> ks(B, 1), kst(B), ep(B), rng(B);
  for (std::size_t i = 0; i < B; ++i) kst[i] = i;
  std::vector<float> obs(B * kObsDim);
  std::vector<std::uint8_t> f1(B), f2(B), f3(B), f4(B), f5(B), f6(B);
  StateView s{vms.data(), pend.data(), burst.data(), traffic.data(), cpu.data(), ks.data(), kst.data(), ep.data(), rng.data(), t.data()};
  StepOut o{obs.data(), rew.data(), f1.data(), f2.data(), oa.data(), ovms.data(), oprov.data(), odel.data(), otr.data(), oc.data(), ocm.data(), ol.data(), osc.data(), f3.data(), f4.data(), f5.data(), f6.data()};
  b.reset(s, obs.data(), th);
  timespec a0, a1; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a0);
  for (int k = 0; k < steps; ++k) { for (std::size_t i = 0; i < B; ++i) act[i] = ((i * 7 + k) % 10 < 3) ? U(g) * 1.5 - 0.5 : 0.0; b.step(s, act.data(), o, th); }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a1); double us = ((a1.tv_sec - a0.tv_sec) * 1e6 + (a1.tv_nsec - a0.tv_nsec) * 1e-3) / steps;
  std::uint64_t h = 1469598103934665603ULL;
  auto mixin = [&](const void* p, std::size_t n) { const unsigned char* c = (const unsigned char*)p; for (std::size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ULL; };
  mixin(cpu.data(), 8 * B); mixin(traffic.data(), 16 * B); mixin(obs.data(), 4 * B * kObsDim); mixin(rew.data(), 8 * B); mixin(ol.data(), 8 * B); mixin(ocm.data(), 8 * B); mixin(vms.data(), 8 * B);
  std::printf("hash %016llx\n", (unsigned long long)h);
  std::printf("B=%zu th=%d: %.1f us/step, %.1f ns/zone-step, cpu[0]=%.17g\n", B, th, us, us * 1e3 / B, cpu[0]);
}
