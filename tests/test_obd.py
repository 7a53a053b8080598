"""The Open Bandit Dataset loader on small synthetic files in the dataset's format."""

from __future__ import annotations

import subprocess
import zipfile

import numpy as np
import pytest

from simcore.domains.bandits import obd

HEADER = ",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2"
ROWS = [
    "0,2019-11-24 00:00:34.762830+00:00,2,3,0,0.0125,aa,bb,0.0,1.0,0.0",
    "1,2019-11-24 00:00:10.000000+00:00,0,1,1,0.5,cc,bb,0.0,0.0,2.0",
    "2,2019-11-24 01:00:00.000000+09:00,1,2,0,1.0,aa,dd,3.0,0.0,0.0",
]
ITEMS = ",item_id,item_feature_0,item_feature_1\n0,0,-0.5,h1\n1,1,0.2,h2\n2,2,0.1,h1\n"


def _write(root, rows=ROWS, header=HEADER, behavior="random", campaign="all"):
    d = root / behavior / campaign
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{campaign}.csv").write_text("\n".join([header, *rows]) + "\n")
    (d / "item_context.csv").write_text(ITEMS)
    return root


def test_loads_a_directory_in_timestamp_order(tmp_path):
    log = obd.load_obd(_write(tmp_path), "random", "all")
    assert log.n_rounds == 3 and log.n_items == 3 and log.n_positions == 3
    # 01:00+09:00 is 16:00 UTC of the day before: first; then 00:00:10, then 00:00:34
    np.testing.assert_array_equal(log.item_id, [1, 0, 2])
    np.testing.assert_array_equal(log.position, [1, 0, 2])  # 0-based
    np.testing.assert_array_equal(log.click, [0, 1, 0])
    np.testing.assert_allclose(log.pscore, [1.0, 0.5, 0.0125])
    assert log.timestamp.dtype == np.dtype("datetime64[us]")
    assert str(log.timestamp[0]) == "2019-11-23T16:00:00.000000"
    assert log.user_features.shape == (3, 2) and log.user_features[0, 1] == "dd"
    np.testing.assert_allclose(log.affinity[0], [3.0, 0.0, 0.0])
    assert log.ctr() == pytest.approx(1 / 3)
    ctx = obd.load_item_context(tmp_path, "random", "all")
    np.testing.assert_array_equal(ctx["item_id"], [0, 1, 2])
    np.testing.assert_allclose(ctx["item_feature_0"].astype(float), [-0.5, 0.2, 0.1])


def test_loads_from_a_wheel(tmp_path):
    _write(tmp_path / "src", behavior="bts", campaign="men")
    whl = tmp_path / obd.WHEEL
    with zipfile.ZipFile(whl, "w") as z:
        for f in (tmp_path / "src").rglob("*.csv"):
            z.write(f, f"{obd.WHEEL_ROOT}/{f.relative_to(tmp_path / 'src').as_posix()}")
    log = obd.load_obd(whl, "bts", "men")
    assert log.behavior == "bts" and log.campaign == "men" and log.n_rounds == 3
    with pytest.raises(FileNotFoundError, match="random/men/men.csv"):
        obd.load_obd(whl, "random", "men")
    assert obd.find_wheel(tmp_path, download=False) == whl


@pytest.mark.parametrize(
    "header, rows, match",
    [
        (HEADER.replace("propensity_score", "pscore"), ROWS, "missing columns \\['propensity_score'\\]"),
        (HEADER, [ROWS[0].replace("0.0125", "0.0")], "propensity_score' outside"),
        (HEADER, [ROWS[0].replace("0.0125", "1.5")], "propensity_score' outside"),
        (HEADER, [ROWS[0].replace("0.0125", "nan")], "'propensity_score' is empty/NaN"),
        (HEADER, [ROWS[0].replace(",2,3,", ",x,3,")], "'item_id' is not all int"),
        (HEADER, [ROWS[0].replace(",2,3,0,", ",2,3,2,")], "'click' must be 0/1"),
        (HEADER, [ROWS[0].replace(",2,3,", ",2,0,")], "'position' must be 1-based"),
        (HEADER, [ROWS[0] + ",9"], "has 12 fields, header 11"),
        (HEADER, [ROWS[0].replace("2019-11-24 00:00:34.762830+00:00", "yesterday")], "not an ISO time"),
        (HEADER, [ROWS[0].replace(",1.0,0.0", ",,0.0")], "'user-item_affinity_1' is empty"),
        (HEADER, [], "no data rows"),
    ],
)
def test_malformed_files(tmp_path, header, rows, match):
    _write(tmp_path, rows=rows, header=header)
    with pytest.raises(obd.OBDFormatError, match=match):
        obd.load_obd(tmp_path, "random", "all")


