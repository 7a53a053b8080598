// Vector-friendly exp, log, log1p and sin/cos(2 pi u) for the autoscaling step, written
// in plain branch-free C++ (+, -, *, /, comparisons, selects, integer bit operations) so
// that loops over zones vectorise at any ISA.  Built with -ffp-contract=off and without
// -ffast-math, every operation is IEEE round-to-nearest in the order written, so the
// results are bit-identical across SSE2 / AVX2 / AVX-512 clones and thread counts, and
// the NumPy twin (simcore.domains.autoscaling.vecmath) computes the same values with the
// same operations in the same order.  Accuracy against a long-double reference is
// tested (tests/test_autoscaling_vecmath.py; bounds in docs/autoscaling_model.md).
//
//   exp(x):  x = k ln2 + r (k = round(x / ln2), Cody-Waite ln2 = hi + lo), e^r by the
//            degree-13 Taylor polynomial (|r| <= 0.347), times 2^k1 2^k2 (k1 + k2 = k,
//            both normal scales: one rounding, subnormal results included);
//            x clamped to [-746, 710] first (0 and +inf outside), NaN -> NaN.
//   log(x):  x = 2^e m, m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f), the
//            fdlibm e_log.c evaluation (its Lg1..Lg7 minimax coefficients);
//            0 -> -inf, +inf -> +inf, x < 0 or NaN -> NaN; subnormals scaled by 2^52.
//   log1p(x): v = 1 + x, log(v) + (x - (v - 1)) / v (the rounding of 1 + x corrected).
//   cos/sin(2 pi u): t = 4u = q + f (q = round(t), |f| <= 1/2, exact), the Taylor
//            polynomials of sin(pi f / 2) (to f^17) and cos(pi f / 2) (to f^16), and the
//            quadrant q mod 4 (swap and sign); exact for |u| < 2^50.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#define SIMCORE_VM_INLINE inline __attribute__((always_inline))

