"""The trace loader (domains/autoscaling/traces.py) on small synthetic files in the
Alibaba v2018 and Azure formats: resampling against hand computation, header lines,
gaps, and clear errors on malformed files."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.autoscaling.forecast_features import check_traffic
from simcore.domains.autoscaling.traces import FORMATS, load_trace, write_rows


def _machine_rows(machine: str, start: int, n: int, every: int, cpu, net) -> list[list[object]]:
    """machine_usage rows: machine_id, time_stamp, cpu, mem, mem_gps, mkpi, net_in, net_out, disk_io."""
    return [[machine, start + k * every, cpu(k), 50, 1.5, 3, net(k), 40.0, 5.0] for k in range(n)]


def test_alibaba_machine_resampled_means_by_hand(tmp_path):
    # m_1: readings every 60 s from t = 0 for 30 min; m_2 from t = 600 for 20 min, every 300 s
    rows = _machine_rows("m_1", 0, 30, 60, lambda k: k, lambda k: 2.0 * k)
    rows += _machine_rows("m_2", 600, 4, 300, lambda k: 10 + k, lambda k: 1.0)
    p = tmp_path / "machine_usage.csv"
    write_rows(p, rows)
    tr = load_trace(p, "alibaba-machine")
    assert tr.ids == ("m_1", "m_2") and tr.columns == ("cpu_util_percent", "net_in")
    assert tr.traffic.shape == (2, 3, 2) and tr.t_start == 0 and tr.step_seconds == 600
    np.testing.assert_allclose(tr.traffic[0, :, 0], [4.5, 14.5, 24.5])   # means of k = 0..9, 10..19, 20..29
    np.testing.assert_allclose(tr.traffic[0, :, 1], [9.0, 29.0, 49.0])
    # m_2: step 1 = mean(10, 11), step 2 = mean(12, 13); step 0 is before its first reading (held)
    np.testing.assert_allclose(tr.traffic[1, :, 0], [10.5, 10.5, 12.5])
    np.testing.assert_allclose(tr.coverage, [1.0, 1.0])
    check_traffic(tr.traffic)  # what the forecasters take


def test_header_any_order_gzip_and_interpolated_gap(tmp_path):
    # azure-cpu with a header in another order, 5-minute readings, a 20-minute gap
    times = [0, 300, 600, 900, 2400, 2700]
    rows = [["vm_a", 1.0, 10.0 + i, float(i), t] for i, t in enumerate(times)]
    p = tmp_path / "vm_cpu_readings-file-1-of-1.csv.gz"
    write_rows(p, rows, header=["vm_id", "min_cpu", "max_cpu", "avg_cpu", "timestamp"])
    tr = load_trace(p, "azure-cpu", values=("avg_cpu",))
    assert tr.traffic.shape == (1, 5, 1)
    # steps: [0, 600): mean(0, 1); [600, 1200): mean(2, 3); 1200-2400 empty: interpolated; [2400, 3000): mean(4, 5)
    np.testing.assert_allclose(tr.traffic[0, :, 0], [0.5, 2.5, 2.5 + 2 / 3, 2.5 + 4 / 3, 4.5])
    assert tr.coverage[0] == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="without a reading"):
        load_trace(p, "azure-cpu", fill="error")


def test_container_ids_filter_step_and_sort(tmp_path):
    rows = [[c, "m_1", t, 10 * (i + 1), 5, 1.0, 2.0, 1, 3.0, 4.0, 1.0]
            for i, c in enumerate(["c_1", "c_2", "c_3"]) for t in (0, 3600, 7200)]
    p = tmp_path / "container_usage.csv"
    write_rows(p, rows)
    tr = load_trace(p, "alibaba-container", values=("cpu_util_percent",), step_seconds=3600, ids=["c_2"])
    assert tr.ids == ("c_2",) and tr.traffic.shape == (1, 3, 1)
    np.testing.assert_allclose(tr.traffic[0, :, 0], 20.0)
    assert load_trace(p, "alibaba-container", max_ids=2).ids == ("c_1", "c_2")
    shuffled = tmp_path / "shuffled.csv"
    write_rows(shuffled, [rows[2], rows[0], rows[1]])
    with pytest.raises(ValueError, match="not increasing"):
        load_trace(shuffled, "alibaba-container")
    np.testing.assert_allclose(load_trace(shuffled, "alibaba-container", sort=True, step_seconds=3600).traffic[0, :, 0],
                               10.0)


@pytest.mark.parametrize("mutate, match", [
    (lambda r: r[:1] + [r[1][:-1]] + r[2:], "expected 9 columns"),
    (lambda r: r[:1] + [r[1][:2] + ["nan"] + r[1][3:]] + r[2:], "NaN"),
    (lambda r: r[:1] + [r[1][:2] + ["high"] + r[1][3:]] + r[2:], "must be a number"),
    (lambda r: r[:1] + [r[1][:2] + [""] + r[1][3:]] + r[2:], "must be a number"),
    (lambda r: r[:1] + [r[1][:6] + [-1.0] + r[1][7:]] + r[2:], "negative"),
    (lambda r: r[:1] + [r[1][:1] + ["0x10"] + r[1][2:]] + r[2:], "time_stamp"),
    (lambda r: [r[1], r[0]] + r[2:], "not increasing"),
    (lambda r: r[:1] + [[""] + r[1][1:]] + r[2:], "is empty"),
])
def test_malformed_files_raise_clear_errors(tmp_path, mutate, match):
    rows = [[str(v) for v in row] for row in _machine_rows("m_1", 0, 5, 60, lambda k: k, lambda k: k)]
    p = tmp_path / "bad.csv"
    write_rows(p, mutate(rows))
    with pytest.raises(ValueError, match=match) as e:
        load_trace(p, "alibaba-machine")
    assert "bad.csv" in str(e.value) or "empty" in match


def test_bad_arguments_and_headers(tmp_path):
    p = tmp_path / "h.csv"
    write_rows(p, [["machine_id", "cpu_util_percent", "net_in"], ["m", 1, 2]])  # no time_stamp column
    with pytest.raises(ValueError, match="lacks column"):
        load_trace(p, "alibaba-machine")
    good = tmp_path / "g.csv"
    write_rows(good, _machine_rows("m", 0, 3, 60, lambda k: k, lambda k: k))
    with pytest.raises(ValueError, match="fmt"):
        load_trace(good, "google")
    with pytest.raises(ValueError, match="values"):
        load_trace(good, "alibaba-machine", values=("machine_id",))
    with pytest.raises(ValueError, match="values"):
        load_trace(good, "alibaba-machine", values=("rpc",))
    with pytest.raises(ValueError, match="step_seconds"):
        load_trace(good, "alibaba-machine", step_seconds=0)
    with pytest.raises(ValueError, match="no rows"):
        load_trace(good, "alibaba-machine", ids=["other"])
    with pytest.raises(FileNotFoundError, match="path"):
        load_trace(tmp_path / "missing.csv", "alibaba-machine")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="no rows"):
        load_trace(empty, "azure-cpu")


def test_formats_document_their_columns():
    for f in FORMATS.values():
        assert f.id_column in f.columns and f.time_column in f.columns
        assert set(f.default_values) <= set(f.columns)
