"""Every teaching notebook executes without error in fast mode (POLYAK_FAST=1).

The notebooks are jupytext py:percent files; they are converted to ipynb in memory and executed
by nbclient on the ``python3`` kernel with a per-cell timeout.
"""

import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))


def test_the_six_notebooks_exist():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client / zmq / traitlets internals
@pytest.mark.filterwarnings("ignore::RuntimeWarning:zmq.*")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    nb = jupytext.read(path)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "notebooks ship without outputs"
    monkeypatch.setenv("POLYAK_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
