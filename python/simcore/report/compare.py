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
                      "backend", "address", "command", "timestamp", "versions", "cpu_seconds"})


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


def _load(path: str) -> Any:
    p = os.path.join(path, "results.json") if os.path.isdir(path) else path
    with open(p) as f:
        return json.load(f)


def main(a: str, b: str, limit: int = 20) -> int:
    """Prints the differences of two results.json files (or run directories); 0 when
    every number agrees, 1 otherwise."""
    diffs = list(differences(_load(a), _load(b)))
    if not diffs:
        print(f"identical: every number of {a} equals {b} (ignoring {', '.join(sorted(VOLATILE))})")
        return 0
    print(f"{len(diffs)} differences between {a} and {b}:")
    for d in diffs[:limit]:
        print("  " + d)
    if len(diffs) > limit:
        print(f"  ... and {len(diffs) - limit} more")
    return 1
