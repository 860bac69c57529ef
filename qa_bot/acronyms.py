"""Abbreviations the corpus defines itself ("deep vein thrombosis (DVT)"), used to expand a question's acronyms.

Clinicians and patients write "DVT", "EDS", "CVID"; MedQuAD headings spell the condition out ("What causes Deep
Vein Thrombosis?"), so an acronym alone misses the heading match and most of the lexical evidence. The index
stage collects every "long form (SHORT)" definition in the indexed text with the Schwartz–Hearst rule (each
letter of the short form found, in order, in the words before the parenthesis, the first one starting a word)
and keeps, per short form, its dominant long form. The retrieve stage appends that long form to the search
query when the question uses the short form in capitals. Nothing comes from outside the corpus, so a user's
own documents define their own abbreviations.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_DEF = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9-]{1,9})\s*\)")
_SHORT = re.compile(r"\b[A-Z][A-Za-z0-9-]{1,9}\b")
_KEY = re.compile(r"\b(?:and|or)\b|[^a-z0-9]+")
MIN_COUNT = 2  # definitions seen at least this often
MIN_SHARE = 0.6  # … and this share of the short form's definitions


def long_form(short: str, before: str) -> str | None:
    """Schwartz & Hearst (2003): the shortest tail of ``before`` that holds the short form's letters in order,
    the first letter at the start of a word; None when there is none or it is no longer than the short form."""
    words = before.split()
    window = " ".join(words[-min(len(short) + 5, 2 * len(short)):])
    s, text = short.lower(), window.lower()
    si, li = len(s) - 1, len(text) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (text[li] != c or (si == 0 and li > 0 and text[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        si -= 1
        li -= 1
    found = window[text.rfind(" ", 0, li + 1) + 1:].strip(" ,;:-")
    if len(found) <= len(short) or " " not in found:
        return None
    return found


def definitions(text: str) -> Iterable[tuple[str, str]]:
    """(short form, long form) for each "long form (SHORT)" in ``text``."""
    for m in _DEF.finditer(text):
        short = m.group(1)
        if sum(ch.isupper() for ch in short) < 2:
            continue
        lf = long_form(short, text[max(0, m.start() - 160):m.start()])
        if lf:
            yield short, lf


def build(texts: Iterable[str]) -> dict[str, str]:
    """Short form → its dominant long form (lower case) over all texts."""
    seen: dict[str, Counter] = defaultdict(Counter)  # short form → spelling-free key of the long form → count
    spelled: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (short, key) → spellings
    for text in texts:
        if "(" in text:
            for short, lf in definitions(text):
                lf = lf.lower()
                key = _KEY.sub("", lf)  # "tremor/ataxia" and "tremor and ataxia" are one long form
                seen[short][key] += 1
                spelled[short, key][lf] += 1
    out = {}
    for short, forms in seen.items():
        key, n = forms.most_common(1)[0]
        if n >= MIN_COUNT and n / sum(forms.values()) >= MIN_SHARE:
            out[short] = spelled[short, key].most_common(1)[0][0]
    return out


def expand(question: str, table: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The question with the long form of each acronym it uses added after its first use, and those expansions. Acronyms are
    recognised in capitals only, and not in a question written mostly in capitals ("CAUSE OF A COLD")."""
    if not table or not question:
        return question, {}
    letters = [ch for ch in question if ch.isalpha()]
    if not letters or sum(ch.isupper() for ch in letters) / len(letters) > 0.5:
        return question, {}
    low = question.lower()
    found: dict[str, str] = {}
    for m in _SHORT.finditer(question):
        short = m.group(0)
        lf = table.get(short)
        if lf and sum(ch.isupper() for ch in short) >= 2 and lf not in low and short not in found:
            found[short] = lf
    if not found:
        return question, {}
    for short, lf in found.items():  # spelled out where it is first used, so each sentence keeps its meaning
        m = re.search(rf"\b{re.escape(short)}\b", question)
        question = f"{question[:m.end()]} ({lf}){question[m.end():]}"
    return question, found
