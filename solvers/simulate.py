"""Batched simulation: one call runs problems x hyperparameters x seeds, and records a Trajectory.

Layout
    The batch has ``P`` problem instances (``problem.batch``), a hyperparameter grid of shape
    ``method.hyper_shape`` and ``S`` seeds. Every state array has shape ``(P, N, d)`` with
    ``N = H * S`` runs per instance; there is no Python loop over the batch or the seeds (only over
    steps, and over cache-sized blocks of runs on the CPU, see below). Recorded arrays have shape
    ``(R, P, *grid, S)`` with ``R`` records at steps ``k = 0, r, 2r, ..., steps``.

Noise uses common random numbers: runs that share a seed see the same noise at the same step,
whatever their problem or hyperparameters, so a batched run equals the same runs done one by one
(counter-based streams, drawn for every seed in one call: :mod:`polyak.solvers.problems.noise`).

Blocks (CPU)
    Runs are independent, so on the CPU (numpy, torch CPU) a step is applied to blocks of about
    ``block_size`` elements per state array (default 32768: 256 KiB in float64), each block a
    view of the state. The step's temporaries then live in the cache and come from the allocator's
    free lists instead of fresh pages, and the new state is written into the buffers the old state
    no longer needs (a field the step passes on unchanged, like heavy ball's ``x_prev = x``, keeps
    its buffer): the loop allocates no full-size array. Any ``MethodRule`` gets this, built-in or
    user-defined, as long as its step works run by run (reductions only over the last axis, the
    engine's rule anyway). Numbers equal the unblocked run's (elementwise work is the same; a dense
    matrix product may round differently, ~1e-16 relative). On an accelerator there is one block.

In place (numpy and torch, the default where it applies)
    A linear method with constant scalar hyperparameters on a noise-free eigenbasis quadratic is
    stepped with its per-coordinate iteration matrix, in place (:mod:`polyak.solvers.kernels`:
    numpy blocks of ``FUSED_BLOCK_SIZE`` elements, or one compiled numba pass per step when
    ``polyak[fast]`` is installed; torch: in-place/``out=`` torch calls on whole arrays, constant
    grids included), with the records (distance, f, gradient norm) summed right after the step
    (numpy: on each block): same iterates as the method's own step up to rounding (~1e-16
    relative per step, not bit for bit); ``fused=False`` runs the own step.

Records
    The record of ``x_k`` (distance, f, gradient norm, beta) reuses the exact gradient the next
    step computes at ``x_k`` (methods that take their gradient at ``x_k``, like heavy ball and
    gradient descent; others get it computed), and ``f`` from it where the problem knows how
    (quadratics: ``f = 1/2 <x - x*, g>``). Records are written into preallocated arrays on the
    device and come back to numpy once, at the end.

Divergence
    A run whose distance to x* (or norm, when x* is unknown) is not finite or exceeds
    ``divergence`` times its initial value (default 1e12 in float64, 1e8 in float32) is flagged at
    the next record; its later records are ``inf`` (beta: NaN; never NaN in dist, f, gnorm) and its
    ``x_final`` is the iterate at which it was flagged; fits use the finite prefix. Runs are
    independent, so a diverged run is not frozen (it may overflow, harmlessly): the flags, the
    step of detection and the kept iterate are updated on the device (no host synchronisation
    per step or per record on an accelerator) and read back once at the end.

dtype
    ``dtype="float32"`` runs every state array in float32 (on a GPU: half the bytes per step). Its
    rounding floor is higher: ``Trajectory.floor`` (1e-12 relative in float64, 1e-5 in float32)
    is the relative error level above which a rate fit should stay, ``Trajectory.eps`` the
    machine epsilon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .backend import Backend, get_backend
from .base import Method, tabulate_hyper
from .problems.base import BoundProblem, Problem

#: Relative error floor of a rate fit (``fit_linear_rate(..., floor=tr.floor)``) per dtype.
FLOORS = {"float64": 1e-12, "float32": 1e-5}
#: Default divergence factor per dtype (float32: squared norms must stay below 3.4e38).
DIVERGENCE = {"float64": 1e12, "float32": 1e8}
#: Elements per state array in one block of runs on the CPU (256 KiB in float64).
BLOCK_SIZE = 32768
#: The same for the in-place fused kernel (fewer, larger temporaries: a smaller block stays in L1/L2).
FUSED_BLOCK_SIZE = 16384


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
        diverged: ``(P, *grid, S)`` bool; diverged_at: the step at which it was detected (-1: never).
        x_final: ``(P, *grid, S, d)`` last iterate (of a diverged run: the iterate at detection);
            x_tail: ``(n, P, *grid, S, d)`` last n recorded iterates when ``keep_last=n`` was asked for.
        method, problem, seeds, backend: what ran; dtype: "float64" or "float32".
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
    dtype: str = "float64"

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
    @property
    def eps(self) -> float:
        """Machine epsilon of the run's dtype."""
        return float(np.finfo(self.dtype).eps)

    @property
    def floor(self) -> float:
        """Relative error level below which records are rounding, not convergence: 1e-12 in
        float64, 1e-5 in float32 (~80 eps). Rate fits stay above ``floor`` times the first error."""
        return FLOORS[self.dtype]

    def error(self) -> np.ndarray:
        """The error used by default for rates: dist when x* is known, else the f gap."""
        if self.dist is not None:
            return self.dist
        if self.fgap is not None:
            return self.fgap
        raise ValueError("neither x* nor f* is known for this problem; no error to report")


