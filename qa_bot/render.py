"""Plain-text / Markdown rendering of an Answer, shared by the CLI, the web UI's export and the evals."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .types import Answer, Citation

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")

HEADINGS = {
    "clinician": {"bottom_line": "Bottom line", "key_points": "Key points", "conflict": "Conflicting evidence",
                  "references": "References", "related": "Related reading (not an answer)",
                  "searched": "Searched for"},
    "patient": {"bottom_line": "In short", "key_points": "What the sources say", "conflict": "Sources disagree",
                "references": "Sources", "related": "You may find these useful (they do not answer the question)",
                "searched": "We searched for"},
}


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def escape_controls(text: str, keep_lines: bool = False) -> str:
    """``text`` safe for a terminal or a log line: control and bidi characters written as escapes (``\\n``,
    ``\\x1b``, ``\\u202e``), so that a file name or document text cannot forge a line, move the cursor or
    reverse what follows; ``keep_lines`` keeps newlines and tabs (multi-line answer text)."""
    def one(m: re.Match) -> str:
        ch = m.group()
        return ch if keep_lines and ch in "\n\t" else ch.encode("unicode_escape").decode("ascii")

    return _CONTROLS.sub(one, text)


def md_escape(text: str) -> str:
    """Escape Markdown so that document text and source names render literally."""
    return _MD_SPECIAL.sub(r"\\\1", text or "")


def headings(audience: str) -> dict[str, str]:
    return HEADINGS.get(audience, HEADINGS["clinician"])


def grouped(answer: Answer) -> list[tuple[str, list]]:
    """[(group, sentences)] in answer order: bottom line, key-point headings…, conflicting evidence."""
    order: list[str] = []
    by: dict[str, list] = {}
    for s in answer.sentences:
        if s.group not in by:
            order.append(s.group)
            by[s.group] = []
        by[s.group].append(s)
    rank = {"bottom_line": 0, "conflicting_evidence": 2}
    order.sort(key=lambda g: rank.get(g, 1))
    return [(g, by[g]) for g in order]


def cite_marks(nums: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in nums)


def reference_line(c: Citation, escape: bool = False) -> str:
    esc = md_escape if escape else (lambda x: x)
    kind = {"guideline": "Guideline", "expert_answer": "Expert answer", "comment": "Reader comment"}.get(c.doc_type, c.doc_type)
    parts = [esc(c.title or c.doc_id)]
    if c.heading and c.heading != c.title:
        parts.append(f"section: {esc(c.heading)}")
    if c.page is not None:
        parts.append(f"p. {c.page}")
    if c.source:
        parts.append(esc(c.source))
    if c.published:
        parts.append(esc(c.published))
    line = f"[{c.n}] {kind} — " + "; ".join(parts)
    if c.url:
        line += f" — {c.url}"
    return line


def searched_line(answer: Answer) -> str | None:
    """What was searched, when it is not just what was typed: the standalone question (follow-ups) and the
    long forms the corpus gives the question's acronyms."""
    parts = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        parts.append(answer.standalone_question)
    if answer.expansions:
        parts.append("; ".join(f"{k} = {v}" for k, v in answer.expansions.items()))
    return " — ".join(parts) or None


def answer_to_text(answer: Answer, markdown: bool = False) -> str:
    """The whole answer as readable text (or Markdown): bottom line, key points, references, disclaimer."""
    h = headings(answer.audience)
    esc = md_escape if markdown else (lambda x: x)
    bold = (lambda x: f"**{x}**") if markdown else (lambda x: x.upper())
    out: list[str] = []
    searched = searched_line(answer)
    if searched:
        out += [f"({h['searched']}: {esc(searched)})", ""]
    if answer.notice:
        out += [f"Note: {esc(answer.notice)}", ""]
    if answer.abstained:
        out.append(esc(answer.abstain_reason or "The indexed documents do not answer this question."))
        if answer.related:
            out += ["", bold(h["related"])]
            for c in answer.related:
                out.append(f"- {reference_line(c, markdown)}")
    else:
        for group, sents in grouped(answer):
            if group == "bottom_line":
                out.append(bold(h["bottom_line"]))
                out.append(" ".join(f"{esc(s.display)} {cite_marks(s.citations)}" for s in sents))
            else:
                title = h["conflict"] if group == "conflicting_evidence" else group
                out += ["", bold(esc(title))]
                for s in sents:
                    out.append(f"- {esc(s.display)} {cite_marks(s.citations)}")
        if answer.citations:
            out += ["", bold(h["references"])]
            for c in answer.citations:
                out.append(("" if not markdown else "- ") + reference_line(c, markdown))
    out += ["", bold("Disclaimer"), esc(answer.disclaimer)]
    return "\n".join(out).strip() + "\n"


def conversation_to_markdown(turns: Sequence[tuple[str, Answer | None]], title: str = "qa_bot conversation") -> str:
    """Export: each question, its full answer (citations, references, disclaimer)."""
    parts = [f"# {title}", ""]
    for i, (question, answer) in enumerate(turns, 1):
        parts += [f"## Q{i}: {md_escape(question)}", ""]
        if answer is not None:
            parts += [answer_to_text(answer, markdown=True), ""]
    return "\n".join(parts)
