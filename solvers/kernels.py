"""Fused kernels for the engine: a linear method on an eigenbasis quadratic, from its (A, B, C, D).

On a quadratic in its eigenbasis, coordinate ``i`` of a linear method's state evolves on its own:
``xi_{k+1} = T(lambda_i) xi_k + c_i`` with the per-coordinate iteration matrix

    T(lambda) = A + B lambda (I - lambda D)^{-1} C,    c = -B lambda (I - lambda D)^{-1} 1 x*_i

(``u = grad f(y) = lambda (y - x*)``, ``y = C xi + D u``; ``D`` is strictly lower triangular, so
``(I - lambda D)^{-1} = sum_{k<m} lambda^k D^k`` and every entry is a polynomial in lambda of degree
at most m). :class:`FusedLinear` computes ``T`` (and ``c``) once per run from
:func:`~polyak.solvers.linear.state_space`: entries that do not depend on lambda are scalars,
zeros are skipped, a row that is a unit vector passes a state variable on unchanged (heavy
ball's ``x_prev = x`` keeps its buffer). Heavy ball is then ``T_00 x + T_01 x_prev``: 3 array
operations per step instead of the 6 of the step function, reading the same arrays.

Executors. :class:`InPlaceStepper` (numpy, the default of ``simulate`` wherever this applies)
runs it block by block with ``out=`` into the state buffers; :class:`NumbaStepper` (optional,
``pip install 'polyak[fast]'``) runs one compiled pass per step, generated from the method's
structure, with the records summed on the way; on torch :class:`TorchInPlaceStepper` (the same
buffer plan with in-place/``out=`` torch calls on whole arrays, constant grids included through
:class:`TorchGridKernel`) and, optionally, :class:`TorchCompiledStepper` (``torch.compile``: one
kernel a step; ``USE_TORCH_COMPILE``, by default on CUDA when triton is installed);
``FusedLinear.step`` is the out-of-place form (the general loop, where a state cannot be laid
out in buffers). Needs constant scalar hyperparameters, no
noise, an eigenbasis quadratic. It gives the same iterates up to rounding (about 1e-16 relative
per step; the tests compare to 1e-12 against the method's own step, a bare loop and the
eigen-decomposition closed form), not bit for bit: ``simulate(..., fused=False)`` runs the
method's own step.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fused_linear_reason(method: Any, problem: Any, tables: dict, allow_grid: bool = False) -> str | None:
    """Why ``FusedLinear`` cannot run this (None when it can); ``allow_grid``: whether
    hyperparameters that vary run by run (a grid) or step by step (a schedule) are acceptable
    (:class:`GridFused`, compiled kernel only)."""
    from .linear import LinearRule
    from .problems.quadratic import QuadraticProblem

    if not isinstance(method.rule, LinearRule):
        return f"{method.name} is not a linear method (polyak.linear_method)"
    if getattr(problem, "noise", None) is not None:
        return "the problem has gradient noise"
    if not isinstance(problem, QuadraticProblem) or problem.basis != "eigen":
        return "the problem is not a quadratic in its eigenbasis (basis='eigen')"
    if tables and not allow_grid:
        return ("a hyperparameter is a schedule (the iteration matrix differs step by step: only the compiled "
                "kernel runs schedules, pip install 'polyak[fast]')")
    if not allow_grid and method.hyper_shape and int(np.prod(method.hyper_shape)) > 1:
        return ("the hyperparameters form a grid (the iteration matrix differs run by run: only the compiled "
                "kernel runs grids, pip install 'polyak[fast]')")
    return None


def _nz(c: Any) -> bool:
    """Whether a coefficient (a number or an array over runs) is nonzero anywhere."""
    return bool(np.any(np.asarray(c) != 0.0))


class GridFused:
    """The iteration-matrix structure of a linear method whose hyperparameters vary run by run (a
    grid, or one tuning per problem) and/or step by step (schedules): ``Q[k][i][j]`` and
    ``q[k][i]`` (the lambda^k coefficients of ``T`` and ``c / x*``) are numbers or ``(T, Pz, N)``
    arrays (``T`` = steps with a schedule, else 1), from one trace of the step on the
    hyperparameter arrays (``consts`` of shape ``(Pz, N, 1)``, ``tables`` of shape
    ``(steps, Pz, N, 1)``, as ``simulate`` lays them out). Only :class:`NumbaStepper` runs it (the
    coefficients are loaded per run and step, the lambda polynomial is evaluated per element)."""

    def __init__(self, method: Any, problem: Any, consts: dict, Pz: int, N: int, tables: dict | None = None,
                 steps: int = 1) -> None:
        from .linear import trace

        rule = method.rule
        tables = tables or {}
        Tn = steps if tables else 1
        t = trace(rule.fn, rule.n, rule._fn_kwargs({**consts, **tables}), name=rule.name, one=1.0)
        n, m = t.n, t.m

        def val(e: Any) -> Any:
            a = np.asarray(e, dtype=float)
            if a.ndim == 0:
                return float(a)
            a = a[..., 0] if a.shape[-1] == 1 and a.ndim >= 3 else a
            return np.broadcast_to(a, (Tn, Pz, N)).astype(float)

        A = [[val(e) for e in row] for row in t.A]
        B = [[val(e) for e in row] for row in t.B]
        C = [[val(e) for e in row] for row in t.C]
        D = [[val(e) for e in row] for row in t.D]

        def mm(X: list, Y: list) -> list:
            return [[sum((X[i][l] * Y[l][j] for l in range(len(Y))), 0.0) for j in range(len(Y[0]))]
                    for i in range(len(X))]

        Q, q, BDk = [A], [[0.0] * n], B
        for _ in range(m):
            Q.append(mm(BDk, C))
            q.append([-sum((BDk[i][l] for l in range(m)), 0.0) for i in range(n)])
            BDk = mm(BDk, D)
        self.n, self.m, self.Q, self.q, self.rule = n, m, Q, q, rule
        self.steps = Tn
        has_xs = bool(np.any(problem.x_star))
        self.rows, self.passthrough, self.affine = [], [], []
        for i in range(n):
            row = [(None, j) for j in range(n) if any(_nz(Qk[i][j]) for Qk in Q)]
            aff = has_xs and any(_nz(qk[i]) for qk in q)
            unit = (len(row) == 1 and bool(np.all(np.asarray(Q[0][i][row[0][1]]) == 1.0))
                    and not any(_nz(Qk[i][row[0][1]]) for Qk in Q[1:]))
            self.passthrough.append(row[0][1] if (unit and not aff) else None)
            self.rows.append(row)
            self.affine.append(None)


class FusedLinear:
    """Steps a linear method's state with its per-coordinate iteration matrix; see the module docstring."""

    def __init__(self, method: Any, problem: Any, be: Any) -> None:
        from .linear import state_space

        ss = state_space(method)
        A, B, C, D = (np.asarray(M, dtype=float) for M in (ss.A, ss.B, ss.C, ss.D))
        n, m = A.shape[0], B.shape[1]
        # T(lambda) = A + sum_k lambda^(k+1) B D^k C and c = -sum_k lambda^(k+1) B D^k 1 x*: D is
        # strictly lower triangular, so (I - lambda D)^{-1} = sum_{k<m} lambda^k D^k (a polynomial of
        # degree <= m per entry, evaluated by Horner on the eigenvalues: a few passes, no inverse)
        Q, q, BDk = [A], [np.zeros(n)], B
        for _ in range(m):
            Q.append(BDk @ C)
            q.append(-(BDk @ np.ones(m)))
            BDk = BDk @ D
        lam = np.asarray(problem.eigenvalues, dtype=float)  # (P, d)
        P, d = lam.shape

        def horner(coefs: list) -> Any:
            """sum_k coefs[k] lambda^k as a scalar (no lambda term) or a (P, d) array."""
            top = max((k for k, c in enumerate(coefs) if c != 0.0), default=0)
            if top == 0:
                return float(coefs[0])
            acc = np.full((P, d), float(coefs[top]))
            for k in range(top - 1, -1, -1):
                acc *= lam
                if coefs[k] != 0.0:
                    acc += coefs[k]
            return acc

        Tij = [[horner([Qk[i, j] for Qk in Q]) for j in range(n)] for i in range(n)]
        xs = np.asarray(problem.x_star, dtype=float)
        cis = [None] * n
        if np.any(xs):
            for i in range(n):
                ci = horner([qk[i] for qk in q])
                if not (isinstance(ci, float) and ci == 0.0):
                    cis[i] = ci * xs
                if be.dtype == "float32":
                    # the row's coefficients are rounded to float32 once: correct the affine part for
                    # that rounding so that x* stays the fixed point (see _rounded_kernel)
                    corr = sum(((t - np.float32(t).astype(float)) * xs for t in Tij[i]
                                if np.any(np.asarray(t) != np.asarray(t, dtype=np.float32))), 0.0)
                    if np.any(corr != 0.0):
                        cis[i] = corr if cis[i] is None else cis[i] + corr
        self.n = n
        self.m = m
        self.Q, self.q = Q, q  # polynomial coefficients of T and c in lambda (numba code generation)
        self.rule = method.rule
        self.rows: list[list[tuple[Any, int]]] = []
        self.passthrough: list[int | None] = []
        self.affine: list[Any] = []
        for i in range(n):
            row = []
            for j in range(n):
                t = Tij[i][j]
                if isinstance(t, float):
                    if t != 0.0:
                        row.append((t, j))
                else:
                    row.append((be.asarray(t.reshape(P, 1, d)), j))
            ci = None if cis[i] is None else be.asarray(np.asarray(cis[i]).reshape(P, 1, d))
            self.affine.append(ci)
            unit = len(row) == 1 and isinstance(row[0][0], float) and row[0][0] == 1.0
            self.passthrough.append(row[0][1] if (ci is None and unit) else None)
            self.rows.append(row)
        self.P = P

    def for_block(self, p: slice) -> "FusedLinear":
        """The same kernel with its coefficient arrays cut to the problem instances ``p``."""
        out = object.__new__(FusedLinear)
        out.__dict__.update(self.__dict__)
        cut = (lambda a: a if isinstance(a, float) or a.shape[0] == 1 else a[p])
        out.rows = [[(cut(t), j) for t, j in row] for row in self.rows]
        out.affine = [None if a is None else cut(a) for a in self.affine]
        return out

    def step(self, s: Any, h: Any, be: Any) -> Any:
        xi = s[: self.n]
        new = []
        for i in range(self.n):
            j0 = self.passthrough[i]
            if j0 is not None:
                new.append(xi[j0])
                continue
            acc = None
            for t, j in self.rows[i]:
                term = xi[j] if (isinstance(t, float) and t == 1.0) else t * xi[j]
                if acc is None:
                    acc = term if term is not xi[j] else be.copy(term)
                else:
                    acc += term
            if acc is None:
                acc = be.zeros_like(xi[0])
            if self.affine[i] is not None:
                acc += self.affine[i]
            new.append(acc)
        kind = self.rule._beta_mode[0]
        beta = s.beta if kind in ("nan", "const") else self.rule._beta(h, be, s.beta)
        return type(s)(*new, beta)


