"""The engine's action in the search log, as the Virtual Taobao learners read it: the
``action`` column (the logging policy's ranking weights) reaches PageData exactly, and
a missing, mistyped, mis-sized or NaN action column is a clear LogSchemaError."""

from __future__ import annotations

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("torch")
import pyarrow.parquet as pq  # noqa: E402

from simcore.domains.search.config import SessionConfig  # noqa: E402
from simcore.domains.search.logs import GaussianPolicy, LogSchemaError, read_log, record  # noqa: E402
from simcore.domains.search.world import default_action_set  # noqa: E402
from simcore.domains.virtual_taobao.data import load_pages  # noqa: E402

SC = SessionConfig.from_dict({"world": {"n_queries": 4, "n_items": 60}})
LTR = default_action_set(8)[0]


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("vtlogs") / "a.parquet"
    record(path, GaussianPolicy(LTR, 0.3, seed=2), sessions=200, config=SC, seed=3, num_slots=32)
    return path


def test_engine_actions_reach_page_data_exactly(log_path):
    d = read_log(log_path)
    pages = load_pages(log_path, batch_rows=97)
    assert pages.action is not None and pages.action.dtype == np.float32
    np.testing.assert_array_equal(pages.action, d["action"])
    # the logged weights are the policy's draws: their log density is the propensity column
    np.testing.assert_allclose(d["log_propensity"], GaussianPolicy(LTR, 0.3).log_prob(pages.action))
    assert np.std(pages.action - LTR) > 0.2  # not the mean: the exploration is there
    sub = pages.subset(np.flatnonzero(np.isin(pages.session, [0, 5])))
    np.testing.assert_array_equal(sub.action, d["action"][np.isin(d["session_id"], [0, 5])])


def _rewrite(src, dst, fn):
    t = pq.read_table(src)
    pq.write_table(fn(t), dst)
    return dst


def _set(t, values, type_):
    arr = pa.array(values, type=type_)
    i = t.schema.get_field_index("action")
    return t.set_column(i, pa.field("action", arr.type), arr)


def _nan(t):
    a = np.array(t.column("action").to_pylist(), np.float32)
    a[3, 2] = np.nan
    return _set(t, a.tolist(), pa.list_(pa.float32(), 8))


BAD = {
    "missing columns.*action": lambda t: t.drop_columns(["action"]),
    "column 'action': expected fixed_size_list<item: float>\\[8\\], got fixed_size_list<.*double>\\[8\\]": lambda t: _set(
        t, t.column("action").to_pylist(), pa.list_(pa.float64(), 8)),
    "column 'action': expected .*got fixed_size_list<.*float>\\[7\\]": lambda t: _set(
        t, [r[:7] for r in t.column("action").to_pylist()], pa.list_(pa.float32(), 7)),
    "column 'action': NaN or infinite value at row 3": _nan,
}


@pytest.mark.parametrize("message", sorted(BAD))
def test_bad_action_column_raises(log_path, tmp_path, message):
    bad = _rewrite(log_path, tmp_path / "bad.parquet", BAD[message])
    with pytest.raises(LogSchemaError, match=message):
        load_pages(bad)
