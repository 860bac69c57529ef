"""Structure of captured web pages (plain text or text extracted from HTML).

Captured pages carry the site's chrome (navigation, personalisation widgets, review-status badges,
comment forms, marketing lines). The rules below are written against *kinds* of chrome, not against
the exact strings of one site:

* lines glued together by the capture ("BoardAll articles…", "2025View editorial policy"),
* badge lines joined by bullets ("A • B"), breadcrumbs ("Home > X > Y"),
* runs of three or more one-to-three-word lines without punctuation (status widgets, tag clouds),
* lines where the site talks to the reader about itself ("help us … your …"),
* widget vocabulary (share / comment / subscribe / personalise / "(never shown)" / "Enter word:"),
* boilerplate sections (the site's own disclaimer, calls to action).

The page's structure is then recovered: the question the page answers, its title, headed sections,
the reference list (kept as references, not body text), the page's own citation markers (kept as
metadata of the sentence), and, on "ask the expert" pages, the reader's question, the expert's answer
and each reader comment (author and date kept; ``doc_type: comment``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .types import Section

_WS = re.compile(r"[ \t\u00a0\u2009\u202f]+")
BULLET = re.compile(r"^\s*(?:[•·▪◦●‣*-]|\d{1,2}[.)])\s+")
GLUED = re.compile(r"[a-z]{3,}[A-Z][a-z]{2,}|\d[A-Z][a-z]{2,}")
BREADCRUMB = re.compile(r"^\S.{0,80}?\s[>»/]\s.+[>»/]?\s?.*$")
WIDGET_VOCAB = re.compile(
    r"\b(personali[sz]e|tailor your|your experience|which best describes you|join the discussion|add a comment|"
    r"share your story|leave a (comment|reply)|latest comments|you might also like|related (articles|posts|content)|"
    r"view editorial policy|editorial policy|review status|pending (human )?review|sign (in|up)|log ?in|subscribe|"
    r"newsletter|cookie|privacy policy|terms of use|all rights reserved|advertisement|skip to (main )?content|"
    r"back to top|print this page|email this|follow-up question|follow up question|never shown|enter word|"
    r"medical advisory board|educational purpose|exercise caution)\b",
    re.I,
)
MARKETING = re.compile(r"\b(world-class|instantly|used by (practicing|leading|top)|try (it )?(for )?free|"
                       r"download (our|the) app|get (world-class|instant|expert) answers)\b", re.I)
SITE_TALK_US = re.compile(r"\b(us|our|we)\b", re.I)
SITE_TALK_YOU = re.compile(r"\b(you|your)\b", re.I)
UPDATED = re.compile(r"\b(?:last\s+)?(?:updated|reviewed|published)\s*:?\s*(?P<date>(?:[A-Z][a-z]+\.? \d{1,2},? \d{4})|"
                     r"(?:\d{1,2} [A-Z][a-z]+\.? \d{4})|(?:\d{4}-\d{2}-\d{2}))", re.I)
BYLINE = re.compile(r"^\s*by:?\s+(?P<author>[^|]+?)(?:\s+-\s+|\s*\|\s*|$)", re.I)
ATTRIBUTION = re.compile(r"^\((?P<author>[^(),]{2,60}),\s*(?P<date>\d{1,2}\s+[A-Za-z]+\.?\s+\d{4})\)$")
SIGNATURE = re.compile(r"^(?P<author>.{1,60}?) - (?P<date>\d{1,2}-[A-Za-z]{3}-\d{2,4}) @ (?P<time>\d{1,2}:\d{2}\s?[AP]M)$")
REFERENCES_HEAD = re.compile(r"^(references?|sources|bibliography|works cited|citations)$", re.I)
BOILERPLATE_HEAD = re.compile(r"\b(disclaimer|terms of (use|service)|privacy|about (us|the author)|copyright)\b", re.I)
MARKER = re.compile(r"(?<=[^\d\s,;:(])\s+(?P<nums>\d{1,2}(?:\s*,\s*\d{1,2})*)\s*(?P<punct>[.:;]?)\s*$")
NOT_MARKER_BEFORE = re.compile(r"\b(type|grade|stage|phase|step|level|class|group|part|chapter|figure|table|"
                               r"version|category|covid|age|aged|no|vitamin|hepatitis|factor)$", re.I)


def normalise(line: str) -> str:
    return _WS.sub(" ", line).strip()


def parse_date(text: str | None) -> str | None:
    if not text:
        return None
    from dateutil import parser

    try:
        return parser.parse(text, fuzzy=True, dayfirst=not re.match(r"^[A-Za-z]", text.strip())).date().isoformat()
    except (ValueError, OverflowError):
        return None


def _words(line: str) -> int:
    return len(line.split())


def is_chrome(line: str) -> bool:
    """A line that belongs to the site, not to the document."""
    if not line or SIGNATURE.match(line) or ATTRIBUTION.match(line):
        return False
    body = BULLET.sub("", line)
    words = _words(body)
    if re.fullmatch(r"[\[(].{0,40}[\])]\.*", body):  # "[Add a Comment]", "(never shown)"
        return True
    if words <= 30 and WIDGET_VOCAB.search(body):
        return True
    if MARKETING.search(body):
        return True
    if words <= 25 and GLUED.search(body):
        return True
    if " • " in body or " | " in body and words <= 25:
        return True
    if words <= 20 and BREADCRUMB.match(body) and body.count(">") + body.count("»") >= 2:
        return True
    if words <= 25 and SITE_TALK_US.search(body) and SITE_TALK_YOU.search(body) and not SIGNATURE.match(body):
        return True
    return False


def _short_label(line: str) -> bool:
    return 0 < _words(line) <= 3 and not re.search(r"[.,;:!?]", line)


@dataclass
class Block:
    kind: str  # heading | para | bullet
    text: str
    markers: list[int] = field(default_factory=list)


@dataclass
class PageSection:
    heading: str | None
    blocks: list[Block] = field(default_factory=list)
    doc_type: str | None = None
    author: str | None = None
    date: str | None = None
    role: str = "body"  # question | answer | body | comment
    parent: str | None = None


@dataclass
class ParsedPage:
    text: str
    sections: list[Section]
    title: str | None
    published: str | None
    authors: list[str]
    references: list[str]
    keywords: list[str]
    kind: str  # guideline_page | expert_page | page


def _strip_marker(text: str) -> tuple[str, list[int]]:
    m = MARKER.search(text)
    if not m:
        return text, []
    before = text[: m.start()]
    if NOT_MARKER_BEFORE.search(before.rstrip()):
        return text, []
    nums = [int(n) for n in re.findall(r"\d+", m.group("nums"))]
    return before.rstrip() + m.group("punct"), nums


def _is_heading(lines: list[str], i: int) -> bool:
    line = lines[i]
    if not line or BULLET.match(line) or _words(line) > 10 or len(line) > 90:
        return False
    if re.search(r"[.,;:]$", line) or not line[0].isupper() and not line[0].isdigit():
        return False
    nxt = next((x for x in lines[i + 1:] if x), None)
    return nxt is not None


def parse_page(raw: str) -> ParsedPage:
    lines = [normalise(x) for x in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    keep, published, authors = _mark_metadata(lines)
    _mark_label_runs(keep)
    keywords = _take_keywords(keep)
    lines = ["" if x.startswith("\x00") else x for x in keep]
    # collapse: a line that was chrome should not join two paragraphs
    comment_start = _comment_start(lines, keep)
    body_lines = lines[:comment_start]
    comment_lines = lines[comment_start:]
    title, question, answer_role, rest = _title_and_question(body_lines)
    sections: list[PageSection] = [question] if question is not None else []
    references = _headed_sections(rest, answer_role, sections)
    if references:
        for s in sections:
            for b in s.blocks:
                b.text, b.markers = _strip_marker(b.text)
    sections += _comments(comment_lines)
    text, out_sections = _assemble(sections, title)
    kind = "expert_page" if answer_role == "answer" or any(s.role == "comment" for s in sections) else (
        "guideline_page" if references else "page")
    return ParsedPage(text, out_sections, title, published, authors, references, keywords, kind)


# --- metadata lines and chrome --------------------------------------------------------------------
def _mark_metadata(lines: list[str]) -> tuple[list[str], str | None, list[str]]:
    """Each line, or ``\\x00meta`` for a date/byline line, ``\\x00chrome`` for chrome; the page's date and authors."""
    published: str | None = None
    authors: list[str] = []
    keep: list[str] = []
    for line in lines:
        if line and (m := UPDATED.search(line)) and _words(line) <= 25:
            published = published or parse_date(m.group("date"))
            if (b := BYLINE.match(line)) is not None:
                authors.append(b.group("author").strip())
            keep.append("\x00meta")
            continue
        if line and (b := BYLINE.match(line)) and _words(line) <= 20:
            authors.append(b.group("author").strip())
            keep.append("\x00meta")
            continue
        keep.append("\x00chrome" if is_chrome(line) else line)
    return keep, published, authors


