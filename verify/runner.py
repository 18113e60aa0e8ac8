"""Run claims: gather them from ``polyak.papers`` and evaluate them into Results.

``collect(suite)`` imports every module named in ``polyak.papers.MODULES`` and calls its
``claims()`` function; the ``"fast"`` suite is the claims marked fast, ``"full"`` is every claim
(the fast ones plus the large batches). ``run_claims`` evaluates them (in the order given) and
never raises for a failing claim: failures and errors are Results.

Distributed runs: ``run_claims(..., executor=ex)`` sends the (claim, seed) pairs to any
``concurrent.futures.Executor``: a :func:`local_executor` (processes on this machine), a
``ThreadPoolExecutor``, or a Dask cluster's (:func:`dask_executor`, or ``client.get_executor()``);
by default the claims of one ``polyak.papers`` module at one seed travel as one task
(``chunks="module"``: their shared derivations and imports are built once, by one worker).
The results are the serial run's: same seeds, same numbers, same order (only ``seconds`` differs).
A claim from :func:`collect` travels as its module and id and is rebuilt in the worker (the claims'
closures need not pickle); any other claim travels pickled (by ``cloudpickle`` when it is
installed, as it is with Dask, so lambdas work).

>>> from polyak.verify.runner import collect, run_claims
>>> res = run_claims(collect("fast"), only="polyak1964.gd-optimal-rate")
>>> [(r.claim, r.status) for r in res]
[('polyak1964.gd-optimal-rate', 'pass')]
"""

from __future__ import annotations

import fnmatch
import importlib
import pickle
import traceback
from contextlib import contextmanager
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from typing import Any, Iterable, Iterator, Sequence

from polyak.solvers.backend import default_device

from .claims import Claim, Result, evaluate

SUITES = ("fast", "full")
CHUNKS = ("module", "claim")  # run_claims(chunks=...): what one executor task holds
_ORIGIN = "_polyak_origin"  # attribute set by collect(): the polyak.papers module a claim came from


def collect(suite: str = "fast") -> list[Claim]:
    """Every claim of ``polyak.papers`` in ``suite`` ("fast": fast claims; "full": all claims).

    Claim ids must be unique; a duplicate raises ValueError naming it.
    """
    if suite not in SUITES:
        raise ValueError(f"suite must be 'fast' or 'full'; got {suite!r}")
    papers = importlib.import_module("polyak.papers")
    out: list[Claim] = []
    seen: set[str] = set()
    for name in papers.MODULES:
        mod = importlib.import_module(f"polyak.papers.{name}")
        for c in mod.claims():
            if c.id in seen:
                raise ValueError(f"duplicate claim id {c.id!r} (in polyak.papers.{name})")
            seen.add(c.id)
            object.__setattr__(c, _ORIGIN, name)  # frozen dataclass; with_() copies do not inherit it
            if suite == "full" or c.suite == "fast":
                out.append(c)
    return out


def load_claims(spec: str, suite: str = "full") -> list[Claim]:
    """A user's claims: ``spec`` is a path to a ``.py`` file, a folder (its ``*.py`` files, sorted)
    or a dotted module name; each module defines ``claims()`` returning :class:`Claim` objects
    (or a list ``CLAIMS``). ``suite="fast"`` keeps only claims with ``suite="fast"``.
    ValueError when nothing can be loaded or an id repeats."""
    import importlib.util
    import os

    if suite not in SUITES:
        raise ValueError(f"suite must be 'fast' or 'full'; got {suite!r}")
    if os.path.isdir(spec):
        files = sorted(os.path.join(spec, f) for f in os.listdir(spec) if f.endswith(".py") and not f.startswith("_"))
        if not files:
            raise ValueError(f"--claims {spec!r}: the folder has no .py files")
    elif spec.endswith(".py"):
        if not os.path.isfile(spec):
            raise ValueError(f"--claims {spec!r}: no such file")
        files = [spec]
    else:
        files = []
    mods = []
    if files:
        import sys

        for path in files:
            # as when Python runs a script: its folder is importable, so a claims file can import
            # the user's own modules next to it (``import mymethods``)
            folder = os.path.dirname(os.path.abspath(path))
            if folder not in sys.path:
                sys.path.insert(0, folder)
            name = "polyak_user_claims_" + os.path.splitext(os.path.basename(path))[0]
            mspec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(mspec)  # type: ignore[arg-type]
            import sys

            sys.modules[name] = mod
            mspec.loader.exec_module(mod)  # type: ignore[union-attr]
            mods.append(mod)
    else:
        try:
            mods.append(importlib.import_module(spec))
        except ModuleNotFoundError:
            raise ValueError(f"--claims {spec!r}: neither a .py file, a folder nor an importable module") from None
    out: list[Claim] = []
    seen: set[str] = set()
    for mod in mods:
        found = mod.claims() if callable(getattr(mod, "claims", None)) else getattr(mod, "CLAIMS", None)
        if found is None:
            raise ValueError(f"--claims: {mod.__name__} defines neither claims() nor CLAIMS")
        for c in found:
            if not isinstance(c, Claim):
                raise ValueError(f"--claims: {mod.__name__} returned a {type(c).__name__}, not a polyak.verify.Claim")
            if c.id in seen:
                raise ValueError(f"duplicate claim id {c.id!r} (in {mod.__name__})")
            seen.add(c.id)
            if suite == "full" or c.suite == "fast":
                out.append(c)
    return out


