"""The mutation check: every seeded fault of ``tests/mutations.py`` makes its tests fail.

Default run: each fault's ``old`` text occurs exactly once in its file and its test files exist
(cheap; catches a list that rotted when code moved). ``-m slow``: each fault is applied in a
temporary copy of the tree (``git ls-files``), imported through a throw-away ``polyak`` package
of symlinks placed first on ``PYTHONPATH``, and its selected tests must fail (pytest exit code 1);
the same selection passes on the unmodified copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mutations import FAULTS  # tests/ is on sys.path (rootdir conftest)

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"theory": "theory", "solvers": "solvers", "verify": "verify", "figures": "figures", "papers": "papers"}


def test_fault_ids_unique():
    ids = [f.id for f in FAULTS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_fault_text_still_present(fault):
    text = (ROOT / fault.file).read_text()
    assert text.count(fault.old) == 1, f"{fault.id}: the text to mutate occurs {text.count(fault.old)} times in {fault.file}"
    assert fault.new != fault.old and fault.tests
    for sel in fault.tests:
        assert (ROOT / sel.split("::")[0]).is_file(), f"{fault.id}: no test file {sel}"


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    farm = dest / "_import" / "polyak"
    farm.mkdir(parents=True)
    for name in os.listdir(dest / "polyak"):
        os.symlink(dest / "polyak" / name, farm / name)
    for pkg, src in PACKAGES.items():
        os.symlink(dest / src, farm / pkg)


def _pytest(tree: Path, selection) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree / "_import"), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "", *selection]
    return subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    dest = tmp_path_factory.mktemp("tree")
    _copy_tree(dest)
    probe = subprocess.run([sys.executable, "-c", "import polyak.solvers as s; print(s.__file__)"], cwd=dest,
                           env={**os.environ, "PYTHONPATH": str(dest / "_import")}, capture_output=True, text=True)
    assert str(dest) in probe.stdout, f"the copy is not what gets imported: {probe.stdout} {probe.stderr}"
    return dest


@pytest.mark.slow
def test_selections_pass_unmutated(tree):
    # one pytest per test folder: folders each have a conftest.py imported as "conftest" (rootdir
    # import mode), so two folders' tests in one process would see only the first one's helpers
    sel = sorted({s for f in FAULTS for s in f.tests})
    by_folder: dict = {}
    for s in sel:
        by_folder.setdefault(str(Path(s.split("::")[0]).parent), []).append(s)
    for folder, group in sorted(by_folder.items()):
        res = _pytest(tree, group)
        assert res.returncode == 0, folder + "\n" + res.stdout[-3000:] + res.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_fault_is_caught(fault, tree):
    path = tree / fault.file
    original = path.read_text()
    assert original.count(fault.old) == 1
    path.write_text(original.replace(fault.old, fault.new))
    try:
        res = _pytest(tree, fault.tests)
    finally:
        path.write_text(original)
    assert res.returncode == 1, (f"{fault.id} ({fault.why}): pytest exit code {res.returncode}, expected 1 "
                                 f"(tests failed)\n" + res.stdout[-3000:] + res.stderr[-2000:])
