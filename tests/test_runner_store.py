"""Per-job results on disk and resume (simcore.runner.store), on the inline and
process backends."""

from __future__ import annotations

import numpy as np
import pytest
from tests.runner_jobs import counted, draw

from simcore.runner import Job, run_jobs
from simcore.runner.store import MISSING, ResultStore


def _jobs(log: str, seeds=(1, 2, 3)) -> list[Job]:
    return [Job(key=f"j/{s}", fn=counted, kwargs={"seed": s, "log": log}) for s in seeds]


def _calls(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.mark.parametrize("backend", ["inline", "process"])
def test_resume_skips_stored_jobs_and_gives_the_same_results(tmp_path, backend):
    log = tmp_path / "calls.txt"
    first = run_jobs(_jobs(str(log)), backend=backend, workers=2, progress=False, store=tmp_path / "s")
    assert _calls(log) == 3
    again = run_jobs(_jobs(str(log)), backend=backend, workers=2, progress=False, store=tmp_path / "s",
                     resume=True)
    assert again == first and _calls(log) == 3  # nothing ran twice
    # an interrupted run: one result lost; resume runs only that job
    ResultStore(tmp_path / "s").path("j/2").unlink()
    third = run_jobs(_jobs(str(log)), backend=backend, workers=2, progress=False, store=tmp_path / "s",
                     resume=True)
    assert third == first and _calls(log) == 4


def test_stored_result_is_reused_only_for_the_same_job(tmp_path):
    store = ResultStore(tmp_path)
    job = Job(key="a", fn=draw, kwargs={"seed": 1, "n": 3})
    store.save(job, np.arange(3))
    np.testing.assert_array_equal(store.load(job), np.arange(3))
    assert store.load(Job(key="a", fn=draw, kwargs={"seed": 2, "n": 3})) is MISSING  # other kwargs
    assert store.load(Job(key="a", fn=counted, kwargs={"seed": 1, "n": 3})) is MISSING  # other function
    store.path("a").write_bytes(b"garbage")  # a torn or foreign file is not trusted
    assert store.load(job) is MISSING
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".job-")]  # no temp files left


def test_resume_needs_a_store():
    with pytest.raises(ValueError, match="resume"):
        run_jobs([], resume=True)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        run_jobs([], backend="dask")
