"""The README is for users and short; docs/ hold the rest, describe the present (history lives in git) and link to
files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
HISTORY = re.compile(r"\bsessions?\b|\bissues?\s*#?\d+|\bissue's\b", re.IGNORECASE)


def test_readme_is_short_and_links_the_docs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for name in ("deploy", "configuration", "architecture", "evaluation", "benchmarks"):
        assert f"docs/{name}.md" in text and (ROOT / "docs" / f"{name}.md").is_file()
    assert "make run" in text and "make test" in text


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_no_development_history(path):
    found = [f"{path.name}:{i}: {m.group(0)}" for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for m in HISTORY.finditer(line)]
    assert not found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_exist(path):
    text = path.read_text(encoding="utf-8")
    links = [m.group(1).split("#")[0] for m in re.finditer(r"\]\(([^)\s]+)\)", text)]
    missing = [link for link in links if link and "://" not in link and not (path.parent / link).exists()]
    assert not missing