def _mark_label_runs(keep: list[str]) -> None:
    """Runs of >= 3 short labels are widgets (status lists, tag clouds), and so is a label line right above such a
    run ("Article Review Status"): marked ``\\x00chrome`` in place."""
    i = 0
    while i < len(keep):
        j = i
        while j < len(keep) and keep[j] and not keep[j].startswith("\x00") and _short_label(keep[j]) and _words(keep[j]) <= 3:
            j += 1
        if j - i >= 3:
            start = i - 1 if i > 0 and keep[i - 1] and _words(keep[i - 1]) <= 4 and not keep[i - 1].startswith("\x00") else i
            for k in range(start, j):
                keep[k] = "\x00chrome"
        i = max(j, i + 1)


def _take_keywords(keep: list[str]) -> list[str]:
    """A tag line right after the byline ("Stem Cells Paralysis Muscles Facial"): its words, the line marked chrome."""
    for idx, line in enumerate(keep):
        if line == "\x00meta":
            nxt = next((k for k in range(idx + 1, len(keep)) if keep[k]), None)
            if nxt is not None and not keep[nxt].startswith("\x00") and _words(keep[nxt]) <= 8 \
                    and not re.search(r"[.,;:!?]", keep[nxt]) and all(w[0].isupper() for w in keep[nxt].split()):
                keywords = keep[nxt].split()
                keep[nxt] = "\x00chrome"
                return keywords
    return []