def test_bad_choices_and_missing_source(tmp_path):
    with pytest.raises(ValueError, match="^behavior:"):
        obd.load_obd(tmp_path, "greedy", "all")
    with pytest.raises(ValueError, match="^campaign:"):
        obd.load_obd(tmp_path, "random", "kids")
    with pytest.raises(FileNotFoundError, match="random/all/all.csv"):
        obd.load_obd(tmp_path, "random", "all")
    with pytest.raises(FileNotFoundError, match="directory or a wheel"):
        obd.load_obd(tmp_path / "nothing.whl", "random", "all")


def test_find_wheel_reports_a_failed_download(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="download disabled"):
        obd.find_wheel(tmp_path, download=False)

    def fail(cmd, **kw):
        assert cmd[1:4] == ["-m", "pip", "download"] and "obp==0.4.1" in cmd and "--no-deps" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: network is unreachable\n")

    monkeypatch.setattr(obd.subprocess, "run", fail)
    with pytest.raises(RuntimeError, match="^pip download obp==0.4.1 failed \\(exit 1\\): ERROR: network is unreachable$"):
        obd.find_wheel(tmp_path / "cache")


def test_streaming_in_chunks_gives_the_same_log_and_global_row_numbers(tmp_path):
    rows = [f"{i},2019-11-24 00:00:{i:02d}.000000+00:00,{i % 3},{i % 2 + 1},{i % 2},0.25,aa,bb,0.0,{i}.5,0.0"
            for i in range(9)]
    _write(tmp_path, rows=rows)
    whole = obd.load_obd(tmp_path, "random", "all")
    for chunk in (1, 2, 4):
        part = obd.load_obd(tmp_path, "random", "all", chunk_rows=chunk)
        for f in ("timestamp", "item_id", "position", "click", "pscore", "user_features", "affinity"):
            np.testing.assert_array_equal(getattr(part, f), getattr(whole, f))
    core = obd.load_obd(tmp_path, "random", "all", context=False)
    assert core.user_features.shape == (9, 0) and core.affinity.shape == (9, 0)
    np.testing.assert_array_equal(core.pscore, whole.pscore)
    bad = list(rows)
    bad[6] = bad[6].replace(",0.25,", ",zero,")
    _write(tmp_path, rows=bad)
    with pytest.raises(obd.OBDFormatError, match="'propensity_score' is not all float \\(data row 7\\)"):
        obd.load_obd(tmp_path, "random", "all", chunk_rows=4)
    bad[6] = rows[6].replace(",2019-11-24 00:00:06.000000+00:00,", ",2019-11-24 25:00:06+00:00,")
    _write(tmp_path, rows=bad)
    with pytest.raises(obd.OBDFormatError, match="'timestamp' row 7: not an ISO time"):
        obd.load_obd(tmp_path, "random", "all", chunk_rows=4)
    bad[6] = rows[6].replace(",0,1,0,", ",0,1.5,0,")
    _write(tmp_path, rows=bad)
    with pytest.raises(obd.OBDFormatError, match="'position' is not all int \\(data row 7\\)"):
        obd.load_obd(tmp_path, "random", "all", chunk_rows=4)
    with pytest.raises(ValueError, match="^chunk_rows:"):
        obd.load_obd(tmp_path, "random", "all", chunk_rows=0)
