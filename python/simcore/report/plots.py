"""Plot helpers with one house style (matplotlib on the Agg backend, PNG at dpi 120)."""

from __future__ import annotations

import os
from typing import Any


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