_vecdot = getattr(np, "vecdot", None)


def _rowdot(a: Any, b: Any, out: Any) -> Any:
    """Inner products over the last axis into ``out`` (numpy >= 2: the vecdot gufunc, else einsum)."""
    if _vecdot is not None:
        return _vecdot(a, b, out)
    return np.einsum("...i,...i->...", a, b, out=out)


class InPlaceStepper:
    """numpy: a :class:`FusedLinear` step applied block by block *into the state buffers*.

    The engine's general loop computes a new state from the method's own step and then writes it
    into the buffers; here every array operation has an ``out=``: a row of ``T`` is accumulated in
    the buffer of a state variable the new state no longer needs (heavy ball: ``x_new`` goes into
    ``x_prev``'s buffer, ``x_prev = x`` keeps its buffer), with one cache-sized scratch block for
    products. Heavy ball is then 3 numpy calls per block (``x_prev *= T01``, ``tmp = T00 x``,
    ``x_prev += tmp``): the arrays a step must read (x, x_prev, T00) and write (x_new) pass
    through memory once. The calls of each (buffer assignment, block) pair are resolved to views
    once (the assignment cycles: period 2 for heavy ball), so a step is a flat list of ufunc calls.

    With ``record``, ``step`` adds, on the block the step has just written (still in cache), the squared
    distance, ``<e, g>`` and ``<g, g>`` of the new iterate (``e = x - x*``, ``g = lambda e``) into a
    ``(3, P, N)`` staging array (one vecdot call per quantity per block).
    """

    def __init__(self, kernel: FusedLinear, bufs: list, blocks: list, lam: np.ndarray, x_star: np.ndarray | None,
                 dtype: Any) -> None:
        self.kernel, self.bufs, self.blocks = kernel, bufs, blocks
        self.n = kernel.n
        P, N, d = bufs[0].shape
        self.stage = np.zeros((3, P, N), dtype=dtype)
        big = max(int(np.prod(b.shape4[:3])) for b in blocks) * d
        nscr = 4 + self.n  # tmp, e, g, spare, one per row that needs a scratch copy
        self.scratch = [np.empty(big, dtype=dtype) for _ in range(nscr)]
        self.P, self.N, self.d = P, N, d
        self.lam = lam
        self.x_star = x_star
        self._progs: dict = {}
        self._rec_progs: dict = {}

    # -- per-block views ------------------------------------------------------------------------
    def _new_buffer(self) -> Any:
        return np.empty_like(self.bufs[0])

    def _blk(self, b: Any) -> tuple:
        return (b.p, b.n)

    def _cut(self, a: Any, b: Any) -> Any:
        """A (P, 1, d) coefficient array (or a scalar) cut to the block's problems."""
        if isinstance(a, float):
            return a
        return a if a.shape[0] == 1 else a[b.p]

    def _scr(self, i: int, b: Any) -> np.ndarray:
        shape = (b.p1 - b.p0, b.n.stop - b.n.start, self.d)
        return self.scratch[i][: int(np.prod(shape))].reshape(shape)

    # -- the plan of one step ---------------------------------------------------------------------
    def plan(self, cur: tuple) -> tuple:
        """(new field -> buffer, per-block programs) for the buffer assignment ``cur`` (field -> buffer)."""
        key = cur
        hit = self._progs.get(key)
        if hit is not None:
            return hit
        k, n = self.kernel, self.n
        new = [None] * n
        for i in range(n):
            if k.passthrough[i] is not None:
                new[i] = cur[k.passthrough[i]]
        kept = {new[i] for i in range(n) if new[i] is not None}
        free = [cur[j] for j in range(n) if cur[j] not in kept]
        free = list(dict.fromkeys(free))  # distinct buffers, in field order
        computed = [i for i in range(n) if k.passthrough[i] is None]
        reads = {i: {j for _, j in k.rows[i]} for i in computed}
        # the old fields each buffer holds (two passthrough rows from one source share a buffer)
        held: dict = {}
        for j in range(n):
            held.setdefault(cur[j], set()).add(j)
        # give each computed row a free buffer whose old fields no later row reads, when there is one;
        # the row goes through the scratch block (copied at the end of the block) when a later row
        # reads what the buffer holds, or when the row itself reads two fields that live in it
        jobs = []
        for pos, i in enumerate(computed):
            later = set().union(*(reads[i2] for i2 in computed[pos + 1:])) if pos + 1 < len(computed) else set()
            if not free:  # (a safeguard: the fields' buffers never run short as the plan is built)
                self.bufs.append(self._new_buffer())
                free.append(len(self.bufs) - 1)
            pick = next((bf for bf in free if not (held.get(bf, set()) & later)), free[0])
            free.remove(pick)
            new[i] = pick
            inside = held.get(pick, set())
            jobs.append((i, pick, bool(inside & later) or len(inside & reads[i]) > 1))
        progs = [self._block_prog(b, cur, jobs) for b in self.blocks] if self.blocks else []
        out = (tuple(new), progs)
        self._progs[key] = out
        return out

    def _block_prog(self, b: Any, cur: tuple, jobs: list) -> list:
        k = self.kernel
        sl = self._blk(b)
        src = [self.bufs[cur[j]][sl] for j in range(self.n)]
        tmp = self._scr(0, b)
        prog, copies = [], []
        for idx, (i, target_buf, hazard) in enumerate(jobs):
            if hazard:
                out = self._scr(4 + idx, b)
                copies.append((np.copyto, (self.bufs[target_buf][sl], out)))
                alias = None
            else:
                out = self.bufs[target_buf][sl]
                # the one field living in the target buffer that this row reads (its term goes first)
                alias = next((j for _, j in k.rows[i] if cur[j] == target_buf), None)
            terms = sorted(k.rows[i], key=lambda tj: 0 if tj[1] == alias else 1)
            first = True
            for t, j in terms:
                coef = self._cut(t, b)
                x = src[j]
                if first:
                    if isinstance(coef, float) and coef == 1.0:
                        if x is not out and not (alias is not None and j == alias):
                            prog.append((np.copyto, (out, x)))
                    elif isinstance(coef, float):
                        prog.append((np.multiply, (x, coef, out)))
                    else:
                        prog.append((np.multiply, (coef, x, out)))
                    first = False
                    continue
                if isinstance(coef, float) and coef == 1.0:
                    prog.append((np.add, (out, x, out)))
                elif isinstance(coef, float) and coef == -1.0:
                    prog.append((np.subtract, (out, x, out)))
                else:
                    prog.append((np.multiply, (coef, x, tmp) if not isinstance(coef, float) else (x, coef, tmp)))
                    prog.append((np.add, (out, tmp, out)))
            if first:  # no term: the row is zero (or only its affine part)
                prog.append((np.multiply, (src[0], 0.0, out)))
            if k.affine[i] is not None:
                prog.append((np.add, (out, self._cut(k.affine[i], b), out)))
        return prog + copies

    def record_prog(self, buf: int) -> list:
        """Per-block calls that put ``<e, e>``, ``<e, g>``, ``<g, g>`` of the iterate in buffer ``buf`` into the stage."""
        hit = self._rec_progs.get(buf)
        if hit is None:
            hit = self._rec_progs[buf] = [
                self._record_block(b, self.bufs[buf][self._blk(b)], [self.stage[q][self._blk(b)] for q in range(3)])
                for b in self.blocks]
        return hit

    def _record_block(self, b: Any, x: Any, st: list) -> list:
        """The calls of one block's record sums (``x``: the block of the iterate, ``st``: its stage rows)."""
        prog = []
        if self.x_star is None:
            e = x
        else:
            e = self._scr(1, b)
            prog.append((np.subtract, (x, self._cut(self.x_star, b), e)))
        g = self._scr(2, b)
        prog.append((_rowdot, (e, e, st[0])))
        prog.append((np.multiply, (self._cut(self.lam, b), e, g)))
        prog.append((_rowdot, (e, g, st[1])))
        prog.append((_rowdot, (g, g, st[2])))
        return prog

    #: the record sums go into ``self.stage`` (``<e, e>``, ``<e, g>``, ``<g, g>``)
    direct = False

    def step(self, cur: tuple, record: bool, into: Any = None, k: int = 0) -> tuple:
        """One step of every block (and, when ``record``, the record sums of the new iterate into
        ``self.stage``); returns the new field -> buffer assignment."""
        new, progs = self.plan(cur)
        if record:
            rprogs = self.record_prog(new[0])
            for prog, rprog in zip(progs, rprogs):
                for fn, args in prog:
                    fn(*args)
                for fn, args in rprog:
                    fn(*args)
        else:
            for prog in progs:
                for fn, args in prog:
                    fn(*args)
        return new

    def record_now(self, cur: tuple) -> None:
        """The record sums of the iterate held now (record 0)."""
        for rprog in self.record_prog(cur[0]):
            for fn, args in rprog:
                fn(*args)


