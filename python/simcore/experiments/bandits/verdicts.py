"""Equivalence-style verdicts of the simulator studies (``simcore reproduce bandits``).

A CI that merely contains 0 does not show "no bias" (a low-power study would always pass),
so the rules below demand that the whole CI lies inside the claimed region:

* bias of an estimator with exact value V and equivalence margin ``delta = rel * |V|``:
  "unbiased" when the bias CI [lo, hi] lies inside [-delta, +delta]; "biased" when it
  lies wholly outside it (hi < -delta or lo > +delta, so it also excludes 0); else
  "inconclusive";
* coverage of a CI or bound at a stated ``level`` with tolerance ``tol``: "holds" when
  the coverage's (Wilson) CI has its lower end >= level - tol; "fails" when its upper end
  is < level; else "inconclusive".

:func:`aggregate` turns the per-shift outcomes into a claims-table verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

OUTCOMES = ("holds", "fails", "inconclusive")


def bias_outcome(lo: float, hi: float, value: float, rel: float) -> str:
    """"unbiased", "biased" or "inconclusive" for the bias CI [lo, hi] of an estimator of
    the exact ``value``, margin ``delta = rel * |value|`` (rules in the module docstring).
    NaN bounds give "inconclusive"."""
    if not rel > 0:
        raise ValueError(f"rel: expected a margin > 0, got {rel!r}")
    if lo > hi:
        raise ValueError(f"lo, hi: expected lo <= hi, got [{lo}, {hi}]")
    if any(math.isnan(x) for x in (lo, hi, value)):
        return "inconclusive"
    delta = rel * abs(value)
    if -delta <= lo and hi <= delta:
        return "unbiased"
    if hi < -delta or lo > delta:
        return "biased"
    return "inconclusive"


def coverage_outcome(lo: float, hi: float, level: float, tol: float) -> str:
    """"holds", "fails" or "inconclusive" for the coverage CI [lo, hi] (shares in [0, 1])
    of an interval or bound stated at ``level``, tolerance ``tol`` (module docstring)."""
    if not 0 < level < 1:
        raise ValueError(f"level: expected a share in (0, 1), got {level!r}")
    if not 0 <= tol < level:
        raise ValueError(f"tol: expected a share in [0, level), got {tol!r}")
    if lo > hi:
        raise ValueError(f"lo, hi: expected lo <= hi, got [{lo}, {hi}]")
    if math.isnan(lo) or math.isnan(hi):
        return "inconclusive"
    if lo >= level - tol:
        return "holds"
    if hi < level:
        return "fails"
    return "inconclusive"


def aggregate(outcomes: Sequence[str], good: str, bad: str) -> str:
    """The claim's verdict from per-setting outcomes: "reproduced" if every one is
    ``good``; "partly reproduced" if some are (the others ``bad`` or inconclusive);
    "not reproduced" if none is good and some are ``bad``; else "inconclusive"."""
    if not outcomes:
        return "not tested"
    n_good, n_bad = sum(o == good for o in outcomes), sum(o == bad for o in outcomes)
    if n_good == len(outcomes):
        return "reproduced"
    if n_good:
        return "partly reproduced"
    return "not reproduced" if n_bad else "inconclusive"


def tally(outcomes: Sequence[str], names: Sequence[str]) -> str:
    """"a k1/n, b k2/n, ..." counts of each name in ``outcomes`` (names with 0 left out)."""
    n = len(outcomes)
    return ", ".join(f"{name} {sum(o == name for o in outcomes)}/{n}" for name in names
                     if any(o == name for o in outcomes))
