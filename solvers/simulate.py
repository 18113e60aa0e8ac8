"""Batched simulation: one call runs problems x hyperparameters x seeds, and records a Trajectory.

Layout
    The batch has ``P`` problem instances (``problem.batch``), a hyperparameter grid of shape
    ``method.hyper_shape`` and ``S`` seeds. Internally every state array has shape ``(P, N, d)``
    with ``N = H * S`` runs per instance; there is no Python loop over the batch (only over steps,
    and over seeds when drawing gradient noise, one stream per seed). Recorded arrays have shape
    ``(R, P, *grid, S)`` with ``R`` records at steps ``k = 0, r, 2r, ..., steps``.

Noise uses common random numbers: runs that share a seed see the same noise at the same step,
whatever their problem or hyperparameters, so a batched run equals the same runs done one by one.

Divergence
    A run whose distance to x* (or norm, when x* is unknown) is not finite or exceeds
    ``divergence`` times its initial value is flagged at the next record, frozen (it is no longer
    updated), and its later records are ``inf`` (never NaN): fits use the finite prefix.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .backend import Backend, get_backend
from .base import Method, tabulate_hyper
from .problems.base import BoundProblem, Problem


@dataclass(frozen=True)
class Trajectory:
    """What a batched run recorded. Arrays have shape ``(R, P, *grid, S)`` unless said otherwise.

    Attributes:
        k: (R,) step index of each record.
        dist: ||x_k - x*|| (None when x* is unknown).
        fgap: f(x_k) - f* (None when f* is unknown).
        fval: f(x_k).
        gnorm: ||grad f(x_k)|| (exact gradient, also under noise).
        beta: the momentum coefficient, in heavy-ball form, of the step that produced x_k (at
            k = 0: the value the method starts with).
        diverged: (P, *grid, S) bool; diverged_at: the step at which it was detected (-1: never).
        x_final: (P, *grid, S, d) last iterate; x_tail: (n, P, *grid, S, d) last n recorded
            iterates when ``keep_last=n`` was asked for.
        method, problem, seeds, backend: what ran.
    """

    k: np.ndarray
    dist: np.ndarray | None
    fgap: np.ndarray | None
    fval: np.ndarray
    gnorm: np.ndarray
    beta: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    x_final: np.ndarray
    x_tail: np.ndarray | None
    method: Method
    problem: Problem
    seeds: tuple[int, ...]
    backend: str
    grid_shape: tuple[int, ...] = field(default=())

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.diverged.shape

    def axis_names(self) -> tuple[str, ...]:
        """Names of the axes of the recorded arrays: records, problems, one per grid axis (the
        hyperparameters that vary along it, joined by '+'), seeds."""
        grid = tuple(self.grid_shape)
        names = []
        for j in range(len(grid)):
            along = []
            for key, v in self.method.hyper.items():
                shape = getattr(v, "shape", None)
                if not isinstance(shape, tuple) or not shape:
                    continue
                i = j - (len(grid) - len(shape))  # hyperparameter arrays align on the trailing axes
                if 0 <= i < len(shape) and shape[i] > 1:
                    along.append(key)
            names.append("+".join(along) or f"grid{j}")
        return ("records", "problems", *names, "seeds")

    def __repr__(self) -> str:
        """A short summary: what ran, the named axes, divergence and the final errors (not the arrays)."""
        shape = ", ".join(f"{n}={s}" for n, s in zip(self.axis_names(), (len(self.k),) + self.batch_shape))
        fields = [n for n in ("dist", "fgap", "fval", "gnorm", "beta") if getattr(self, n) is not None]
        lines = [f"Trajectory({self.method.name} on {self.problem.name}, backend {self.backend}, "
                 f"steps {int(self.k[0])}..{int(self.k[-1])}",
                 f"  {', '.join(fields)}: ({shape})",
                 f"  diverged: {int(self.diverged.sum())} of {self.diverged.size} runs"]
        err = self.dist if self.dist is not None else self.fgap
        if err is not None:
            last = err[-1]
            fin = last[np.isfinite(last)]
            name = "dist" if self.dist is not None else "fgap"
            if fin.size:
                lines[-1] += f"; final {name} in [{fin.min():.3g}, {fin.max():.3g}]"
        return "\n".join(lines) + ")"

    def error(self) -> np.ndarray:
        """The error used by default for rates: dist when x* is known, else the f gap."""
        if self.dist is not None:
            return self.dist
        if self.fgap is not None:
            return self.fgap
        raise ValueError("neither x* nor f* is known for this problem; no error to report")


class Oracle:
    """The gradient oracle a method step sees: exact, or wrapped by the problem's noise model."""

    def __init__(self, bound: BoundProblem, noise: Any, seeds: Sequence[int], P: int, H: int, d: int, be: Backend):
        self.bound, self.noise, self.be = bound, noise, be
        self.P, self.H, self.S, self.d = P, H, len(seeds), d
        self.streams = [] if noise is None else noise.streams(seeds, be)

    def f(self, X: Any) -> Any:
        return self.bound.f(X)

    def grad(self, X: Any) -> Any:
        if self.noise is None:
            return self.bound.grad(X)
        return self.noise.grad(self.bound, X, self.streams, (self.P, self.H, self.S, self.d), self.be)