# -- torch: the same in-place step with torch's out=/in-place operations ------------------------------
class TorchGridKernel:
    """:class:`FusedLinear`'s structure (``rows``, ``passthrough``, ``affine``) for torch when the
    hyperparameters are constant but vary run by run (a grid, or one tuning per problem): every
    entry of ``T`` that depends on both lambda and the run is materialised once per run as a
    ``(P, N, d)`` tensor on the device (heavy ball: ``T00 = 1 + beta - alpha lambda``; ``T01 =
    -beta`` stays ``(Pz, N, 1)``), so a step reads one more state-sized array than with scalar
    hyperparameters. Built from :class:`GridFused`'s polynomial coefficients (one trace of the
    step on the hyperparameter arrays); schedules are not run here (the own step runs them)."""

    def __init__(self, method: Any, problem: Any, consts: dict, Pz: int, N: int, be: Any) -> None:
        g = GridFused(method, problem, consts, Pz, N)
        lam = be.asarray(np.asarray(problem.eigenvalues, dtype=float)[:, None, :])  # (P, 1, d)
        xs = be.asarray(np.asarray(problem.x_star, dtype=float)[:, None, :]) if np.any(problem.x_star) else None

        def coef(c: Any) -> Any:
            if isinstance(c, float):
                return c
            a = np.asarray(c)[0]  # (Pz, N): Tn = 1 (no schedule)
            if np.all(a == a.flat[0]):
                return float(a.flat[0])
            return be.asarray(a[..., None])  # (Pz, N, 1)

        def horner(coefs: list) -> Any:
            cs = [coef(c) for c in coefs]
            nz = [k for k, c in enumerate(cs) if not (isinstance(c, float) and c == 0.0)]
            top = max(nz, default=0)
            if top == 0:
                return cs[0]
            acc = cs[top]
            for k in range(top - 1, -1, -1):
                acc = acc * lam
                c = cs[k]
                if not (isinstance(c, float) and c == 0.0):
                    acc = acc + c
            return acc

        self.n, self.m, self.rule = g.n, g.m, g.rule
        self.rows, self.passthrough, self.affine = [], [], []
        for i in range(g.n):
            row = []
            for _, j in g.rows[i]:
                t = horner([Qk[i][j] for Qk in g.Q])
                if isinstance(t, float):
                    if t != 0.0:
                        row.append((t, j))
                else:
                    row.append((t.contiguous(), j))
            ci = None
            if xs is not None and any(_nz(qk[i]) for qk in g.q):
                c = horner([qk[i] for qk in g.q])
                ci = (c * xs).contiguous() if not isinstance(c, float) else (c * xs if c != 0.0 else None)
            self.affine.append(ci)
            unit = len(row) == 1 and isinstance(row[0][0], float) and row[0][0] == 1.0
            self.passthrough.append(row[0][1] if (ci is None and unit) else None)
            self.rows.append(row)


