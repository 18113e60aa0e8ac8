"""The ``polyak`` command line: thin commands over library functions.

How it is laid out (extend it with small functions, never by editing a big one):

* ``@command(NAME, help=..., description=...)`` on a handler ``fn(args) -> int`` registers a
  subcommand; ``@options(NAME)`` on ``fn(parser)`` adds options to it. A helper adding
  ``polyak verify --workers`` writes one ``@options("verify")`` function (it runs after the
  command's own ones, in definition order) and reads ``getattr(args, "workers", ...)`` in the
  handler. The handler imports the library lazily, so ``polyak --help`` stays fast.
* Every parser is a :class:`Parser`: prefix matching is off (``--seed`` is not ``--seeds``), a
  usage error prints ONE line ``polyak CMD: error: ...`` and exits 2, and the help shows every
  option's default (:class:`HelpFormatter`).
* Output paths are argparse types (:func:`output_file`, :func:`output_dir`): a bad ``--json`` or
  ``--out`` exits 2 while parsing, before any work.
* Exit codes: 0 ok; 1 a claim failed (``verify``) or a rate is not certified (``certify``);
  2 bad input (``ValueError`` from the library, usage errors, limits refused). Messages of exit 2
  are one line without a traceback.
* Resource guards: :func:`check_resources` refuses a run whose estimated memory or time exceeds
  ``--max-memory`` / ``--max-seconds``, naming the numbers and the option that raises the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


# ----------------------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------------------
class HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the help already says its default; a
    description or epilog with line breaks is printed as written, a one-paragraph one is wrapped."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        if isinstance(action, (argparse._StoreTrueAction,)) and action.default is False:
            return text + " (default: off)"
        if action.default is None:
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse with prefix matching off, one-line usage errors (exit 2) and defaults in the help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        fail(f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)")


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def fail(message: str) -> None:
    print(one_line(message), file=sys.stderr)
    raise SystemExit(EXIT_ERROR)


# ----------------------------------------------------------------------------------------
# Argument types (validated while parsing, before any work)
# ----------------------------------------------------------------------------------------
def output_file(text: str) -> str:
    """``--json PATH``: '-' (stdout) or a file whose folder exists and that is not a folder."""
    if text == "-":
        return text
    if not text or not text.strip():
        raise argparse.ArgumentTypeError("an output path must not be empty (use - for stdout)")
    path = os.path.abspath(text)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; give a file name")
    parent = os.path.dirname(path)
    if not os.path.exists(parent):
        raise argparse.ArgumentTypeError(f"folder {os.path.dirname(text) or parent!r} of {text!r} does not exist")
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"{os.path.dirname(text)!r} in {text!r} is not a directory")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{text!r} is not writable")
    return text


def output_dir(text: str) -> str:
    """``--out DIR``: a folder that exists or can be created (no part of it is a file)."""
    if not text or not text.strip():
        raise argparse.ArgumentTypeError("an output folder must not be empty")
    path = os.path.abspath(text)
    probe = path
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise argparse.ArgumentTypeError(f"{text!r}: {probe!r} is a file, not a directory")
    if not os.access(probe, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text!r}: {probe!r} is not writable")
    return text


def count(text: str) -> int:
    """A positive integer; accepts ``1e5`` when it is a whole number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}") from None
    if not (value == value and value != float("inf") and value.is_integer() and value >= 1):
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return int(value)