# --- expert page: question / answer / comments ----------------------------------------------------
def _comment_start(lines: list[str], keep: list[str]) -> int:
    """Where the readers' comments begin (``len(lines)`` when there are none): the body of the first comment starts
    after the last chrome line before its signature."""
    signatures = [i for i, x in enumerate(lines) if SIGNATURE.match(x)]
    if not signatures:
        return len(lines)
    first = signatures[0]
    k = first - 1
    while k >= 0 and (keep[k] != "\x00chrome"):
        k -= 1
    comment_start = k + 1 if k >= 0 else first
    return first if comment_start == 0 else comment_start


def _title_and_question(body_lines: list[str]) -> tuple[str | None, PageSection | None, str, list[str]]:
    """The page's title, the question it answers (a section, or None), the role of what follows ("answer" after a
    reader's attributed question, else "body") and the lines after the title."""
    title: str | None = None
    question_lines: list[str] = []
    attribution = next((i for i, x in enumerate(body_lines) if ATTRIBUTION.match(x)), None)
    idx = 0
    while idx < len(body_lines) and not body_lines[idx]:
        idx += 1
    # a leading paragraph ending with "?" that is too long to be a title is the page's question
    if idx < len(body_lines) and body_lines[idx].endswith("?") and _words(body_lines[idx]) > 12:
        question_lines.append(body_lines[idx])
        idx += 1
    while idx < len(body_lines) and not body_lines[idx]:
        idx += 1
    if idx < len(body_lines) and _is_heading(body_lines, idx):
        title = body_lines[idx]
        idx += 1
    rest = body_lines[idx:]
    answer_role = "body"
    q_author = q_date = None
    if attribution is not None and attribution >= idx:
        a = attribution - idx
        question_lines = [x for x in rest[:a] if x]
        m = ATTRIBUTION.match(rest[a])
        q_author, q_date = m.group("author"), parse_date(m.group("date"))
        rest = rest[a + 1:]
        answer_role = "answer"
    question = PageSection("Question", [Block("para", x) for x in question_lines], author=q_author, date=q_date,
                           role="question") if question_lines else None
    return title, question, answer_role, rest


