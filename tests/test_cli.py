"""The command line as a whole: no prefix matching, options that need values, outputs checked before
any work, one-line errors with exit 2, help text with defaults, --list and --help-method."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from polyak.cli import build_parser, main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_usage_error(code, out, err, needle=None):
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    if needle is not None:
        assert needle in err, err


def subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action.choices


def test_prefix_matching_is_off_on_every_parser():
    parser, subs = subparsers()
    assert parser.allow_abbrev is False
    assert set(subs) >= {"run", "derive", "verify", "certify", "figures"}
    for name, p in subs.items():
        assert p.allow_abbrev is False, name


@pytest.mark.parametrize("argv,needle", [
    (["run", "--method", "hb", "--step", "5"], "--step"),
    (["run", "--method", "hb", "--see", "3"], "--see"),
    (["run", "--meth", "hb"], "--meth"),
    (["verify", "--suit", "fast"], "--suit"),
    (["verify", "--on", "x"], "--on"),
    (["certify", "hb", "--mu", "1", "--L", "10", "--ste", "3"], "--ste"),
    (["figures", "--fa"], "--fa"),
    (["derive", "--lat"], "--lat"),
])
def test_prefixes_are_errors(capsys, argv, needle):
    assert_usage_error(*run(capsys, *argv), needle=needle)


def test_seed_is_the_problem_seed_not_seeds(capsys):
    # without prefix matching --seed is the quadratic's data seed, never the number of runs --seeds
    code, out, _ = run(capsys, "run", "--method", "gd", "--dim", "3", "--steps", "2", "--seed", "11", "--json")
    rep = json.loads(out)
    assert code == 0 and rep["seeds"] == 1 and rep["problem_params"]["seed"] == 11


@pytest.mark.parametrize("argv,needle", [
    (["run", "--method", "hb", "--alpha"], "--alpha"),
    (["run", "--method", "hb", "--alpha", "--beta", "0.5"], "--alpha"),
    (["run", "--method", "hb", "--mu"], "--mu"),
    (["run", "--method", "adaptive-hb", "--blocks"], "--blocks"),
    (["run", "--method", "adaptive-hb", "--blocks", "1.5"], "integer"),
    (["run", "--method", "adaptive-hb", "--variant", "A3"], "A3"),
    (["run", "--method", "hb", "--alpha", "fast"], "number"),
    (["run", "--method", "hb", "--sigma", "0.1"], "--noise"),
    (["run", "--method", "hb", "--noise", "additive", "--sigma", "0.1", "--batch-size", "4"], "minibatch"),
    (["run", "--method", "hb", "extra"], "extra"),
    (["run"], "--method"),
    (["run", "--help-method"], "method"),
    (["run", "--help-method", "warp"], "unknown method"),
    (["run", "--method", "hb", "--x0", "abc"], "--x0"),
    (["certify", "hb", "--mu", "1"], "--L"),
    (["certify", "hb", "--mu", "x", "--L", "1"], "--mu"),
    (["certify", "hb", "--mu", "1", "--L", "10", "--steps", "0"], "--steps"),
    (["verify", "--json"], "--json"),
    (["figures", "nope"], "nope"),
    (["figures", "--format", "gif"], "gif"),
    (["derive", "nope"], "unknown derivation"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    assert_usage_error(*run(capsys, *argv), needle=needle)


def test_bool_hyperparameter_may_stand_alone(capsys):
    code, out, _ = run(capsys, "run", "--method", "sgdm", "--nesterov", "--lr", "0.01", "--dim", "3", "--steps", "3",
                       "--json")
    assert code == 0 and json.loads(out)["hyper"]["nesterov"] is True
    code, out, _ = run(capsys, "run", "--method", "sgdm", "--nesterov", "false", "--lr", "0.01", "--dim", "3",
                       "--steps", "3", "--json")
    assert code == 0 and json.loads(out)["hyper"]["nesterov"] is False


def test_noise_with_sigma_runs(capsys):
    code, out, _ = run(capsys, "run", "--method", "hb", "--noise", "additive", "--sigma", "0.1", "--dim", "3",
                       "--steps", "5", "--json")
    assert code == 0 and json.loads(out)["problem_params"]["sigma"] == 0.1


# ----------------------------------------------------------------------------------------
# outputs validated before any work
# ----------------------------------------------------------------------------------------
@pytest.fixture
def no_work(monkeypatch):
    """Any attempt to run claims or render figures fails the test: errors must come first."""
    import polyak.figures.io as io
    import polyak.verify.runner as runner

    def boom(*a, **k):
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(runner, "run_claims", boom)
    monkeypatch.setattr(runner, "collect", boom)
    monkeypatch.setattr(io, "render", boom)


def bad_paths(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    return {
        "missing folder": str(tmp_path / "missing" / "r.json"),
        "is a directory": str(tmp_path),
        "not a directory": str(afile / "r.json"),
        "empty": "",
        "blank": "  ",
    }


@pytest.mark.parametrize("kind", ["missing folder", "is a directory", "not a directory", "empty", "blank"])
def test_verify_json_path_checked_first(capsys, tmp_path, no_work, kind):
    path = bad_paths(tmp_path)[kind]
    code, out, err = run(capsys, "verify", "--only", "polyak1964.gd-*", "--json", path)
    assert_usage_error(code, out, err, needle="--json")
    assert out == ""


@pytest.mark.parametrize("kind", ["not a directory", "empty", "is a file"])
def test_figures_out_checked_first(capsys, tmp_path, no_work, kind):
    afile = tmp_path / "afile"
    afile.write_text("x")
    path = {"not a directory": str(afile / "sub"), "empty": "", "is a file": str(afile)}[kind]
    code, out, err = run(capsys, "figures", "hb_region", "--fast", "--out", path)
    assert_usage_error(code, out, err, needle="--out")


def test_verify_json_to_stdout(capsys):
    code, out, err = run(capsys, "verify", "--only", "polyak1964.gd-*", "--json", "-")
    rep = json.loads(out)  # stdout is the JSON alone; the table went to stderr
    assert code == 0 and rep["counts"]["pass"] == 2 and "2 passed, 0 failed" in err


def test_verify_json_written(capsys, tmp_path):
    path = tmp_path / "new" if False else tmp_path / "r.json"
    code, _, _ = run(capsys, "verify", "--only", "polyak1964.gd-*", "--json", str(path))
    assert code == 0 and json.loads(path.read_text())["counts"]["pass"] == 2


# ----------------------------------------------------------------------------------------
# help, --list, --help-method
# ----------------------------------------------------------------------------------------
def _option_help_lines(p: argparse.ArgumentParser):
    fmt = p._get_formatter()
    for a in p._actions:
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        yield a, fmt._expand_help(a) if a.help else ""


def test_every_option_has_help_with_its_default():
    _, subs = subparsers()
    for name, p in subs.items():
        for a, text in _option_help_lines(p):
            label = f"polyak {name} {a.option_strings or a.dest}"
            assert text.strip(), f"{label} has no help"
            if a.option_strings and not a.required:
                assert "default" in text, f"{label}: help does not say its default: {text!r}"
        p.format_help()  # renders without error


def test_specific_help_texts():
    _, subs = subparsers()
    helps = {n: p.format_help() for n, p in subs.items()}
    assert "(default: figures-out)" in " ".join(helps["figures"].split())
    only = " ".join(helps["verify"].split())
    assert "glob" in only and "substring" in only and "paper key" in only
    run_help = helps["run"]
    assert "--list" in run_help and "--help-method" in run_help and "--max-memory" in run_help


def test_help_exits_0(capsys):
    for argv in (["--help"], ["run", "--help"], ["certify", "--help"], ["verify", "--help"], ["--version"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and out


def test_run_list_names_every_method_and_problem(capsys):
    from polyak.solvers import get_method_rule, list_methods, list_problems

    code, out, _ = run(capsys, "run", "--list")
    assert code == 0
    lines = out.splitlines()
    for n in list_methods():
        line = next(ln for ln in lines if ln.split()[:1] == [n])
        assert get_method_rule(n).title in line
    for n in list_problems():
        line = next(ln for ln in lines if ln.split()[:1] == [n])
        assert len(line.split()) > 2, line  # a description follows the name


@pytest.mark.parametrize("name", ["hb", "adaptive-hb", "sgdm", "schedule-free", "demon-adam"])
def test_help_method_lists_every_param(capsys, name):
    from polyak.solvers import get_method_rule

    code, out, _ = run(capsys, "run", "--help-method", name)
    assert code == 0
    for p in get_method_rule(name).params:
        flag = "--" + p.name.replace("_", "-")
        line = next(ln for ln in out.splitlines() if ln.split()[:1] == [flag])
        assert repr(p.default) in line and p.range_text() in line and p.doc in line, line
    # --method NAME --help-method is the same
    code2, out2, _ = run(capsys, "run", "--method", name, "--help-method")
    assert code2 == 0 and out2 == out


# ----------------------------------------------------------------------------------------
# resources
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,option", [
    (["--dim", "100000000"], "--max-memory"),
    (["--steps", "1e11"], "--max-memory"),
    (["--steps", "2e7", "--dim", "2"], "--max-seconds"),
    (["--dim", "20000", "--basis", "random"], "--max-memory"),
    (["--dim", "3", "--alpha", ",".join(["0.01"] * 50), "--seeds", "100000"], "--max-memory"),
])
def test_run_refuses_beyond_limits(capsys, monkeypatch, argv, option):
    import polyak.solvers as solvers

    def boom(*a, **k):
        raise AssertionError("allocated before the estimate")

    monkeypatch.setattr(solvers, "make_problem", boom)
    code, out, err = run(capsys, "run", "--method", "hb", *argv)
    assert_usage_error(code, out, err, needle=option)
    assert re.search(r"about [\d.e+]+ (GiB|TiB|MiB|s)", err), err


def test_raising_the_limit_lets_it_run(capsys):
    argv = ["run", "--method", "gd", "--dim", "2000", "--steps", "5", "--json"]
    code, _, err = run(capsys, *argv, "--max-memory", "100K")
    assert_usage_error(code, "", err, needle="--max-memory")
    code, out, _ = run(capsys, *argv, "--max-memory", "1G")
    assert code == 0 and json.loads(out)["steps"] == 5


def test_estimate_is_an_upper_bound_of_measured_memory():
    """The memory estimate is not below what a run really allocates (tracemalloc peak), at sizes where
    the state dominates: the estimate can fail only by being too small."""
    import tracemalloc

    import polyak
    from polyak.run_cmd import estimate

    m = polyak.make_method("hb", alpha=0.01, beta=0.5)
    for prob in ("quadratic", "least-squares", "lessard"):  # imports and first-call caches outside the count
        polyak.simulate(m, polyak.make_problem(prob, dim=2), 3, seeds=2)
    polyak.simulate(m, polyak.make_problem("quadratic", dim=2, basis="random"), 3)
    for prob, kw, grid, seeds in [("quadratic", {"dim": 20000}, 1, 2), ("quadratic", {"dim": 300, "basis": "random"}, 1, 1),
                                  ("least-squares", {"dim": 200, "n": 400}, 1, 1), ("quadratic", {"dim": 3}, 1, 1000),
                                  ("lessard", {"dim": 10000}, 1, 3)]:
        tracemalloc.start()
        p = polyak.make_problem(prob, **kw)
        polyak.simulate(m, p, 20, seeds=seeds)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        mem, _ = estimate(prob, kw, grid, seeds, 20, 0)
        assert mem >= peak, (prob, mem, peak)
        assert mem <= 50 * peak + 1e6, (prob, mem, peak)  # and not absurdly loose


def test_progress_choice(monkeypatch):
    from polyak.cli import want_progress

    ns = argparse.Namespace
    monkeypatch.delenv("CI", raising=False)
    assert want_progress(ns(progress=True, json=True)) is True
    assert want_progress(ns(progress=False)) is False
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert want_progress(ns(progress=None, json=False)) is True
    assert want_progress(ns(progress=None, json=True)) is False
    monkeypatch.setenv("CI", "1")
    assert want_progress(ns(progress=None, json=False)) is False


def test_run_json_small_fields_first(capsys):
    code, out, _ = run(capsys, "run", "--method", "hb", "--dim", "4", "--steps", "50", "--json")
    keys = list(json.loads(out))
    assert code == 0
    assert keys.index("fitted_rate") < keys.index("beta_trace") and keys[-2:] == ["beta_trace", "x_tail"]
    # the first lines of the text are the answer, not a trace
    assert "fitted_rate" in "\n".join(out.splitlines()[:10])


def test_comma_lists_form_the_outer_grid(capsys):
    code, out, _ = run(capsys, "run", "--method", "hb", "--alpha", "0.01,0.02,0.03", "--beta", "0.5,0.9", "--dim", "3",
                       "--L", "10", "--steps", "30", "--json")
    rep = json.loads(out)
    assert code == 0 and rep["grid"] == {"alpha": 3, "beta": 2} and len(rep["final_dist"]) == 6
    # the first run is alpha = 0.01, beta = 0.5: the same as that run alone
    code, out, _ = run(capsys, "run", "--method", "hb", "--alpha", "0.01", "--beta", "0.5", "--dim", "3", "--L", "10",
                       "--steps", "30", "--json")
    alone = json.loads(out)
    assert alone["final_dist"][0] == pytest.approx(rep["final_dist"][0], rel=1e-12)
    assert rep["fitted_rate"] == pytest.approx(alone["fitted_rate"], rel=1e-12)


def test_run_dtype_float32(capsys):
    argv = ["run", "--method", "gd", "--alpha", "0.5", "--mu", "1", "--L", "1", "--dim", "3", "--x0", "2", "--steps", "3",
            "--json"]
    code, out, _ = run(capsys, *argv, "--dtype", "float32")
    rep = json.loads(out)
    # alpha = 1/(2L) halves the error: exactly 0.25 per coordinate in float32 too; 1/3 is not representable
    assert code == 0 and rep["dtype"] == "float32" and rep["x_tail"][-1] == [0.25, 0.25, 0.25]
    code, out, _ = run(capsys, "run", "--method", "gd", "--alpha", "0.5", "--L", "1", "--mu", "1", "--dim", "1",
                       "--x0", "0.1", "--steps", "1", "--json", "--dtype", "float32")
    x32 = json.loads(out)["x_tail"][-1][0]
    assert x32 != 0.05 and abs(x32 - 0.05) < 1e-8  # float32 rounding of 0.05, not float64's


def test_run_takes_the_method_as_its_first_argument_like_certify(capsys):
    # `polyak run hb ...` is `polyak run --method hb ...` (same JSON report); the method given both
    # ways, or a second positional, is a one-line usage error naming what is wrong
    argv = ["--alpha", "0.02", "--beta", "0.6", "--dim", "4", "--steps", "30", "--json"]
    code_p, out_p, _ = run(capsys, "run", "hb", *argv)
    code_o, out_o, _ = run(capsys, "run", "--method", "hb", *argv)
    assert code_p == code_o == 0
    rep_p, rep_o = json.loads(out_p), json.loads(out_o)
    assert rep_p["method"] == "hb" and rep_p["hyper"]["beta"] == 0.6
    assert rep_p["final_dist"] == rep_o["final_dist"]
    assert_usage_error(*run(capsys, "run", "hb", "--method", "gd"), needle="method given twice")
    assert_usage_error(*run(capsys, "run", "hb", "nesterov"), needle="unexpected argument(s) nesterov")


def test_run_says_when_the_fit_window_is_too_short_for_a_rate(capsys):
    # 3 steps: the default fit has 3 records (its window starts at half the run); the text says the
    # rate is a transient's and the JSON carries the count; 100 steps (51 records) say nothing
    code, out, _ = run(capsys, "run", "hb", "--steps", "3")
    assert code == 0 and "only 3 records in the window" in out
    code, out, _ = run(capsys, "run", "hb", "--steps", "3", "--json")
    assert json.loads(out)["fit_points"] == 3
    code, out, _ = run(capsys, "run", "hb", "--steps", "100")
    assert code == 0 and "records in the window" not in out
