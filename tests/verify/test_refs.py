"""Every bib key cited in polyak.papers (Claim.paper) and in docstrings across the package resolves in
papers/refs.bib; the arXiv numbers of shared/papers.md are the ones in refs.bib.

Key pattern: lowercase letters, a year 19xx/20xx, optional lowercase suffix (``polyak1964``,
``chen2019demon``), found in ``References:`` lines of docstrings and in ``paper=`` fields of claims.
"""

from __future__ import annotations

import re
from pathlib import Path

import polyak.papers as papers
from polyak.verify.runner import collect

ROOT = Path(papers.__file__).resolve().parent.parent
KEY = re.compile(r"\b[a-z]+(?:19|20)\d{2}[a-z]*\b")
PACKAGES = ("polyak", "solvers", "theory", "verify", "papers", "figures")


def bib_entries() -> dict[str, str]:
    text = Path(papers.refs_path()).read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(r"@\w+\{([^,\s]+),(.*?)\n\}", text, re.S):
        out[m.group(1)] = m.group(2)
    return out


def cited_in_docstrings() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                m = re.search(r"References?:\s*(.*)", line)
                if m:
                    for key in KEY.findall(m.group(1)):
                        found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


def test_bib_parses_and_keys_unique():
    text = Path(papers.refs_path()).read_text(encoding="utf-8")
    keys = re.findall(r"@\w+\{([^,\s]+),", text)
    assert len(keys) == len(set(keys)) and len(keys) >= 14
    assert set(keys) == set(bib_entries())


def test_claim_papers_resolve():
    keys = set(bib_entries())
    missing = {c.id: c.paper for c in collect("full") if c.paper not in keys}
    assert not missing


def test_docstring_references_resolve():
    keys = set(bib_entries())
    cited = cited_in_docstrings()
    assert cited, "no References: lines found; the scan is broken"
    missing = {k: sorted(v) for k, v in cited.items() if k not in keys}
    assert not missing


def test_the_issue_keys_are_present():
    keys = set(bib_entries())
    for k in ("polyak1964", "nesterov1983", "lessard2016", "ghadimi2015", "goujaud2023", "chen2019demon", "defazio2020",
              "defazio2024", "sun2021adaptive", "topollai2025adaptive", "taylor2017", "kingma2015adam",
              "loshchilov2019adamw", "beck2009"):
        assert k in keys, k


def test_arxiv_numbers_match_papers_md():
    e = bib_entries()
    for key, number in (("chen2019demon", "1910.04952"), ("defazio2020", "2010.00406"),
                        ("sun2021adaptive", "2110.09057"), ("topollai2025adaptive", "2510.04988")):
        assert number in e[key], key
    assert "2026" in e["topollai2025adaptive"] and "AISTATS" in e["topollai2025adaptive"]
