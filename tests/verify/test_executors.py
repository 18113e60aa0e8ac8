"""Claims on executors: a local process pool and a Dask LocalCluster give the serial run's Results
(same numbers, same order); a claim that cannot travel and a bad scheduler address are reported."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from polyak.verify.claims import Claim, Measurement
from polyak.verify.runner import collect, dask_executor, local_executor, run_claims, without_timings

# A few fast claims of different kinds (fits over seeded random instances, an upper bound along a
# trajectory, an SDP certificate): cheap enough for the default suite, varied enough that a worker
# that rebuilt a different claim or drew other random numbers would show.
PATTERNS = ("ghadimi2015.thm4-quadratic", "sun2021.beta-upper", "lessard2016.gd-certified")


def _chosen():
    by_id = {c.id: c for c in collect("fast")}
    out = [by_id[i] for i in PATTERNS]  # exact ids (a substring would also pick up later claims)
    return out


def _noisy(seed, backend):
    """A claim built here (not in polyak.papers): it travels pickled, closures and all."""
    rng = np.random.default_rng(seed)
    return Measurement(float(rng.standard_normal(1000).mean()), details={"n": 1000})


LOCAL = Claim(id="test.local-lambda", paper="polyak1964", statement="a mean of 1000 normals is within 4/sqrt(1000)",
              provenance="[derived]", relation="tight", predict=0.0, measure=lambda s, b: _noisy(s, b),
              atol=4 / math.sqrt(1000), tolerance_note="4 standard errors")


def _same(serial, other):
    assert [r.claim for r in other] == [r.claim for r in serial]
    assert [r.seed for r in other] == [r.seed for r in serial]
    for a, b in zip(serial, other):
        assert without_timings(b.to_dict()) == without_timings(a.to_dict()), a.claim
        assert np.array_equal(np.asarray(a.measured, dtype=float), np.asarray(b.measured, dtype=float))


def test_process_pool_gives_the_serial_results():
    claims = _chosen()
    serial = run_claims(claims, seeds=[0, 3])
    assert [r.status for r in serial] == ["pass"] * len(serial)
    with local_executor(2) as ex:
        pooled = run_claims(claims, seeds=[0, 3], executor=ex)
    _same(serial, pooled)
    # claim-major order: both seeds of a claim, then the next claim; the seeds really differ
    assert [(r.claim, r.seed) for r in pooled][:2] == [(claims[0].id, 0), (claims[0].id, 3)]
    assert not np.array_equal(np.asarray(serial[0].measured), np.asarray(serial[1].measured))


def test_thread_pool_and_a_local_claim():
    claims = _chosen()[:2] + [LOCAL]
    serial = run_claims(claims, seed=5)
    with ThreadPoolExecutor(2) as ex:
        _same(serial, run_claims(claims, seed=5, executor=ex))


def test_a_claim_that_cannot_travel_is_an_error_result_not_a_crash(monkeypatch):
    # without cloudpickle a lambda cannot be pickled to a worker process: that claim alone errors
    import builtins

    real_import = builtins.__import__

    def no_cloudpickle(name, *a, **k):
        if name == "cloudpickle":
            raise ImportError("no cloudpickle here")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_cloudpickle)
    claims = [_chosen()[0], LOCAL]
    with local_executor(1) as ex:
        res = run_claims(claims, executor=ex)
    assert [r.claim for r in res] == [claims[0].id, LOCAL.id]
    assert res[0].status == "pass"
    assert res[1].status == "error" and "executor could not run this claim" in res[1].details["error"]


def test_dask_local_cluster_gives_the_serial_results():
    distributed = pytest.importorskip("dask.distributed")
    claims = _chosen()[:2] + [LOCAL]
    serial = run_claims(claims, seed=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            got = run_claims(claims, seed=2, executor=client.get_executor())
            # the helper connects to the same scheduler by address
            c2, ex2 = dask_executor(cluster.scheduler_address, timeout=10)
            try:
                again = run_claims(claims[:1], seed=2, executor=ex2)
            finally:
                c2.close()
    _same(serial, got)
    _same(serial[:1], again)


def test_bad_scheduler_address_is_a_value_error_naming_it():
    pytest.importorskip("dask.distributed")
    with pytest.raises(ValueError, match=r"cannot connect to a Dask scheduler at 'tcp://127.0.0.1:9'"):
        dask_executor("tcp://127.0.0.1:9", timeout=0.5)
    with pytest.raises(ValueError, match="scheduler address"):
        dask_executor("", timeout=1)
    with pytest.raises(ValueError, match="timeout"):
        dask_executor("tcp://127.0.0.1:9", timeout=0)


def test_missing_dask_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"pip install 'polyak\[dask\]'"):
        dask_executor("tcp://127.0.0.1:8786")


def test_validation():
    with pytest.raises(ValueError, match="workers"):
        local_executor(0)
    with pytest.raises(ValueError, match="seeds"):
        run_claims([], seeds=[])
    with pytest.raises(ValueError, match="seeds"):
        run_claims([], seeds=[1, -2])
    with pytest.raises(ValueError, match="executor"):
        run_claims([], executor=object())


def test_open_executor_choices():
    from polyak.verify.runner import open_executor

    with open_executor() as ex:
        assert ex is None
    with open_executor(workers=1) as ex:
        assert ex.submit(sum, [1, 2]).result() == 3
    with pytest.raises(ValueError, match="not both"):
        with open_executor(workers=1, scheduler="tcp://127.0.0.1:9"):
            pass


def test_cli_workers_and_scheduler(tmp_path, capsys):
    import json

    from polyak.cli import main

    only = "demon.beta-*"
    assert main(["verify", "--only", only, "--json", str(tmp_path / "a.json")]) == 0
    assert main(["verify", "--only", only, "--workers", "2", "--json", str(tmp_path / "b.json")]) == 0
    assert main(["verify", "--only", only, "--workers", "2", "--chunks", "claim", "--json", str(tmp_path / "c.json")]) == 0
    a, b, c = (json.loads((tmp_path / f"{n}.json").read_text())["results"] for n in "abc")
    assert len(a) >= 2 and without_timings(a) == without_timings(b) == without_timings(c)
    capsys.readouterr()
    assert main(["verify", "--workers", "0"]) == 2  # main returns usage errors' exit code, never raises
    assert ">= 1" in capsys.readouterr().err
    if pytest.importorskip("dask.distributed"):
        assert main(["verify", "--only", only, "--scheduler", "tcp://127.0.0.1:9"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cannot connect to a Dask scheduler at 'tcp://127.0.0.1:9'" in err[0]


def test_worker_thread_limits_respect_the_user(monkeypatch):
    from polyak.verify import _worker

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # set by the user: kept
    _worker.init(1)
    import os

    assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "3"
    with local_executor(2) as ex:  # two workers on this machine: cores shared out, at least 1 each
        n = ex.submit(os.cpu_count).result()
        threads = ex.submit(os.getenv, "MKL_NUM_THREADS").result()
    if "MKL_NUM_THREADS" not in os.environ:  # else the user's value travels to the workers
        assert threads == str(max(1, (n or 1) // 2))


def _from_two_modules():
    by_id = {c.id: c for c in collect("fast")}
    return [by_id[i] for i in ("ghadimi2015.thm4-quadratic", "sun2021.beta-lower", "ghadimi2015.thm4-worst-case",
                               "sun2021.beta-upper-attained")]


def test_tasks_group_a_module_at_one_seed_and_keep_the_report_order():
    from polyak.verify.runner import _ORIGIN, _groups

    claims = _from_two_modules() + [LOCAL]
    units = [(c, s) for c in claims for s in (0, 3)]
    # ghadimi2015 at seed 0 / 3, sun2021 at seed 0 / 3 (interleaved in the report), the local claim alone
    assert _groups(units, "module") == [[0, 4], [1, 5], [2, 6], [3, 7], [8], [9]]
    assert _groups(units, "claim") == [[i] for i in range(10)]
    assert sorted(i for g in _groups(units, "module") for i in g) == list(range(10))
    # a claim of the full suite (a large batch) travels alone, and first
    big = claims[0].with_(id="ghadimi2015.large", suite="full")
    object.__setattr__(big, _ORIGIN, "ghadimi2015")
    units = [(c, 0) for c in claims[:2] + [big] + claims[2:4]]
    assert _groups(units, "module") == [[2], [0, 3], [1, 4]]


def test_chunks_and_start_methods_give_the_serial_results():
    claims = _from_two_modules() + [LOCAL]
    serial = run_claims(claims, seeds=[0, 3])
    assert [r.status for r in serial] == ["pass"] * len(serial)
    assert [(r.claim, r.seed) for r in serial][:4] == [(claims[0].id, 0), (claims[0].id, 3),
                                                       (claims[1].id, 0), (claims[1].id, 3)]
    with local_executor(2, start="fork") as ex:
        _same(serial, run_claims(claims, seeds=[0, 3], executor=ex))  # chunks="module" (default)
    with local_executor(2, start="forkserver") as ex:  # a fresh server: the workers import what they need
        _same(serial, run_claims(claims, seeds=[0, 3], executor=ex, chunks="claim"))


def test_a_claim_a_worker_cannot_rebuild_errors_alone_within_its_task():
    from polyak.verify.runner import _ORIGIN

    good = _chosen()[0]
    ghost = good.with_(id="ghadimi2015.no-such-claim")
    object.__setattr__(ghost, _ORIGIN, getattr(good, _ORIGIN))  # same module: one task with the good claim
    with local_executor(1) as ex:
        res = run_claims([good, ghost], executor=ex)
    assert [r.claim for r in res] == [good.id, ghost.id]
    assert res[0].status == "pass"
    assert res[1].status == "error" and "executor could not run this claim: KeyError" in res[1].details["error"]


def test_default_start_never_forks_a_process_with_threads_or_torch(monkeypatch):
    import sys
    import threading

    from polyak.verify import runner

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    plain = runner.default_start()
    assert plain == ("fork" if sys.platform.startswith("linux") else plain)
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert runner.default_start() in ("forkserver", "spawn")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setitem(sys.modules, "torch", object())
    assert runner.default_start() in ("forkserver", "spawn")


def test_chunks_and_start_are_checked():
    with pytest.raises(ValueError, match="chunks must be one of 'module', 'claim'"):
        run_claims([], chunks="seed")
    with pytest.raises(ValueError, match="start must be one of"):
        local_executor(1, start="teleport")


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork here")
def test_a_fork_pool_forks_its_workers_at_once():
    # at once, not at the first claim: run_claims may import torch (device check) before it submits
    import os

    with local_executor(2, start="fork") as ex:
        assert len(ex._processes) == 2  # private, but the point: forked before the caller goes on
        assert len({ex.submit(os.getpid).result() for _ in range(4)} - {os.getpid()}) >= 1