def real(text: str) -> float:
    """A finite real number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a real number; got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be finite; got {text!r}")
    return value


def byte_size(text: str) -> float:
    """``2G``, ``500M``, ``1.5e9`` (bytes)."""
    units = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = 1
    if t and t[-1] in units:
        mult, t = units[t[-1]], t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a size like 2G, 500M or 1e9; got {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive size; got {text!r}")
    return value


def seconds(text: str) -> float:
    value = real(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive; got {text!r}")
    return value


# ----------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------
def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=True)


def write_json(obj: Any, path: str | None) -> None:
    """Print JSON to stdout (``path`` None or '-') or write it to ``path``."""
    text = dump_json(obj)
    if path in (None, "-"):
        print(text)
    else:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


def want_progress(args: argparse.Namespace) -> bool:
    """A progress bar: asked for with --progress, or by default when stderr is a terminal, not in CI
    (env CI set) and not with --json; --no-progress turns it off."""
    choice = getattr(args, "progress", None)
    if choice is not None:
        return bool(choice)
    if getattr(args, "json", None) not in (None, False):
        return False
    if os.environ.get("CI"):
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def add_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar on stderr (default: on when stderr is a terminal, off when env CI "
                        "is set or with --json)")


def add_limits(p: argparse.ArgumentParser, memory: str = "4G", secs: float = 600.0) -> None:
    p.add_argument("--max-memory", type=byte_size, default=byte_size(memory), metavar="SIZE",
                   help=f"refuse to start when the estimated memory exceeds SIZE, e.g. 8G (default: {memory})")
    p.add_argument("--max-seconds", type=seconds, default=secs, metavar="S",
                   help=f"refuse to start when the estimated run time exceeds S seconds (default: {secs:g})")


def _fmt_bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _fmt_secs(s: float) -> str:
    if s >= 86400:
        return f"{s:.3g} s ({s / 86400:.3g} days)"
    if s >= 3600:
        return f"{s:.0f} s ({s / 3600:.3g} h)"
    return f"{s:.0f} s" if s >= 10 else f"{s:.2g} s"


def check_resources(what: str, memory: float, secs: float, args: argparse.Namespace) -> None:
    """Refuse (ValueError, exit 2) when an estimate exceeds ``--max-memory`` / ``--max-seconds``."""
    max_mem = getattr(args, "max_memory", None)
    max_s = getattr(args, "max_seconds", None)
    if max_mem is not None and memory > max_mem:
        raise ValueError(f"{what} needs about {_fmt_bytes(memory)} of memory, over the limit {_fmt_bytes(max_mem)}; "
                         f"reduce the size or raise the limit with --max-memory")
    if max_s is not None and secs > max_s:
        raise ValueError(f"{what} would take about {_fmt_secs(secs)}, over the limit {max_s:g} s; "
                         f"reduce the size or raise the limit with --max-seconds")


# ----------------------------------------------------------------------------------------
# The command table
# ----------------------------------------------------------------------------------------
@dataclass
class Command:
    name: str
    handler: Callable[[argparse.Namespace], int]
    help: str
    description: str = ""
    epilog: str = ""
    options: list[Callable[[argparse.ArgumentParser], None]] = field(default_factory=list)
    #: the handler parses unknown ``--name VALUE`` options itself (``run``: hyperparameters)
    accepts_extra: bool = False


COMMANDS: dict[str, Command] = {}


def command(name: str, *, help: str, description: str = "", epilog: str = "", accepts_extra: bool = False):
    """Decorator: register ``fn(args) -> int`` as ``polyak NAME``."""

    def deco(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        prev = COMMANDS.get(name)
        COMMANDS[name] = Command(name, fn, help, description or help, epilog, prev.options if prev else [],
                                 accepts_extra)
        return fn

    return deco


def options(name: str):
    """Decorator: ``fn(parser)`` declares (more) options of ``polyak NAME``."""

    def deco(fn: Callable[[argparse.ArgumentParser], None]) -> Callable[[argparse.ArgumentParser], None]:
        if name not in COMMANDS:
            COMMANDS[name] = Command(name, lambda a: EXIT_ERROR, help="")
        COMMANDS[name].options.append(fn)
        return fn

    return deco


# ----------------------------------------------------------------------------------------
# polyak run
# ----------------------------------------------------------------------------------------
RUN_EPILOG = """\
Hyperparameters and problem parameters are options too: --alpha 0.1 --beta 0.9 (hb), --mu 1 --L 100
--dim 50 (quadratic). A comma list (--alpha 0.1,0.2) is a grid axis along that hyperparameter;
several comma lists form the outer grid. The fitted rate is of the first run; the JSON lists the
final errors and divergence of every run.
  polyak run --list                  methods and problems, one line each
  polyak run --help-method hb        a method's hyperparameters: default, range, meaning
  polyak run --method hb --problem quadratic --mu 1 --L 100 --json
