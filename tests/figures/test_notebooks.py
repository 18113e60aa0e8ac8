"""The teaching notebooks execute in fast mode (POLYAK_FAST=1) and show what they compute.

The notebooks are jupytext py:percent files; each is converted to ipynb in memory and executed once
(module-scoped cache) by nbclient on the ``python3`` kernel, with the kernel's default matplotlib
backend (the inline one, as in Jupyter). Then the executed outputs are checked: no errors; every
cell that draws a figure (``pf.show``, ``plt.show``, an explorer) has an ``image/png`` output; every
cell that prints has its text; and the printed derivations say what an independent sympy
computation says.
"""

import base64
import os
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))
DRAWS = re.compile(r"^(?!\s*#).*(pf\.show\(|plt\.show\(|hb_explorer\()", re.M)

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # jupyter_client / zmq / traitlets internals
    pytest.mark.filterwarnings("ignore::RuntimeWarning:zmq.*"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

_EXECUTED: dict = {}


def test_the_notebooks_exist():
    stems = [p.stem[:2] for p in NOTEBOOKS]
    assert stems == ["01", "02", "03", "04", "05", "06"]


def executed(path: Path, tmp_path_factory):
    """The notebook at ``path`` executed in fast mode (once per test session)."""
    if path not in _EXECUTED:
        jupytext = pytest.importorskip("jupytext")
        nbclient = pytest.importorskip("nbclient")
        nb = jupytext.read(path)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "notebooks ship without outputs"
        env = dict(os.environ, POLYAK_FAST="1")
        env.pop("MPLBACKEND", None)  # the kernel picks the inline backend, as Jupyter does
        old = os.environ.copy()
        os.environ.clear()
        os.environ.update(env)
        try:
            client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                             resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}})
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(old)
        _EXECUTED[path] = nb
    return _EXECUTED[path]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def text_of(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            out.append(o.text)
        elif "data" in o and "text/plain" in o["data"]:
            out.append(o["data"]["text/plain"])
    return "".join(out)


def pngs(cell) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in cell.get("outputs", [])
            if "data" in o and "image/png" in o["data"]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_without_errors(path, tmp_path_factory):
    nb = executed(path, tmp_path_factory)
    errors = [o for c in code_cells(nb) for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_figure_cell_shows_an_image(path, tmp_path_factory):
    nb = executed(path, tmp_path_factory)
    drawing = [c for c in code_cells(nb) if DRAWS.search(c.source)]
    if path.stem[:2] in ("01", "02", "03", "04"):
        assert drawing, "the first four notebooks draw figures"
    for cell in drawing:
        images = pngs(cell)
        assert images, f"no image/png output for the cell:\n{cell.source}\n-> {text_of(cell)!r}"
        for png in images:
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000  # a real plot, not an empty canvas
        assert "<Figure size" not in "".join(o["data"]["text/plain"] for o in cell.outputs
                                             if "data" in o and "image/png" not in o["data"]
                                             and "text/plain" in o["data"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_printing_cell_has_its_text(path, tmp_path_factory):
    nb = executed(path, tmp_path_factory)
    for cell in code_cells(nb):
        n = len(re.findall(r"^\s*print\(", cell.source, re.M))
        if n and "for " not in cell.source and "try:" not in cell.source:
            assert text_of(cell).count("\n") >= n, f"missing printed output of:\n{cell.source}"
        elif n:
            assert text_of(cell).strip(), f"missing printed output of:\n{cell.source}"


def _printed(nb, name: str) -> "dict[str, str]":
    """``name = expression`` lines printed anywhere in the notebook."""
    out = {}
    for cell in code_cells(nb):
        for line in text_of(cell).splitlines():
            m = re.match(rf"^\s*({name})\s*=\s*(.+)$", line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def test_notebook_01_prints_polyaks_derivation(tmp_path_factory):
    """The printed optimal heavy-ball tuning equals Polyak's formulas, written here independently."""
    import sympy as sp

    nb = executed(NOTEBOOKS[0], tmp_path_factory)
    got = _printed(nb, "alpha|beta|rho")
    assert set(got) >= {"alpha", "beta", "rho"}
    mu, L = sp.symbols("mu L", positive=True)
    want = {"alpha": 4 / (sp.sqrt(L) + sp.sqrt(mu)) ** 2,
            "beta": ((sp.sqrt(L) - sp.sqrt(mu)) / (sp.sqrt(L) + sp.sqrt(mu))) ** 2,
            "rho": (sp.sqrt(L) - sp.sqrt(mu)) / (sp.sqrt(L) + sp.sqrt(mu))}
    for key, expr in want.items():
        printed = sp.sympify(got[key], locals={"mu": mu, "L": L})
        assert sp.simplify(printed - expr) == 0, (key, got[key])


def test_notebook_03_prints_the_spa_map_and_the_lyapunov_step(tmp_path_factory):
    """SPA -> heavy ball: alpha_k = eta_k c_{k+1}, beta_k = c_{k+1} (1 - c_k)/c_k (eliminate z by hand:
    x_{k+1} - x_k = c_{k+1}(z_{k+1} - x_k) and z_k = x_k + (1 - c_k)/c_k (x_k - x_{k-1}))."""
    import sympy as sp

    nb = executed(NOTEBOOKS[2], tmp_path_factory)
    got = _printed(nb, "alpha|beta|alpha_max")
    eta, c_k, c_k1, beta, L = sp.symbols("eta c_k c_k1 beta L", positive=True)
    loc = {"eta": eta, "c_k": c_k, "c_k1": c_k1, "beta": beta, "L": L}
    assert sp.simplify(sp.sympify(got["alpha"], locals=loc) - eta * c_k1) == 0
    assert sp.simplify(sp.sympify(got["beta"], locals=loc) - c_k1 * (1 - c_k) / c_k) == 0
    assert sp.simplify(sp.sympify(got["alpha_max"], locals=loc) - (1 - beta ** 2) / L) == 0
    out = "\n".join(text_of(c) for c in code_cells(nb))
    assert "backward recursion recovers c: True  eta: True" in out
    m = re.search(r"max \|x_SPA - x_HB\| = ([0-9.e+-]+)", out)
    assert m and float(m.group(1)) < 1e-12


def test_notebook_02_prints_the_certificates(tmp_path_factory):
    """Quadratic-optimal heavy ball at kappa = 25 has no certificate; GD with alpha = 2/(L + mu) is
    certified at (kappa - 1)/(kappa + 1) = 12/13 (the closed form of its worst case on the class)."""
    nb = executed(NOTEBOOKS[1], tmp_path_factory)
    out = "\n".join(text_of(c) for c in code_cells(nb))
    assert re.search(r"^hb\s+certified: False  rate: None$", out, re.M)
    m = re.search(r"^gd\s+certified: True  rate: ([0-9.]+)$", out, re.M)
    assert m and abs(float(m.group(1)) - 12 / 13) < 1e-5
    assert re.search(r"^nesterov\s+certified: True  rate: 0\.[0-9]+$", out, re.M)


def test_notebook_04_prints_demons_linear_effective_step(tmp_path_factory):
    """1/(1 - beta_t) is affine in t for Demon's schedule: its second differences vanish."""
    nb = executed(NOTEBOOKS[3], tmp_path_factory)
    out = "\n".join(text_of(c) for c in code_cells(nb))
    m = re.search(r"second differences of 1/\(1 - beta_t\): ([0-9.e+-]+)", out)
    assert m and float(m.group(1)) < 1e-10