class TorchInPlaceStepper(InPlaceStepper):
    """torch: :class:`InPlaceStepper`'s plan (which buffer each new field goes to, when a row needs
    scratch) with torch operations into the state buffers: no array is allocated per step.

    A row of ``T`` is one in-place call per term: the first term ``out.mul_(T_ij)`` (or
    ``torch.mul(T_ij, x_j, out=out)``), every further one ``out.addcmul_(T_ij, x_j)`` (a scalar
    coefficient: ``out.add_(x_j, alpha=T_ij)``); heavy ball is ``x_prev.mul_(-beta).addcmul_(T00, x)``:
    2 kernels per step. With ``record``, the record sums of the new iterate (``e = x - x*`` and
    ``h = sqrt(lambda) e``, ``g = sqrt(lambda) h`` into two scratch tensors, then ``<e, e>``,
    ``<e, g> = ||h||^2``, ``<g, g>`` as squared ``vector_norm``s) are written into the ``(3, P, N)`` stage tensor on the
    device: nothing is read back to the host per step or per record. On a device there is one
    block (whole arrays); on the CPU ``block_size`` may split the runs (measured in
    benchmarks/engine.py: on torch CPU whole arrays are as fast, so one block is the default)."""

    def __init__(self, kernel: Any, bufs: list, blocks: list, lam: Any, x_star: Any, be: Any) -> None:
        torch = be.lib
        self.torch, self.be = torch, be
        if bufs[0].dtype != torch.float64:
            kernel = _rounded_kernel(kernel, bufs[0].dtype, torch)
        self.kernel, self.bufs, self.blocks = kernel, bufs, blocks
        self.n = kernel.n
        P, N, d = bufs[0].shape
        self.stage = torch.zeros((3, P, N), dtype=bufs[0].dtype, device=bufs[0].device)
        # scratch tensors of one block's size, allocated when a program first needs one (on a device a
        # block is the whole batch: only e and g for the records, and a row that reads its own target)
        self._big = max(int(np.prod(b.shape4[:3])) for b in blocks) * d
        self.scratch: dict = {}
        self.P, self.N, self.d = P, N, d
        self.lam, self.x_star = lam, x_star
        self.sqrt_lam = torch.sqrt(lam)  # (eigenvalues are > 0)
        self._progs, self._rec_progs = {}, {}

    def _new_buffer(self) -> Any:
        return self.torch.empty_like(self.bufs[0])

    def _cut(self, a: Any, b: Any) -> Any:
        """A coefficient (a number, or a tensor of shape (P or 1, N or 1, d or 1)) cut to the block."""
        if isinstance(a, float):
            return a
        ps = b.p if a.shape[0] > 1 else slice(None)
        ns = b.n if a.shape[1] > 1 else slice(None)
        return a[ps, ns]

    def _scr(self, i: int, b: Any) -> Any:
        shape = (b.p1 - b.p0, b.n.stop - b.n.start, self.d)
        buf = self.scratch.get(i)
        if buf is None:
            buf = self.scratch[i] = self.torch.empty(self._big, dtype=self.bufs[0].dtype, device=self.bufs[0].device)
        return buf[: int(np.prod(shape))].view(shape)

    def _block_prog(self, b: Any, cur: tuple, jobs: list) -> list:
        from functools import partial

        torch = self.torch
        k = self.kernel
        sl = self._blk(b)
        src = [self.bufs[cur[j]][sl] for j in range(self.n)]
        prog, copies = [], []
        for idx, (i, target_buf, hazard) in enumerate(jobs):
            if hazard:
                out = self._scr(4 + idx, b)
                copies.append(partial(self.bufs[target_buf][sl].copy_, out))
                alias = None
            else:
                out = self.bufs[target_buf][sl]
                alias = next((j for _, j in k.rows[i] if cur[j] == target_buf), None)
            terms = sorted(k.rows[i], key=lambda tj: 0 if tj[1] == alias else 1)
            first = True
            for t, j in terms:
                coef = self._cut(t, b)
                x = src[j]
                is_out = alias is not None and j == alias
                if first:
                    first = False
                    if isinstance(coef, float) and coef == 1.0:
                        if not is_out:
                            prog.append(partial(out.copy_, x))
                    elif is_out:
                        prog.append(partial(out.mul_, coef))
                    else:
                        prog.append(partial(torch.mul, x, coef, out=out))
                    continue
                if isinstance(coef, float):
                    if coef == 1.0:
                        prog.append(partial(out.add_, x))
                    elif coef == -1.0:
                        prog.append(partial(out.sub_, x))
                    else:
                        prog.append(partial(out.add_, x, alpha=coef))
                else:
                    prog.append(partial(out.addcmul_, coef, x))
            if first:  # no term: the row is zero (or only its affine part)
                prog.append(out.zero_)
            if k.affine[i] is not None:
                prog.append(partial(out.add_, self._cut(k.affine[i], b)))
        return prog + copies

    def _record_block(self, b: Any, x: Any, st: list) -> list:
        from functools import partial

        torch = self.torch
        prog = []
        if self.x_star is None:
            e = x
        else:
            e = self._scr(1, b)
            prog.append(partial(torch.sub, x, self._cut(self.x_star, b), out=e))
        # h = sqrt(lambda) e and g = sqrt(lambda) h = lambda e: then <e, e>, <e, g> = ||h||^2 and
        # <g, g> are three squared norms (vector_norm: one read per array, ~4x faster than einsum
        # on torch CPU, see BENCHMARKS.md)
        # (one run per problem, N = 1: einsum's <e, g> is as fast as the extra product: g = lambda e)
        g = self._scr(2, b)
        if b.n.stop - b.n.start == 1:
            prog.append(partial(torch.mul, self._cut(self.lam, b), e, out=g))
            norms = ((0, e), (2, g))
            prog.append(partial(_einsum_into, torch, e, g, st[1]))
        else:
            h = self._scr(3, b)
            sl_ = self._cut(self.sqrt_lam, b)
            prog.append(partial(torch.mul, sl_, e, out=h))
            prog.append(partial(torch.mul, sl_, h, out=g))
            norms = ((0, e), (1, h), (2, g))
        for q, u in norms:
            prog.append(partial(torch.linalg.vector_norm, u, dim=-1, out=st[q]))
            prog.append(st[q].square_)
        return prog

    direct = False

    def step(self, cur: tuple, record: bool, into: Any = None, k: int = 0) -> tuple:
        new, progs = self.plan(cur)
        if record:
            for prog, rprog in zip(progs, self.record_prog(new[0])):
                for fn in prog:
                    fn()
                for fn in rprog:
                    fn()
        else:
            for prog in progs:
                for fn in prog:
                    fn()
        return new

    def record_now(self, cur: tuple) -> None:
        for rprog in self.record_prog(cur[0]):
            for fn in rprog:
                fn()