"""


@command("run", help="simulate one method on one problem",
         description="Simulate a method on a problem and fit its linear rate.", epilog=RUN_EPILOG,
         accepts_extra=True)
def _cmd_run(args: argparse.Namespace) -> int:
    from polyak.run_cmd import run

    return run(args)


@options("run")
def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", default=None, help="method name, see --list; or give it first: polyak run hb ... (default: none; required unless --list or --help-method)")
    p.add_argument("--problem", default="quadratic", help="problem name, see --list")
    p.add_argument("--steps", type=count, default=200, help="number of steps")
    p.add_argument("--seeds", type=count, default=1, help="number of seeds, runs seeds 0..S-1")
    p.add_argument("--backend", default="numpy", help="numpy or torch")
    p.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda (default: the backend's)")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"), help="floating-point type of the state")
    p.add_argument("--x0", default=None,
                   help="start: a number (all coordinates) or comma-separated values (default: the problem's x0)")
    p.add_argument("--json", action="store_true", help="print a JSON report (small fields first)")
    p.add_argument("--list", action="store_true", help="list the methods and problems and exit")
    p.add_argument("--help-method", nargs="?", const=True, default=None, metavar="NAME",
                   help="list a method's hyperparameters (default, range, meaning) and exit "
                        "(default NAME: the --method given)")
    add_progress(p)
    add_limits(p, memory="4G", secs=600.0)


# ----------------------------------------------------------------------------------------
# polyak derive
# ----------------------------------------------------------------------------------------
@command("derive", help="list or print symbolic derivations",
         description="List the symbolic derivations, or print one with its steps, provenance and values.")
def _cmd_derive(args: argparse.Namespace) -> int:
    from polyak.theory.cli import run_derive

    return run_derive(args)


@options("derive")
def _derive_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="derivation name; omit to list them")
    p.add_argument("--latex", action="store_true", help="print LaTeX")
    p.add_argument("--at", default=None, metavar="VALUES",
                   help="evaluate at values, e.g. mu=1,L=100 (default: no evaluation)")
    p.add_argument("--json", action="store_true", help="print JSON")


# ----------------------------------------------------------------------------------------
# polyak verify
# ----------------------------------------------------------------------------------------
@command("verify", help="run the papers' claims and print a table",
         description="Run the papers' claims and print a table. Exit 0 if all hold, 1 if one fails, "
                     "2 on bad input or when a claim errors.")
def _cmd_verify(args: argparse.Namespace) -> int:
    from polyak.verify.cli import run_verify

    return run_verify(args)


@options("verify")
def _verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", default="fast", choices=("fast", "full"), help="which claims: fast or full")
    p.add_argument("--backend", default="numpy", help="numpy or torch")
    p.add_argument("--only", default=None, metavar="PATTERN",
                   help="run only the claims matching PATTERN: with * ? or [ a shell glob (fnmatch) on the claim id "
                        "or paper key, e.g. 'polyak1964.*'; otherwise a substring of the claim id or an exact "
                        "paper key (default: all claims of the suite)")
    p.add_argument("--json", default=None, metavar="PATH", type=output_file,
                   help="also write a JSON report to PATH; - writes it to stdout and the table to stderr "
                        "(default: no report)")
    add_progress(p)


@options("verify")
def _verify_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None,
                   help="torch device for --backend torch: cpu or cuda (default: cuda when available)")


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {n}")
    return n


@options("verify")
def _verify_where(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, default=None, metavar="N",
                       help="run the claims on N local worker processes (default: in this process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the claims on the Dask cluster of this scheduler, e.g. tcp://host:8786 "
                            "(needs pip install 'polyak[dask]'; default: none)")
    p.add_argument("--chunks", choices=("module", "claim"), default="module",
                   help="with --workers/--scheduler, what one task holds: the claims of one paper module "
                        "(they share derivations; default) or one claim (finer grain for a large cluster)")


@options("verify")
def _verify_user_claims(p: argparse.ArgumentParser) -> None:
    p.add_argument("--claims", default=None, metavar="PATH_OR_MODULE",
                   help="run a user's claims instead: a .py file, a folder or a module defining claims() "
                        "(default: the library's claims)")
    p.add_argument("--with-library", action="store_true", help="with --claims: run the library's claims too")


# ----------------------------------------------------------------------------------------
# polyak certify
# ----------------------------------------------------------------------------------------
@command("certify", help="SDP certificate of a rate or an N-step worst case",
         description="Certify a linear rate with a Lyapunov SDP, or (with --steps N) compute the N-step "
                     "worst case by performance estimation (PEP). Exit 0 if certified (and, with --rate R, "
                     "at a rate <= R), 1 if not, 2 on bad input. A method's hyperparameters are options "
                     "(--eta 0.1 --gamma 0.2; see polyak run --help-method METHOD).",
         accepts_extra=True)
def _cmd_certify(args: argparse.Namespace) -> int:
    from polyak.verify.cli import run_certify

    return run_certify(args)


@options("certify")
def _certify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("method", help="method to certify: gd, hb or nesterov (classical tunings unless --alpha/--beta), "
                   "any registered linear method, or path/to/file.py:NAME (a polyak.linear_method)")
    p.add_argument("--mu", type=real, required=True, help="strong convexity mu > 0 (required)")
    p.add_argument("--L", type=real, required=True, help="smoothness L >= mu (required)")
    p.add_argument("--alpha", type=real, default=None, help="step size (default: the method's classical tuning)")
    p.add_argument("--beta", type=real, default=None, help="momentum (default: the method's classical tuning)")
    p.add_argument("--rate", type=real, default=None, metavar="R",
                   help="claimed rate: exit 0 only if certified at a rate <= R (default: any rate < 1)")
    p.add_argument("--steps", type=count, default=None, metavar="N",
                   help="N-step worst case by PEP instead of a rate (default: the rate certificate)")
    p.add_argument("--metric", default="dist", choices=("dist", "fgap"),
                   help="PEP measure: dist ||x_N-x*||^2 or fgap f(x_N)-f*")
    p.add_argument("--check", action="store_true",
                   help="re-check the certificate's Lyapunov function without the SDP that found it (one-step "
                        "PEPit problems and the quadratics of the class: polyak.verify.check_certificate; needs "
                        "PEPit, pip install 'polyak[pep]'); exit 1 if the check fails (default: off)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_limits(p, memory="4G", secs=600.0)


# ----------------------------------------------------------------------------------------
# polyak figures
# ----------------------------------------------------------------------------------------
@command("figures", help="regenerate figures",
         description="Regenerate figures (all, or the named ones) into one folder; data is cached under OUT/data.")
def _cmd_figures(args: argparse.Namespace) -> int:
    from polyak.figures.cli import run_figures

    return run_figures(args)


@options("figures")
def _figures_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", help="figure names (default: all; see --list)")
    p.add_argument("--fast", action="store_true", help="small, quick versions")
    p.add_argument("--out", default="figures-out", type=output_dir, metavar="DIR", help="output folder")
    p.add_argument("--format", default="png,pdf", help="comma-separated formats")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    add_progress(p)


# ----------------------------------------------------------------------------------------
# polyak analyze  (library: polyak.verify.analyze)
# ----------------------------------------------------------------------------------------
@command("analyze", help="one report for one method on S(mu, L): quadratic, simulated, certified, PEP, counterexample",
         description="Analyse a method on the mu-strongly convex L-smooth class. METHOD is a registered name or "
                     "path/to/file.py:NAME; its hyperparameters are options (--alpha 0.1 --beta 0.5; "
                     "see polyak run --help-method METHOD).",
         accepts_extra=True)
def _cmd_analyze(args: argparse.Namespace) -> int:
    from polyak.run_cmd import parse_hyper
    from polyak.solvers.base import build_method
    from polyak.verify.analyze import PARTS, analyze, format_report, plot_report

    rule, options = parse_hyper(args.method, args.extra)
    method = build_method(rule, options)
    parts = PARTS if not args.parts else tuple(x.strip() for x in args.parts.split(",") if x.strip())
    rep = analyze(method, args.mu, args.L, seed=args.seed, parts=parts, pep_steps=args.pep_steps)
    if args.figure:
        plot_report(rep, args.figure)
    print(dump_json(rep) if args.json else format_report(rep))
    return EXIT_OK


@options("analyze")
def _analyze_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("method", help="registered name or path/to/file.py:NAME")
    p.add_argument("--mu", type=real, required=True, help="strong convexity mu > 0 (required)")
    p.add_argument("--L", type=real, required=True, help="smoothness L >= mu (required)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated part")
    p.add_argument("--pep-steps", type=count, default=10, help="N-step worst cases for N = 1..this")
    p.add_argument("--parts", default=None, help="comma-separated subset of the report's parts (default: all)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--figure", default=None, metavar="PATH", type=output_file,
                   help="save a figure of the rates to PATH (default: no figure)")


# ----------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from polyak import __version__

    parser = Parser(prog="polyak", description="Theory and verification toolkit for momentum methods.",
                    epilog="Run `polyak COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"polyak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description, epilog=cmd.epilog or None)
        for add in cmd.options:
            add(p)
        p.set_defaults(_cmd=cmd)
    return parser


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        if extra:
            fail(f"polyak: error: unrecognized arguments: {' '.join(extra)} (see polyak --help)")
        fail(f"polyak: error: a command is required: {', '.join(COMMANDS)} (see polyak --help)")
    cmd: Command = args._cmd
    if extra and not cmd.accepts_extra:
        fail(f"polyak {cmd.name}: error: unrecognized arguments: {' '.join(extra)} (see polyak {cmd.name} --help)")
    args.extra = extra
    try:
        return int(cmd.handler(args))
    except (ValueError, ImportError, MemoryError) as exc:
        what = "out of memory" if isinstance(exc, MemoryError) else exc
        fail(f"polyak {cmd.name}: error: {what}")
    return EXIT_ERROR  # pragma: no cover


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (usage errors included: it never raises SystemExit)."""
    try:
        return _main(argv)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return EXIT_OK
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("polyak: interrupted", file=sys.stderr)
        return 130
