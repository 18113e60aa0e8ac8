"""The README's "Your own method" example runs and says what it claims (under 20 lines)."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def own_method_block() -> str:
    text = README.read_text()
    section = text.split("## Your own method", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]


def test_block_is_short():
    lines = [ln for ln in own_method_block().splitlines() if ln.strip()]
    assert len(lines) < 20


def test_block_runs(forget_names):
    code = own_method_block()
    forget_names.append("triple-momentum")
    head, _, tail = code.partition("cert = ")
    ns: dict = {}
    exec(head, ns)  # noqa: S102 - our own README
    assert ns["q"] == pytest.approx(0.9, rel=1e-12)
    assert ns["traj"].dist[-1].max() < 1e-12
    exec("cert = " + tail, ns)  # noqa: S102 - the general certify_rate / worst_case
    assert ns["cert"].certified and ns["cert"].rate == pytest.approx(0.9, abs=1e-4)
    assert np.isfinite(ns["wc"].value)
