"""``polyak derive``: list the derivations, or print one with its provenance and values.

``run_derive(args)`` takes the parsed arguments (``name``: a derivation or None to list;
``latex``; ``at``: "mu=1,L=100" or None; ``json``) and returns the exit code. Bad input raises
``ValueError`` naming the parameter and its valid range; ``polyak.cli`` prints it and exits 2.
"""

from __future__ import annotations

import json
from typing import Any

from .derivation import get, names, parse_values, title


def _record(d: Any, values: dict[str, float] | None, latex: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": d.name,
        "title": d.title,
        "latex": d.latex(),
        "provenance": d.provenance,
        "references": list(d.references),
        "assumptions": list(d.assumptions),
        "parameters": d.symbol_assumptions(),
        "expressions": {k: str(v) for k, v in d.expressions.items()},
        "steps": [{"description": st.description, "latex": st.latex(d.latex_names)} for st in d.steps]
        if latex else [st.description for st in d.steps],
    }
    if values is not None:
        out["values"] = values
    return out


def run_derive(args: Any) -> int:
    """List derivations (``args.name`` is None) or print one; returns 0, raises ValueError on bad input."""
    if args.name is None:
        if args.json:  # the provenance needs each derivation built
            rows = [(n, get(n)) for n in names()]
            print(json.dumps([{"name": n, "title": d.title, "provenance": d.provenance} for n, d in rows], indent=2))
        else:  # titles given at registration: nothing is built
            width = max(len(n) for n in names())
            for n in names():
                print(f"{n:<{width}}  {title(n)}")
        return 0
    d = get(args.name)
    values = d.evaluate(**parse_values(args.at)) if args.at is not None else None
    if args.json:
        print(json.dumps(_record(d, values, args.latex), indent=2, allow_nan=True))
        return 0
    print(f"{d.name}: {d.title}")
    print(f"  provenance: {d.provenance}" + (f"  [{', '.join(d.references)}]" if d.references else ""))
    print("  assumptions: " + "; ".join(d.assumptions))
    if args.latex:
        print(d.latex(steps=True))
    else:
        import sympy as sp

        print("  derivation:")
        for i, st in enumerate(d.steps, 1):
            print(f"    {i}. {st.description}")
            print(f"       {sp.sstr(st.expr)}")
        print("  results:")
        for k, v in d.expressions.items():
            print(f"    {k} = {sp.sstr(v)}")
    if values is not None:
        print("  values:")
        for k, v in values.items():
            print(f"    {k} = {v:.17g}")
    return 0
