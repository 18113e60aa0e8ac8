"""Parse every polyak docstring as reStructuredText (after napoleon) and report docutils problems.

Fast (no Sphinx build): the same docutils messages the documentation build turns into errors.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil

PACKAGES = ("polyak", "polyak.solvers", "polyak.theory", "polyak.verify", "polyak.figures", "polyak.papers")


def modules() -> list[str]:
    out = ["polyak", "polyak.cli"]
    for package in PACKAGES[1:]:
        pkg = importlib.import_module(package)
        out.append(package)
        out += [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=package + ".")
                if not any(p.startswith("_") for p in m.name.split("."))]
    return sorted(set(out))


def docstrings(modname: str):
    """(qualified name, what, object, docstring) of the module and what it defines."""
    mod = importlib.import_module(modname)
    yield modname, "module", mod, inspect.getdoc(mod) or ""
    for name, obj in vars(mod).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != modname:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            what = "class" if inspect.isclass(obj) else "function"
            yield f"{modname}.{name}", what, obj, inspect.getdoc(obj) or ""
            if inspect.isclass(obj):
                for mname, meth in vars(obj).items():
                    if mname.startswith("_") or not (inspect.isfunction(meth) or isinstance(meth, property)):
                        continue
                    yield f"{modname}.{name}.{mname}", "method", meth, inspect.getdoc(meth) or ""


def _register_sphinx_roles() -> None:
    from docutils.parsers.rst import directives, roles
    from docutils import nodes

    def role(name, rawtext, text, lineno, inliner, options=None, content=None):
        return [nodes.literal(rawtext, text)], []

    for r in ("class", "func", "meth", "mod", "data", "attr", "obj", "exc", "py:class", "py:func", "py:meth",
              "py:mod", "py:data", "py:attr", "py:obj", "cite", "cite:p", "cite:t", "math", "doc", "ref", "term"):
        roles.register_local_role(r, role)

    from docutils.parsers.rst import Directive

    class Passthrough(Directive):
        has_content = True
        optional_arguments = 10
        final_argument_whitespace = True
        option_spec = None

        def run(self):  # parse the body, so problems inside ``.. attribute::`` blocks are found
            from docutils import nodes as _n

            node = _n.container()
            self.state.nested_parse(self.content, self.content_offset, node)
            return [node]

    for d in ("attribute", "method", "function", "class", "data", "rubric", "versionadded", "versionchanged", "deprecated", "seealso", "autosummary", "currentmodule",
              "py:currentmodule", "testsetup", "doctest", "plot"):
        directives.register_directive(d, Passthrough)


def problems(modname: str) -> list[str]:
    """docutils messages (level >= warning) for every docstring of ``modname``."""
    from docutils.core import publish_doctree
    from sphinx.ext.napoleon import Config
    from sphinx.ext.napoleon.docstring import GoogleDocstring, NumpyDocstring

    _register_sphinx_roles()
    cfg = Config(napoleon_google_docstring=True, napoleon_numpy_docstring=True, napoleon_use_rtype=False,
                 napoleon_attr_annotations=True)
    out = []
    for qual, what, obj, doc in docstrings(modname):
        if not doc:
            continue
        text = str(NumpyDocstring(str(GoogleDocstring(doc, cfg, what=what, name=qual, obj=obj)), cfg,
                                  what=what, name=qual, obj=obj))
        stream = io.StringIO()
        publish_doctree(text, settings_overrides={"warning_stream": stream, "report_level": 2,
                                                  "halt_level": 5, "input_encoding": "unicode"})
        for line in stream.getvalue().splitlines():
            if "(WARNING/2)" in line or "(ERROR/3)" in line or "(SEVERE/4)" in line:
                out.append(f"{qual}: {line.split(':', 1)[-1].strip()}")
    return out


if __name__ == "__main__":
    import sys

    names = sys.argv[1:] or modules()
    bad = 0
    for m in names:
        for p in problems(m):
            print(p)
            bad += 1
    print(f"{bad} problem(s)")
