"""A guideline's numbered units as the answer reads them: the recommendation or section a quoted sentence's
cross-reference names ("(see recommendation 1.3.5)", "see section 5.2.1.6"), the graded recommendation whose
section a quoted sentence comes from (when the question asks how strong the recommendation is), and the legend
line that defines a numbered label the question asks about ("category 3" → "3 = Theoretical or proven risks …").

Pure functions over chunks (``qa_bot.types.Chunk``): the composer passes in the document's chunks it read."""

from __future__ import annotations

import re

from .types import Chunk

# "(see recommendation 1.3.5)", "see Recommendations 4 and 5", "(see section 5.2.1.6 on G6PD testing)"; tables,
# boxes, annexes and appendices are not units with a statement of their own
CROSS_REF = re.compile(r"\bsee\s+(?:also\s+)?(?P<kind>recommendations?|sections?)\s+"
                       r"(?P<num>\d{1,2}(?:\.\d{1,2}){0,4}[a-z]?)(?![\w.]*\d)", re.I)

# a question that asks how strong the recommendation is ("rec strength?", "strength of the recommendation", "what
# grade did … give"); a tablet's strength is not a recommendation's
STRENGTH_ASKED = re.compile(r"\b(?:rec(?:ommendation)?s?\.?\s+(?:strength|grade|rating)|strength\s+of\s+(?:the\s+)?"
                            r"rec\w*|how\s+strong(?:ly)?\b[^?]{0,40}\brecommend\w*|grade\s+of\s+(?:the\s+)?rec\w*|"
                            r"(?:certainty|quality)\s+of\s+(?:the\s+)?evidence)", re.I)

# a sentence of a recommendation statement that says what to do (or that something is not needed), not how the
# statement was made ("Literature scans conducted in 2022 … showed …") nor where to read on
INSTRUCTS = re.compile(r"\b(?:should|must|recommend(?:s|ed)?|suggest(?:s|ed)?|"
                       r"(?:is|are)\s+not\s+(?:required|needed|necessary)|need\s+not|"
                       r"do(?:es)?\s+not\s+(?:have|need)\s+to)\b", re.I)

# a numbered label asked about: "category 3", "class II", "stage 1", "grade B"
LABEL_ASKED = re.compile(r"\b(?P<word>(?i:category|class|grade|stage|level|step|tier))\s+"
                         r"(?P<num>\d{1,2}|[IVX]{1,4}|[A-E])\b")


def cross_refs(text: str) -> list[tuple[str, str]]:
    """The numbered units a sentence points to: ("recommendation" | "section", number)."""
    return [("recommendation" if m.group("kind").lower().startswith("rec") else "section", m.group("num"))
            for m in CROSS_REF.finditer(text)]


def named_unit(kind: str, num: str, chunks: list[Chunk]) -> Chunk | None:
    """The first chunk (in text order) of the unit a cross-reference names in its document's ``chunks``: the
    recommendation numbered ``num`` (its statement), else the section whose heading starts with ``num``."""
    if kind == "recommendation":
        head = re.compile(rf"^Recommendation\s+{re.escape(num)}\b", re.I)
        return next((c for c in chunks if c.kind == "recommendation" and c.rec_number == num), None) or \
            next((c for c in chunks if c.heading_path and head.match(c.heading_path[-1])), None)
    head = re.compile(rf"^{re.escape(num)}\.?\s+\S")
    return next((c for c in chunks if c.heading_path and head.match(c.heading_path[-1])), None)


def section_recommendation(at: Chunk, chunks: list[Chunk]) -> Chunk | None:
    """The graded recommendation statement of the section ``at`` belongs to: the last graded recommendation
    before ``at`` (or ``at`` itself) in the same section or directly under its heading, with no other section
    between them (the remarks and practical information that follow a recommendation are read with it)."""
    path = at.heading_path
    found = None
    for c in chunks:
        if c.start > at.start:
            break
        inside = c.heading_path == path or (len(c.heading_path) == len(path) + 1 and c.heading_path[:-1] == path)
        if not inside:
            found = None  # another section between: its recommendation is not this one's
            continue
        if c.kind == "recommendation" and c.grade:
            found = c
    return found


def asked_labels(question: str) -> set[tuple[str, str]]:
    """The numbered labels a question asks about: {("category", "3")}."""
    return {(m.group("word").lower(), m.group("num")) for m in LABEL_ASKED.finditer(question)}


def defines_label(text: str, labels: set[tuple[str, str]]) -> bool:
    """Whether a sentence is the legend line of one of ``labels``: "3 = Theoretical …", "KEY: 3 = …",
    "Category 3: …", "Class II – …"."""
    for word, num in labels:
        n = re.escape(num)
        if re.match(rf"^(?:[A-Za-z][\w ]{{0,20}}:\s*)?(?:{word}\s+)?{n}\s*(?:=|:|–|—|-)\s*\S", text, re.I) or \
                re.search(rf"\b{word}\s+{n}\s*(?:=|:|–|—)\s*\S", text, re.I):
            return True
    return False
