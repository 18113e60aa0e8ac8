"""Sphinx extension of the polyak docs: the pages generated from the library at build time.

At ``builder-inited`` (before Sphinx reads its sources) it writes, under ``docs/_generated/``:

* ``gallery.rst`` and ``gallery/NAME.png``: every figure of :mod:`polyak.figures` in fast mode
  with the command that regenerates it; the data come from the cache ``docs/_build/figure-cache``
  (``NAME-fast.npz`` + JSON sidecar, reused while the recipe and its config are unchanged);
* ``claims.rst``: the claims table of ``polyak verify`` from :func:`polyak.verify.runner.collect`
  (claim, statement, provenance, relation, tolerance, suite), each paper cited into the bibliography;
* ``notebooks/*.py``: the jupytext notebooks of ``notebooks/``, executed by myst-nb.

It also resolves a cross-reference that names a polyak object by another path than the documented
one (``polyak.verify.Claim``, or ``Claim`` inside ``polyak.verify.runner``); a dead name still warns.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
GEN = DOCS / "_generated"


def _write(path: Path, text: str) -> None:
    """Write only when the content changed (keeps Sphinx's incremental build honest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _esc(text: str) -> str:
    """Escape reStructuredText inline markup in plain text (one line)."""
    text = " ".join(str(text).split())
    for ch in "\\*`_|":
        text = text.replace(ch, "\\" + ch)
    return text or "\\ "


def _first_paragraph(doc: str | None) -> str:
    doc = textwrap.dedent(doc or "").strip()
    return doc.split("\n\n")[0] if doc else ""


def write_gallery(out: Path = GEN, cache: Path = DOCS / "_build" / "figure-cache") -> list[str]:
    """Render every registered figure (fast mode, cached data) and write ``gallery.rst``."""
    import importlib

    import polyak.figures as pf
    from polyak.figures.io import save

    lines = [
        "Figure gallery",
        "==============",
        "",
        "Every figure of :mod:`polyak.figures`, drawn at documentation build time in the fast mode "
        "(``polyak figures --fast``; the full-size runs use the same recipe with more steps, seeds and grid "
        "points). Each figure's data are cached as ``.npz`` with a JSON sidecar recording the seed, the "
        "configuration and the package versions.",
        "",
        "Regenerate all of them with ``polyak figures --fast --out figures-out`` (or without ``--fast`` for "
        "the full runs); one of them with ``polyak figures NAME``; in Python with "
        "``polyak.figures.show(\"NAME\")``. ``polyak figures --list`` lists the names.",
        "",
    ]
    names = pf.names()
    for name in names:
        fig = pf.get(name)
        data, side = pf.compute(name, fast=True, cache_dir=cache)
        mfig = pf.show(name, data=data)
        save(mfig, out / "gallery" / f"{name}.png", "png")
        modname = getattr(fig.compute, "__module__", "") or ""
        doc = _first_paragraph(importlib.import_module(modname).__doc__) if modname else ""
        title = f"``{name}``"
        lines += [
            f".. _gallery-{name}:",
            "",
            title,
            "-" * len(title),
            "",
            _esc(fig.title),
            "",
            f".. image:: gallery/{name}.png",
            f"   :alt: {_esc(fig.title)}",
            "   :width: 100%",
            "",
        ]
        if doc:
            lines += ["\n".join(textwrap.indent(_esc(par), "") for par in [doc]), ""]
        lines += [
            "Regenerate:",
            "",
            ".. code-block:: bash",
            "",
            f"   polyak figures {name} --fast --out figures-out   # as drawn here",
            f"   polyak figures {name} --out figures-out          # full size",
            "",
            f"Recipe: :mod:`{modname}`; fast-mode data computed in {side.get('compute_seconds', 0):.1f} s "
            f"(seed {side.get('seed')}).",
            "",
        ]
    _write(out / "gallery.rst", "\n".join(lines) + "\n")
    return names


def write_claims(out: Path = GEN) -> int:
    """Write the claims table of ``polyak verify`` from the claim registry, one table per paper."""
    from polyak.verify.runner import collect

    claims = collect("full")
    lines = [
        "Claims checked by ``polyak verify``",
        "===================================",
        "",
        f"The {len(claims)} claims of :mod:`polyak.papers`, generated from the registry "
        "(:func:`polyak.verify.runner.collect`) when these pages were built, grouped by paper. "
        "``polyak verify`` runs the ``fast`` suite; ``polyak verify --suite full`` adds the large batches; "
        "``polyak verify --only ID`` runs one claim. Provenance tags: "
        "``[paper]`` the paper states it, ``[code]`` the authors' code does it, ``[group]`` a group of "
        "papers, ``[derived]`` derived here, ``[open]`` not established (reported, never counted as passed). "
        "Relations: ``tight`` (equal within the tolerance), ``upper`` (never above), ``decreasing`` "
        "(a Lyapunov function), ``certified`` (an SDP certificate exists).",
        "",
    ]
    papers: dict[str, list] = {}
    for c in claims:
        papers.setdefault(c.paper, []).append(c)
    for paper, group in papers.items():
        head = f"{paper}"
        lines += [head, "-" * len(head), "", f"{len(group)} claim(s) of :cite:t:`{paper}`.", "",
                  ".. list-table::", "   :header-rows: 1", "   :widths: 22 38 14 26", "   :class: polyak-claims", "",
                  "   * - claim", "     - statement", "     - provenance", "     - tolerance"]
        for c in group:
            tol = []
            if c.rtol:
                tol.append(f"rtol {c.rtol:g}")
            if c.atol:
                tol.append(f"atol {c.atol:g}")
            tol_text = "**" + _esc(", ".join(tol)) + "**" if tol else ""
            if c.tolerance_note:
                tol_text = (tol_text + ": " if tol_text else "") + _esc(c.tolerance_note)
            stmt = _esc(c.statement)
            if not c.checkable:
                stmt += " *(not checkable: " + _esc(c.reason or "reported only") + ")*"
            lines += [
                f"   * - ``{c.id}``",
                "",
                f"       *{c.relation}*, {c.suite} suite",
                f"     - {stmt}",
                f"     - {_esc(c.provenance)}",
                f"     - {tol_text or chr(92) + ' '}",
            ]
        lines.append("")
    _write(out / "claims.rst", "\n".join(lines) + "\n")
    return len(claims)


def copy_notebooks(out: Path = GEN / "notebooks") -> list[str]:
    """Copy ``notebooks/NN_*.py`` next to the sources (Sphinx reads only its own folder)."""
    out.mkdir(parents=True, exist_ok=True)
    names = []
    src = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    for p in src:
        _write(out / p.name, p.read_text())
        names.append(p.stem)
    for old in out.glob("*.py"):
        if old.stem not in names:
            old.unlink()
    lines = ["Notebooks", "=========", "",
             "The teaching notebooks of ``notebooks/`` (jupytext ``py:percent`` files), executed when these pages "
             "were built in their fast mode (``POLYAK_FAST=1``: fewer steps and smaller grids than a live run). "
             "``jupytext --to ipynb notebooks/NAME.py`` turns one into a Jupyter notebook.", "",
             ".. toctree::", "   :maxdepth: 1", ""]
    lines += [f"   notebooks/{n}" for n in names]
    _write(GEN / "notebooks.rst", "\n".join(lines) + "\n")
    return names


PACKAGES = ("polyak", "polyak.solvers", "polyak.theory", "polyak.verify", "polyak.figures", "polyak.papers")


def _modules(package: str) -> list[str]:
    """Every submodule of ``package`` (recursively), public ones only, sorted."""
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    if package == "polyak":  # its path also holds the source checkout's root: list its own files only
        return ["polyak.cli"]
    out = []
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            out.append(info.name)
    return sorted(out)


def write_api(out: Path = DOCS / "api" / "generated") -> list[str]:
    """One page per module of the six packages: ``automodule`` with ``:members:`` (everything the module
    defines, so a new public name appears without editing the docs); a package page adds the table of
    its ``__all__`` (linked to where each name is defined) and the list of its submodules."""
    import importlib

    pages = []
    for package in PACKAGES:
        for name in [package] + _modules(package):
            mod = importlib.import_module(name)
            is_pkg = hasattr(mod, "__path__")
            lines = [name, "=" * len(name), "", f".. automodule:: {name}", "   :members:",
                     "   :ignore-module-all:", "   :show-inheritance:", ""]
            if is_pkg:
                public = []
                for attr in getattr(mod, "__all__", ()):
                    if attr.startswith("_"):
                        continue
                    obj = getattr(mod, attr)
                    m, q = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
                    if m and q and m.startswith("polyak"):
                        public.append(f"~{m}.{q}")
                if public:
                    lines += [".. rubric:: Public names", "",
                              f"Exported by ``{name}`` (``from {name} import ...``), each linked to the module "
                              "that defines it.", "", ".. autosummary::", ""]
                    lines += [f"   {p}" for p in public] + [""]
                subs = [m for m in _modules(name) if m.count(".") == name.count(".") + 1] if name != "polyak" else []
                if name == "polyak":
                    subs = ["polyak.cli"]
                if subs:
                    lines += [".. rubric:: Submodules", "", ".. toctree::", "   :maxdepth: 1", ""]
                    lines += [f"   {m}" for m in subs] + [""]
            _write(out / f"{name}.rst", "\n".join(lines) + "\n")
            pages.append(name)
    for old in out.glob("*.rst"):
        if old.stem not in pages:
            old.unlink()
    return pages


def _generate(app) -> None:
    GEN.mkdir(exist_ok=True)
    write_api()
    copy_notebooks()
    write_claims()
    write_gallery()


def _canonical(target: str, module: str | None, klass: str | None):
    """The Python object a reference names (absolute, or relative to the current module/class)."""
    import importlib

    target = target.lstrip(".~")
    bases = [""]
    if module:  # the class, the module, then its parent packages (``make_method`` in polyak.solvers.simulate)
        parts = module.split(".")
        bases = [".".join(parts[:i]) + "." for i in range(len(parts), 0, -1)] + [""]
        if klass:
            bases.insert(0, f"{module}.{klass}.")
    for base in bases:
        parts = (base + target).split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except Exception:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            return obj, base + target
    return None, None


def _resolve_reference(app, env, node, contnode):
    """Resolve a reference that names a polyak object by a path other than the documented one.

    ``polyak.verify.Claim`` (a re-export) and ``Claim`` written inside ``polyak.verify.runner`` both
    name ``polyak.verify.claims.Claim``: the object is imported and looked up by its defining module
    and qualified name. A name that imports but is not documented (a module constant without a doc
    comment) is left as plain text. A type written in prose inside a napoleon type field (``lr (> 0)``)
    is not a reference and is left alone. Anything else stays unresolved and warns (nitpicky).
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target:
        return None
    obj, full = _canonical(target, node.get("py:module"), node.get("py:class"))
    if obj is None:
        if node.get("refspecific") and not target.startswith("polyak"):
            return contnode  # prose in a type field, not a name
        return None
    from sphinx.util.nodes import make_refnode

    dom = env.get_domain("py")
    names = []
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(obj, type(dom)) is False and hasattr(obj, "__spec__") and getattr(obj, "__name__", None):
        names.append(obj.__name__)  # a module
    if mod and qual:
        names.append(f"{mod}.{qual}")
    names.append(full)
    for name in names:
        entry = dom.objects.get(name)
        if entry is not None:
            return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name)
    if full and full.startswith("polyak") or (mod or "").startswith("polyak"):
        return contnode  # exists, but is not documented: plain text, no dead link
    return None


def _drop_object_base(app, name, obj, options, bases) -> None:
    """No "Bases: object" line under every plain class (the real bases are still shown)."""
    if list(bases) == [object]:
        bases.clear()


def setup(app):
    app.connect("builder-inited", _generate)
    app.connect("autodoc-process-bases", _drop_object_base)
    app.connect("missing-reference", _resolve_reference)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