def _seed_tuple(seeds: Any) -> tuple[int, ...]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a list of non-negative integers; got {seeds}")
        return tuple(range(int(seeds)))
    try:
        out = tuple(int(s) for s in seeds)
    except (TypeError, ValueError):
        raise ValueError(f"seeds must be a positive count or a list of non-negative integers; got {seeds!r}") from None
    if not out or any(s < 0 for s in out):
        raise ValueError(f"seeds must be a positive count or a list of non-negative integers; got {seeds!r}")
    return out


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def simulate(
    method: Method,
    problem: Problem,
    steps: int,
    *,
    seeds: Any = (0,),
    backend: str | Backend = "numpy",
    device: str | None = None,
    dtype: str = "float64",
    record_every: int = 1,
    x0: Any = None,
    per_problem: bool = False,
    keep_last: int = 0,
    divergence: float = 1e12,
    progress: bool = False,
) -> Trajectory:
    """Run ``method`` on every instance of ``problem`` for ``steps`` steps, as one batch.

    Args:
        method: from :func:`make_method`; array hyperparameters form a grid.
        problem: from :func:`make_problem`; ``problem.batch`` instances.
        steps: number of steps (>= 1).
        seeds: a count (``5`` runs seeds 0..4) or a list of seeds; each seed is one noise stream.
        backend: "numpy" (default) or "torch"; ``device`` picks the torch device.
        dtype: "float64" (default) or "float32" (or np.float32, torch.float32): the dtype of every state array.
        record_every: record every r steps (and always the last one).
        x0: start; None uses ``problem.x0``; a number, a (d,) or a (P, d) array.
        per_problem: the hyperparameter grid's first axis runs along the problem instances
            (one tuning per instance, e.g. each kappa at its own optimum) instead of forming an
            outer product with them.
        keep_last: keep the last n recorded iterates (``Trajectory.x_tail``).
        divergence: a run is diverged once its error exceeds this factor times its initial error.
        progress: show a tqdm progress bar.

    Returns:
        A :class:`Trajectory`.
    """
    steps = _check_count(steps, "steps")
    record_every = _check_count(record_every, "record_every")
    if isinstance(keep_last, bool) or not isinstance(keep_last, (int, np.integer)) or keep_last < 0:
        raise ValueError(f"keep_last must be a non-negative integer; got {keep_last!r}")
    if not (isinstance(divergence, (int, float)) and divergence > 1):
        raise ValueError(f"divergence must be a number > 1; got {divergence!r}")
    if not isinstance(method, Method):
        raise ValueError(f"method must be a Method from make_method(); got {type(method).__name__}")
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem from make_problem(); got {type(problem).__name__}")
    be = get_backend(backend, device=device, dtype=dtype)
    seed_list = _seed_tuple(seeds)
    P, d, S = problem.batch, problem.dim, len(seed_list)

    hshape = method.hyper_shape
    if per_problem:
        if not hshape or hshape[0] not in (1, P):
            raise ValueError(
                f"per_problem=True needs hyperparameter arrays whose first axis has the problem batch size {P}; "
                f"got hyperparameter shape {hshape}"
            )
        Pz, grid = hshape[0], hshape[1:]
    else:
        Pz, grid = 1, hshape
    H = int(np.prod(grid, dtype=int))
    N = H * S

    def layout(a: np.ndarray) -> Any:
        lead = a.shape[: a.ndim - len(hshape)]
        a = np.ascontiguousarray(a).reshape(lead + (Pz, H, 1))
        a = np.broadcast_to(a, lead + (Pz, H, S)).reshape(lead + (Pz, N, 1))
        return be.asarray(a)

    consts: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    for name, (kind, val) in tabulate_hyper(method, steps).items():
        if kind == "const":
            consts[name] = layout(np.asarray(val, dtype=float))
        elif kind == "table":
            tables[name] = layout(np.asarray(val, dtype=float))
        else:
            consts[name] = val

    X0 = _start(problem, x0)
    Xb = be.asarray(np.broadcast_to(X0[:, None, :], (P, N, d)).copy())
    bound = problem.bind(be)
    oracle = Oracle(bound, getattr(problem, "noise", None), seed_list, P, H, d, be)
    rule = method.rule

    def hyper_at(k: int) -> dict[str, Any]:
        if not tables:
            return consts
        return {**consts, **{n: t[k] for n, t in tables.items()}}

    rec = _Recorder(bound, be, P, N, divergence, keep_last)
    with be.errstate():
        state = rule.init(Xb, hyper_at(0), be)
        rec.record(0, state)
        it: Iterable[int] = range(steps)
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(it, desc=f"{method.name} on {problem.name}", leave=False)
        for k in it:
            new = rule.step(state, oracle, k, hyper_at(k), be)
            if rec.any_dead:
                new = _freeze(new, state, rec.alive_mask, be)
            state = new
            if (k + 1) % record_every == 0 or k + 1 == steps:
                rec.record(k + 1, state)

    out_shape = (P,) + tuple(grid) + (S,)
    return rec.trajectory(state, out_shape, method, problem, seed_list, be.name, tuple(grid))