#: torch.compile of the fused step (one generated kernel a step: the row sums, the affine part and,
#: when recording, the three record sums fused; inductor's triton kernels on CUDA, C++ on the CPU).
#: "auto": on a CUDA device when triton is installed and the run has at least TORCH_COMPILE_MIN_WORK
#: element-steps (a first compile takes seconds: small runs, like the claims of ``polyak verify``,
#: are faster eager); True: always (the CPU needs a C++ compiler;
#: the tests use it there); False: never (the eager in-place kernels). POLYAK_TORCH_COMPILE=0 sets False,
#: POLYAK_TORCH_COMPILE=1 True.
USE_TORCH_COMPILE: Any = "auto"
TORCH_COMPILE_MIN_WORK = 1e10
_TORCH_COMPILED: dict = {}
_WARM: set = set()  # compiled step functions already called once (compiled)


def torch_compile_wanted(device: str, work: float | None = None) -> bool:
    """Whether ``simulate`` steps a torch fused run on ``device`` of ``work`` element-steps (elements
    per state array x steps; None: the size does not decide) with :class:`TorchCompiledStepper`."""
    import os

    mode = USE_TORCH_COMPILE
    env = os.environ.get("POLYAK_TORCH_COMPILE", "").strip()
    if env in ("0", "false", "False", "no"):
        mode = False
    elif env in ("1", "true", "True", "yes"):
        mode = True
    if mode is False:
        return False
    if mode is True:
        return True
    return (str(device).startswith("cuda") and (work is None or work >= TORCH_COMPILE_MIN_WORK)
            and importlib_find("triton"))


