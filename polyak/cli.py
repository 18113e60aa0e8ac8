"""The ``polyak`` command line: thin commands over library functions.

Each subcommand has one ``_add_<name>`` function that declares its options and a handler that
calls the library. Errors of input (``ValueError``) print one line and exit 2, without a
traceback; a failing claim exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep that, with our prefix."""


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=True)


# ----------------------------------------------------------------------------------------
# polyak run
# ----------------------------------------------------------------------------------------
def _add_run(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="simulate one method on one problem",
        description=(
            "Simulate a method on a problem. Every hyperparameter of the method is an option "
            "(--beta-init for beta_init); problem parameters --mu, --L, --dim and others likewise. "
            "Run `polyak run --method NAME --help-method` to list a method's hyperparameters."
        ),
    )
    p.add_argument("--method", required=True, help="method name (see `polyak run --list`)")
    p.add_argument("--problem", default="quadratic", help="problem name (default: quadratic)")
    p.add_argument("--steps", type=int, default=200, help="number of steps (default 200)")
    p.add_argument("--seeds", type=int, default=1, help="number of seeds 0..S-1 (default 1)")
    p.add_argument("--backend", default="numpy", help="numpy (default) or torch")
    p.add_argument("--device", default=None, help="torch device (cpu, cuda)")
    p.add_argument("--x0", default=None, help="start: a number (all coordinates) or comma-separated values")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=_cmd_run, _accepts_extra=True)


def _parse_value(text: str) -> Any:
    """Numbers, comma lists of numbers, booleans, or strings."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        if "," in text:
            return [float(v) for v in text.split(",")]
        return int(text) if text.lstrip("+-").isdigit() else float(text)
    except ValueError:
        return text


def _parse_extra(extra: list[str]) -> dict[str, Any]:
    """Turn ``--beta-init 0.9 --nesterov`` into ``{"beta_init": 0.9, "nesterov": True}``."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(extra):
        tok = extra[i]
        if not tok.startswith("--"):
            raise ValueError(f"unexpected argument {tok!r}; options look like --name VALUE")
        key = tok[2:]
        if "=" in key:
            key, val = key.split("=", 1)
            out[key.replace("-", "_")] = _parse_value(val)
            i += 1
            continue
        key = key.replace("-", "_")
        if i + 1 < len(extra) and not (extra[i + 1].startswith("--")):
            out[key] = _parse_value(extra[i + 1])
            i += 2
        else:
            out[key] = True
            i += 1
    return out