def select(claims: Iterable[Claim], only: str | None) -> list[Claim]:
    """Claims whose id or paper key matches ``only``: a glob when it has ``*?[``, else a substring."""
    claims = list(claims)
    if not only:
        return claims
    if any(ch in only for ch in "*?["):
        return [c for c in claims if fnmatch.fnmatchcase(c.id, only) or fnmatch.fnmatchcase(c.paper, only)]
    return [c for c in claims if only in c.id or only == c.paper]


def _check_seed(seed: Any, name: str = "seed") -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {seed!r}")


def without_timings(record: Any) -> Any:
    """A report (``Result.to_dict()``, a list of them, a JSON report) with every ``"seconds"`` key
    dropped: what a run on workers must reproduce of the serial run (timings alone may differ)."""
    if isinstance(record, dict):
        return {k: without_timings(v) for k, v in record.items() if k != "seconds"}
    if isinstance(record, list):
        return [without_timings(v) for v in record]
    return record


def run_claims(claims: Sequence[Claim], *, backend: str = "numpy", seed: int = 0, only: str | None = None,
               progress: bool = False, executor: Executor | None = None,
               seeds: Sequence[int] | None = None, device: str | None = None,
               chunks: str = "module") -> list[Result]:
    """Evaluate ``claims`` (filtered by ``only``) with ``seed`` on ``backend``; one Result each.

    ``seeds``: run every claim at each of these seeds instead (claim-major order: all seeds of the
    first claim, then the next claim). ``executor``: any ``concurrent.futures.Executor``
    (:func:`local_executor`, :func:`dask_executor`, ``client.get_executor()``, a thread pool);
    each (claim, seed) is one task; the results are those of the serial run, in the same order.
    A task the executor itself could not run (a worker died, a claim that does not pickle) becomes
    a Result with status ``"error"`` saying so; the other claims still run. ``device`` (torch only:
    "cpu", "cuda") is where the torch backend runs the claims' simulations, in workers too.
    ``chunks`` (with an executor): ``"module"`` (default) sends the claims of one ``polyak.papers``
    module at one seed as one task, so that one worker builds the derivations and imports they
    share; ``"claim"`` sends every (claim, seed) on its own (finer grain: more parallelism on a
    large cluster, more repeated set-up). It changes where claims run, never their numbers or order.
    """
    if backend not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch'; got {backend!r}")
    _check_seed(seed)
    if seeds is not None:
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds must be a non-empty sequence of non-negative integers; got []")
        for s_ in seeds:
            _check_seed(s_, "every entry of seeds")
    if chunks not in CHUNKS:
        raise ValueError(f"chunks must be one of {', '.join(map(repr, CHUNKS))}; got {chunks!r}")
    if executor is not None and not isinstance(executor, Executor) and not hasattr(executor, "submit"):
        raise ValueError(f"executor must be a concurrent.futures.Executor (or have .submit); got {type(executor).__name__}")
    if device is not None:
        if backend != "torch":
            raise ValueError(f"device is only used by backend='torch'; got device={device!r} with backend={backend!r}")
        from polyak.solvers.backend import get_backend

        get_backend("torch", device=device)  # ValueError now if the device does not exist
    chosen = select(claims, only)
    units = [(c, s_) for c in chosen for s_ in (seeds if seeds is not None else [seed])]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(units), desc="claims", leave=False)
    try:
        if executor is None:
            out = []
            for c, s_ in units:
                if bar is not None:
                    bar.set_postfix_str(c.id)
                with default_device(device):
                    out.append(evaluate(c, seed=s_, backend=backend))
                if bar is not None:
                    bar.update()
            return out
        return _run_on(executor, units, backend, bar, device, chunks)
    finally:
        if bar is not None:
            bar.close()