# --- headed sections of the body ------------------------------------------------------------------
def _headed_sections(rest: list[str], answer_role: str, sections: list[PageSection]) -> list[str]:
    """Append the body's headed sections to ``sections``; the reference list's entries, returned (kept out of the
    body), and boilerplate sections (the site's disclaimer…) skipped."""
    cur = PageSection(None, role=answer_role)
    sections.append(cur)
    references: list[str] = []
    mode = "body"
    parent: str | None = None
    ref_entry: list[str] = []
    for i, line in enumerate(rest):
        if not line:
            continue
        if _is_heading(rest, i) and not BULLET.match(line):
            if REFERENCES_HEAD.match(line):
                mode = "refs"
                continue
            if mode == "refs" and _words(line) <= 1:
                if ref_entry:
                    references.append(" — ".join(ref_entry))
                ref_entry = [line]
                continue
            if BOILERPLATE_HEAD.search(line):
                if ref_entry:
                    references.append(" — ".join(ref_entry))
                    ref_entry = []
                mode = "skip"
                continue
            if mode == "refs" and ref_entry:
                ref_entry.append(line)
                continue
            if line.endswith("?") and mode == "skip":
                continue
            mode = "body"
            if cur.heading and not cur.blocks and sections and sections[-1] is cur:
                sections.pop()  # an empty heading is the parent of the headings that follow it
                parent = cur.heading
            cur = PageSection(line, role=answer_role, parent=parent)
            sections.append(cur)
            continue
        if mode == "refs":
            ref_entry.append(line)
            continue
        if mode == "skip":
            continue
        kind = "bullet" if BULLET.match(line) else "para"
        cur.blocks.append(Block(kind, BULLET.sub("", line) if kind == "bullet" else line))
    if ref_entry:
        references.append(" — ".join(ref_entry))
    return references


def _comments(comment_lines: list[str]) -> list[PageSection]:
    """Each reader comment (the lines above its signature ``Name - 12-Mar-21 @ 3:04 PM``), author and date kept."""
    out: list[PageSection] = []
    pending: list[str] = []
    for line in comment_lines:
        if not line:
            continue
        m = SIGNATURE.match(line)
        if m:
            if pending:
                out.append(PageSection(f"Comment by {m.group('author').strip()}",
                                       [Block("para", x) for x in pending], doc_type="comment",
                                       author=m.group("author").strip(), date=parse_date(m.group("date")),
                                       role="comment"))
            pending = []
        else:
            pending.append(line)
    return out


def _assemble(sections: list[PageSection], title: str | None) -> tuple[str, list[Section]]:
    parts: list[str] = []
    out: list[Section] = []
    pos = 0
    used: dict[str, int] = {}
    for s in sections:
        if not s.blocks:
            continue
        start = pos
        chunk: list[str] = []
        markers: dict[int, list[int]] = {}
        local = 0
        if s.heading and s.role != "comment":
            chunk.append(s.heading)
            local += len(s.heading) + 2
        for b in s.blocks:
            t = ("- " + b.text) if b.kind == "bullet" else b.text
            if b.markers:
                markers[start + local + len(t)] = b.markers
            chunk.append(t)
            local += len(t) + 2
        body = "\n\n".join(chunk)
        parts.append(body)
        pos += len(body) + 2
        base = {"question": "question", "comment": "comment", "answer": "answer"}.get(s.role, "s")
        n = used[base] = used.get(base, 0) + 1
        sid = base if base == "question" and n == 1 else f"{base}{n}"
        path = [x for x in [title if s.role != "question" else None, s.parent, s.heading] if x]
        out.append(Section(id=sid, heading_path=path, start=start, end=start + len(body),
                           doc_type=s.doc_type, author=s.author, date=s.date, citation_markers=markers,
                           qtype="question" if s.role == "question" else None))
    return "\n\n".join(parts), out


def iso_date_or_none(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        return parse_date(value)


GUIDELINE_WORDS = re.compile(r"\b(guidelines?|recommendations?|recommended regimens?|practice parameters?|"
                             r"consensus statement)\b", re.I)
GUIDELINE_BODIES = re.compile(
    r"\b(National Guideline Clearinghouse|guideline\.gov|NICE|National Institute for Health and Care Excellence|"
    r"World Health Organization|WHO|Centers for Disease Control|CDC|AHRQ|Agency for Healthcare Research and Quality|"
    r"USPSTF|U\.?S\.? Preventive Services Task Force|SIGN|Scottish Intercollegiate|NHLBI|Ministry of Health|"
    r"American (?:College|Heart|Academy|Society) of [A-Z][a-z]+)\b")
NUMBERED_REC = re.compile(r"(?m)^\s*(?:\d{1,2}\.\d{1,2}\.\d{1,3}\s+[A-Z]|Recommendation\s+\d{1,3}\b)")


def looks_like_guideline(title: str | None, headings: list[str], text: str, source: str | None = None) -> bool:
    """A guideline page: numbered recommendations, a guideline body as publisher, or "guideline" /
    "recommendation" in its title or headings."""
    if len(NUMBERED_REC.findall(text)) >= 2:
        return True
    if any(GUIDELINE_WORDS.search(h or "") for h in [title, *headings]):
        return True
    return bool(source and GUIDELINE_BODIES.search(source))