def _cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    import numpy as np

    from polyak.solvers import make_problem, problem_param_names, simulate
    from polyak.solvers.base import build_method
    from polyak.verify.rates import fit_rate

    options = _parse_extra(extra)
    rule = _method_rule(args.method)
    hyper_names = {p.name for p in rule.params}
    prob_names = set(problem_param_names(args.problem))
    hyper = {k: v for k, v in options.items() if k in hyper_names}
    prob = {k: v for k, v in options.items() if k in prob_names and k not in hyper_names}
    unknown = sorted(set(options) - hyper_names - prob_names)
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join('--' + u.replace('_', '-') for u in unknown)}; "
            f"method {args.method!r} takes {', '.join(sorted(hyper_names)) or 'nothing'}, "
            f"problem {args.problem!r} takes {', '.join(sorted(prob_names))}"
        )
    method = build_method(rule, hyper)
    problem = make_problem(args.problem, **prob)
    x0 = None
    if args.x0 is not None:
        v = _parse_value(args.x0)
        x0 = np.full(problem.dim, float(v)) if not isinstance(v, list) else np.asarray(v, dtype=float)
    if args.steps < 1:
        raise ValueError(f"steps must be a positive integer; got {args.steps}")
    if args.seeds < 1:
        raise ValueError(f"seeds must be a positive integer; got {args.seeds}")
    keep = 10 if problem.dim <= 10 else 0
    traj = simulate(
        method, problem, args.steps, seeds=range(args.seeds), backend=args.backend,
        device=args.device, x0=x0, keep_last=keep,
    )
    err = traj.dist if traj.dist is not None else traj.fgap
    first = (0,) * (err.ndim - 1)
    fit = fit_rate(err[(slice(None),) + first], traj.k)
    report = {
        "method": args.method,
        "problem": args.problem,
        "hyper": method.describe(),
        "problem_params": problem.describe(),
        "steps": args.steps,
        "seeds": args.seeds,
        "backend": args.backend,
        "fitted_rate": fit.rate,
        "fit_window": list(fit.window),
        "fit_residual": fit.residual,
        "fit_model": fit.model,
        "fit_power": fit.power,
        "final_dist": None if traj.dist is None else traj.dist[-1].reshape(-1).tolist(),
        "final_gap": None if traj.fgap is None else traj.fgap[-1].reshape(-1).tolist(),
        "diverged": traj.diverged.reshape(-1).tolist(),
        "beta_trace": traj.beta[(slice(None),) + first].tolist(),
    }
    if keep:
        report["x_tail"] = traj.x_tail[(slice(None),) + first].tolist()
    if args.json:
        print(dump_json(report))
    else:
        print(f"{args.method} on {args.problem} for {args.steps} steps ({args.backend})")
        print(f"  fitted rate     {fit.rate:.6g}  (window {fit.window[0]}..{fit.window[1]}, residual {fit.residual:.2g})")
        if traj.dist is not None:
            print(f"  final ||x-x*||  {float(traj.dist[-1].max()):.6g}  (max over runs)")
        if traj.fgap is not None:
            print(f"  final f - f*    {float(traj.fgap[-1].max()):.6g}  (max over runs)")
        print(f"  diverged        {int(traj.diverged.sum())} of {traj.diverged.size} runs")
    return EXIT_OK


def _method_rule(spec: str) -> Any:
    """A registered name or ``path/to/file.py:NAME`` (polyak.solvers.linear.load_method) -> its rule."""
    from polyak.solvers import get_method_rule

    if ".py:" in spec or spec.endswith(".py"):
        from polyak.solvers.linear import load_method

        return load_method(spec).rule
    return get_method_rule(spec)


# ----------------------------------------------------------------------------------------
# polyak analyze  (library: polyak.verify.analyze)
# ----------------------------------------------------------------------------------------
def _add_analyze(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="one report for one method on S(mu, L): quadratic, simulated, certified, PEP, counterexample",
        description=(
            "Analyse a method on the mu-strongly convex L-smooth class. METHOD is a registered name or "
            "path/to/file.py:NAME; its hyperparameters are options (--alpha 0.1 --beta 0.5)."
        ),
    )
    p.add_argument("method", help="registered name or path/to/file.py:NAME")
    p.add_argument("--mu", type=float, required=True)
    p.add_argument("--L", type=float, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pep-steps", type=int, default=10, help="N-step worst cases for N = 1..this (default 10)")
    p.add_argument("--parts", default=None, help="comma-separated subset of the report's parts")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--figure", default=None, metavar="PATH", help="save a figure of the rates to PATH")
    p.set_defaults(func=_cmd_analyze, _accepts_extra=True)


def _cmd_analyze(args: argparse.Namespace, extra: list[str]) -> int:
    from polyak.solvers.base import build_method
    from polyak.verify.analyze import PARTS, analyze, format_report, plot_report

    rule = _method_rule(args.method)
    options = _parse_extra(extra)
    names = {p.name for p in rule.params}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join('--' + u.replace('_', '-') for u in unknown)}; "
            f"method {rule.name!r} takes {', '.join(sorted(names)) or 'nothing'}"
        )
    method = build_method(rule, options)
    parts = PARTS if not args.parts else tuple(x.strip() for x in args.parts.split(",") if x.strip())
    rep = analyze(method, args.mu, args.L, seed=args.seed, parts=parts, pep_steps=args.pep_steps)
    if args.figure:
        plot_report(rep, args.figure)
    print(dump_json(rep) if args.json else format_report(rep))
    return EXIT_OK


