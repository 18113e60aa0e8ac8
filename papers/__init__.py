"""polyak.papers: one module per paper, each declaring its checkable statements as Claims.

Every module has a ``claims()`` function returning :class:`polyak.verify.Claim` objects with
provenance tags exactly as ``shared/papers.md`` writes them. ``polyak verify`` (and
``polyak.verify.runner.collect``) gathers them in the order of :data:`MODULES`. ``refs.bib`` holds
every bib key cited in ``papers/`` and in docstrings across the package (a test checks that they
resolve).

Modules: the classics (polyak1964, nesterov, lessard2016, ghadimi2015, goujaud2023) and the four
papers of ``shared/papers.md`` (demon = chen2019demon, defazio2020, sun2021 = sun2021adaptive,
topollai2025 = topollai2025adaptive).
"""

MODULES = (
    "polyak1964",
    "nesterov",
    "lessard2016",
    "ghadimi2015",
    "goujaud2023",
    "demon",
    "defazio2020",
    "sun2021",
    "topollai2025",
    "vanscoy2018",
    "cyrus2018",
)


def refs_path() -> str:
    """Path of the bundled ``refs.bib``."""
    from pathlib import Path

    return str(Path(__file__).with_name("refs.bib"))
