"""``simcore compare``: two runs agree in every number, timings and machine aside."""

from __future__ import annotations

import json

from simcore.cli import main as cli_main
from simcore.report.compare import differences

A = {"summary": {"gap": [1.0, 2.5, {"x": 3}]}, "runtime_s": 10.0, "machine": {"cpu": "a"},
     "replicates": [{"seconds": 1.0, "v": float("nan")}]}


def test_equal_runs_have_no_differences_whatever_their_timings():
    b = json.loads(json.dumps(A))
    b["runtime_s"], b["machine"], b["replicates"][0]["seconds"] = 99.0, {"cpu": "b"}, 7.0
    assert list(differences(A, b)) == []


def test_every_kind_of_difference_is_named_by_its_path():
    b = json.loads(json.dumps(A))
    b["summary"]["gap"][2]["x"] = 4
    b["summary"]["gap"][1] = 2.5000000000000004
    b["extra"] = 1
    b["replicates"].append({})
    got = list(differences(A, b))
    assert "summary.gap[2].x: 3 != 4" in got
    assert any(d.startswith("summary.gap[1]:") for d in got)
    assert "extra: only in B" in got and "replicates: length 1 != 2" in got
    assert list(differences({"n": 1}, {"n": 1.0})) == ["n: 1 != 1.0"]  # int vs float is a change


def test_cli_exit_codes(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps({"x": 1.0, "seconds": 1}))
    (tmp_path / "b.json").write_text(json.dumps({"x": 1.0, "seconds": 2}))
    (tmp_path / "c.json").write_text(json.dumps({"x": 2.0}))
    assert cli_main(["compare", str(tmp_path / "a"), str(tmp_path / "b.json")]) == 0
    assert "identical" in capsys.readouterr().out
    assert cli_main(["compare", str(tmp_path / "a"), str(tmp_path / "c.json")]) == 1
    assert "x: 1.0 != 2.0" in capsys.readouterr().out


def test_a_recorded_summary_is_compared_on_the_keys_both_hold(tmp_path, capsys):
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "summary.json").write_text(json.dumps({"summary": {"x": 1.0}, "meta": {"wall_seconds": 3}}))
    (tmp_path / "run").mkdir()
    full = {"summary": {"x": 1.0}, "meta": {"wall_seconds": 9}, "runs": [1, 2]}
    (tmp_path / "run" / "results.json").write_text(json.dumps(full))
    assert cli_main(["compare", str(tmp_path / "rec"), str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "not in both: runs" in out and "identical" in out
    full["summary"]["x"] = 1.5
    (tmp_path / "run" / "results.json").write_text(json.dumps(full))
    assert cli_main(["compare", str(tmp_path / "rec"), str(tmp_path / "run")]) == 1


def test_a_directory_without_results_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli_main(["compare", str(tmp_path / "empty"), str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "no results.json or summary.json" in err and "\n" == err[-1] and err.count("\n") == 1
    (tmp_path / "bad.json").write_text("{not json")
    assert cli_main(["compare", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")]) == 2