namespace simcore {
namespace vecmath {

SIMCORE_VM_INLINE std::uint64_t bits(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
SIMCORE_VM_INLINE double from_bits(std::uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: (y + kShift) - kShift = round(y), |y| < 2^51
constexpr std::uint64_t kShiftBits = 0x4338000000000000ULL;
constexpr std::uint64_t kTwo52Bits = 0x4330000000000000ULL;  // bits of 2^52
constexpr double kTwo52 = 4503599627370496.0;
constexpr double kInvLn2 = 1.4426950408889634, kLn2Hi = 0.6931471803691238, kLn2Lo = 1.9082149292705877e-10;

// The integer n (0 <= n < 2^52) as a double, exactly (an OR and a subtraction).
SIMCORE_VM_INLINE double small_u64_to_double(std::uint64_t n) { return from_bits(n | kTwo52Bits) - kTwo52; }

// (z >> 11) * 2^-53 exactly (the same value as static_cast<double>(z >> 11) * 0x1.0p-53).
SIMCORE_VM_INLINE double uniform53(std::uint64_t z) {
  const std::uint64_t v = z >> 11;
  return (small_u64_to_double(v >> 1) * 2.0 + small_u64_to_double(v & 1)) * 0x1.0p-53;
}

SIMCORE_VM_INLINE double exp(double x) {
  const double xc = std::min(std::max(x, -746.0), 710.0);
  const double t = xc * kInvLn2 + kShift;
  const double kd = t - kShift;
  const double r = (xc - kd * kLn2Hi) - kd * kLn2Lo;
  double p = 1.6059043836821613e-10;
  p = p * r + 2.08767569878681e-09;
  p = p * r + 2.505210838544172e-08;
  p = p * r + 2.755731922398589e-07;
  p = p * r + 2.7557319223985893e-06;
  p = p * r + 2.48015873015873e-05;
  p = p * r + 0.0001984126984126984;
  p = p * r + 0.001388888888888889;
  p = p * r + 0.008333333333333333;
  p = p * r + 0.041666666666666664;
  p = p * r + 0.16666666666666666;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // k1 = round(kd / 2), k2 = kd - k1: 2^k1 and 2^k2 are normal for kd in [-1077, 1025]
  const double t1 = kd * 0.5 + kShift;
  const std::uint64_t k1 = bits(t1) - kShiftBits;         // two's complement of k1
  const std::uint64_t k2 = (bits(t) - kShiftBits) - k1;   // k - k1
  const double s1 = from_bits((k1 + 1023) << 52), s2 = from_bits((k2 + 1023) << 52);
  const double y = (p * s1) * s2;
  return x != x ? x : y;
}

SIMCORE_VM_INLINE double log(double x) {
  const bool sub = x < 0x1.0p-1022;
  const double xs = sub ? x * 0x1.0p52 : x;
  const std::uint64_t b = bits(xs);
  const double m1 = from_bits((b & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);  // [1, 2)
  const bool big = m1 > 1.4142135623730951;
  const double m = big ? m1 * 0.5 : m1;
  const double ed = ((small_u64_to_double((b >> 52) & 0x7FF) - 1023.0) + (big ? 1.0 : 0.0)) - (sub ? 52.0 : 0.0);
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s, w = z * z;
  const double t1 = w * (0.3999999999940942 + w * (0.22222198432149784 + w * 0.15313837699209373));
  const double t2 = z * (0.6666666666666735 + w * (0.2857142874366239 + w * (0.1818357216161805 +
                                                                           w * 0.14798198605116586)));
  const double R = t2 + t1;
  const double hfsq = 0.5 * f * f;
  double y = ed * kLn2Hi - ((hfsq - (s * (hfsq + R) + ed * kLn2Lo)) - f);
  y = x == std::numeric_limits<double>::infinity() ? x : y;
  y = x == 0.0 ? -std::numeric_limits<double>::infinity() : y;
  return (x < 0.0 || x != x) ? std::numeric_limits<double>::quiet_NaN() : y;
}

SIMCORE_VM_INLINE double log1p(double x) {
  const double v = 1.0 + x;
  const double y = vecmath::log(v);
  const double corr = (x - (v - 1.0)) / v;
  return v < 0x1.0p53 ? y + corr : y;
}

// sin(pi f / 2) and cos(pi f / 2) for |f| <= 1/2.
SIMCORE_VM_INLINE double sin_quarter(double f) {
  const double a = f * f;
  double p = 6.0669357311061955e-12;
  p = p * a + -6.688035109811468e-10;
  p = p * a + 5.692172921967927e-08;
  p = p * a + -3.598843235212085e-06;
  p = p * a + 0.00016044118478735983;
  p = p * a + -0.004681754135318688;
  p = p * a + 0.07969262624616705;
  p = p * a + -0.6459640975062463;
  p = p * a + 1.5707963267948966;
  return f * p;
}
SIMCORE_VM_INLINE double cos_quarter(double f) {
  const double a = f * f;
  double p = 6.565963114979473e-11;
  p = p * a + -6.386603083791852e-09;
  p = p * a + 4.710874778818172e-07;
  p = p * a + -2.5202042373060607e-05;
  p = p * a + 0.0009192602748394266;
  p = p * a + -0.02086348076335296;
  p = p * a + 0.25366950790104803;
  p = p * a + -1.2337005501361697;
  return p * a + 1.0;
}

// cos(2 pi u) and sin(2 pi u).
SIMCORE_VM_INLINE void sincos2pi(double u, double& c, double& s) {
  const double t = u * 4.0;
  const double tq = t + kShift;
  const double f = t - (tq - kShift);
  const std::uint64_t q = bits(tq) - kShiftBits;
  const double sp = sin_quarter(f), cp = cos_quarter(f);
  const bool odd = (q & 1) != 0;
  const double c0 = odd ? sp : cp, s0 = odd ? cp : sp;
  c = ((q + 1) & 2) != 0 ? -c0 : c0;
  s = (q & 2) != 0 ? -s0 : s0;
}

SIMCORE_VM_INLINE double cos2pi(double u) {
  const double t = u * 4.0;
  const double tq = t + kShift;
  const double f = t - (tq - kShift);
  const std::uint64_t q = bits(tq) - kShiftBits;
  const double c0 = (q & 1) != 0 ? sin_quarter(f) : cos_quarter(f);
  return ((q + 1) & 2) != 0 ? -c0 : c0;
}

}  // namespace vecmath
}  // namespace simcore
