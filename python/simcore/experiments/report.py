"""Report helpers shared by the experiments: Markdown tables, results.json, CIs, plots."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from simcore._plain import to_plain


def mean_ci(x: Iterable[float], z: float = 1.959963984540054) -> tuple[float, float]:
    """Mean and half-width of its normal-approximation 95% confidence interval."""
    a = np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=np.float64).ravel()
    if a.size == 0:
        return float("nan"), float("nan")
    if a.size == 1:
        return float(a[0]), float("nan")
    return float(a.mean()), float(z * a.std(ddof=1) / math.sqrt(a.size))


def fmt(x: Any, digits: int = 3) -> str:
    """A compact string for a table cell."""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        if x != x:
            return "–"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"
    return str(x)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        lines.append("| " + " | ".join(fmt(c, digits) for c in r) + " |")
    return "\n".join(lines)


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Writes data as indented JSON (NumPy values converted; NaN/inf become null)."""
    Path(path).write_text(json.dumps(to_plain(data, nonfinite_as_none=True), indent=2) + "\n")


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.0, height: float = 4.0):
    """A matplotlib (fig, axes) on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


def save_figure(fig: Any, path: str | os.PathLike[str]) -> None:
    """Saves a figure as PNG (dpi 120) and closes it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
