"""Whether two runs' results.json hold the same numbers (``simcore compare A B``).

Two runs of the same command with the same seeds must agree in every number whatever
the backend, the worker count, the process or the machine; what may differ is how long
they took and where they ran.  :func:`differences` walks both JSON trees and returns
the paths where they differ, skipping keys that record time or place
(:data:`VOLATILE`: ``seconds``, ``runtime_s``, ``machine``, ``workers``, ...).
Numbers are compared exactly (a float that prints differently is a difference).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

#: keys that record where and how long a run ran, not what it computed
VOLATILE = frozenset({"seconds", "runtime_s", "stage_seconds", "wall_s", "elapsed_s", "machine", "workers",
                      "backend", "address", "command", "timestamp", "versions", "cpu_seconds", "wall_seconds",
                      "phases", "git_commit", "load_average_start", "load_average_end"})


def differences(a: Any, b: Any, path: str = "", volatile: frozenset[str] = VOLATILE) -> Iterator[str]:
    """Yields ``path: a != b`` for every leaf where the trees ``a`` and ``b`` differ
    (dict keys in ``volatile`` are skipped at any depth)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k in volatile:
                continue
            p = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                yield f"{p}: only in {'B' if k not in a else 'A'}"
            else:
                yield from differences(a[k], b[k], p, volatile)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{path}[{i}]", volatile)
    elif type(a) is not type(b) or a != b:
        if not (isinstance(a, float) and isinstance(b, float) and a != a and b != b):  # NaN == NaN here
            yield f"{path}: {a!r} != {b!r}"


def _load(path: str) -> tuple[Any, bool]:
    """The JSON tree of a run directory's results.json (or, for a recorded run that keeps
    only its summary, summary.json) or of a JSON file, and whether it is a summary."""
    if not os.path.isdir(path):
        with open(path) as f:
            return json.load(f), os.path.basename(path) == "summary.json"
    for name in ("results.json", "summary.json"):
        p = os.path.join(path, name)
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f), name == "summary.json"
    raise FileNotFoundError(f"{path}: no results.json or summary.json in this directory "
                            "(expected a run directory or a JSON file)")


def _common(a: Any, b: Any) -> tuple[Any, Any, list[str]]:
    """The top-level keys both trees hold (a summary keeps a subset of the results), and
    the keys dropped."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return a, b, []
    keep = set(a) & set(b)
    return ({k: a[k] for k in keep}, {k: b[k] for k in keep},
            sorted(str(k) for k in (set(a) | set(b)) - keep))


def main(a: str, b: str, limit: int = 20) -> int:
    """Prints the differences of two results.json files (or run directories, or a
    recorded summary.json); 0 when every number agrees, 1 otherwise."""
    (ta, sa), (tb, sb) = _load(a), _load(b)
    if sa or sb:  # a summary against results: compare what both record
        ta, tb, dropped = _common(ta, tb)
        if dropped:
            print(f"comparing the keys both hold (a summary.json); not in both: {', '.join(dropped)}")
    diffs = list(differences(ta, tb))
    if not diffs:
        print(f"identical: every number of {a} equals {b} (ignoring {', '.join(sorted(VOLATILE))})")
        return 0
    print(f"{len(diffs)} differences between {a} and {b}:")
    for d in diffs[:limit]:
        print("  " + d)
    if len(diffs) > limit:
        print(f"  ... and {len(diffs) - limit} more")
    return 1
