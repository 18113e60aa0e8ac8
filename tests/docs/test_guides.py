"""The Python examples of the documentation's guide pages run and print what they say.

Every page's ``python`` blocks run in one fresh interpreter (each page in its own namespace; the
registry starts clean, so the guide's own method registers), in a temporary folder; the printed
numbers are checked against values computed here independently. torch is a test dependency.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted((DOCS / "guide").glob("*.md")) + [DOCS / "getting-started.md"]


_RUNNER = """
import sys
for name, code in PAGES:
    print("=== " + name, flush=True)
    exec(compile(code, name, "exec"), {"__name__": "__guide__"})
"""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    """Each page's printed output; all pages run in one fresh interpreter (in order, own namespaces)."""
    pages = [(p.name, "\n\n".join(re.findall(r"```python\n(.*?)```", p.read_text(), flags=re.S)))
             for p in PAGES if p.stem != "ci"]
    code = f"PAGES = {pages!r}\n" + _RUNNER
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         cwd=tmp_path_factory.mktemp("guides"), env={**os.environ, "MPLBACKEND": "Agg"})
    assert res.returncode == 0, res.stdout[-1000:] + res.stderr[-3000:]
    out, name = {}, None
    for line in res.stdout.splitlines():
        if line.startswith("=== "):
            name = line[4:]
            out[name] = []
        else:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def test_every_guide_has_examples():
    for page in PAGES:
        if page.stem != "ci":  # ci.md's blocks are pytest files, run by test_ci_guide_tests_pass
            assert re.search(r"```python\n", page.read_text()), page.name


def test_getting_started_prints_a_converged_run(outputs):
    out = outputs["getting-started.md"].split()
    assert out[:3] == ["(301,", "1,", "1)"] and float(out[3]) < 1e-20  # rho* = 9/11 -> (9/11)^300 ~ 1e-26


def test_certify_guide_numbers(outputs):
    import numpy as np

    out = outputs["certify.md"].splitlines()
    certified, rate, status = out[0].split()
    assert certified == "True" and status == "optimal"
    # the certificate bounds the rate from above, no lower than the quadratic rate (numpy eigenvalues)
    lam = np.linspace(1.0, 10.0, 2001)
    quad = max(np.abs(np.roots([1.0, -(1.3 - 0.1 * l), 0.3])).max() for l in lam)
    assert quad - 1e-6 <= float(rate) <= 0.9
    assert out[1] == "(True, 'optimal')"
    assert float(out[2]) == pytest.approx(0.9 ** 10, rel=1e-4)  # GD, alpha = 1/L: (1 - mu/L)^(2N), tight
    # the Lyapunov function of Nesterov's certificate passes the PEPit check, and fails it at rate - 1e-3
    assert out[3:5] == ["True", "False"]


def test_own_method_guide_numbers(outputs):
    out = outputs["own-method.md"].splitlines()
    # traced heavy ball: xi = (x, x_prev), A = [[1 + beta, -beta], [1, 0]], B = [[-alpha], [0]]
    assert out[0] == "[[1.3, -0.3], [1.0, 0.0]] [[-0.1], [0.0]]"
    assert float(out[1]) == 0.0  # the traced definition gives the built-in heavy ball's iterates
    assert float(out[2]) == 0.0  # damping 0 is exactly heavy ball
    assert "damping" in out[3] and "[0, 1]" in out[3]
    # its declared linear form: damping 0.5 of beta 0.6 is heavy ball with beta 0.3 (certified directly)
    from polyak.verify.certificates import certify_rate

    assert float(out[4]) == pytest.approx(certify_rate("hb", 1.0, 10.0, 0.1, 0.3).rate, abs=1e-9)
    assert out[5] == "pass"


def test_torch_guide_trains(outputs):
    out = outputs["torch.md"].split()
    assert float(out[0]) < 0.69  # below the loss of a constant predictor, log 2
    # Demon's schedule at the last of T = 200 steps (k = 199): beta_init (1 - k/T) / (1 - beta_init + beta_init (1 - k/T))
    z = 1 - 199 / 200
    assert float(out[1]) == pytest.approx(0.9 * z / (0.1 + 0.9 * z), rel=1e-12)


def test_figures_guide_runs(outputs):
    assert "figures.md" in outputs


def test_ci_guide_tests_pass(pytester: pytest.Pytester):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "guide" / "ci.md").read_text(), flags=re.S)
    pytester.makepyfile(test_guide_rates=blocks[0], test_guide_claim=blocks[1])
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
