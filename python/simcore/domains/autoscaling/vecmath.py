"""NumPy twin of cpp/simcore/autoscaling/vecmath.hpp: exp, log, log1p and cos/sin(2 pi u)
as the C++ step computes them (the same IEEE double operations in the same order, so the
values are bit-identical), vectorised over float64 arrays.

Maths (all float64, elementwise, any shape):

* ``exp(x)``: x clamped to [-746, 710]; k = round(x / ln2) by the 1.5 * 2^52 shift;
  r = (x - k ln2_hi) - k ln2_lo; e^r by the degree-13 Taylor polynomial (Horner);
  times 2^k1 2^k2 with k1 = round(k / 2), k2 = k - k1 (scales built from bits). NaN -> NaN.
* ``log(x)``: x = 2^e m, m in [sqrt(1/2), sqrt(2)); f = m - 1, s = f / (2 + f),
  log x = e ln2_hi - ((f^2/2 - (s (f^2/2 + R(s^2)) + e ln2_lo)) - f) with fdlibm's
  Lg1..Lg7 in R; 0 -> -inf, +inf -> +inf, negative or NaN -> NaN.
* ``log1p(x)``: v = 1 + x; log(v) + (x - (v - 1)) / v (no correction once v >= 2^53).
* ``sincos2pi(u)`` / ``cos2pi(u)``: 4u = q + f (q integer, |f| <= 1/2, exact), Taylor
  polynomials of sin(pi f / 2) (to f^17) and cos(pi f / 2) (to f^16), quadrant q mod 4.
"""

from __future__ import annotations

import numpy as np

__all__ = ["exp", "log", "log1p", "sincos2pi", "cos2pi", "uniform53"]

_SHIFT = 6755399441055744.0  # 1.5 * 2^52
_SHIFT_BITS = np.uint64(0x4338000000000000)
_TWO52_BITS = np.uint64(0x4330000000000000)
_TWO52 = 4503599627370496.0
_INV_LN2, _LN2_HI, _LN2_LO = 1.4426950408889634, 0.6931471803691238, 1.9082149292705877e-10
_EXP_C = (1.6059043836821613e-10, 2.08767569878681e-09, 2.505210838544172e-08, 2.755731922398589e-07,
          2.7557319223985893e-06, 2.48015873015873e-05, 0.0001984126984126984, 0.001388888888888889,
          0.008333333333333333, 0.041666666666666664, 0.16666666666666666, 0.5, 1.0, 1.0)
_SIN_C = (6.0669357311061955e-12, -6.688035109811468e-10, 5.692172921967927e-08, -3.598843235212085e-06,
          0.00016044118478735983, -0.004681754135318688, 0.07969262624616705, -0.6459640975062463,
          1.5707963267948966)
_COS_C = (6.565963114979473e-11, -6.386603083791852e-09, 4.710874778818172e-07, -2.5202042373060607e-05,
          0.0009192602748394266, -0.02086348076335296, 0.25366950790104803, -1.2337005501361697, 1.0)
_U52 = np.uint64(52)
_M1023 = np.uint64(1023)


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)


