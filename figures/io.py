"""Cached figure data (``.npz`` + JSON sidecar) and deterministic PNG/PDF/SVG output.

Cache layout, for a figure ``NAME`` under a folder ``DIR``::

    DIR/NAME.npz     the arrays returned by ``compute`` (no pickles)
    DIR/NAME.json    sidecar: name, seed, the full config, its hash, fast flag, package versions,
                     compute seconds, and each array's shape and dtype

A cached file is reused only when the sidecar's hash (of the config and of the recipe's source) and
the polyak version match the request;
otherwise the data are recomputed. Saved images carry no timestamps or software strings (PNG
``Software``, PDF ``CreationDate``/``Producer``/``Creator``, SVG ``Date``), use the style's fixed
dpi and a fixed SVG hash salt, so two runs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .registry import Data, Figure

STYLE = Path(__file__).with_name("polyak.mplstyle")
FORMATS = ("png", "pdf", "svg")
_VERSIONED = ("numpy", "scipy", "sympy", "matplotlib", "cvxpy", "polyak")
_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
    "svg": {"Creator": None, "Date": None},
}


def versions() -> dict[str, str | None]:
    """Versions of python and the packages that shape a figure's numbers or pixels."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in _VERSIONED:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


def config_hash(config: Mapping[str, Any]) -> str:
    text = json.dumps(_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_hash(fig: Figure) -> str:
    """Hash of the recipe's source file, so that editing a recipe invalidates its cache."""
    import inspect

    try:
        src = inspect.getsource(inspect.getmodule(fig.compute))
    except (OSError, TypeError):
        return ""
    return hashlib.sha256(src.encode()).hexdigest()[:16]


def _as_data(name: str, raw: Mapping[str, Any]) -> Data:
    data: Data = {}
    for key, val in raw.items():
        arr = np.asarray(val)
        if arr.dtype == object:
            raise ValueError(f"figure {name!r}: data {key!r} is not a plain numeric or string array")
        data[key] = arr
    return data


def save_data(path: Path, data: Mapping[str, np.ndarray], sidecar: Mapping[str, Any]) -> None:
    """Write ``path`` (.npz, uncompressed: deterministic bytes) and its JSON sidecar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez(fh, **data)
    path.with_suffix(".json").write_text(json.dumps(_jsonable(sidecar), indent=2, sort_keys=True) + "\n")


def load_data(path: Path) -> tuple[Data, dict]:
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    return data, json.loads(path.with_suffix(".json").read_text())


def compute_data(fig: Figure, *, fast: bool = False, cache_dir: str | Path | None = None, force: bool = False,
                 **overrides: Any) -> tuple[Data, dict]:
    """Run (or load from cache) ``fig.compute``; returns ``(data, sidecar)``.

    Args:
        fig: the recipe.
        fast: use the fast configuration.
        cache_dir: folder for ``NAME[-fast].npz`` and ``.json``; None: no cache.
        force: recompute even when a matching cache exists.
        overrides: config keys to change.
    """
    cfg = fig.resolve(fast, **overrides)
    h = config_hash({"config": cfg, "code": code_hash(fig)})
    vers = versions()
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{fig.name}{'-fast' if fast else ''}.npz"
        if not force and path.exists() and path.with_suffix(".json").exists():
            data, side = load_data(path)
            if side.get("config_hash") == h and side.get("versions", {}).get("polyak") == vers["polyak"]:
                return data, side
    t0 = time.perf_counter()
    data = _as_data(fig.name, fig.compute(cfg))
    seconds = time.perf_counter() - t0
    side = {
        "name": fig.name,
        "title": fig.title,
        "seed": cfg["seed"],
        "fast": bool(fast),
        "config": cfg,
        "config_hash": h,
        "versions": vers,
        "compute_seconds": round(seconds, 3),
        "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in data.items()},
    }
    if path is not None:
        save_data(path, data, side)
    return data, side


@contextmanager
def style() -> Iterator[None]:
    """The shipped style, with the Agg-safe settings used for every saved figure."""
    import matplotlib as mpl
    import matplotlib.style

    with matplotlib.style.context(str(STYLE)), mpl.rc_context({"svg.hashsalt": "polyak"}):
        yield


_SHOWN: Any = None


def shown_figure_class() -> Any:
    """``matplotlib.figure.Figure`` with a ``_repr_png_``, so a notebook displays it inline.

    A figure not attached to pyplot has no image representation of its own: IPython shows it as
    ``<Figure size ...>`` unless the inline backend happens to be active. The PNG is written as
    :func:`save` writes it (the shipped style's dpi, no metadata).
    """
    global _SHOWN
    if _SHOWN is None:
        import io as _io

        from matplotlib.figure import Figure as MplFigure

        class PolyakFigure(MplFigure):
            def _repr_png_(self) -> bytes:
                buf = _io.BytesIO()
                with style():
                    self.savefig(buf, format="png", metadata=_METADATA["png"])
                return buf.getvalue()

        _SHOWN = PolyakFigure
    return _SHOWN


def draw(fig: Figure, data: Data) -> Any:
    """A matplotlib ``Figure`` (not attached to pyplot) with ``fig.plot`` drawn on it.

    It displays inline in a notebook (it has a ``_repr_png_``) whatever the matplotlib backend.
    """
    with style():
        mfig = shown_figure_class()(figsize=fig.size, layout="constrained")
        axes = np.asarray(mfig.subplots(*fig.panels, squeeze=False))
        fig.plot(data, axes)
        mfig.canvas.draw_idle()
    return mfig


def check_formats(formats: str | list[str] | tuple[str, ...]) -> list[str]:
    """Parse ``"png,pdf"``; ValueError naming an unknown format and the valid ones."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = []
    for f in (s.strip().lower().lstrip(".") for s in items):
        if not f:
            continue
        if f not in FORMATS:
            raise ValueError(f"unknown format {f!r}; valid formats: {', '.join(FORMATS)}")
        if f not in out:
            out.append(f)
    if not out:
        raise ValueError(f"no format given; valid formats: {', '.join(FORMATS)}")
    return out


def save(mfig: Any, path: str | Path, fmt: str | None = None) -> Path:
    """Save deterministically (no timestamps or software strings; fixed dpi and hash salt)."""
    path = Path(path)
    fmt = check_formats(fmt or path.suffix.lstrip("."))[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    with style():
        mfig.savefig(path, format=fmt, metadata=_METADATA[fmt])
    return path


def render(name: str, out: str | Path, *, fast: bool = False, formats: str | list[str] = "png,pdf",
           cache: bool = True, force: bool = False) -> list[Path]:
    """Compute (or load) a figure's data under ``out/data`` and write ``out/NAME.FORMAT``."""
    from .registry import get

    fmts = check_formats(formats)
    fig = get(name)
    out = Path(out)
    data, _ = compute_data(fig, fast=fast, cache_dir=out / "data" if cache else None, force=force)
    mfig = draw(fig, data)
    return [save(mfig, out / f"{name}.{f}", f) for f in fmts]