def _groups(units: list, chunks: str) -> list[list[int]]:
    """Indices of ``units`` in the tasks sent to an executor, each task's indices in report order.

    ``chunks="module"``: the units of one ``polyak.papers`` module at one seed form one task (they
    share that module's symbolic derivations, imports and caches, which one worker then builds
    once instead of every worker building them), except a claim of the ``full`` suite (a large
    batch: its own work dominates) and any claim not from ``polyak.papers`` (a user's, pickled),
    each a task of its own. The large batches go out first (the longest tasks first, so that the
    others fill in around them), then the rest in the order of their first unit.
    ``chunks="claim"``: one task per (claim, seed), in order. The report order is the units'
    order either way.
    """
    if chunks == "claim":
        return [[i] for i in range(len(units))]
    groups: dict[Any, list[int]] = {}
    for i, (c, s_) in enumerate(units):
        origin = getattr(c, _ORIGIN, None)
        key = ("papers", origin, s_) if origin is not None and c.suite != "full" else ("unit", i)
        groups.setdefault(key, []).append(i)
    large = [g for g in groups.values() if units[g[0]][0].suite == "full"]
    return large + [g for g in groups.values() if units[g[0]][0].suite != "full"]


def _run_on(executor: Any, units: list, backend: str, bar: Any, device: str | None = None,
            chunks: str = "module") -> list[Result]:
    in_process = isinstance(executor, ThreadPoolExecutor)  # shares memory: send the claim itself
    futures = {}
    out: list[Result | None] = [None] * len(units)
    for idx in _groups(units, "claim" if in_process else chunks):
        try:
            refs = [(units[i][0] if in_process else _reference(units[i][0]), units[i][1]) for i in idx]
            futures[executor.submit(_evaluate_tasks, refs, backend, device)] = idx
        except Exception as exc:  # could not even be sent (pickling in submit, a closed executor)
            for i in idx:
                out[i] = _task_error(units[i][0], units[i][1], backend, exc)
    for fut in as_completed(futures):
        idx = futures[fut]
        try:
            got = fut.result()
            if len(got) != len(idx):  # pragma: no cover - a worker of another polyak version
                raise RuntimeError(f"the worker returned {len(got)} results for {len(idx)} claims")
        except Exception as exc:  # the executor failed to run the task (not the claim failing)
            got = [_task_error(units[i][0], units[i][1], backend, exc) for i in idx]
        for i, r in zip(idx, got):
            out[i] = _task_error(units[i][0], units[i][1], backend, r) if isinstance(r, BaseException) else r
            if bar is not None:
                bar.set_postfix_str(units[i][0].id)
                bar.update()
    return out  # type: ignore[return-value]


def _reference(c: Claim) -> Any:
    """What travels to a worker: ("papers", module, id) for a collected claim, else the pickled claim."""
    origin = getattr(c, _ORIGIN, None)
    if origin is not None:
        return ("papers", origin, c.id)
    try:
        import cloudpickle
    except ImportError:
        return ("pickle", pickle.dumps(c))
    return ("pickle", cloudpickle.dumps(c))


_WORKER_CLAIMS: dict[str, dict[str, Claim]] = {}


def _claim_of(ref: Any) -> Claim:
    """Rebuild a claim from what :func:`_reference` sent (in a worker)."""
    if isinstance(ref, Claim):
        return ref
    if ref[0] == "papers":
        _, module, cid = ref
        table = _WORKER_CLAIMS.get(module)
        if table is None:
            mod = importlib.import_module(f"polyak.papers.{module}")
            table = _WORKER_CLAIMS[module] = {c.id: c for c in mod.claims()}
        return table[cid]
    return pickle.loads(ref[1])


def _evaluate_task(ref: Any, seed: int, backend: str, device: str | None = None) -> Result:
    """Run in a worker: rebuild the claim from its reference and evaluate it."""
    claim = _claim_of(ref)
    with default_device(device):
        return evaluate(claim, seed=seed, backend=backend)


def _evaluate_tasks(refs: list, backend: str, device: str | None = None) -> list:
    """Run in a worker: evaluate several (claim reference, seed) in order (one task of :func:`_groups`).

    A claim that cannot be rebuilt here comes back as its exception (the parent reports it as an
    ``error`` Result of that claim alone); the others of the task still run."""
    out: list = []
    for ref, seed in refs:
        try:
            out.append(_evaluate_task(ref, seed, backend, device))
        except Exception as exc:
            out.append(exc)
    return out


def _task_error(c: Claim, seed: int, backend: str, exc: BaseException) -> Result:
    return Result(claim=c.id, paper=c.paper, relation=c.relation, predicted=None, measured=None,
                  margin=float("nan"), passed=None, status="error", seconds=0.0, provenance=c.provenance,
                  statement=c.statement, seed=seed, backend=backend,
                  tolerance={"rtol": c.rtol, "atol": c.atol, "note": c.tolerance_note},
                  details={"error": f"executor could not run this claim: {type(exc).__name__}: {exc}",
                           "traceback": "".join(traceback.format_exception(exc))})