def _from_bits(u: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(u, dtype=np.uint64).view(np.float64)


def _small_to_double(n: np.ndarray) -> np.ndarray:
    """uint64 n < 2^52 as float64, exactly (the C++ small_u64_to_double)."""
    return _from_bits(n | _TWO52_BITS) - _TWO52


def uniform53(z: np.ndarray) -> np.ndarray:
    """(z >> 11) 2^-53 for uint64 z, float64 in [0, 1) (equal to the plain cast)."""
    v = z >> np.uint64(11)
    return (_small_to_double(v >> np.uint64(1)) * 2.0 + _small_to_double(v & np.uint64(1))) * 2.0**-53


def exp(x: np.ndarray) -> np.ndarray:
    """e^x, float64, elementwise (the C++ vecmath::exp)."""
    x = np.asarray(x, dtype=np.float64)
    xc = np.minimum(np.maximum(x, -746.0), 710.0)
    t = xc * _INV_LN2 + _SHIFT
    kd = t - _SHIFT
    r = (xc - kd * _LN2_HI) - kd * _LN2_LO
    p = np.full_like(r, _EXP_C[0])
    for c in _EXP_C[1:]:
        p = p * r + c
    with np.errstate(over="ignore"):
        k1 = _bits(kd * 0.5 + _SHIFT) - _SHIFT_BITS
        k2 = (_bits(t) - _SHIFT_BITS) - k1
    s1, s2 = _from_bits((k1 + _M1023) << _U52), _from_bits((k2 + _M1023) << _U52)
    with np.errstate(over="ignore", under="ignore"):
        y = (p * s1) * s2
    return np.where(x != x, x, y)


def log(x: np.ndarray) -> np.ndarray:
    """Natural log, float64, elementwise (the C++ vecmath::log)."""
    x = np.asarray(x, dtype=np.float64)
    sub = x < 2.0**-1022
    with np.errstate(over="ignore", invalid="ignore"):
        xs = np.where(sub, x * 2.0**52, x)
    b = _bits(xs)
    m1 = _from_bits((b & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x3FF0000000000000))
    big = m1 > 1.4142135623730951
    m = np.where(big, m1 * 0.5, m1)
    ed = ((_small_to_double((b >> _U52) & np.uint64(0x7FF)) - 1023.0) + np.where(big, 1.0, 0.0)) \
        - np.where(sub, 52.0, 0.0)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (0.3999999999940942 + w * (0.22222198432149784 + w * 0.15313837699209373))
    t2 = z * (0.6666666666666735 + w * (0.2857142874366239 + w * (0.1818357216161805 + w * 0.14798198605116586)))
    R = t2 + t1
    hfsq = 0.5 * f * f
    with np.errstate(invalid="ignore"):
        y = ed * _LN2_HI - ((hfsq - (s * (hfsq + R) + ed * _LN2_LO)) - f)
    y = np.where(x == np.inf, x, y)
    y = np.where(x == 0.0, -np.inf, y)
    return np.where((x < 0.0) | (x != x), np.nan, y)


def log1p(x: np.ndarray) -> np.ndarray:
    """log(1 + x), float64, elementwise (the C++ vecmath::log1p)."""
    x = np.asarray(x, dtype=np.float64)
    v = 1.0 + x
    y = log(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (x - (v - 1.0)) / v
    return np.where(v < 2.0**53, y + corr, y)


def _poly(a: np.ndarray, coef: tuple[float, ...]) -> np.ndarray:
    p = np.full_like(a, coef[0])
    for c in coef[1:]:
        p = p * a + c
    return p


def _quarter(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(u, dtype=np.float64) * 4.0
    tq = t + _SHIFT
    f = t - (tq - _SHIFT)
    return f, _bits(tq) - _SHIFT_BITS


def sincos2pi(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cos(2 pi u), sin(2 pi u)), float64, elementwise, for |u| < 2^50."""
    f, q = _quarter(u)
    a = f * f
    sp, cp = f * _poly(a, _SIN_C), _poly(a, _COS_C)
    odd = (q & np.uint64(1)) != 0
    c0, s0 = np.where(odd, sp, cp), np.where(odd, cp, sp)
    c = np.where(((q + np.uint64(1)) & np.uint64(2)) != 0, -c0, c0)
    s = np.where((q & np.uint64(2)) != 0, -s0, s0)
    return c, s


def cos2pi(u: np.ndarray) -> np.ndarray:
    """cos(2 pi u), float64, elementwise, for |u| < 2^50."""
    f, q = _quarter(u)
    a = f * f
    c0 = np.where((q & np.uint64(1)) != 0, f * _poly(a, _SIN_C), _poly(a, _COS_C))
    return np.where(((q + np.uint64(1)) & np.uint64(2)) != 0, -c0, c0)
