"""Fuzz the command line in-process: random argument lists over the real subcommands and options.

Every call must end with exit code 0, 1 or 2, never a traceback (an exception escaping
``polyak.cli.main`` fails the test), and an exit 2 must say why in one line on stderr. Sizes are
kept small (dim <= 20, steps <= 300, PEP N <= 3, cheap claims) so one call takes well under a
second (the default 300 cases: 10.6 s of CPU including pytest's start, measured at load 17 where the
wall time was 150 s); ``python tests/test_cli_fuzz.py N SEED`` runs N cases and prints a summary.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import sys
import time
import traceback

import pytest

from polyak.cli import main

JUNK = ["", " ", "-", "--", "-1", "0", "1e400", "nan", "inf", "-inf", "abc", "1,2", "1,,2", "=", "--x", "ü", "1e11",
        "3.5", "true", "None", "/", "-0", "1e-320"]
NUM = ["0", "1", "-1", "0.5", "2", "10", "100", "1e-3", "nan", "inf", "-inf", "abc", "", "1e5", "0.99", "1.5"]
SMALL_INT = ["0", "1", "2", "3", "5", "-1", "1.5", "abc", "", "1e2", "20"]


def _path_values(tmp: str) -> list[str]:
    afile = os.path.join(tmp, "afile")
    if not os.path.exists(afile):
        with open(afile, "w") as fh:
            fh.write("x")
    return ["", " ", "-", tmp, afile, os.path.join(afile, "x.json"), os.path.join(tmp, "missing", "r.json"),
            os.path.join(tmp, "r.json"), os.path.join(tmp, "out")]


def _methods() -> list[str]:
    from polyak.solvers import list_methods

    return list_methods() + ["warp", ""]


def _hyper_options(method: str) -> list[tuple[str, list[str]]]:
    from polyak.solvers import get_method_rule

    try:
        rule = get_method_rule(method)
    except ValueError:
        return [("--alpha", NUM), ("--beta", NUM)]
    out = []
    for p in rule.params:
        vals = list(NUM)
        if p.kind == "choice":
            vals = [str(c) for c in p.choices] * 3 + ["bogus", ""]
        elif p.kind == "bool":
            vals = ["true", "false", "yes", "2", ""]
        elif p.kind == "int":
            vals = SMALL_INT
        elif p.default is not None and not isinstance(p.default, str):
            d = float(p.default)
            vals = vals + [repr(d), repr(d), repr(d * 0.5), f"{d},{d * 0.5}"]
        out.append(("--" + p.name.replace("_", "-"), vals))
    return out


PROBLEM_OPTS = [
    ("--mu", NUM + ["1", "1", "0.1"]), ("--L", NUM + ["10", "10", "5,20"]), ("--dim", ["1", "2", "5", "10", "20", "0", "-3", "1.5", "x"]),
    ("--noise", ["additive", "multiplicative", "minibatch", "bogus", ""]), ("--sigma", ["0", "0.1", "-1", "x"]),
    ("--batch-size", ["1", "4", "0", "x"]), ("--instances", ["1", "2", "0"]), ("--seed", SMALL_INT),
    ("--spectrum", ["linspace", "uniform", "bogus"]), ("--basis", ["eigen", "random", "x"]), ("--n", ["10", "50", "0"]),
]


def _run_case(rng: random.Random, tmp: str) -> list[str]:
    method = rng.choice(_methods())
    argv = ["run"]
    if rng.random() < 0.92:
        argv += ["--method", method]
    problem = rng.choice(["quadratic"] * 6 + ["least-squares", "logistic", "lessard", "nonconvex", "nope"])
    if rng.random() < 0.8:
        argv += ["--problem", problem]
    pool = [("--steps", ["1", "2", "10", "50", "300", "0", "-5", "1e2", "1e11", "x", ""]),
            ("--seeds", ["1", "2", "3", "0", "1e9", "x"]), ("--backend", ["numpy", "numpy", "jax", ""]),
            ("--x0", ["1", "0", "1,2", "x", "nan", ""]), ("--json", None), ("--list", None), ("--help-method", [method, ""]),
            ("--max-memory", ["1K", "2G", "x", "0"]), ("--max-seconds", ["0.001", "100", "-1"]), ("--no-progress", None),
            ("--seed", SMALL_INT), ("--step", ["5"]), ("--see", ["3"])]
    pool += _hyper_options(method) + PROBLEM_OPTS
    argv += _options(rng, pool, k=rng.randint(0, 5))
    if "--dim" not in argv:
        argv += ["--dim", "5"]
    if "--steps" not in argv:
        argv += ["--steps", "40"]
    return argv


def _options(rng: random.Random, pool, k: int) -> list[str]:
    out: list[str] = []
    for opt, vals in rng.sample(pool, min(k, len(pool))):
        r = rng.random()
        if vals is None:
            out.append(opt)
            if r < 0.1:
                out.append(rng.choice(JUNK))
        elif r < 0.08:
            out.append(opt)  # value missing
        elif r < 0.16:
            out.append(opt + "=" + rng.choice(vals))
        elif r < 0.22:
            out += [opt, rng.choice(JUNK)]
        else:
            out += [opt, rng.choice(vals)]
    return out


def _derive_case(rng: random.Random, tmp: str) -> list[str]:
    from polyak.theory.derivation import names

    argv = ["derive"]
    if rng.random() < 0.8:
        argv.append(rng.choice(names() + ["nope", ""]))
    pool = [("--latex", None), ("--json", None),
            ("--at", ["mu=1,L=100", "mu=2,L=1", "mu", "mu=x", "kappa=3", "t=50,T=100,beta_init=0.9", "", "=", ",",
                      "alpha=0.5,mu=0.1,L=1", "c=0.5,L=3", "eta=2,c_k=0.5,c_k1=0.25", "mu=1,L=inf", "mu=nan,L=2"])]
    return argv + _options(rng, pool, rng.randint(0, 3))


CHEAP_CLAIMS = ["polyak1964.gd-*", "demon.beta-*", "topollai2025.*", "demon.headline", "nomatch", "", "[", "  "]


def _verify_case(rng: random.Random, tmp: str) -> list[str]:
    argv = ["verify", "--only", rng.choice(CHEAP_CLAIMS[:-3] * 3 + CHEAP_CLAIMS[-3:])]  # never all claims
    pool = [("--suite", ["fast", "full", "slow", ""]), ("--backend", ["numpy", "jax"]),
            ("--json", _path_values(tmp)), ("--no-progress", None), ("--progress", None),
            ("--workers", ["0", "-1", "x", "1.5"])]  # valid counts start processes: kept out of the fuzz
    argv += _options(rng, pool, rng.randint(0, 3))
    if "full" in argv:  # the full suite's claims are long: keep full only with a cheap filter
        argv += ["--only", rng.choice(CHEAP_CLAIMS[:4])]
    return argv


def _certify_case(rng: random.Random, tmp: str) -> list[str]:
    argv = ["certify"]
    if rng.random() < 0.9:
        argv.append(rng.choice(["gd", "hb", "nesterov", "gd", "hb", "adam", ""]))
    pool = [("--mu", ["1", "1", "0.1", "0", "-1", "x", "nan"]), ("--L", ["10", "10", "4", "0.5", "x", "inf"]),
            ("--alpha", ["0.1", "0.15", "0", "-1", "5", "x"]), ("--beta", ["0", "0.3", "0.9", "1", "1.5", "x"]),
            ("--rate", ["0.5", "0.9", "0.99", "1", "-1", "0", "x"]), ("--steps", ["1", "2", "3", "0", "-1", "x", "100000"]),
            ("--metric", ["dist", "fgap", "x"]), ("--json", None), ("--max-memory", ["1K", "8G"]),
            ("--max-seconds", ["0.01", "100"])]
    chosen = _options(rng, pool, rng.randint(1, 6))
    if rng.random() < 0.85 and "--mu" not in chosen:
        chosen = ["--mu", "1"] + chosen
    if rng.random() < 0.85 and "--L" not in chosen:
        chosen = ["--L", "10"] + chosen
    return argv + chosen


def _figures_case(rng: random.Random, tmp: str) -> list[str]:
    # never renders: a listing, or a name that is refused (names first, so that an --out with its
    # value missing cannot swallow them and render every figure)
    argv = ["figures", rng.choice(["nope", "hb-region", "Hb_region", ""])]
    pool = [("--list", None), ("--format", ["png", "pdf", "gif", "", "png,,pdf"]), ("--out", _path_values(tmp)),
            ("--fast", None), ("--no-progress", None)]
    return argv + _options(rng, pool, rng.randint(0, 3))


def _top_case(rng: random.Random, tmp: str) -> list[str]:
    return rng.choice([[], ["--version"], ["--bogus"], ["bogus"], ["--help"], [rng.choice(JUNK)],
                       [rng.choice(["run", "derive", "verify", "certify", "figures"]), "--help"]])


KINDS = [(_run_case, 0.5), (_derive_case, 0.14), (_certify_case, 0.12), (_verify_case, 0.09), (_figures_case, 0.07),
         (_top_case, 0.08)]


def case(rng: random.Random, tmp: str) -> list[str]:
    fn = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
    argv = fn(rng, tmp)
    if rng.random() < 0.05 and len(argv) > 1:  # shuffle the tail
        tail = argv[1:]
        rng.shuffle(tail)
        argv = argv[:1] + tail
    return argv


def call(argv: list[str]) -> tuple[int | None, str, str, str | None, float]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.process_time()  # CPU time of this process: the machine's load does not count
    crash = None
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except BaseException:  # noqa: BLE001 - anything escaping main is a finding
            crash = traceback.format_exc()
    return code, out.getvalue(), err.getvalue(), crash, time.process_time() - t0


def problems_of(argv, code, out, err, crash) -> list[str]:
    found = []
    if crash is not None:
        found.append("exception escaped main: " + crash.strip().splitlines()[-1])
    elif code not in (0, 1, 2):
        found.append(f"exit code {code!r}")
    if "Traceback" in err:
        found.append("traceback on stderr")
    if code == 2 and crash is None and "--help" not in argv:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        if len(lines) != 1:
            found.append(f"exit 2 with {len(lines)} stderr lines: {err[:300]!r}")
    return found


def fuzz(n: int, seed: int, tmp: str, *, max_seconds_each: float = 5.0) -> dict:
    """``n`` cases from ``seed``; findings (broken oracle) and slow cases (over ``max_seconds_each`` s CPU)."""
    rng = random.Random(seed)
    cwd = os.getcwd()
    os.chdir(tmp)  # relative outputs (--json 3.5) land in tmp, never in the working tree
    env_ci = os.environ.get("CI")
    os.environ["CI"] = "1"  # no progress bars in the captured stderr
    counts = {0: 0, 1: 0, 2: 0, "bad": 0}
    findings, slow = [], []
    try:
        for _ in range(n):
            argv = case(rng, tmp)
            code, out, err, crash, secs = call(argv)
            bad = problems_of(argv, code, out, err, crash)
            if bad:
                counts["bad"] += 1
                findings.append((argv, bad))
            else:
                counts[code] += 1
            if secs > max_seconds_each:
                slow.append((argv, secs))
    finally:
        os.chdir(cwd)
        if env_ci is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = env_ci
    return {"counts": counts, "findings": findings, "slow": slow}


def _report(res: dict) -> str:
    lines = [f"counts {res['counts']}"]
    for argv, bad in res["findings"][:20]:
        lines.append(f"  {argv!r}: {'; '.join(bad)}")
    for argv, secs in res["slow"][:10]:
        lines.append(f"  slow {secs:.1f} s CPU: {argv!r}")
    return "\n".join(lines)


def test_fuzz_cli(tmp_path):
    res = fuzz(300, seed=20261201, tmp=str(tmp_path))
    assert not res["findings"] and not res["slow"], _report(res)
    c = res["counts"]
    # the fuzz is not all usage errors (exit 1, a rate not certified, is rare at random: its cases are
    # in tests/verify/test_cli_certify.py)
    assert c[0] >= 50 and c[2] >= 50, c


@pytest.mark.slow
def test_fuzz_cli_large(tmp_path):
    res = fuzz(2000, seed=7, tmp=str(tmp_path))
    assert not res["findings"] and not res["slow"], _report(res)


def test_fuzz_oracle_rejects_a_traceback():
    """The fuzz's checks can fail: an escaping exception, a bad code and a multi-line exit 2 are caught."""
    assert problems_of(["run"], None, "", "", "Traceback ...\nKeyError: 'x'")
    assert problems_of(["run"], 3, "", "", None)
    assert problems_of(["run"], 2, "", "polyak run: error: a\nsecond line\n", None)
    assert problems_of(["run"], 1, "", "Traceback (most recent call last):\n", None)
    assert not problems_of(["run"], 2, "", "polyak run: error: bad\n", None)


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = fuzz(n, seed, tmp, max_seconds_each=5.0)
        print(_report(res))
        print(f"{n} cases in {time.perf_counter() - t0:.1f} s")