class Oracle:
    """The gradient oracle a method step sees, for one block of runs: exact, or wrapped by the
    problem's noise model (the draws of step ``k``, call ``c`` are shared by every block)."""

    def __init__(self, bound: BoundProblem, noise: Any, draws: Any, shape4: tuple[int, int, int, int],
                 seeds: slice, be: Backend):
        self.bound, self.noise, self.draws, self.be = bound, noise, draws, be
        self.shape4, self.seed_slice = shape4, seeds
        self.k, self.calls = 0, 0
        self.watch: Any = None  # the iterate whose exact gradient the pending record wants
        self.seen: Any = None

    def start(self, k: int, watch: Any = None) -> None:
        self.k, self.calls, self.watch, self.seen = k, 0, watch, None

    def f(self, X: Any) -> Any:
        return self.bound.f(X)

    def grad(self, X: Any) -> Any:
        c = self.calls
        self.calls += 1
        noise = self.noise
        if noise is not None and noise.kind == "minibatch":
            Pc, Hc, Sc, d = self.shape4
            idx = self.draws.get(self.k, c)[self.seed_slice]
            return self.bound.grad_sample(X.reshape(Pc, Hc, Sc, d), idx).reshape(X.shape)
        g = self.bound.grad(X)
        if X is self.watch and self.seen is None:
            self.seen = g
        if noise is None:
            return g
        Pc, Hc, Sc, d = self.shape4
        xi = self.draws.get(self.k, c)[self.seed_slice].reshape(1, 1, Sc, d)
        return noise.perturb(g.reshape(Pc, Hc, Sc, d), xi).reshape(X.shape)


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


@dataclass(frozen=True)
class _Block:
    """A rectangle of runs: problems p, grid points h, seeds s (whole seed rows, or one grid point)."""

    p0: int
    p1: int
    h0: int
    h1: int
    s0: int
    s1: int
    S: int
    d: int

    @property
    def n(self) -> slice:
        return slice(self.h0 * self.S + self.s0, (self.h1 - 1) * self.S + self.s1)

    @property
    def p(self) -> slice:
        return slice(self.p0, self.p1)

    @property
    def shape4(self) -> tuple[int, int, int, int]:
        return (self.p1 - self.p0, self.h1 - self.h0, self.s1 - self.s0, self.d)