# ----------------------------------------------------------------------------------------
# The other subcommands live with their owners' library code; each _add_* wires one.
# ----------------------------------------------------------------------------------------
def _add_derive(sub: Any) -> None:
    p = sub.add_parser("derive", help="list or print symbolic derivations")
    p.add_argument("name", nargs="?", help="derivation name; omit to list them")
    p.add_argument("--latex", action="store_true", help="print LaTeX")
    p.add_argument("--at", default=None, help="evaluate at values, e.g. mu=1,L=100")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_derive)


def _cmd_derive(args: argparse.Namespace, extra: list[str]) -> int:
    from polyak.theory.cli import run_derive

    return run_derive(args)


def _add_verify(sub: Any) -> None:
    p = sub.add_parser("verify", help="run the papers' claims and print a table")
    p.add_argument("--suite", default="fast", choices=("fast", "full"))
    p.add_argument("--backend", default="numpy", help="numpy (default) or torch")
    p.add_argument("--device", default=None, help="torch device for --backend torch: cpu or cuda (default: cuda when available)")
    p.add_argument("--only", default=None, help="run claims whose id matches this pattern")
    p.add_argument("--json", default=None, metavar="PATH", help="write a JSON report to PATH")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, default=None, metavar="N",
                       help="run the claims on N local worker processes (default: in this process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the claims on the Dask cluster of this scheduler, e.g. tcp://host:8786 "
                            "(needs pip install 'polyak[dask]'; default: none)")
    p.add_argument("--claims", default=None, metavar="PATH_OR_MODULE",
                   help="run a user's claims instead: a .py file, a folder or a module defining claims()")
    p.add_argument("--with-library", action="store_true", help="with --claims: run the library's claims too")
    p.set_defaults(func=_cmd_verify)


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {n}")
    return n


def _cmd_verify(args: argparse.Namespace, extra: list[str]) -> int:
    from polyak.verify.cli import run_verify

    return run_verify(args)


def _add_certify(sub: Any) -> None:
    p = sub.add_parser("certify", help="SDP certificate of a rate or an N-step worst case")
    p.add_argument("method", help="gd, hb or nesterov")
    p.add_argument("--mu", type=float, required=True)
    p.add_argument("--L", type=float, required=True)
    p.add_argument("--alpha", type=float, default=None)
    p.add_argument("--beta", type=float, default=None)
    p.add_argument("--steps", type=int, default=None, help="N for an N-step worst case (PEP)")
    p.add_argument("--metric", default="dist", choices=("dist", "fgap"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_certify)


def _cmd_certify(args: argparse.Namespace, extra: list[str]) -> int:
    from polyak.verify.cli import run_certify

    return run_certify(args)


def _add_figures(sub: Any) -> None:
    p = sub.add_parser("figures", help="regenerate figures")
    p.add_argument("names", nargs="*", help="figure names (default: all)")
    p.add_argument("--fast", action="store_true", help="small, quick versions")
    p.add_argument("--out", default="figures-out", help="output folder")
    p.add_argument("--format", default="png,pdf", help="comma-separated formats")
    p.add_argument("--progress", action="store_true", help="show progress")
    p.add_argument("--list", action="store_true", help="list figures")
    p.set_defaults(func=_cmd_figures)


def _cmd_figures(args: argparse.Namespace, extra: list[str]) -> int:
    from polyak.figures.cli import run_figures

    return run_figures(args)


COMMANDS: list[Callable[[Any], None]] = [_add_run, _add_derive, _add_verify, _add_certify, _add_figures, _add_analyze]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="polyak", description="Theory and verification toolkit for momentum methods.")
    from polyak import __version__

    parser.add_argument("--version", action="version", version=f"polyak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    if extra and not getattr(args, "_accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args, extra))
    except (ValueError, ImportError) as exc:
        print(f"polyak {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