def _start(problem: Problem, x0: Any) -> np.ndarray:
    P, d = problem.batch, problem.dim
    if x0 is None:
        return problem.x0
    arr = np.asarray(x0, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("x0 must be finite (no NaN or inf)")
    if arr.ndim == 0:
        return np.full((P, d), float(arr))
    if arr.shape == (d,):
        return np.broadcast_to(arr, (P, d)).copy()
    if arr.shape == (P, d):
        return arr.copy()
    raise ValueError(f"x0 must be a number, shape ({d},) or ({P}, {d}); got shape {arr.shape}")


def _freeze(new: Any, old: Any, alive: Any, be: Backend) -> Any:
    return type(new)(*(be.where(alive, a, b) for a, b in zip(new, old)))


class _Recorder:
    """Accumulates records on the backend; converts to numpy once at the end."""

    def __init__(self, bound: BoundProblem, be: Backend, P: int, N: int, divergence: float, keep_last: int):
        self.bound, self.be, self.P, self.N = bound, be, P, N
        self.divergence = divergence
        self.ks: list[int] = []
        self.rows: dict[str, list[Any]] = {"dist": [], "fval": [], "gnorm": [], "beta": []}
        self.tail: deque = deque(maxlen=keep_last) if keep_last else deque(maxlen=1)
        self.keep = keep_last > 0
        self.alive = None
        self.alive_mask = None
        self.any_dead = False
        self.ref0 = None
        self.diverged_at = np.full((P, N), -1, dtype=np.int64)

    def record(self, k: int, state: Any) -> None:
        be, bound = self.be, self.bound
        x = state.x
        ref = be.norm(x - bound.x_star) if bound.x_star is not None else be.norm(x)
        if self.ref0 is None:
            self.ref0 = be.maximum(ref, 1.0)
            self.alive = be.isfinite(ref)
        bad = ~be.isfinite(ref) | (ref > self.divergence * self.ref0)
        newly = bad & self.alive
        if be.any(newly):
            self.alive = self.alive & ~bad
            self.alive_mask = self.alive[..., None]
            self.any_dead = True
            self.diverged_at[be.to_numpy(newly)] = k
        fval = bound.f(x)
        gnorm = be.norm(bound.grad(x))
        beta = state.beta
        beta = beta[..., 0] if beta.ndim == 3 else beta
        beta = beta + be.zeros_like(ref)
        if self.any_dead:
            inf = float("inf")
            ref = be.where(self.alive, ref, inf)
            fval = be.where(self.alive, fval, inf)
            gnorm = be.where(self.alive, gnorm, inf)
            beta = be.where(self.alive, beta, float("nan"))
        self.ks.append(k)
        self.rows["dist"].append(ref)
        self.rows["fval"].append(fval)
        self.rows["gnorm"].append(gnorm)
        self.rows["beta"].append(beta)
        if self.keep:
            self.tail.append(be.copy(x))

    def trajectory(self, state, out_shape, method, problem, seeds, backend, grid) -> Trajectory:
        be = self.be
        R = len(self.ks)

        def final(name: str) -> np.ndarray:
            return be.to_numpy(be.stack(self.rows[name])).reshape((R,) + out_shape)

        fval = final("fval")
        dist = final("dist") if self.bound.x_star is not None else None
        fgap = None
        if problem.f_star is not None:
            fgap = fval - problem.f_star.reshape((1, -1) + (1,) * (len(out_shape) - 1))
        d = problem.dim
        x_final = be.to_numpy(state.x).reshape(out_shape + (d,))
        x_tail = None
        if self.keep:
            x_tail = np.stack([be.to_numpy(x).reshape(out_shape + (d,)) for x in self.tail])
        return Trajectory(
            k=np.asarray(self.ks),
            dist=dist,
            fgap=fgap,
            fval=fval,
            gnorm=final("gnorm"),
            beta=final("beta"),
            diverged=(self.diverged_at >= 0).reshape(out_shape),
            diverged_at=self.diverged_at.reshape(out_shape),
            x_final=x_final,
            x_tail=x_tail,
            method=method,
            problem=problem,
            seeds=seeds,
            backend=backend,
            grid_shape=grid,
        )
