"""Codemod: rewrite flat settings access (``settings.top_k``) to the nested groups (``settings.retrieval.top_k``).

Idempotent: run it again after merging a branch that still uses flat names. ``--check`` only lists what it would
rewrite (exit status 1 when anything is left), which is what ``tests/test_settings.py`` runs on the repository.

    python scripts/nest_settings.py            # rewrite qa_bot/, ui/, evals/, benchmarks/, tests/, Makefile
    python scripts/nest_settings.py --check    # list flat accesses left

Only attribute access on a receiver that holds a ``Settings`` is rewritten: a name ending in ``settings``
(``settings``, ``self.retriever.settings``, ``indexed_settings``, ``get_settings()``), an item keyed so
(``turn["settings"]``), ``Settings`` / ``Settings(...)``, ``settings_or_exit(...)``, and the short names ``s``,
``S``, ``cfg``, ``custom`` that the code uses for one.
``model_copy(update={...})`` and ``Settings(top_k=...)`` take flat names themselves and need no rewrite.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.settings import FLAT, GROUPS  # noqa: E402

TREES = ("qa_bot", "ui", "evals", "benchmarks", "tests")
FILES = ("Makefile",)
SKIP = {ROOT / "qa_bot" / "settings.py", ROOT / "qa_bot" / "settings_doc.py", Path(__file__).resolve()}

RECEIVER = (r"(?<![\w.])(?P<recv>\w+(?:\([^()]*\))?(?:\[[^\[\]]+\])*\[[\"']\w*settings[\"']\]"
            r"|(?:\w+\.)*\w*settings(?:\([^()]*\))?|Settings(?:\([^()]*\))?|settings_or_exit\([^()]*\)|s|S|cfg|custom)")
NAMES = "|".join(sorted(map(re.escape, FLAT), key=len, reverse=True))
# a flat name that is also a group's name (``llm``) is flat only when no field of that group follows it
_GROUP_FIELD = "|".join(sorted({f for g, m in GROUPS.items() if g in FLAT for f in m.model_fields}, key=len,
                               reverse=True))
PATTERN = re.compile(RECEIVER + rf"\.(?P<name>{NAMES})\b(?!\s*\()(?!\.(?:{_GROUP_FIELD})\b)")


def rewrite(text: str) -> tuple[str, int]:
    def sub(m: re.Match) -> str:
        group, field = FLAT[m["name"]]
        return f"{m['recv']}.{group}.{field}"

    return PATTERN.subn(sub, text)


def files() -> list[Path]:
    out = [ROOT / f for f in FILES if (ROOT / f).is_file()]
    for tree in TREES:
        out += sorted(p for p in (ROOT / tree).rglob("*.py") if p.resolve() not in SKIP)
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    left = 0
    for path in files():
        text = path.read_text(encoding="utf-8")
        new, n = rewrite(text)
        if not n:
            continue
        left += n
        rel = path.relative_to(ROOT)
        if check:
            for i, line in enumerate(text.splitlines(), 1):
                for m in PATTERN.finditer(line):
                    print(f"{rel}:{i}: {m.group(0)}")
        else:
            path.write_text(new, encoding="utf-8")
            print(f"{rel}: {n} rewritten")
    if check and left:
        print(f"{left} flat settings accesses left: run python scripts/nest_settings.py", file=sys.stderr)
    return 1 if check and left else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
