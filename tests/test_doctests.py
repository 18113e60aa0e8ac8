"""The examples in docstrings run and print what they say (style.md: an example that runs)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import polyak

PACKAGES = ["polyak", "polyak.solvers", "polyak.solvers.problems", "polyak.theory", "polyak.verify", "polyak.papers",
            "polyak.figures"]
SKIP = {"polyak.__main__", "polyak.verify.pytest_plugin"}


def modules():
    names = []
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        names.append(pkg)
        if hasattr(mod, "__path__"):
            for info in pkgutil.iter_modules(mod.__path__, prefix=pkg + "."):
                if not info.ispkg and info.name not in SKIP:
                    names.append(info.name)
    return sorted(set(names))


@pytest.mark.parametrize("name", modules())
def test_docstring_examples(name):
    if name.startswith(("polyak.solvers.torch_optim", "polyak.optim")):
        pytest.importorskip("torch")
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_some_examples_exist():
    total = sum(doctest.testmod(importlib.import_module(n), verbose=False).attempted
                for n in ("polyak.solvers.forms", "polyak.solvers.schedules", "polyak.verify.rates"))
    assert total >= 5
    assert polyak.__version__