# ----------------------------------------------------------------------------------------
# executors
# ----------------------------------------------------------------------------------------
def local_executor(workers: int, threads: int | None = None, start: str | None = None) -> Executor:
    """A pool of ``workers`` processes on this machine. Use it as a context manager.

    ``start``: the multiprocessing start method. Default: ``"fork"`` on Linux while this process
    runs no other thread and has not imported torch (a worker starts in milliseconds with what
    this process has imported: numpy, polyak, the claims' modules), else ``"forkserver"`` (a
    server that imports :data:`PRELOAD` once; workers fork from it), else ``"spawn"``. No fork of
    a process that runs torch or other threads. The heavy libraries (sympy, scipy, cvxpy, PEPit)
    are not preloaded: each worker imports what its claims need, the two workers of a 2-core
    machine in parallel, so a library only one claim needs (cvxpy for a PEP) costs one worker
    alone. ``threads``: BLAS/OpenMP/torch threads per worker (default: the machine's cores
    shared out, ``max(1, cores // workers)``, so that workers do not oversubscribe the cores; an
    ``OMP_NUM_THREADS``-style variable set by the user wins). Neither changes the numbers of the
    claims (tested: the results equal the serial run's).
    """
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor

    from . import _worker

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    if threads is None:
        threads = max(1, (os.cpu_count() or 1) // workers)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1; got {threads!r}")
    methods = mp.get_all_start_methods()
    if start is None:
        start = default_start()
    if start not in methods:
        raise ValueError(f"start must be one of {', '.join(map(repr, methods))} on this platform; got {start!r}")
    ctx = mp.get_context(start)
    if start == "forkserver":
        ctx.set_forkserver_preload(list(PRELOAD))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker.init, initargs=(threads,))
    if start == "fork":
        # fork every worker now, while this process is as checked above: a pool forks its workers
        # at the first submit, by when the caller may have imported torch or started threads
        pool.submit(int).result()
    return pool


def default_start() -> str:
    """The start method :func:`local_executor` uses: ``"fork"`` on Linux while this process runs one
    thread and has not imported torch; else ``"forkserver"`` where there is one, else ``"spawn"``."""
    import multiprocessing as mp
    import sys
    import threading

    methods = mp.get_all_start_methods()
    if (sys.platform.startswith("linux") and "fork" in methods and "torch" not in sys.modules
            and threading.active_count() == 1):
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


#: what a fork server imports before it forks workers: the light part a worker always needs
PRELOAD = ("numpy", "polyak.verify.runner", "polyak.verify.claims", "polyak.solvers", "polyak.papers")


DASK_HINT = "pip install 'polyak[dask]'"


def dask_executor(address: str, timeout: float = 5.0) -> tuple[Any, Executor]:
    """(client, executor) of the Dask scheduler at ``address`` (e.g. ``"tcp://host:8786"``).

    Close the client when done (``client.close()``). Raises ImportError naming
    ``pip install 'polyak[dask]'`` when dask.distributed is missing, and ValueError naming the
    address when no scheduler answers within ``timeout`` seconds.
    """
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ImportError(f"--scheduler needs dask.distributed: {DASK_HINT} ({exc})") from None
    if not isinstance(address, str) or not address:
        raise ValueError(f"scheduler address must be a non-empty string like tcp://host:8786; got {address!r}")
    if not (timeout > 0):
        raise ValueError(f"timeout must be > 0 seconds; got {timeout!r}")
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot connect to a Dask scheduler at {address!r} (timeout {timeout:g} s): {msg}") from None
    return client, client.get_executor()


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None,
                  timeout: float = 5.0) -> Iterator[Executor | None]:
    """The executor of ``polyak verify --workers N`` / ``--scheduler ADDRESS``, closed on exit.

    Neither given: None (run in this process). ``workers``: :func:`local_executor`; ``scheduler``:
    the Dask scheduler at that address (:func:`dask_executor`, connection ``timeout`` seconds).
    """
    if workers is not None and scheduler is not None:
        raise ValueError("give workers (local processes) or scheduler (a Dask cluster), not both")
    if scheduler is not None:
        client, ex = dask_executor(scheduler, timeout)
        try:
            yield ex
        finally:
            client.close()
    elif workers is not None:
        with local_executor(workers) as ex:
            yield ex
    else:
        yield None


def exit_code(results: Sequence[Result]) -> int:
    """0 if every claim that ran passed, 1 if one failed, 2 if one raised an error."""
    if any(r.status == "error" for r in results):
        return 2
    if any(r.status == "FAIL" for r in results):
        return 1
    return 0
