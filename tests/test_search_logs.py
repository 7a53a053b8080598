"""The search-log format: exact round trips (Parquet and CSV), the logger against the
simulator it records, determinism, streaming in whole sessions, and a clear error for
every kind of bad file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow", reason='the log format needs pyarrow (pip install "simcore[logs]")')
import pyarrow.parquet as pq  # noqa: E402

from simcore.domains.search import SearchSimulator, SessionConfig  # noqa: E402
from simcore.domains.search.logs import (  # noqa: E402
    FixedPolicy,
    GaussianPolicy,
    LogLayout,
    LogSchemaError,
    LogWriter,
    open_log,
    read_log,
    record,
)
from simcore.domains.search.world import default_action_set  # noqa: E402

LTR = default_action_set(8)[0]
LAYOUT = LogLayout(page_size=3, num_features=2, horizon=4)


def synthetic(lengths: list[int], seed: int = 0, layout: LogLayout = LAYOUT, nulls: bool = False) -> dict:
    """A valid log of sessions with the given page counts (ids 10, 11, ...)."""
    rng = np.random.default_rng(seed)
    K, m = layout.page_size, layout.num_features
    sid = np.repeat(np.arange(10, 10 + len(lengths)), lengths)
    page = np.concatenate([np.arange(n) for n in lengths]).astype(np.int32)
    n = len(sid)
    last = np.zeros(n, bool)
    last[np.cumsum(lengths) - 1] = True
    outcome = np.where(last, rng.integers(1, 3, n), 0).astype(np.int8)
    truncated = last & (page == layout.horizon - 1) & (rng.random(n) < 0.5)
    outcome[truncated] = 0
    items = rng.integers(-1, 50, (n, K))
    bought = np.where(outcome == 1, rng.integers(0, 50, n), -1)
    return {
        "session_id": sid, "page": page, "query": rng.integers(0, 5, n), "segment": rng.integers(0, 3, n).astype(np.int32),
        "power": rng.random(n), "action": rng.normal(size=(n, m)).astype(np.float32),
        "log_propensity": None if nulls else rng.normal(size=n),
        "items": items, "item_features": rng.random((n, K * m)).astype(np.float32),
        "item_prices": rng.random((n, K)) * 100, "clicks": rng.random((n, K)) < 0.3,
        "carts": None if nulls else rng.random((n, K)) < 0.1,
        "outcome": outcome, "bought_item": bought, "price": np.where(outcome == 1, rng.random(n) * 90 + 1, 0.0),
        "truncated": truncated, "latent_patience": rng.normal(size=n),
        "latent_prefs": None if nulls else rng.normal(size=(n, m)),
        "exact_b": rng.random(n), "exact_l": rng.random(n), "exact_c": rng.random(n), "exact_m": rng.random(n) * 50,
    }


def write(path, cols: dict, layout: LogLayout = LAYOUT, chunks: int = 1) -> None:
    n = len(cols["session_id"])
    ends = np.flatnonzero((cols["outcome"] != 0) | cols["truncated"]) + 1
    cuts = [0, *ends[:: max(len(ends) // chunks, 1)][1:].tolist(), n] if chunks > 1 else [0, n]
    with LogWriter(path, layout, {"policy": "synthetic"}) as w:
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            if hi > lo:
                w.write({k: (None if v is None else v[lo:hi]) for k, v in cols.items()})


def assert_same(read: dict, cols: dict, layout: LogLayout = LAYOUT) -> None:
    for k, v in cols.items():
        got = read[k]
        if v is None:
            assert got is None, k
            continue
        if k == "item_features":
            got = got.reshape(len(got), -1)
        np.testing.assert_array_equal(got, v, err_msg=k)
        assert got.dtype.kind == np.asarray(v).dtype.kind, k


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lengths=st.lists(st.integers(1, 4), min_size=1, max_size=12), seed=st.integers(0, 2**31),
       nulls=st.booleans(), fmt=st.sampled_from(["parquet", "csv"]), chunks=st.integers(1, 3))
def test_round_trip_is_exact(tmp_path, lengths, seed, nulls, fmt, chunks):
    cols = synthetic(lengths, seed, nulls=nulls)
    path = tmp_path / f"log_{seed}_{len(lengths)}_{chunks}.{fmt}"
    write(path, cols, chunks=chunks)
    assert_same(read_log(path), cols)


def test_metadata_and_layout_are_stored(tmp_path):
    write(tmp_path / "a.parquet", synthetic([2, 3]))
    r = open_log(tmp_path / "a.parquet")
    assert r.layout == LAYOUT and r.metadata["version"] == 1 and r.metadata["policy"] == "synthetic"
    assert r.num_rows == 5


def test_whole_session_batches(tmp_path):
    cols = synthetic([3, 1, 4, 2, 2, 4, 1], seed=4)
    write(tmp_path / "a.parquet", cols)
    r = open_log(tmp_path / "a.parquet")
    parts = list(r.batches(batch_rows=3, whole_sessions=True))
    assert len(parts) > 2
    for p in parts:
        assert ((p["outcome"] != 0) | p["truncated"])[-1] and p["page"][0] == 0
    joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if parts[0][k] is not None}
    np.testing.assert_array_equal(joined["session_id"], cols["session_id"])
    np.testing.assert_array_equal(joined["item_features"].reshape(-1, 6), cols["item_features"])


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    path = tmp_path_factory.mktemp("logs") / "g.parquet"
    cfg = SessionConfig()
    s = record(path, GaussianPolicy(LTR, 0.1, seed=5), sessions=700, config=cfg, seed=11, num_slots=128)
    return path, s, read_log(path), cfg


def test_logger_rows_match_the_simulator(logged):
    path, s, d, cfg = logged
    assert s.sessions == 700 and s.rows == len(d["session_id"])
    sim = SearchSimulator(cfg, 1, 0)
    w = sim.world
    q, items = d["query"], d["items"]
    shown = items >= 0
    feats = w.features[q[:, None], np.where(shown, items, 0)] * shown[..., None]
    np.testing.assert_array_equal(d["item_features"], feats)
    np.testing.assert_array_equal(d["item_prices"], w.prices[q[:, None], np.where(shown, items, 0)] * shown)
    buy = d["outcome"] == 1
    np.testing.assert_array_equal(d["price"][buy], w.prices[q[buy], d["bought_item"][buy]])
    np.testing.assert_allclose(d["log_propensity"], GaussianPolicy(LTR, 0.1).log_prob(d["action"]))
    assert np.all(d["exact_b"] + d["exact_l"] + d["exact_c"] <= 1 + 1e-9)
    assert sorted(np.unique(d["session_id"])) == list(range(700))
    assert d["carts"] is None and np.all(np.isfinite(d["latent_prefs"]))


def test_logger_replays_the_simulator(logged):
    """The logged pages are the simulator's own: replaying the logged actions in a
    fresh simulator with the same seed and batch gives the same pages and outcomes."""
    path, s, d, cfg = logged
    sim = SearchSimulator(cfg, 128, 11)
    sim.reset()
    first = {int(i): sim.users()["query"][i] for i in range(128)}
    pages0 = d["page"] == 0
    by_sid = dict(zip(d["session_id"][pages0].tolist(), d["query"][pages0].tolist()))
    assert all(by_sid[i] == first[i] for i in range(128))
    a = d["action"][pages0][np.argsort(d["session_id"][pages0])][:128]
    r = sim.step(a)
    rows = np.flatnonzero(pages0)[np.argsort(d["session_id"][pages0])][:128]
    np.testing.assert_array_equal(r.page, d["items"][rows])
    np.testing.assert_array_equal(r.outcome, d["outcome"][rows])


def test_logger_is_deterministic(tmp_path):
    def run(name, seed, threads):
        cfg = SessionConfig(num_threads=threads)
        record(tmp_path / name, GaussianPolicy(LTR, 0.2, seed=seed), sessions=300, config=cfg, seed=seed,
               num_slots=300, chunk_rows=97)
        return pq.read_table(tmp_path / name)

    a, b, c = run("a.parquet", 1, 1), run("b.parquet", 1, 2), run("c.parquet", 2, 2)
    assert a.equals(b)
    assert not a.column("items").equals(c.column("items"))


def test_fixed_policy_and_csv(tmp_path):
    s = record(tmp_path / "f.csv", FixedPolicy(LTR), sessions=50, seed=2, num_slots=16, exact=False, latent=False)
    d = read_log(tmp_path / "f.csv")
    assert s.rows == len(d["page"]) and np.all(d["log_propensity"] == 0)
    assert d["exact_b"] is None and d["latent_prefs"] is None
    assert json.loads((tmp_path / "f.csv.meta.json").read_text())["policy"] == "fixed"


# ----------------------------------------------------------------------------- errors
def _bad_table(tmp_path, mutate) -> str:
    cols = synthetic([2, 3, 1], seed=1)
    path = tmp_path / "good.parquet"
    write(path, cols)
    t = pq.read_table(path)
    t = mutate(t)
    bad = tmp_path / "bad.parquet"
    pq.write_table(t, bad)
    return str(bad)


def _set(t, name, values, type_=None):
    i = t.schema.get_field_index(name)
    arr = pa.array(values, type=type_ or t.schema.field(name).type)
    return t.set_column(i, pa.field(name, arr.type, nullable=True), arr)


def _reorder(t, order):
    return t.take(pa.array(order))


BAD = {
    "missing columns": lambda t: t.drop_columns(["clicks"]),
    "column 'page': expected int32": lambda t: _set(t, "page", t.column("page").to_numpy().astype(float), pa.float64()),
    "NaN or infinite": lambda t: _set(t, "power", [0.5, float("nan"), 0.1, 0.2, 0.3, 0.4]),
    "null at row 1": lambda t: _set(t, "query", [0, None, 1, 1, 1, 2], pa.int64()),
    "above 1.0": lambda t: _set(t, "power", [0.5, 1.5, 0.1, 0.2, 0.3, 0.4]),
    "below -1": lambda t: _set(t, "bought_item", [-1, -7, -1, -1, -1, -1], pa.int64()),
    "follows page": lambda t: _reorder(t, [0, 1, 3, 2, 4, 5]),
    "interrupted": lambda t: _reorder(t, [0, 2, 1, 3, 4, 5]),
    "appears in two places": lambda t: _reorder(t, [0, 1, 2, 3, 4, 5, 0, 1]),
    "does not end": lambda t: t.slice(0, 4),
}


@pytest.mark.parametrize("message", sorted(BAD))
def test_bad_files_raise_naming_the_problem(tmp_path, message):
    path = _bad_table(tmp_path, BAD[message])
    with pytest.raises(LogSchemaError, match=message):
        read_log(path)


def test_bad_purchase_rows_raise(tmp_path):
    cols = synthetic([2, 1], seed=3)
    cols["outcome"][:] = [0, 2, 2]
    cols["bought_item"][:] = [-1, 4, -1]
    with pytest.raises(LogSchemaError, match="bought_item"), LogWriter(tmp_path / "x.parquet", LAYOUT) as w:
        w.write(cols)
    assert not (tmp_path / "x.parquet").exists() and not (tmp_path / "x.parquet.tmp").exists()


def test_writer_refuses_an_unfinished_session(tmp_path):
    cols = synthetic([3], seed=2)
    w = LogWriter(tmp_path / "x.parquet", LAYOUT)
    w.write({k: (None if v is None else v[:2]) for k, v in cols.items()})
    with pytest.raises(LogSchemaError, match="does not end"):
        w.close()
    assert not (tmp_path / "x.parquet").exists()


def test_bad_files_and_arguments(tmp_path):
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(LogSchemaError, match="not a Parquet file"):
        open_log(tmp_path / "junk.parquet")
    with pytest.raises(FileNotFoundError, match="no log file"):
        open_log(tmp_path / "none.parquet")
    pq.write_table(pa.table({"a": [1]}), tmp_path / "plain.parquet")
    with pytest.raises(LogSchemaError, match="no simcore.log metadata"):
        open_log(tmp_path / "plain.parquet")
    write(tmp_path / "ok.csv", synthetic([1, 2]))
    text = (tmp_path / "ok.csv").read_text().splitlines()
    meta = json.loads((tmp_path / "ok.csv.meta.json").read_text())
    (tmp_path / "v2.csv").write_text("\n".join(text))
    (tmp_path / "v2.csv.meta.json").write_text(json.dumps({**meta, "version": 2}))
    with pytest.raises(LogSchemaError, match="version 2"):
        open_log(tmp_path / "v2.csv")
    with pytest.raises(ValueError, match="batch_rows"):
        next(open_log(tmp_path / "ok.csv").batches(batch_rows=0))
    with pytest.raises(ValueError, match="sessions"):
        record(tmp_path / "r.parquet", FixedPolicy(LTR), sessions=0)
    with pytest.raises(ValueError, match="policy: returned actions"):
        record(tmp_path / "r.parquet", lambda obs: np.zeros((obs.shape[0], 3), np.float32), sessions=5)
    assert not (tmp_path / "r.parquet").exists()


def test_csv_value_errors(tmp_path):
    write(tmp_path / "ok.csv", synthetic([1, 2], seed=5))
    text = (tmp_path / "ok.csv").read_text()
    header = text.splitlines()[0].split(",")
    rows = text.splitlines()[1:]
    col = header.index('"clicks"')
    bad = rows[0].split(",")
    bad[col] = '"2 0 1"'
    (tmp_path / "flag.csv").write_text("\n".join([text.splitlines()[0], ",".join(bad), *rows[1:]]))
    (tmp_path / "flag.csv.meta.json").write_text((tmp_path / "ok.csv.meta.json").read_text())
    with pytest.raises(LogSchemaError, match="flags must be 0 or 1"):
        read_log(tmp_path / "flag.csv")
    bad[col] = '"1 0"'
    (tmp_path / "width.csv").write_text("\n".join([text.splitlines()[0], ",".join(bad), *rows[1:]]))
    (tmp_path / "width.csv.meta.json").write_text((tmp_path / "ok.csv.meta.json").read_text())
    with pytest.raises(LogSchemaError, match="expected 3 values per row"):
        read_log(tmp_path / "width.csv")


def test_cli_record_and_check(tmp_path, capsys):
    from simcore.cli import main

    assert main(["log", "record", str(tmp_path / "c.parquet"), "--sessions", "40", "--slots", "8", "--quiet"]) == 0
    assert "40 sessions" in capsys.readouterr().out
    assert main(["log", "check", str(tmp_path / "c.parquet")]) == 0
    assert "ok (format version 1" in capsys.readouterr().out
    (tmp_path / "bad.parquet").write_bytes(b"x")
    assert main(["log", "check", str(tmp_path / "bad.parquet")]) == 1
    assert main(["log", "record", str(tmp_path / "d.parquet"), "--std", "-1"]) == 2
