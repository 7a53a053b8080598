"""Shared fixtures: small worlds that keep the suite fast."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, WorldConfig


@pytest.fixture
def small_config() -> SessionConfig:
    """6 queries x 55 items (last page has 5 items), horizon 6 pages."""
    return SessionConfig(world=WorldConfig(n_queries=6, n_items=55), max_steps=8)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