def _blocks(P: int, H: int, S: int, d: int, size: float) -> list[_Block]:
    """Split the (P, H, S) runs into blocks of at most ~``size`` elements per state array."""
    runs = max(1, int(size // d)) if np.isfinite(size) else P * H * S
    if P * H * S <= runs:
        return [_Block(0, P, 0, H, 0, S, S, d)]
    if H * S <= runs:
        m = runs // (H * S)
        return [_Block(p, min(p + m, P), 0, H, 0, S, S, d) for p in range(0, P, m)]
    if S <= runs:
        m = runs // S
        return [_Block(p, p + 1, h, min(h + m, H), 0, S, S, d) for p in range(P) for h in range(0, H, m)]
    return [_Block(p, p + 1, h, h + 1, s, min(s + runs, S), S, d)
            for p in range(P) for h in range(H) for s in range(0, S, runs)]


def _steps_range(steps: int, progress: bool, method: Any, problem: Any) -> Iterable[int]:
    """range(steps), with a tqdm bar when ``progress`` (opt-in)."""
    if not progress:
        return range(steps)
    from tqdm.auto import tqdm

    return tqdm(range(steps), desc=f"{method.name} on {problem.name}", leave=False)


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
    divergence: float | None = None,
    progress: bool = False,
    block_size: int | None = None,
    fused: bool | None = None,
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
        divergence: a run is diverged once its error exceeds this factor times its initial error
            (default: 1e12 in float64, 1e8 in float32).
        progress: show a tqdm progress bar.
        block_size: elements per state array in one block of runs (CPU only; default 32768, or
            one block when the problem's data holds a matrix (dense Hessian, least-squares rows);
            ``float("inf")``: one block). Changes speed, not numbers (up to the rounding of
            matrix products).
        fused: step a linear method on an eigenbasis quadratic with its per-coordinate iteration
            matrix (:mod:`polyak.solvers.kernels`): fewer array operations per step, in place,
            the same iterates up to rounding (~1e-16 relative per step; tested to 1e-12 against
            the method's own step, a bare numpy loop and the eigen-decomposition closed form).
            None (default): wherever it applies (a linear method with constant scalar
            hyperparameters, an eigenbasis quadratic without noise; on torch also constant
            grids; on numpy grids and schedules with numba), the method's own step elsewhere;
            True: required (ValueError when it does not apply); False: always the method's own step.

    Returns:
        A :class:`Trajectory`.
    """
    steps = _check_count(steps, "steps")
    record_every = _check_count(record_every, "record_every")
    if isinstance(keep_last, bool) or not isinstance(keep_last, (int, np.integer)) or keep_last < 0:
        raise ValueError(f"keep_last must be a non-negative integer; got {keep_last!r}")
    if not isinstance(method, Method):
        raise ValueError(f"method must be a Method from make_method(); got {type(method).__name__}")
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem from make_problem(); got {type(problem).__name__}")
    be = get_backend(backend, device=device, dtype=dtype)
    if divergence is None:
        divergence = DIVERGENCE[be.dtype]
    if isinstance(divergence, bool) or not (isinstance(divergence, (int, float)) and divergence > 1):
        raise ValueError(f"divergence must be a number > 1; got {divergence!r}")
    auto_blocks = block_size is None
    if auto_blocks:
        block_size = BLOCK_SIZE if be.host_sync_is_free else float("inf")
    if isinstance(block_size, bool) or not isinstance(block_size, (int, float, np.integer)) or not block_size >= 1:
        raise ValueError(f"block_size must be a number >= 1 (elements per block; inf: one block); got {block_size!r}")
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

    def layout_np(a: np.ndarray) -> np.ndarray:
        lead = a.shape[: a.ndim - len(hshape)]
        a = np.ascontiguousarray(a).reshape(lead + (Pz, H, 1))
        return np.broadcast_to(a, lead + (Pz, H, S)).reshape(lead + (Pz, N, 1))

    def layout(a: np.ndarray) -> Any:
        return be.asarray(layout_np(a))

    consts: dict[str, Any] = {}
    consts_np: dict[str, Any] = {}  # the same on the host (the torch grid kernel traces them)
    tables: dict[str, Any] = {}
    for name, (kind, val) in tabulate_hyper(method, steps).items():
        if kind == "const":
            consts[name] = layout(np.asarray(val, dtype=float))
            consts_np[name] = layout_np(np.asarray(val, dtype=float))
        elif kind == "table":
            tables[name] = layout(np.asarray(val, dtype=float))
        else:
            consts[name] = val

    kernel = None
    if fused is not None and not isinstance(fused, bool):
        raise ValueError(f"fused must be None (automatic), True or False; got {fused!r}")
    if fused is not False:
        from .kernels import FusedLinear, GridFused, fused_linear_reason, numba_wanted

        why = fused_linear_reason(method, problem, tables)
        # torch: the coefficients in float64 (a float32 run rounds them once, keeping the fixed point:
        # TorchInPlaceStepper)
        kbe = Backend("torch", be.device, "float64") if be.name == "torch" else be
        if why is None:
            kernel = FusedLinear(method, problem, kbe)
        elif (why is not None and be.name == "torch" and not tables
              and fused_linear_reason(method, problem, tables, True) is None):
            from .kernels import TorchGridKernel

            kernel = TorchGridKernel(method, problem, consts_np, Pz, N, kbe)  # a grid: coefficients per run
        elif (why is not None and be.name == "numpy" and fused_linear_reason(method, problem, tables, True) is None
              and numba_wanted(P * N * d, be.dtype, steps, force=bool(fused))):
            kernel = GridFused(method, problem, consts, Pz, N, tables, steps)  # grid or schedule: compiled only
        elif fused:
            raise ValueError(f"fused=True needs a linear method with constant hyperparameters on an eigenbasis "
                             f"quadratic without noise: {why}")
        if kernel is not None and be.name == "torch":
            kernel.x_star64 = kbe.asarray(problem.x_star[:, None, :]) if np.any(problem.x_star) else None
    X0 = _start(problem, x0)
    Xb = be.asarray(np.broadcast_to(X0[:, None, :], (P, N, d)).copy())
    bound = problem.bind(be)
    if auto_blocks and any(getattr(v, "ndim", 0) >= 3 and v.shape[-2] > 1 for v in bound.data.values()):
        # a matrix in the data (dense Hessian, least-squares rows): blocks would stream it once per
        # block and shrink the matrix products; one block
        block_size = float("inf")
    noise = getattr(problem, "noise", None)
    draws = None
    if noise is not None:
        from .problems.noise import NoiseDraws

        draws = NoiseDraws(noise, noise.streams(seed_list, be), d, steps)
    rule = method.rule

    with be.errstate():
        state = rule.init(Xb, {**consts, **{n: t[0] for n, t in tables.items()}}, be)
        bufs = _full_buffers(state, P, N, be)
        if bufs is None and kernel is not None and not hasattr(kernel, "step"):
            kernel = None  # (the torch grid kernel runs in place only; a state it cannot lay out: own step)
        if kernel is not None and bufs is not None:
            if auto_blocks:  # numpy: cache-sized blocks; torch: whole arrays (as fast on the CPU, see kernels)
                block_size = FUSED_BLOCK_SIZE if be.name == "numpy" else float("inf")
            return _run_in_place(kernel, rule, state, bufs, consts, tables, bound, be, P, N, S, d, steps, record_every,
                                 divergence, keep_last, progress, block_size, method, problem, seed_list, tuple(grid))
        blocks = _blocks(P, H, S, d, block_size) if bufs is not None else [_Block(0, P, 0, H, 0, S, S, d)]
        if bufs is None:
            bufs = list(state)
        fields = type(state)
        pz = (lambda b: slice(b.p0, b.p1)) if Pz > 1 else (lambda b: slice(None))
        ctx = []
        for b in blocks:
            hconst = {n: (v[pz(b), b.n] if n in consts and hasattr(v, "shape") else v) for n, v in consts.items()}
            htab = {n: t[:, pz(b), b.n] for n, t in tables.items()}
            bb = _bind_block(bound, b, P) if len(blocks) > 1 else bound
            oracle = Oracle(bb, noise, draws, b.shape4, slice(b.s0, b.s1), be)
            if kernel is not None:
                oracle.kernel = kernel.for_block(b.p) if len(blocks) > 1 else kernel
            ctx.append((b, hconst, htab, oracle))
        R = len(_record_steps(steps, record_every))
        rec = _Recorder(bound, be, P, N, d, R, divergence, keep_last)
        one = len(blocks) == 1

        def views(b: _Block) -> Any:
            if one:
                return fields(*bufs)
            return fields(*(buf[b.p, b.n] for buf in bufs))

        # record 0: distance and divergence now; f and the gradient norm with the first step
        rec.start(0)
        for b, _, _, oracle in ctx:
            rec.begin_block(views(b).x, b, oracle.bound)
        rec.end_record(fields(*bufs))
        rec.pending = True
        it = _steps_range(steps, progress, method, problem)
        for k in it:
            recording = (k + 1) % record_every == 0 or k + 1 == steps
            if recording:
                rec.start(k + 1)
            plan = None
            for b, hconst, htab, oracle in ctx:
                old = views(b)
                h = {**hconst, **{n: t[k] for n, t in htab.items()}} if htab else hconst
                oracle.start(k, old.x if rec.pending else None)
                new = rule.step(old, oracle, k, h, be) if kernel is None else oracle.kernel.step(old, h, be)
                if rec.pending:
                    rec.finish_block(old.x, oracle.seen, b, oracle.bound)
                if not one:
                    if plan is None:
                        plan = _plan(new, old, bufs, P, N, be)
                    _write(plan, new, b)
                if recording:
                    rec.begin_block(new.x, b, oracle.bound)
            bufs = list(new) if one else [t for t, _ in plan]
            if rec.pending:
                rec.end_finish()
            if recording:
                rec.end_record(fields(*bufs))
            rec.pending = recording
        if rec.pending:  # the last record: no next step to share its gradient
            for b, _, _, oracle in ctx:
                rec.finish_block(views(b).x, None, b, oracle.bound)
            rec.end_finish()
    out_shape = (P,) + tuple(grid) + (S,)
    return rec.trajectory(bufs[fields._fields.index("x")], out_shape, method, problem, seed_list, be.name,
                          tuple(grid))


def _record_steps(steps: int, every: int) -> list[int]:
    ks = [0] + [k for k in range(1, steps + 1) if k % every == 0 or k == steps]
    return ks


def _full_buffers(state: Any, P: int, N: int, be: Backend) -> list | None:
    """Contiguous (P, N, ...) copies of the state fields, or None when a field is not such an array
    (then the run is not split into blocks)."""
    out = []
    for v in state:
        shape = getattr(v, "shape", None)
        if shape is None or len(shape) < 3:
            return None
        try:
            full = tuple(np.broadcast_shapes(tuple(shape[:2]), (P, N))) + tuple(shape[2:])
        except ValueError:
            return None
        if full[:2] != (P, N):
            return None
        buf = be.empty(full)
        buf[...] = v
        out.append(buf)
    return out


def _bind_block(bound: BoundProblem, b: _Block, P: int) -> BoundProblem:
    """The problem data of the block's instances (arrays with a leading axis P are sliced)."""
    def cut(a: Any) -> Any:
        if a is None or P == 1 or getattr(a, "ndim", 0) == 0 or a.shape[0] != P:
            return a
        return a[b.p0 : b.p1]

    return BoundProblem(bound.problem, bound.be, {k: cut(v) for k, v in bound.data.items()}, cut(bound.x_star),
                        cut(bound.f_star))


def _plan(new: Any, old: Any, bufs: list, P: int, N: int, be: Backend) -> list:
    """Where each field of the new state goes: the old buffer it already is (a field passed on
    unchanged keeps its buffer), else a buffer of the old state that the new state no longer uses
    (written block by block after the block's step), else a fresh one. Decided on the first block
    of a step; every block of the step follows it."""
    alias = [None] * len(new)
    for j, v in enumerate(new):
        for i, o in enumerate(old):
            if v is o:
                alias[j] = i
                break
    taken = {i for i in alias if i is not None}
    free = [i for i in range(len(bufs)) if i not in taken]
    plan = []
    for j, v in enumerate(new):
        if alias[j] is not None:
            plan.append((bufs[alias[j]], None))
            continue
        shape = (P, N) + tuple(getattr(v, "shape", (1, 1, 1))[2:])
        pick = next((i for i in free if tuple(bufs[i].shape) == shape), None)
        if pick is not None:
            free.remove(pick)
            target = bufs[pick]
        else:
            target = be.empty(shape)
        # a value that is a view of an old buffer must be copied before any write
        copy = any(be.may_share_memory(v, o) for o in old) if hasattr(v, "shape") else False
        plan.append((target, "copy" if copy else "write"))
    return plan


def _write(plan: list, new: Any, b: _Block) -> None:
    staged = []
    for (target, how), v in zip(plan, new):
        if how == "copy":
            v = v.copy() if isinstance(v, np.ndarray) else v.clone()
        staged.append(v)
    for (target, how), v in zip(plan, staged):
        if how is not None:
            target[b.p, b.n] = v


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


class _Recorder:
    """Records into preallocated (R, P, N) arrays on the backend; converts to numpy once at the end.

    A record is begun when x_k exists (squared distance, block by block, while the block is in
    cache; then, for the whole batch, the distance, divergence and beta) and finished with the
    next step (f and the gradient norm, from the gradient that step computes at x_k when it does).
    Records of diverged runs are masked once, at the end, from the step of detection.
    """

    def __init__(self, bound: BoundProblem, be: Backend, P: int, N: int, d: int, R: int, divergence: float,
                 keep_last: int):
        self.bound, self.be, self.P, self.N, self.d = bound, be, P, N, d
        self.divergence = divergence
        self.ks: list[int] = []
        self.r = -1
        self.rows = {name: be.empty((R, P, N)) for name in ("dist", "fval", "gnorm", "beta")}
        self.keep = keep_last
        self.tail = be.empty((keep_last, P, N, d)) if keep_last else None
        self.alive = None
        self.ref0 = None
        self.diverged_at = be.full((P, N), -1, "int64")
        self.cheap = be.host_sync_is_free
        self.x_keep = None if self.cheap else be.empty((P, N, d))
        self.any_dead = not self.cheap  # on a device: assume so, and mask without asking
        self.pending = False  # a begun record waits for f and the gradient norm
        self.pending_r = 0
        self.zero_star = bound.x_star is not None and not np.any(bound.problem.x_star)

    def start(self, k: int) -> None:
        self.ks.append(k)
        self.r += 1

    def begin_block(self, x: Any, b: _Block, bound: BoundProblem) -> None:
        e = x if (bound.x_star is None or self.zero_star) else x - bound.x_star
        self.rows["dist"][self.r][b.p, b.n] = self.be.vdot(e, e)

    def end_record(self, state: Any) -> None:
        be, r, k = self.be, self.r, self.ks[-1]
        row = self.rows["dist"][r]
        ref = be.sqrt(row)
        row[...] = ref
        if r == 0:
            self.ref0 = ref.clip(min=1.0)  # (numpy and torch: no scalar tensor copied to the device)
            self.alive = be.isfinite(ref)
        bad = ~be.isfinite(ref) | (ref > self.divergence * self.ref0)
        newly = bad & self.alive
        x = state.x
        if not self.cheap or be.any(newly):
            if self.x_keep is None:
                self.x_keep = be.empty((self.P, self.N, self.d))
            if be.name == "torch":  # in place: no state-sized temporary per record on a device
                be.lib.where(newly[..., None], x, self.x_keep, out=self.x_keep)
            else:
                self.x_keep[...] = be.where(newly[..., None], x, self.x_keep)
            # the step as a device fill (be.asint would copy a host scalar to the device at every record)
            self.diverged_at[...] = be.where(newly, be.full(tuple(newly.shape), k, "int64"), self.diverged_at)
            self.alive = self.alive & ~bad
            self.any_dead = True
        beta = state.beta
        self.rows["beta"][r] = beta[..., 0] if beta.ndim == 3 else beta
        if self.keep:
            if self.any_dead and be.name == "torch":
                be.lib.where(self.alive[..., None], x, self.x_keep, out=self.tail[r % self.keep])
            else:
                self.tail[r % self.keep] = be.where(self.alive[..., None], x, self.x_keep) if self.any_dead else x
        self.pending_r = r

    def finish_block(self, x: Any, g: Any, b: _Block, bound: BoundProblem) -> None:
        """f and the squared gradient norm of the pending record, from ``g`` (the exact gradient at
        x) when given."""
        be, r, sl = self.be, self.pending_r, (b.p, b.n)
        if g is None:
            g = bound.grad(x)
        problem = bound.problem
        fval = problem._f_from_grad(x, g, bound.data, be) if _has_f_from_grad(problem) else bound.f(x)
        self.rows["fval"][r][sl] = fval
        self.rows["gnorm"][r][sl] = be.vdot(g, g)

    def end_finish(self) -> None:
        row = self.rows["gnorm"][self.pending_r]
        row[...] = self.be.sqrt(row)

    def trajectory(self, x, out_shape, method, problem, seeds, backend, grid) -> Trajectory:
        be = self.be
        R = len(self.ks)

        if self.any_dead:  # records from the step of detection on: inf (beta: NaN)
            ks = be.asint(np.asarray(self.ks))[:, None, None]
            at = self.diverged_at[None]
            dead = (at >= 0) & (ks >= at)
            for name in ("dist", "fval", "gnorm"):
                self.rows[name][...] = be.where(dead, float("inf"), self.rows[name])
            self.rows["beta"][...] = be.where(dead, float("nan"), self.rows["beta"])

        def final(name: str) -> np.ndarray:
            return be.to_numpy(self.rows[name]).reshape((R,) + out_shape)

        fval = final("fval")
        dist = final("dist") if self.bound.x_star is not None else None
        fgap = None
        if problem.f_star is not None:
            fgap = fval - problem.f_star.reshape((1, -1) + (1,) * (len(out_shape) - 1))
        d = problem.dim
        diverged_at = be.to_numpy(self.diverged_at)
        if self.any_dead:
            x = be.where(self.alive[..., None], x, self.x_keep)
        x_final = be.to_numpy(x).reshape(out_shape + (d,))
        x_tail = None
        if self.keep:
            n = min(self.keep, R)
            order = [(R - n + i) % self.keep for i in range(n)]
            tail = be.to_numpy(self.tail)
            x_tail = np.stack([tail[i].reshape(out_shape + (d,)) for i in order])
        return Trajectory(
            k=np.asarray(self.ks),
            dist=dist,
            fgap=fgap,
            fval=fval,
            gnorm=final("gnorm"),
            beta=final("beta"),
            diverged=(diverged_at >= 0).reshape(out_shape),
            diverged_at=diverged_at.reshape(out_shape),
            x_final=x_final,
            x_tail=x_tail,
            method=method,
            problem=problem,
            seeds=seeds,
            backend=backend,
            grid_shape=grid,
            dtype=be.dtype,
        )


def _has_f_from_grad(problem: Problem) -> bool:
    return type(problem)._f_from_grad is not Problem._f_from_grad


def _run_in_place(kernel, rule, state, bufs, consts, tables, bound, be, P, N, S, d, steps, record_every, divergence,
                  keep_last, progress, block_size, method, problem, seed_list, grid) -> Trajectory:
    """The numpy loop of the fused kernel: every step in place (:class:`~polyak.solvers.kernels.InPlaceStepper`),
    the records (distance, f, gradient norm) summed on each block right after its step."""
    from .kernels import (GridFused, InPlaceStepper, NumbaStepper, TorchCompiledStepper, TorchInPlaceStepper,
                          numba_wanted, torch_compile_wanted)

    blocks = _blocks(P, N // S, S, d, block_size)  # numpy steps, and record 0 on every path
    if be.name == "torch":
        lam = bound.data["lam"]  # (P, 1, d) on the device
        xs = None if (bound.x_star is None or not np.any(problem.x_star)) else bound.x_star
        compiled = len(blocks) == 1 and torch_compile_wanted(be.device, float(P * N * d) * steps)
        stepper = (TorchCompiledStepper if compiled else TorchInPlaceStepper)(kernel, bufs, blocks, lam, xs, be)
    else:
        lam = np.asarray(bound.data["lam"])  # (P, 1, d)
        xs = None if (bound.x_star is None or not np.any(problem.x_star)) else np.asarray(bound.x_star)
        grid_kernel = isinstance(kernel, GridFused)
        kind_ = NumbaStepper if (grid_kernel or numba_wanted(P * N * d, bufs[0].dtype, steps)) else InPlaceStepper
        stepper = kind_(kernel, bufs, blocks, lam, xs, bufs[0].dtype)
    fields = type(state)
    n = kernel.n
    beta0 = state.beta
    kind = rule._beta_mode[0]
    if kind in ("nan", "const"):
        beta_at = lambda k: beta0  # noqa: E731
    elif tables:  # the momentum of step k (a schedule): computed at the records only
        beta_at = lambda k: rule._beta({**consts, **{n_: t[k] for n_, t in tables.items()}}, be,  # noqa: E731
                                       beta0) + be.zeros_like(beta0)
    else:
        beta1 = rule._beta(consts, be, beta0) + be.zeros_like(beta0)
        beta_at = lambda k: beta1  # noqa: E731
    R = len(_record_steps(steps, record_every))
    rec = _Recorder(bound, be, P, N, d, R, divergence, keep_last)
    stage = stepper.stage

    rows = (rec.rows["dist"], rec.rows["fval"], rec.rows["gnorm"])

    def commit(cur: tuple, beta: Any, staged: bool) -> None:
        r = rec.r
        if staged:
            rows[0][r] = stage[0]
            rows[1][r] = stage[1] * 0.5
            rows[2][r] = stage[2]
        rec.end_record(fields(*[bufs[c] for c in cur], beta))
        rec.end_finish()

    cur = tuple(range(n))
    rec.start(0)
    stepper.record_now(cur)
    commit(cur, beta0, True)
    direct = stepper.direct
    it = _steps_range(steps, progress, method, problem)
    for k in it:
        recording = (k + 1) % record_every == 0 or k + 1 == steps
        if recording:
            rec.start(k + 1)
            r = rec.r
            cur = stepper.step(cur, True, (rows[0][r], rows[1][r], rows[2][r]) if direct else None, k)
            commit(cur, beta_at(k), not direct)
        else:
            cur = stepper.step(cur, False, None, k)
    out_shape = (P,) + tuple(grid) + (S,)
    return rec.trajectory(bufs[cur[0]], out_shape, method, problem, seed_list, be.name, tuple(grid))