def _compiled_step(spec: tuple) -> Any:
    """The compiled step for a structure ``spec`` = (rows, record, x_src, has_xs): ``rows`` a tuple of
    (target field, ((field, kind), ...), affine) per computed row, kind "one", "neg" or "coef" (the
    coefficients are arguments: one compile serves every hyperparameter value); cached per process."""
    hit = _TORCH_COMPILED.get(spec)
    if hit is not None:
        return hit
    import torch

    rows, record, x_src, has_xs = spec

    def step(fields, coefs, lam, xs):
        vals = []
        c = 0
        for _target, terms, aff in rows:
            acc = None
            for j, kind in terms:
                if kind == "one":
                    t = fields[j]
                elif kind == "neg":
                    t = -fields[j]
                else:
                    t = coefs[c] * fields[j]
                    c += 1
                acc = t if acc is None else acc + t
            if acc is None:
                acc = fields[0] * 0.0
            if aff:
                acc = acc + coefs[c]
                c += 1
            vals.append(acc)
        for (target, _terms, _aff), v in zip(rows, vals):  # every read done: write the targets
            fields[target].copy_(v)
        if not record:
            return None
        kind, idx = x_src
        x = vals[idx] if kind == "computed" else fields[idx]
        e = x - xs if has_xs else x
        g = lam * e
        return torch.stack([(e * e).sum(-1), (e * g).sum(-1), (g * g).sum(-1)])

    # a code object of its own per structure: dynamo caches (and counts recompiles) per code object;
    # shapes are dynamic after a first recompile, so problem sizes do not add compiles without bound
    import types

    code = step.__code__.replace(co_name=f"polyak_fused_step_{len(_TORCH_COMPILED)}")
    fresh = types.FunctionType(code, step.__globals__, code.co_name, step.__defaults__, step.__closure__)
    fn = torch.compile(fresh, dynamic=None, fullgraph=True)
    _TORCH_COMPILED[spec] = fn
    return fn


class TorchCompiledStepper(TorchInPlaceStepper):
    """:class:`TorchInPlaceStepper`'s buffer plan with the step as one ``torch.compile``d function
    (see ``USE_TORCH_COMPILE``): the new rows are computed from the old fields and written into
    their target buffers inside the compiled graph (inductor fuses the arithmetic and the writes
    into one kernel: a heavy-ball step should read x, x_prev, T00 and write x_prev once, the
    bound's traffic; measured with inductor's C++ backend on the CPU only, never with triton on a
    GPU), the record sums too when recording. Structures where a target buffer holds two
    fields or a row needs an extra buffer fall back to the eager programs (``compiled`` False)."""

    def __init__(self, kernel: Any, bufs: list, blocks: list, lam: Any, x_star: Any, be: Any) -> None:
        super().__init__(kernel, bufs, blocks[:1] if len(blocks) == 1 else blocks, lam, x_star, be)
        self._calls: dict = {}
        self.compiled = len(blocks) == 1

    def _call(self, cur: tuple, record: bool) -> Any:
        key = (cur, record)
        hit = self._calls.get(key)
        if hit is not None:
            return hit
        torch = self.torch
        new, _ = self.plan(cur)
        k = self.kernel
        dt, dev = self.bufs[0].dtype, self.bufs[0].device
        computed = [i for i in range(self.n) if k.passthrough[i] is None]
        rows, coefs = [], []
        ok = True
        for i in computed:
            owners = [j for j in range(self.n) if cur[j] == new[i]]
            if len(owners) != 1:
                ok = False
                break
            terms = []
            for t, j in k.rows[i]:
                if isinstance(t, float) and t == 1.0:
                    terms.append((j, "one"))
                elif isinstance(t, float) and t == -1.0:
                    terms.append((j, "neg"))
                else:
                    terms.append((j, "coef"))
                    # (a device fill, not torch.tensor: no host-to-device copy, which would synchronise)
                    coefs.append(t if not isinstance(t, float) else torch.full((), t, dtype=dt, device=dev))
            aff = k.affine[i] is not None
            if aff:
                coefs.append(k.affine[i])
            rows.append((owners[0], tuple(terms), aff))
        if not ok:
            out = None
        else:
            x_src = ("computed", computed.index(0)) if 0 in computed else ("state", k.passthrough[0])
            spec = (tuple(rows), record, x_src, self.x_star is not None)
            out = (new, _compiled_step(spec), tuple(coefs))
        self._calls[key] = out
        return out

    def step(self, cur: tuple, record: bool, into: Any = None, k: int = 0) -> tuple:
        hit = self._call(cur, record) if self.compiled else None
        if hit is None:
            return super().step(cur, record, into, k)
        new, fn, coefs = hit
        fields = tuple(self.bufs[cur[j]] for j in range(self.n))
        xs = self.x_star if self.x_star is not None else self.lam
        if fn in _WARM:
            res = fn(fields, coefs, self.lam, xs)
        else:  # the first call compiles: torch's own internals warn (DeprecationWarning) on the way
            import warnings

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    res = fn(fields, coefs, self.lam, xs)
            except Exception as exc:  # compiling failed (no compiler, a dynamo limit): before any write
                warnings.warn(f"torch.compile of the fused step failed ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}); the eager in-place kernels run "
                              f"instead (kernels.USE_TORCH_COMPILE = False silences this)", RuntimeWarning,
                              stacklevel=2)
                self.compiled = False
                return super().step(cur, record, into, k)
            _WARM.add(fn)
        if record:
            self.stage.copy_(res)
        return new


def _einsum_into(torch: Any, a: Any, b: Any, out: Any) -> None:
    """``out[...] = sum_i a[..., i] b[..., i]`` (einsum: no state-sized temporary)."""
    out.copy_(torch.einsum("...i,...i->...", a, b))


