"""Writing results.json files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from simcore.util.plain import to_plain


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Writes data as indented JSON (NumPy values converted; NaN/inf become null)."""
    Path(path).write_text(json.dumps(to_plain(data, nonfinite_as_none=True), indent=2) + "\n")
