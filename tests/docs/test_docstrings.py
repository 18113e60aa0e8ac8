"""Every docstring of the package is valid reStructuredText (after napoleon), as the docs build needs.

The documentation build (``sphinx-build -W``, run by ``.ci/run``) fails on the same docutils
messages; this test finds them in seconds, inside the default suite, and names the docstring.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import rstcheck  # noqa: E402

pytest.importorskip("sphinx.ext.napoleon")
pytest.importorskip("docutils")


def test_every_module_is_checked():
    mods = rstcheck.modules()
    for name in ("polyak", "polyak.cli", "polyak.solvers.simulate", "polyak.theory.heavy_ball",
                 "polyak.verify.claims", "polyak.figures.io", "polyak.papers.polyak1964"):
        assert name in mods


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_docstrings_parse_without_docutils_problems():
    found = [p for m in rstcheck.modules() for p in rstcheck.problems(m)]
    assert not found, "\n".join(found)


def test_the_checker_catches_a_broken_docstring(monkeypatch):
    """The check can fail: an unterminated substitution and a bad indentation are reported."""
    import types

    mod = types.ModuleType("polyak_fake_doc")
    mod.__doc__ = "Rate max(|1 - alpha mu|, |1 - alpha L|).\n\nHeading\n    body\nunindented\n"
    monkeypatch.setitem(sys.modules, "polyak_fake_doc", mod)
    found = rstcheck.problems("polyak_fake_doc")
    assert any("Undefined substitution" in p for p in found)
    assert any("Definition list ends without a blank line" in p for p in found)