def _rounded_kernel(kernel: Any, dtype: Any, torch: Any) -> Any:
    """The kernel's float64 coefficients rounded to ``dtype`` (float32), with each row's affine part
    corrected for the rounding of that row's coefficients: ``c_i + sum_j (T_ij - round(T_ij)) x*``.

    Without it the rounded matrix has another fixed point than x*: ``(I - T)`` is nearly singular
    for small eigenvalues (heavy ball: its smallest entry is ~alpha mu), so a coefficient rounding
    of ~eps moves the fixed point by ~eps / (alpha mu) relative, far above the own step's float32
    error (its gradient ``lambda (x - x*)`` vanishes at x* exactly). With the correction the
    rounded iteration keeps x* as its fixed point up to the rounding of ``c`` itself. The correction
    needs x*, which ``kernel.x_star64`` holds (None: x* = 0, nothing to correct).
    The kernel is rounded in place (its float64 tensors are not kept)."""
    out = kernel  # rounded in place: the float64 coefficients (a grid's are state-sized) are freed
    xs = getattr(kernel, "x_star64", None)
    rows, affine = [], []
    for i, row in enumerate(kernel.rows):
        corr = None
        new_row = []
        for t, j in row:
            if isinstance(t, float):
                t32 = float(torch.tensor(t, dtype=dtype))
                d = t - t32
                new_row.append((t32, j))
            else:
                t32 = t.to(dtype)
                d = t - t32.to(torch.float64)
                new_row.append((t32, j))
            if xs is not None and kernel.passthrough[i] is None and not (isinstance(d, float) and d == 0.0):
                term = d * xs
                corr = term if corr is None else corr + term
        rows.append(new_row)
        a = kernel.affine[i]
        if corr is not None:
            a = corr if a is None else a + corr
        affine.append(None if a is None else a.to(dtype).contiguous())
    out.rows, out.affine, out.x_star64 = rows, affine, None
    return out



# -- a compiled kernel (numba, optional: pip install 'polyak[fast]') ------------------------------------
#: "auto": the compiled kernel when numba is installed, the run is float64, the state has at least
#: NUMBA_MIN_ELEMENTS elements per array and the run at least NUMBA_MIN_WORK element-steps (numba's
#: import, ~0.5 s once per process, and a first compile, ~1 s once per machine and structure, are
#: then small against the run); True: whenever numba is installed (float64); False: never.
#: The environment variable POLYAK_NUMBA=0 sets False.
USE_NUMBA: Any = "auto"
NUMBA_MIN_ELEMENTS = 1 << 16
NUMBA_MIN_WORK = 2e7
_COMPILED: dict = {}


