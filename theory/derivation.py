"""The Derivation record, its steps, and the registry of derivations.

A :class:`Derivation` is one symbolic result of the toolkit: the sympy expressions it produces,
the parameters they depend on (sympy symbols carrying their assumptions), the admissible domain as
sympy relations, the steps that produced it (kept as data so a notebook can show the derivation,
not only the answer), LaTeX, numeric functions for numpy and torch (``lambdify``, cached), and its
provenance.

Builders live one analysis per file (``heavy_ball.py``, ``spa.py``, ...). Each registers itself
with :func:`register`; nothing is built until :func:`get` asks for it, and each build is cached, so
``import polyak.theory`` stays cheap.

Each build is also kept on disk (a pickle of the built record under ``$POLYAK_CACHE_DIR`` or
``~/.cache/polyak``, in ``derivations/<key>/``), so a new process loads it instead of deriving it
again (all 19: ~0.5 s to load against ~2 s to derive). The key is a hash of the source of every
module of this package (builders use sympy and this package only), sympy's version, Python's
version and the pickle protocol: a change to any of them is a new key, never a stale result. A file
that cannot be read or unpickled is rebuilt; an unwritable cache directory only means no disk
cache. ``POLYAK_DERIVATION_CACHE=0`` turns it off (the test suite does, so that it tests the
builders; ``tests/theory/test_derivation_cache.py`` tests the cache).

References: none (infrastructure).

Example:
    >>> from polyak.theory import get
    >>> d = get("gd-quadratic-optimal")
    >>> d.evaluate(mu=1, L=3)["rho"]
    0.5
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import sympy as sp

__all__ = ["Step", "Derivation", "register", "get", "names", "title", "build_all", "parse_values", "gt", "ge", "lt", "le"]


# Domain relations are built unevaluated: with alpha declared positive, sympy would turn
# ``alpha > 0`` into ``True`` and the numeric check of a user's value would be vacuous.
def gt(a: Any, b: Any) -> sp.Rel:
    return sp.StrictGreaterThan(a, b, evaluate=False)


def ge(a: Any, b: Any) -> sp.Rel:
    return sp.GreaterThan(a, b, evaluate=False)


def lt(a: Any, b: Any) -> sp.Rel:
    return sp.StrictLessThan(a, b, evaluate=False)


def le(a: Any, b: Any) -> sp.Rel:
    return sp.LessThan(a, b, evaluate=False)

#: The analysis modules, one per file; importing one registers its builders.
_MODULES = (
    "heavy_ball",
    "gradient_descent",
    "nesterov",
    "spa",
    "demon",
    "adaptive_hb",
    "adaptive_memory",
    "lyapunov_spa",
    "gfj",
)

_BUILDERS: dict[str, Callable[[], "Derivation"]] = {}
#: titles given at registration, so that listing the derivations builds none of them
_TITLES: dict[str, str] = {}


# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One step of a derivation: what was done, and the sympy object it produced.

    ``expr`` may be an expression, an equation (``sympy.Eq``), a relation, a matrix or a tuple of
    these; it is shown, never evaluated.
    """

    description: str
    expr: Any

    def latex(self, symbol_names: Mapping[sp.Symbol, str] | None = None) -> str:
        return sp.latex(self.expr, symbol_names=dict(symbol_names or {}))


