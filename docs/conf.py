"""Sphinx configuration of the polyak documentation.

Build: ``pip install ".[docs]"`` then ``sphinx-build -W --keep-going -b html docs docs/_build/html``
(warnings are errors). Sphinx rather than MkDocs: autodoc reads the docstrings the package already
carries, intersphinx links numpy/scipy/python names, myst-nb executes and renders the jupytext
notebooks, sphinxcontrib-bibtex renders papers/refs.bib.

At ``builder-inited`` the local extension ``_ext/polyak_docs.py`` writes the generated pages under
``docs/_generated/`` (the figure gallery from ``polyak.figures`` in fast mode, cached under
``docs/_build/figure-cache``; the claims table from the claim registry; the notebooks copied from
``notebooks/``). The notebooks are executed at build time in the fast mode (``POLYAK_FAST=1``).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

os.environ["POLYAK_FAST"] = "1"  # notebooks and figures in their fast mode at build time

import polyak  # noqa: E402

project = "polyak"
author = "the polyak authors"
copyright = "2026, the polyak authors"
release = version = polyak.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
    "sphinxcontrib.bibtex",
    "polyak_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "_ext", "conf.py", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "jupyter_execute"]

html_theme = "furo"
add_module_names = False  # "Claim(...)" under its module's heading, not "polyak.verify.claims.Claim(...)"
# MathJax comes from its CDN; POLYAK_DOCS_MATHJAX points at a local copy for offline viewing, e.g.
# file:///usr/share/javascript/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML (Debian libjs-mathjax).
if os.environ.get("POLYAK_DOCS_MATHJAX"):
    mathjax_path = os.environ["POLYAK_DOCS_MATHJAX"]
html_title = f"polyak {release}"
html_static_path = ["_static"]
html_css_files = ["polyak.css"]

# --- autodoc / autosummary / napoleon -----------------------------------------------------------
autosummary_generate = False  # the API pages are written by _ext/polyak_docs.py (write_api)
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_attr_annotations = True

# A dead cross-reference into polyak fails the build (nitpicky); names of other libraries are
# resolved by intersphinx when its inventories can be reached, and otherwise not checked.
nitpicky = True
_EXTERNAL = r"(np|numpy|scipy|sympy|sp|cvxpy|cp|torch|matplotlib|mpl|plt|typing|collections|abc|types|" \
            r"pathlib|dataclasses|enum|os|io|argparse|json|concurrent|dask|distributed|tqdm|IPython|ipywidgets|" \
            r"pytest|_pytest|PEPit|schedulefree|clarabel|numbers|contextlib|functools|itertools)(\..*)?"
nitpick_ignore_regex = [
    (r"py:.*", _EXTERNAL),
    (r"py:.*", r"(Any|Callable|Iterable|Iterator|Mapping|Sequence|Optional|Union|Literal|Self|TypeVar|"
               r"NamedTuple|ArrayLike|NDArray|Generator|Tensor|Figure|Axes|Parameter|Optimizer|"
               r"DataFrame|Path|Namespace|ModuleType|ndarray|dtype|Expr|Symbol|Basic|Matrix|array|"
               r"array-like|array_like|optional|callable|sequence|iterable|mapping|function|default|string|number|"
               r"float|int|str|bool|dict|list|tuple|set|bytes|complex|object|None|type|slice|"
               r"Exception|ValueError|TypeError|RuntimeError|NotImplementedError|AssertionError)"),
    (r"py:.*", r"[A-Za-z_]+\[.*"),  # subscripted generics written out in docstrings
]

_INVENTORIES = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sympy": ("https://docs.sympy.org/latest", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
    "torch": ("https://docs.pytorch.org/docs/stable", None),
}


def _online(host: str = "docs.python.org") -> bool:
    if os.environ.get("POLYAK_DOCS_OFFLINE") == "1":
        return False
    try:
        socket.create_connection((host, 443), timeout=2).close()
        return True
    except OSError:
        return False


# Offline machines (CI here has no network) build without intersphinx rather than warn.
intersphinx_mapping = _INVENTORIES if _online() else {}
intersphinx_timeout = 5

# --- myst / myst-nb --------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True  # the notebooks write $$...$$ inside paragraphs, as Jupyter allows
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = os.environ.get("POLYAK_DOCS_EXECUTE", "force")  # "off" for a quick look
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_output_stderr = "remove"
nb_merge_streams = True
nb_execution_excludepatterns = []
# A static page has no live widget manager: show the PNG that the explorers put next to their widget.
# (None removes a mime type from the builder's priority list.)
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("dirhtml", "application/vnd.jupyter.widget-view+json", None)]

# --- bibliography ----------------------------------------------------------------------------------
bibtex_bibfiles = ["../papers/refs.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# silence nothing else: -W makes every other warning an error
# arXiv preprints in refs.bib are @article entries without a journal; pybtex's plain style warns.
# A package page's table of its own exports names the package (autosummary calls that a cycle).
suppress_warnings = ["mystnb.unknown_mime_type", "bibtex.missing_field", "autosummary.import_cycle"]