def importlib_find(name: str) -> bool:
    """Whether module ``name`` can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec(name) is not None


def numba_wanted(size: int, dtype: Any, steps: int | None = None, force: bool = False) -> bool:
    """Whether ``simulate`` steps an in-place run of ``size`` elements per state array for ``steps``
    steps with the compiled kernel (see ``USE_NUMBA``; ``steps=None``: the size alone decides;
    ``force``: whenever numba is installed and allowed, as for ``fused=True`` on a grid)."""
    import os

    mode = USE_NUMBA
    if os.environ.get("POLYAK_NUMBA", "").strip() in ("0", "false", "False", "no"):
        mode = False
    if mode is False or np.dtype(dtype) != np.float64:
        return False
    if not importlib_find("numba"):
        return False
    return force or mode is True or (size >= NUMBA_MIN_ELEMENTS and (steps is None or size * steps >= NUMBA_MIN_WORK))


def _poly(coefs: list, names: list, var: str = "l") -> str:
    """Horner form of sum_k coefs[k] var^k with the nonzero coefficients named ``names[k]``."""
    top = max((k for k, c in enumerate(coefs) if c != 0.0), default=-1)
    if top < 0:
        return "0.0"
    expr = names[top]
    for k in range(top - 1, -1, -1):
        expr = f"({names[k]} + {var} * {expr})" if coefs[k] != 0.0 else f"({var} * {expr})"
    return expr


def numba_source(kernel: FusedLinear, computed: list, has_xs: bool, rec_field_src: Any) -> tuple[str, list]:
    """Python source of a numba kernel for ``kernel``'s structure, and the coefficient vector it takes.

    The kernel reads, per element, lambda (and x*), the n state values, evaluates the entries of
    T(lambda) (and c(lambda)) in registers from their polynomial coefficients, writes the computed
    rows into their target arrays after every read of that element (so a target may be an input),
    and, when ``rec``, sums ``<e, e>``, ``<e, g>``, ``<g, g>`` of the new iterate (``e = x - x*``,
    ``g = lambda e``).
    Only the structure (which entries are nonzero, their degrees) is in the source; the values
    are the vector ``cf``, so one compiled kernel serves every hyperparameter value.
    """
    n = kernel.n
    Q, q = kernel.Q, kernel.q
    cf: list = []

    def names_for(coefs: list) -> list:
        out = []
        for c in coefs:
            if _nz(c):
                out.append(f"c{len(cf)}")
                cf.append(c)
            else:
                out.append(None)
        return out

    def flags(coefs: list) -> list:
        return [1.0 if _nz(c) else 0.0 for c in coefs]

    body = []
    for o, i in enumerate(computed):
        terms = []
        for j in range(n):
            coefs = [Qk[i][j] for Qk in Q]
            if not any(_nz(c) for c in coefs):
                continue
            terms.append(f"{_poly(flags(coefs), names_for(coefs))} * v{j}")
        if has_xs:
            coefs = [qk[i] for qk in q]
            if any(_nz(c) for c in coefs):
                terms.append(f"{_poly(flags(coefs), names_for(coefs))} * xsv")
        body.append(f"w{o} = " + (" + ".join(terms) if terms else "0.0"))
    if rec_field_src[0] == "computed":
        x_new = f"o{rec_field_src[1]}"
    else:
        x_new = f"s{rec_field_src[1]}"
    args = ", ".join(["lam", "xs"] + [f"s{j}" for j in range(n)] + [f"o{o}" for o in range(len(computed))]
                     + ["cf", "rec", "st0", "st1", "st2"])
    lines = [
        "import numba",
        "import numpy as np",
        "",
        "",
        "@numba.njit(cache=True, fastmath={'reassoc', 'contract', 'nsz'}, boundscheck=False)",
        f"def kernel({args}):",
        "    P, N, D = s0.shape",
        "    PL = lam.shape[0]",
        "    PC = cf.shape[1]",
        "    NC = cf.shape[2]",
    ]
    lines += [f"    t{o} = np.empty(D, dtype=s0.dtype)" for o in range(len(computed))]

    ind = "        "
    lines += [
        "    for p in range(P):",
        "        pl = p if PL > 1 else 0",
        "        pc = p if PC > 1 else 0",
        "        for r in range(N):",
        "            rc = r if NC > 1 else 0",
    ]
    # the coefficients of this run (scalars of the method, or one grid point's values)
    lines += [f"{ind}    c{k} = cf[{k}, pc, rc]" for k in range(len(cf))]
    C = len(computed)
    head = [f"{ind}        l = lam[pl, 0, i]"] + ([f"{ind}        xsv = xs[pl, 0, i]"] if has_xs else [])
    head += [f"{ind}        v{j} = s{j}[p, r, i]" for j in range(n)]
    head += [f"{ind}        " + b for b in body]
    # with records: one loop computes the new row into scratch rows (which alias nothing, so the
    # loop and its three sums vectorise) and a second copies them into the state; without: the
    # step writes the state directly (its output may be one of its inputs: x_new into x_prev)
    e_of = (x_new.replace("o", "w", 1) if x_new.startswith("o") else x_new.replace("s", "v", 1))
    lines += [
        f"{ind}    if rec:",
        f"{ind}        a0 = 0.0",
        f"{ind}        a1 = 0.0",
        f"{ind}        a2 = 0.0",
        f"{ind}        for i in range(D):",
    ]
    lines += ["    " + h for h in head]
    lines += [f"{ind}            t{o}[i] = w{o}" for o in range(C)]
    lines += [
        f"{ind}            e = {e_of}" + (" - xsv" if has_xs else ""),
        f"{ind}            g = l * e",
        f"{ind}            a0 += e * e",
        f"{ind}            a1 += e * g",
        f"{ind}            a2 += g * g",
    ]
    if C:
        lines += [f"{ind}        for i in range(D):"] + [f"{ind}            o{o}[p, r, i] = t{o}[i]" for o in range(C)]
    lines += [
        f"{ind}        st0[p, r] = a0",
        f"{ind}        st1[p, r] = 0.5 * a1",
        f"{ind}        st2[p, r] = a2",
        f"{ind}    else:",
        f"{ind}        for i in range(D):",
    ]
    lines += ["    " + h for h in head]
    lines += [f"{ind}            o{o}[p, r, i] = w{o}" for o in range(C)]
    lines.append("")
    return "\n".join(lines), cf


def _compile(src: str) -> Any:
    """The ``kernel`` function of ``src``, compiled by numba; cached in this process and on disk
    (a source file under ``$POLYAK_CACHE_DIR`` or ``~/.cache/polyak/kernels``, numba's cache beside
    it), so a structure is compiled once per machine. Falls back to an in-memory compile when the
    cache directory is not writable."""
    import hashlib
    import importlib.util
    import os
    import sys

    hit = _COMPILED.get(src)
    if hit is not None:
        return hit
    digest = hashlib.sha1(src.encode()).hexdigest()[:20]
    home = os.path.expanduser("~")
    if home.startswith("~"):  # no home directory: the temporary one
        import tempfile

        home = tempfile.gettempdir()
    root = os.environ.get("POLYAK_CACHE_DIR") or os.path.join(home, ".cache", "polyak")
    folder = os.path.join(root, "kernels")
    fn = None
    try:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"k_{digest}.py")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as fh:
                fh.write(src)
            os.replace(tmp, path)
        name = f"polyak_kernel_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # numba's cache re-imports the module by name when it loads the kernel
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        fn = mod.kernel
    except OSError:
        fn = None
    if fn is None:  # no writable cache: compile in memory
        import numba

        ns: dict = {}
        exec(compile(src.replace("cache=True", "cache=False"), f"<polyak kernel {digest}>", "exec"), ns)
        fn = ns["kernel"]
        assert isinstance(fn, numba.core.registry.CPUDispatcher)
    _COMPILED[src] = fn
    return fn


class NumbaStepper(InPlaceStepper):
    """The in-place step as one compiled pass per step (numba): every array is read once and the
    new state written once, and the records of the new iterate are summed in registers on the
    way (no extra pass: recording every step costs about what a step costs). The buffer
    assignment is :class:`InPlaceStepper`'s; record 0 uses its numpy sums."""

    def __init__(self, kernel: FusedLinear, bufs: list, blocks: list, lam: np.ndarray, x_star: np.ndarray | None,
                 dtype: Any) -> None:
        super().__init__(kernel, bufs, blocks, lam, x_star, dtype)
        self._calls: dict = {}
        self._step_blocks = []  # plans without numpy programs
        self.lam_c = np.ascontiguousarray(lam)
        self.xs_c = np.ascontiguousarray(x_star) if x_star is not None else np.zeros((1, 1, 1))
        self.st = [self.stage[0], self.stage[1], self.stage[2]]

    def _call(self, cur: tuple) -> tuple:
        hit = self._calls.get(cur)
        if hit is not None:
            return hit
        blocks, self.blocks = self.blocks, []
        try:
            new, _ = self.plan(cur)
        finally:
            self.blocks = blocks
        k = self.kernel
        computed = [i for i in range(self.n) if k.passthrough[i] is None]
        src0 = ("computed", computed.index(0)) if 0 in computed else ("state", k.passthrough[0])
        src, cf = numba_source(k, computed, self.x_star is not None, src0)
        fn = _compile(src)
        args = ([self.bufs[cur[j]] for j in range(self.n)] + [self.bufs[new[i]] for i in computed])
        # (T, K, PC, NC): T = 1 unless a schedule varies the coefficients step by step
        shape = np.broadcast_shapes((1, 1, 1), *(np.shape(c) for c in cf))
        coef = np.zeros((shape[0], max(len(cf), 1)) + shape[1:])
        for idx, c in enumerate(cf):
            coef[:, idx] = c
        out = (new, fn, args, coef)
        self._calls[cur] = out
        return out

    #: the kernel writes the record sums where it is told (``into``), not into the stage
    direct = True

    def step(self, cur: tuple, record: bool, into: Any = None, k: int = 0) -> tuple:
        new, fn, args, cf = self._call(cur)
        fn(self.lam_c, self.xs_c, *args, cf[k if cf.shape[0] > 1 else 0], record,
           *(into if into is not None else self.st))
        return new