@dataclass(frozen=True, eq=False)
class Derivation:
    """A symbolic result with its derivation, assumptions, numeric functions and provenance.

    Attributes:
        name: registry name, e.g. ``"hb-quadratic-optimal"``.
        title: one line for people.
        parameters: the input symbols, with their sympy assumptions; every expression is a function
            of (a subset of) these.
        expressions: the results, name -> sympy expression in ``parameters``.
        steps: the derivation, in order.
        assumptions: the hypotheses in words (what ``domain`` encodes, and what sympy cannot).
        domain: sympy relations the parameters must satisfy; :meth:`evaluate` and the numeric
            helpers check them.
        provenance: ``"[derived] derived here"``, ``"[paper] <citation>"`` and so on, with the
            papers.md tag first.
        references: bib keys into ``papers/refs.bib``.
        identities: name -> (lhs, rhs) pairs that must agree; the tests check each symbolically
            (``simplify(lhs - rhs) == 0``) and numerically at random admissible parameters.
        latex_names: symbol -> LaTeX for symbols whose Python name is not their printed name.
        uses: names of derivations this one builds on.
        parametrisation: a substitution that encodes the domain's inequalities for sympy (for
            example L = mu (1 + epsilon)^2 with epsilon > 0 for mu <= L); :meth:`residual` applies it.
    """

    name: str
    title: str
    parameters: tuple[sp.Symbol, ...]
    expressions: Mapping[str, sp.Expr]
    steps: tuple[Step, ...]
    assumptions: tuple[str, ...]
    domain: tuple[Any, ...]
    provenance: str
    references: tuple[str, ...] = ()
    identities: Mapping[str, tuple[sp.Expr, sp.Expr]] = field(default_factory=dict)
    latex_names: Mapping[sp.Symbol, str] = field(default_factory=dict)
    uses: tuple[str, ...] = ()
    parametrisation: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for rel in self.domain:
            if not isinstance(rel, sp.Rel) or not rel.free_symbols:
                raise ValueError(f"{self.name}: domain relation {rel!r} is not an unevaluated relation; use gt/ge/lt/le")
        params = set(self.parameters)
        for key, expr in self.expressions.items():
            extra = sp.sympify(expr).free_symbols - params
            if extra:
                raise ValueError(f"{self.name}: expression {key!r} has free symbols {extra} not in parameters")

    # -- symbols ------------------------------------------------------------------------------
    @property
    def symbols(self) -> dict[str, sp.Symbol]:
        """Parameter name -> sympy symbol (with its assumptions)."""
        return {s.name: s for s in self.parameters}

    def symbol_assumptions(self) -> dict[str, str]:
        """Parameter name -> its sympy assumptions in words ("positive", "nonnegative integer", ...)."""
        out = {}
        for s in self.parameters:
            kind = next((k for k in ("positive", "nonnegative", "real") if getattr(s, "is_" + k)), "complex")
            out[s.name] = kind + (" integer" if s.is_integer else "")
        return out

    def arguments(self, name: str) -> tuple[str, ...]:
        """The parameter names expression ``name`` depends on, in parameter order."""
        free = sp.sympify(self.expressions[name]).free_symbols
        return tuple(s.name for s in self.parameters if s in free)

    def residual(self, key: str) -> sp.Expr:
        """``simplify(lhs - rhs)`` of identity ``key`` under :attr:`parametrisation`; 0 when it holds."""
        lhs, rhs = self.identities[key]
        return sp.simplify((sp.sympify(lhs) - rhs).subs(dict(self.parametrisation)))

    # -- LaTeX --------------------------------------------------------------------------------
    def _latex(self, obj: Any) -> str:
        return sp.latex(obj, symbol_names=dict(self.latex_names))

    def latex(self, steps: bool = False) -> str:
        """LaTeX of the results (an ``aligned`` block); with ``steps=True`` the derivation first."""
        lines = []
        if steps:
            for i, st in enumerate(self.steps, 1):
                lines.append(r"&\text{%d. %s} \\ &\quad %s" % (i, _tex_text(st.description), self._latex(st.expr)))
        for key, expr in self.expressions.items():
            lines.append(r"%s &= %s" % (_tex_name(key), self._latex(expr)))
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        head = r"\text{%s}\quad\text{(%s)}" % (_tex_text(self.title), _tex_text(self.provenance))
        return "$$\n" + head + r"\\" + "\n" + self.latex(steps=True) + "\n$$"

    def __repr__(self) -> str:
        return f"Derivation({self.name!r}: {self.title}; {self.provenance})"

    # -- numbers ------------------------------------------------------------------------------
    def numeric(self, name: str, backend: str = "numpy") -> Callable[..., Any]:
        """A numeric function for expression ``name`` (``lambdify``; built once, then cached).

        Its arguments are :meth:`arguments` ``(name)`` (call it positionally or by keyword); it
        accepts numpy arrays (``backend="numpy"``) or torch tensors (``backend="torch"``) and
        broadcasts. The domain is not checked here; :meth:`evaluate` and the helpers check it.
        """
        if name not in self.expressions:
            raise ValueError(f"{self.name} has no expression {name!r}; it has {', '.join(self.expressions)}")
        key = ("expr", name, backend)
        if key not in self._cache:
            args = [self.symbols[a] for a in self.arguments(name)]
            self._cache[key] = _lambdify(args, self.expressions[name], backend)
        return self._cache[key]

    def check(self, values: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` unless ``values`` satisfy every domain relation they determine.

        Works elementwise on arrays; the message names the parameter, its value and the range.
        """
        import numpy as np

        for rel in self.domain:
            syms = sorted(rel.free_symbols, key=lambda s: self.parameters.index(s))
            if not all(s.name in values for s in syms):
                continue
            key = ("domain", rel)
            if key not in self._cache:
                self._cache[key] = sp.lambdify(syms, rel, modules="numpy")
            args = [np.asarray(values[s.name], dtype=float) for s in syms]
            with np.errstate(invalid="ignore"):
                ok = np.asarray(self._cache[key](*args), dtype=bool)
            if not ok.all():
                bad = ", ".join(f"{s.name} = {_first_bad(a, ok)}" for s, a in zip(syms, args))
                raise ValueError(
                    f"{self.name}: {bad} is outside the admissible range: need {sp.sstr(rel)} "
                    f"(assumptions: {'; '.join(self.assumptions)})"
                )

    def evaluate(self, **values: float) -> dict[str, float]:
        """Every expression whose parameters are given, as floats, after checking the domain.

        Unknown parameter names, non-finite values and values outside the domain raise
        ``ValueError``; so does giving too few parameters to compute anything.
        """
        unknown = sorted(set(values) - set(self.symbols))
        if unknown:
            raise ValueError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}; "
                f"it takes {', '.join(self.symbols)}"
            )
        clean: dict[str, float] = {}
        for k, v in values.items():
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{self.name}: parameter {k} must be a real number; got {v!r}") from None
            if not math.isfinite(fv):
                raise ValueError(f"{self.name}: parameter {k} must be finite; got {v!r}")
            clean[k] = fv
        self.check(clean)
        out: dict[str, float] = {}
        for key in self.expressions:
            args = self.arguments(key)
            if all(a in clean for a in args):
                out[key] = float(self.numeric(key)(*[clean[a] for a in args]))
        if not out:
            need = {a for key in self.expressions for a in self.arguments(key)} - set(clean)
            raise ValueError(f"{self.name}: give values for {', '.join(sorted(need))} to evaluate anything")
        return out


def _first_bad(arr: Any, ok: Any) -> str:
    import numpy as np

    a = np.broadcast_to(arr, ok.shape)
    return f"{float(a[~ok].flat[0]):g}" if ok.shape else f"{float(a):g}"


def _tex_text(text: str) -> str:
    return text.replace("\\", r"\backslash ").replace("_", r"\_").replace("%", r"\%").replace("&", r"\&").replace("#", r"\#")


def _tex_name(key: str) -> str:
    return r"\mathrm{%s}" % key.replace("_", r"\_")


# ----------------------------------------------------------------------------------------------
# lambdify, numpy and torch
# ----------------------------------------------------------------------------------------------
def _lambdify(args: list[sp.Symbol], expr: sp.Expr, backend: str) -> Callable[..., Any]:
    if backend == "numpy":
        return sp.lambdify(args, expr, modules="numpy")
    if backend == "torch":
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "backend='torch' needs torch; install it with `pip install polyak[torch]`"
            ) from exc
        return sp.lambdify(args, expr, modules=[_torch_namespace(torch), "torch"], printer=_torch_printer())
    raise ValueError(f"backend must be 'numpy' or 'torch'; got {backend!r}")


@functools.cache
def _torch_printer() -> Any:
    from sympy.printing.pytorch import TorchPrinter

    class _Printer(TorchPrinter):
        # sympy prints Max/Min as torch.max(a, b), which rejects Python numbers; use tensors.
        def _print_Max(self, expr: Any) -> str:
            return "_polyak_max(%s)" % ", ".join(self._print(a) for a in expr.args)

        def _print_Min(self, expr: Any) -> str:
            return "_polyak_min(%s)" % ", ".join(self._print(a) for a in expr.args)

    return _Printer({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True})


def _torch_namespace(torch: Any) -> dict[str, Any]:
    def tensors(xs: Iterable[Any]) -> list[Any]:
        xs = list(xs)
        like = next((x for x in xs if isinstance(x, torch.Tensor)), None)
        dtype = like.dtype if like is not None else torch.float64
        device = like.device if like is not None else None
        return [torch.as_tensor(x, dtype=dtype, device=device) for x in xs]

    return {
        "_polyak_max": lambda *xs: functools.reduce(torch.maximum, tensors(xs)),
        "_polyak_min": lambda *xs: functools.reduce(torch.minimum, tensors(xs)),
    }


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------
#: built derivations of this process, by registered name
_BUILT: dict[str, "Derivation"] = {}


def _cache_off() -> bool:
    import os

    return os.environ.get("POLYAK_DERIVATION_CACHE", "").strip().lower() in ("0", "false", "no", "off")


@functools.cache
def _cache_key() -> str:
    """Hash of this package's sources, sympy's and Python's versions and the pickle protocol."""
    import hashlib
    import pickle
    import sys
    from pathlib import Path

    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(f"sympy {sp.__version__} python {sys.version_info[:3]} pickle {pickle.HIGHEST_PROTOCOL} v1".encode())
    return h.hexdigest()[:24]


def _cache_file(name: str) -> Any:
    import os
    from pathlib import Path

    home = os.path.expanduser("~")
    if home.startswith("~"):  # no home directory: the temporary one
        import tempfile

        home = tempfile.gettempdir()
    root = os.environ.get("POLYAK_CACHE_DIR") or os.path.join(home, ".cache", "polyak")
    return Path(root) / "derivations" / _cache_key() / f"{name}.pkl"


def _from_disk(name: str) -> "Derivation | None":
    import pickle

    try:
        with open(_cache_file(name), "rb") as fh:
            d = pickle.load(fh)
    except Exception:  # missing, unreadable, truncated, from another build: derive it again
        return None
    return d if isinstance(d, Derivation) and d.name == name else None


def _unevaluated(cls: type, args: tuple) -> Any:
    return cls(*args, evaluate=False)


#: rebuilt from their args without evaluation when unpickled: sympy's own pickling rebuilds with
#: evaluation, which turns the domain's unevaluated ``mu > 0`` (mu positive) into ``True`` (the
#: domain check would then pass mu <= 0) and ``2*(w - 1)`` into ``2*w - 2``; the tests compare srepr
#: of every field of every loaded record with a fresh build
_KEEP_AS_BUILT = (sp.core.relational.Relational, sp.Add, sp.Mul, sp.Pow)


def _pickler(fh: Any) -> Any:
    import pickle

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, _KEEP_AS_BUILT):
                return _unevaluated, (type(obj), obj.args)
            return NotImplemented

    return Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)


def _to_disk(name: str, d: "Derivation") -> None:
    import os

    path = _cache_file(name)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:  # without the numeric functions (lambdify), built again on demand
            _pickler(fh).dump(dataclasses.replace(d, _cache={}))
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
    except Exception:  # an unwritable cache (or a record that does not pickle) is only no disk cache
        try:
            tmp.unlink()
        except OSError:
            pass


def register(name: str, title: str | None = None) -> Callable[[Callable[[], Derivation]], Callable[[], Derivation]]:
    """Register a builder under ``name``; the builder runs once, on first :func:`get` (or loads
    from the disk cache, see the module docstring).

    ``title`` (optional) must equal the built derivation's title (a test checks it); it lets
    :func:`title` list derivations without building them.
    """

    def wrap(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
        @functools.wraps(builder)
        def cached() -> Derivation:
            d = _BUILT.get(name)
            if d is None:
                d = None if _cache_off() else _from_disk(name)
                if d is None:
                    d = builder()
                    if not _cache_off() and d.name == name:
                        _to_disk(name, d)
                _BUILT[name] = d
            return d

        if name in _BUILDERS:
            raise ValueError(f"derivation {name!r} registered twice")
        _BUILDERS[name] = cached
        if title is not None:
            _TITLES[name] = title
        return cached

    return wrap


@functools.cache
def _load_all() -> None:
    for mod in _MODULES:
        importlib.import_module(f"{__package__}.{mod}")


def names() -> list[str]:
    """The registered derivation names, sorted."""
    _load_all()
    return sorted(_BUILDERS)


def get(name: str) -> Derivation:
    """The derivation called ``name`` (built on first use, then cached).

    Raises ``ValueError`` naming the known derivations if ``name`` is unknown.
    """
    _load_all()
    if name not in _BUILDERS:
        raise ValueError(f"unknown derivation {name!r}; known: {', '.join(sorted(_BUILDERS))}")
    return _BUILDERS[name]()


def title(name: str) -> str:
    """The title of derivation ``name``, without building it when it was registered with one."""
    _load_all()
    if name in _TITLES:
        return _TITLES[name]
    return get(name).title


def build_all() -> dict[str, Derivation]:
    """Build every derivation (cached) and return them by name."""
    return {n: get(n) for n in names()}


def parse_values(text: str) -> dict[str, float]:
    """Parse ``"mu=1,L=100"`` into ``{"mu": 1.0, "L": 100.0}``; ``ValueError`` on bad input."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"--at expects NAME=VALUE pairs separated by commas (e.g. mu=1,L=100); got {part!r}")
        key, val = (s.strip() for s in part.split("=", 1))
        if not key.isidentifier():
            raise ValueError(f"--at: {key!r} is not a parameter name")
        try:
            out[key] = float(val)
        except ValueError:
            raise ValueError(f"--at: parameter {key} must be a real number; got {val!r}") from None
    if not out:
        raise ValueError("--at expects NAME=VALUE pairs, e.g. mu=1,L=100")
    return out


def compute(name: str, outputs: tuple[str, ...], values: Mapping[str, Any]) -> Any:
    """Check ``values`` against derivation ``name``'s domain and return its ``outputs`` (numpy).

    The plain helpers (``hb_optimal`` and friends) are one line each on top of this: the numbers
    come from ``lambdify`` of the derived expressions, never from retyped formulas.
    """
    import numpy as np

    d = get(name)
    vals = {k: np.asarray(v, dtype=float) if not hasattr(v, "dtype") else v for k, v in values.items()}
    d.check(vals)
    res = tuple(d.numeric(o)(**{a: vals[a] for a in d.arguments(o)}) for o in outputs)
    return res[0] if len(res) == 1 else res
