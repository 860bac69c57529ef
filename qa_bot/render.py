"""Plain-text / Markdown rendering of an Answer, shared by the CLI, the web UI's export and the evals."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .types import Answer, AnswerSentence, Citation, Passage

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


_KINDS = {"guideline": "Guideline", "expert_answer": "Expert answer", "comment": "Reader comment"}
# an internal identifier used as a name: one word with an underscore or a run of digits ("MAS2021_test_102_Answer1")
_ID_LIKE = re.compile(r"^\S*(?:_\S*|\d{3,}\S*)$")
# the source's own reference marks inside a quoted sentence: "[46]", "[4][5]", "[1, 2]", "[3-5]"
_SOURCE_MARK = re.compile(r"\[(\d{1,3}(?:\s*[,\u2013-]\s*\d{1,3})*)\]")
_SUPERSCRIPT = str.maketrans("0123456789,-\u2013",
                             "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u02d2\u207b\u207b")


def source_marks(quote: str) -> str:
    """The source's own reference marks in a quoted sentence, set apart from the answer's ``[n]``: "cancer.[46]"
    reads "cancer.⁽⁴⁶⁾" (the citation's ``quote`` field keeps the verbatim text)."""
    return _SOURCE_MARK.sub(lambda m: "\u207d" + re.sub(r"\s+", "", m.group(1)).translate(_SUPERSCRIPT) + "\u207e",
                            quote)


def sentence_text(s: AnswerSentence) -> str:
    """What the reader sees of an answer sentence: the quote (source marks set apart), then its grade and date."""
    text = source_marks(s.text)
    return f"{text} ({s.note})" if s.note else text


def _readable(name: str | None) -> bool:
    return bool(name and name.strip() and not _ID_LIKE.match(name.strip()))


def display_title(c: Citation) -> str:
    """A human title for a cited document, never its internal id: the document's title, else its section heading,
    else the page named by its URL ("Cystic fibrosis (ghr.nlm.nih.gov)"), else the passage's opening words."""
    return human_title(c.title, c.heading, c.url, c.quote, c.source)


def human_title(title: str | None, heading: str | None, url: str | None, text: str | None,
                source: str | None = None) -> str:
    """``display_title`` from the fields it reads (a passage record of the LangChain retriever or MCP search)."""
    if _readable(title):
        return str(title)
    if _readable(heading):
        return str(heading)
    if url:
        from urllib.parse import urlsplit

        u = urlsplit(url)
        slug = re.sub(r"\.\w{2,4}$", "", u.path.rstrip("/").rsplit("/", 1)[-1])
        words = re.sub(r"[-_+]+", " ", slug).strip()
        if re.search(r"[^\W\d_]{3}", words):
            return f"{words[:1].upper()}{words[1:]} ({u.netloc})"
    quote = source_marks(re.sub(r"\s+", " ", text or "").strip())
    asked = re.match(r"(.{8,120}?\?)\s*:", quote)  # an answer passage that opens with its question
    if asked:
        return asked.group(1)
    words = quote.split()
    if words:
        head = " ".join(words[:10])
        return f"\u201c{head.rstrip(',;:.')}{'…' if len(words) > 10 else ''}\u201d"
    return source or "Untitled document"


def reference_line(c: Citation, escape: bool = False) -> str:
    return reference_entry([c], escape)


def reference_groups(citations: Sequence[Citation]) -> list[list[Citation]]:
    """Citations grouped by document, in order of first citation: one reference entry per document."""
    by: dict[str, list[Citation]] = {}
    for c in citations:
        by.setdefault(c.doc_id, []).append(c)
    return list(by.values())


def _where(c: Citation, title: str, esc) -> str:
    parts = [esc(c.heading)] if c.heading and c.heading != title else []
    if c.page is not None:
        parts.append(f"p. {c.page}")
    return ", ".join(parts)


def reference_entry(group: Sequence[Citation], escape: bool = False, links: dict[int, str] | None = None) -> str:
    """One document's reference entry: "[1][3] Guideline — Title; sections: [1] A, p. 2; [3] B; source; date — url"
    (a single citation keeps the short form "[n] Guideline — Title; section: A; p. 2; …")."""
    esc = md_escape if escape else (lambda x: x)
    c = group[0]
    title = display_title(c)
    kind = _KINDS.get(c.doc_type, c.doc_type)
    parts = [esc(title)]
    if len(group) == 1:
        if c.heading and c.heading != title:
            parts.append(f"section: {esc(c.heading)}")
        if c.page is not None:
            parts.append(f"p. {c.page}")
    else:
        where = [f"[{x.n}] {_where(x, title, esc)}".rstrip() for x in group]
        if any(_where(x, title, esc) for x in group):
            parts.append("sections " + " · ".join(where))
    if c.source:
        parts.append(esc(c.source))
    if c.published:
        parts.append(esc(c.published))
    line = f"{cite_marks([x.n for x in group])} {kind} — " + "; ".join(parts)
    url = next((x.url for x in group if x.url), None)
    if url:
        line += f" — {url}"
    mine = [(x.n, links[x.n]) for x in group if links and x.n in links]
    if mine:
        line += " — passage" + ("s" if len(mine) > 1 else "") + ": " + " ".join(
            f"[{n}] {u}" if len(mine) > 1 else u for n, u in mine)
    return line


_DIAGNOSTIC = re.compile(r"\s*\((?:confidence|[^()]*\d%|[^()]*\bthreshold)[^()]*\)")


def reader_notice(answer: Answer) -> str | None:
    """The answer's notice as the reader should see it: no confidence figures, thresholds or internal terms (the
    ``notice`` JSON field keeps them). An abstention's says which asked-for name no document mentions, if any (its
    ``abstain_reason`` already says the rest)."""
    notice = answer.notice
    if not notice:
        return None
    if answer.abstained:
        named = re.search(r"no indexed document mentions ((?:'[^']+'(?:, )?)+)", notice)
        return f"No indexed document mentions {named.group(1).rstrip(', ')}." if named else None
    return _DIAGNOSTIC.sub("", notice).strip() or None


def searched_line(answer: Answer) -> str | None:
    """What was searched, when it is not just what was typed: the standalone question (follow-ups) and the
    long forms the corpus gives the question's acronyms."""
    parts = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        parts.append(answer.standalone_question)
    if answer.expansions:
        parts.append("; ".join(f"{k} = {v}" for k, v in answer.expansions.items()))
    return " — ".join(parts) or None


def answer_to_text(answer: Answer, markdown: bool = False, links: dict[int, str] | None = None) -> str:
    """The whole answer as readable text (or Markdown): bottom line, key points, references, disclaimer.
    ``links``: citation number → the link to its passage, shown in its reference entry."""
    h = headings(answer.audience)
    esc = md_escape if markdown else (lambda x: x)
    bold = (lambda x: f"**{x}**") if markdown else (lambda x: x.upper())
    out: list[str] = []
    searched = searched_line(answer)
    if searched:
        out += [f"({h['searched']}: {esc(searched)})", ""]
    notice = reader_notice(answer)
    if notice:
        out += [f"Note: {esc(notice)}", ""]
    if answer.abstained:
        out.append(esc(answer.abstain_reason or "The indexed documents do not answer this question."))
        if answer.related:
            out += ["", bold(h["related"])]
            for group in reference_groups(answer.related):
                out.append(f"- {reference_entry(group, markdown)}")
    else:
        for group, sents in grouped(answer):
            if group == "bottom_line":
                out.append(bold(h["bottom_line"]))
                out.append(" ".join(f"{esc(sentence_text(s))} {cite_marks(s.citations)}" for s in sents))
            else:
                title = h["conflict"] if group == "conflicting_evidence" else group
                out += ["", bold(esc(title))]
                for s in sents:
                    out.append(f"- {esc(sentence_text(s))} {cite_marks(s.citations)}")
        if answer.citations:
            out += ["", bold(h["references"])]
            for group in reference_groups(answer.citations):
                out.append(("" if not markdown else "- ") + reference_entry(group, markdown, links))
    out += ["", bold("Disclaimer"), esc(answer.disclaimer)]
    return "\n".join(out).strip() + "\n"


# what a reader must never see in the answer text (the JSON fields keep them): scoring figures and internal ids
# (the engine's own figures are "confidence 0.21 < 0.27", "threshold 0.27"; a document's "confidence intervals" is text)
_INTERNAL_FIGURE = re.compile(r"\b(?:confidence|threshold)\s*(?:of\s*|=\s*)?\d?\.\d{2}|\b\d?\.\d{2}\s*[<>]\s*\d?\.\d{2}"
                              r"|topic weight", re.I)
_ID_TOKEN = re.compile(r"\b[A-Za-z]+\d*_\w*\d\w*\b")  # MAS2021_test_102_Answer1, GHR_0000879_Sec1


def internal_leaks(answer: Answer) -> list[str]:
    """What the reader's text of ``answer`` (``answer_to_text``) shows that is internal: the ids of its cited and
    related passages, confidence figures or thresholds, id-like tokens. Empty when the text is clean."""
    text = answer_to_text(answer)
    refs = answer.citations + answer.related
    ids = {i for c in refs for i in (c.doc_id, c.chunk_id, c.section_id) if i}
    return sorted(i for i in ids if i in text) + _INTERNAL_FIGURE.findall(text) + _ID_TOKEN.findall(text)


def conversation_to_markdown(turns: Sequence[tuple[str, Answer | None]], title: str = "qa_bot conversation") -> str:
    """Export: each question, its full answer (citations, references, disclaimer)."""
    parts = [f"# {title}", ""]
    for i, (question, answer) in enumerate(turns, 1):
        parts += [f"## Q{i}: {md_escape(question)}", ""]
        if answer is not None:
            parts += [answer_to_text(answer, markdown=True), ""]
    return "\n".join(parts)


def passage_record(p: Passage, rank: int) -> dict:
    """A retrieved passage for callers that list passages (the LangChain retriever's metadata, MCP ``search``):
    where it comes from, what a citation of it needs, its rank and score (its text is not included)."""
    c = p.chunk
    return {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "section_id": c.section_id, "doc_type": c.doc_type,
            "collection": c.collection, "title": c.title, "heading": c.heading_path[-1] if c.heading_path else None,
            "source": c.source, "url": c.url, "published": c.published, "page": c.page_start, "page_end": c.page_end,
            "grade": c.grade, "rec_number": c.rec_number, "rank": rank, "score": p.score,
            "dense_score": p.dense_score, "lexical_score": p.lexical_score}


def passages_to_text(items: Sequence[tuple[dict, str]]) -> str:
    """(record, text) pairs as numbered passages: ``[n] title > heading (source, published)`` then the text."""
    parts = []
    for n, (m, text) in enumerate(items, 1):
        title = human_title(m.get("title"), m.get("heading"), m.get("url"), text, m.get("source"))
        where = " > ".join(x for x in (title, m.get("heading") if m.get("heading") != title else None) if x)
        about = ", ".join(str(x) for x in (m.get("source"), m.get("published")) if x)
        parts.append(f"[{n}] {where}" + (f" ({about})" if about else "") + f"\n{text}")
    return "\n\n".join(parts)
