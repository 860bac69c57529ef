"""Comparison signs and thresholds: "more than 500", "> 500", "≥40", "BMI of 35 or greater", "no more than 2".

One vocabulary (``GREATER`` / ``LESS``, signs in their glyph and typed forms) read two ways: ``comparator_before``
(the comparator a number follows: "gt", "lt" or None; the support checker's quantities) and ``thresholds`` (the
thresholds a text states, as (">" or "<", number); the composer's aspect cover). A negated comparator is read
whole, before the comparator inside it ("no more than" is "lt", "no less than" is "gt").
"""

from __future__ import annotations

import re

# (the words as regular-expression pieces: "\s+" between words; a sign in each of its glyph and typed forms)
GREATER: tuple[str, ...] = (r"no\s+less\s+than", r"not\s+less\s+than", r"more\s+than", r"greater\s+than",
                            r"higher\s+than", r"older\s+than", r"at\s+least", r"minimum\s+of", r"exceed(?:s|ing)?",
                            "above", "over", "≥", "⩾", "≧", ">=", "=>", ">")
LESS: tuple[str, ...] = (r"no\s+more\s+than", r"not\s+more\s+than", r"less\s+than", r"fewer\s+than", r"lower\s+than",
                         r"younger\s+than", r"at\s+most", r"maximum\s+of", r"up\s+to", "within", "below", "under",
                         "≤", "⩽", "≦", "<=", "=<", "<")
# "35 or greater", "65 years or older": the comparator after the number
GREATER_AFTER = ("more", "greater", "higher", "above", "older", "over")
LESS_AFTER = ("less", "fewer", "lower", "below", "younger", "under")

_GT = "(?:" + "|".join(GREATER) + ")"
_LT = "(?:" + "|".join(LESS) + ")"
_COMPARATOR_END = re.compile(rf"(?:(?P<lt>{_LT})|(?P<gt>{_GT}))\s*$", re.I)
_THRESHOLD = re.compile(rf"(?P<lt>{_LT})\s*(?P<b>\d+(?:\.\d+)?)|(?P<gt>{_GT})\s*(?P<a>\d+(?:\.\d+)?)|"
                        r"(?P<c>\d+(?:\.\d+)?)\s*(?:\S+\s+){0,2}?or\s+(?:(?P<gt2>" + "|".join(GREATER_AFTER) + ")|"
                        r"(?P<lt2>" + "|".join(LESS_AFTER) + r"))\b", re.I)


def comparator_before(text: str) -> str | None:
    """The comparator ``text`` ends with (the words before a number): "gt", "lt" or None. The leftmost reading
    wins, so a negated comparator is read whole ("no more than" → "lt")."""
    m = _COMPARATOR_END.search(text)
    if m is None:
        return None
    return "lt" if m.group("lt") else "gt"


def _num(x: str) -> str:
    return x.rstrip("0").rstrip(".") if "." in x else x


def thresholds(text: str) -> set[tuple[str, str]]:
    """The thresholds a text states, as (">" or "<", number)."""
    out = set()
    for m in _THRESHOLD.finditer(text or ""):
        if m.group("a"):
            out.add((">", _num(m.group("a"))))
        elif m.group("b"):
            out.add(("<", _num(m.group("b"))))
        elif m.group("c"):
            out.add((">" if m.group("gt2") else "<", _num(m.group("c"))))
    return out
