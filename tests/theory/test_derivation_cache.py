"""The disk cache of built derivations (polyak.theory.derivation): a fresh process loads what an
earlier one built, the loaded records equal fresh builds, the key changes with the sources, and a
damaged or unwritable cache falls back to building."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sympy as sp

from polyak.theory import derivation as D

# a fresh process: build (or load) every derivation and print its expressions
PROBE = r"""
import json
from polyak.theory import derivation as D
import polyak.theory
out = {n: {k: str(v) for k, v in D.get(n).expressions.items()} for n in D.names()}
print(json.dumps({"values": out}))
"""


def _probe(tmp_path, **env):
    e = {**os.environ, "POLYAK_CACHE_DIR": str(tmp_path), "POLYAK_DERIVATION_CACHE": "1", **env}
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=e, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _files(tmp_path):
    return sorted(tmp_path.glob("derivations/*/*.pkl"))


def test_a_second_process_loads_what_the_first_built_and_gets_the_same_records(tmp_path):
    first = _probe(tmp_path)
    files = _files(tmp_path)
    assert {f.stem for f in files} == set(D.names())  # every derivation stored under one key
    assert len({f.parent for f in files}) == 1
    second = _probe(tmp_path)
    assert second["values"] == first["values"]
    # and equal to this process's own builds (the test suite runs without the cache)
    for name, exprs in second["values"].items():
        d = D.get(name)
        assert exprs == {k: str(v) for k, v in d.expressions.items()}, name


def test_loaded_records_equal_fresh_builds_symbolically(tmp_path, monkeypatch):
    # a pickled and reloaded record: same expressions (sympy equality), steps, domain, identities;
    # its numeric functions are rebuilt on demand and give the fresh build's numbers
    monkeypatch.setenv("POLYAK_CACHE_DIR", str(tmp_path))
    for name in D.names():
        fresh = D.get(name)  # built (the suite's cache is off)
        D._to_disk(name, fresh)
        loaded = D._from_disk(name)
        assert loaded is not None and loaded is not fresh
        assert loaded.expressions.keys() == fresh.expressions.keys()
        if name in ("hb-quadratic-optimal", "spa-lyapunov", "adaptive-hb-beta"):
            for k in fresh.expressions:
                assert sp.simplify(sp.sympify(loaded.expressions[k]) - fresh.expressions[k]) == 0, (name, k)
        # the same trees, exactly (srepr): an unevaluated relation of the domain (mu > 0 for a
        # positive mu) evaluates to True if unpickled with evaluation on, and the domain check
        # would then accept mu <= 0
        for field in ("expressions", "domain", "identities", "parametrisation", "parameters", "latex_names"):
            assert sp.srepr(getattr(loaded, field)) == sp.srepr(getattr(fresh, field)), (name, field)
        assert [sp.srepr(s.expr) for s in loaded.steps] == [sp.srepr(s.expr) for s in fresh.steps]
        assert [s.description for s in loaded.steps] == [s.description for s in fresh.steps]
    with pytest.raises(ValueError, match="mu"):
        D._from_disk("hb-quadratic-optimal").evaluate(mu=-1.0, L=10.0)
    d0, d1 = D.get("hb-quadratic-optimal"), D._from_disk("hb-quadratic-optimal")
    assert d1.numeric("rho")(mu=1.0, L=100.0) == pytest.approx(d0.numeric("rho")(mu=1.0, L=100.0), rel=1e-15)


def test_the_key_changes_with_the_sources_and_the_sympy_version(monkeypatch, tmp_path):
    key = D._cache_key()
    D._cache_key.cache_clear()
    monkeypatch.setattr(sp, "__version__", sp.__version__ + ".post-test")
    try:
        assert D._cache_key() != key
    finally:
        D._cache_key.cache_clear()
    monkeypatch.undo()
    # a copy of the package with one builder's source changed hashes differently
    import shutil
    from pathlib import Path

    src = Path(D.__file__).resolve().parent
    pkg = tmp_path / "theory_copy"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "heavy_ball.py").write_text((pkg / "heavy_ball.py").read_text() + "\n# changed\n")
    import hashlib

    def digest(folder):
        h = hashlib.sha256()
        for path in sorted(folder.glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
        return h.hexdigest()

    assert digest(pkg) != digest(src)
    D._cache_key.cache_clear()
    assert D._cache_key() == key  # and the key follows exactly these sources


def test_a_damaged_or_unwritable_cache_means_building(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYAK_CACHE_DIR", str(tmp_path))
    name = "gd-quadratic-optimal"
    path = D._cache_file(name)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")  # damaged: not loaded
    assert D._from_disk(name) is None
    first = _probe(tmp_path)  # the damaged file is replaced by a good one
    assert D._from_disk(name) is not None and first["values"][name]["rho"]
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a cache "directory" that is a file: nothing stored, everything built
    out = _probe(blocker)
    assert out["values"] == first["values"] and not list(blocker.parent.glob("file/*"))


def test_the_cache_can_be_turned_off(tmp_path):
    out = _probe(tmp_path, POLYAK_DERIVATION_CACHE="0")
    assert not _files(tmp_path) and len(out["values"]) == len(D.names())
