"""Answer stage (default composer, no LLM): an extractive answer shaped like the model answer page.

Every sentence is a sentence of a retrieved passage, quoted verbatim and followed by its citation
number; the bottom line comes first, key points are grouped under short headings (guidelines before
expert answers), a conflicting-evidence note cites both sides when sources disagree, and a
reference list follows. When the evidence is weak the answer abstains and offers related reading.
``finalize`` (called by the engine for every composer) enforces the invariants and attaches the
fixed disclaimer; nothing in a question or a document can change it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .chunk import split_sentences
from .retrieve import content_terms, question_types, topic_terms
from .settings import Settings
from .types import Answer, AnswerSentence, Citation, Passage

QTYPE_LABEL = {"treatment": "Treatment", "symptoms": "Signs and symptoms", "causes": "Causes",
               "exams and tests": "Diagnosis", "prevention": "Prevention", "inheritance": "Inheritance",
               "genetic changes": "Genetic changes", "frequency": "How common it is", "outlook": "Outlook",
               "susceptibility": "Who is at risk", "complications": "Complications", "stages": "Stages",
               "research": "Research", "considerations": "Considerations", "information": "Overview",
               "support groups": "Support"}
NEGATIVE = re.compile(r"\b(not (currently |yet |routinely )?(recommended|proven|effective|approved|supported|available|"
                      r"used)|no (proven |clear |good )?(evidence|benefit)|insufficient|failed to|unproven|"
                      r"recommends against|should not|do not|does not (work|help)|ineffective|not been shown)\b", re.I)
POSITIVE = re.compile(r"\b(could|may|might|promis\w*|potential|hope\w*|effective|improv\w*|restor\w*|benefit\w*|"
                      r"regenerat\w*|recommend(s|ed)?)\b", re.I)
INSTRUCTION_LIKE = re.compile(r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|previous|above|disclaimer|rules?)\b|"
                              r"\b(system prompt|you are now|as an ai)\b", re.I)

ABSTAIN_TEXT = {
    "clinician": "The indexed documents do not answer this question. Nothing below is an answer: the passages "
                 "listed are the nearest ones found, offered as related reading only.",
    "patient": "We could not find an answer to this question in our documents. The pages below are the closest "
               "matches we found; they do not answer your question.",
}


@dataclass
class Cand:
    passage: Passage
    p_index: int
    start: int  # within chunk text
    end: int
    text: str
    terms: set[str] = field(default_factory=set)
    score: float = 0.0


def _label(p: Passage) -> str:
    c = p.chunk
    if c.qtype and c.qtype in QTYPE_LABEL:
        return QTYPE_LABEL[c.qtype]
    head = c.heading_path[-1] if c.heading_path else ""
    if not head or head == c.title:
        return "Summary"
    if head.endswith("?"):
        types = question_types(head) if head else set()
        for t in types:
            return QTYPE_LABEL.get(t, "Overview")
        return "Overview"
    return head


def _sentences(p: Passage, p_index: int) -> list[Cand]:
    text = p.chunk.text
    out: list[Cand] = []
    # a table row is one sentence: its cells' "b." / "ii." item marks are not sentence ends
    for a, b in ([(0, len(text.rstrip()))] if p.chunk.kind == "table_row" else split_sentences(text)):
        s = text[a:b]
        m = re.match(r"^(?:[-*•]|\d{1,2}[.)])\s+", s)  # list marker: not part of the sentence
        if m:
            a += m.end()
            s = text[a:b]
        s_clean = s.strip()
        for x, y in _inline_items(s_clean, a + (len(s) - len(s.lstrip()))):
            item = text[x:y]
            if (len(item.split()) < 4 or item.endswith(("?", ":")) or item.startswith("#")
                    or _table_like(item) and p.chunk.kind != "table_row"  # a table row keeps its headers: quotable
                    or not re.search(r"[a-z]", item) or INSTRUCTION_LIKE.search(item)):
                continue
            out.append(Cand(p, p_index, x, y, item, set(content_terms(item))))
    return out


def _table_like(s: str) -> bool:
    """Flattened tables (GARD's "Abnormality of the helix 90% …") and run-on blobs are not sentences."""
    return len(s) > 450 or s.count("%") >= 3 or len(re.findall(r"\d+", s)) > 12


def _inline_items(s: str, base: int) -> list[tuple[int, int]]:
    """MedQuAD flattens lists into one sentence ("Symptoms are - A - B - C"): split it into its items."""
    if len(s) < 160 or s.count(" - ") < 2:
        return [(base, base + len(s))]
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in [*re.finditer(r" - ", s), None]:
        end = m.start() if m else len(s)
        piece = s[pos:end]
        lead = len(piece) - len(piece.lstrip())
        if piece.strip() and not re.search(r"\b(are|include|includes|including|such as|as follows)\s*:?$", piece.strip(), re.I):
            spans.append((base + pos + lead, base + pos + lead + len(piece.strip())))
        pos = m.end() if m else len(s)
    return spans


def _near_dup(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= 0.8


def citation_for(p: Passage, n: int, spans: list[tuple[int, int]]) -> Citation:
    c = p.chunk
    spans = sorted(set(spans))
    return Citation(n=n, chunk_id=c.chunk_id, doc_id=c.doc_id, section_id=c.section_id, doc_type=c.doc_type,
                    title=c.title, source=c.source, url=c.url, published=c.published,
                    heading=c.heading_path[-1] if c.heading_path else None, quote=c.text, spans=spans,
                    page=c.page_at(spans[0][0] if spans else 0))


def _boilerplate(settings: Settings) -> frozenset[str]:
    from .index import get_store

    try:
        return get_store(settings).boilerplate()
    except Exception:  # composing never fails for want of the boilerplate list
        return frozenset()


def compose(question: str, standalone: str, passages: list[Passage], settings: Settings,
            confidence: tuple[float, str] = (1.0, "")) -> Answer:
    """``confidence``: (score, reason) from retrieval (``Retriever.confidence``); below the calibrated
    threshold the answer abstains."""
    base = Answer(question=question, standalone_question=standalone, passages=passages, disclaimer=settings.disclaimer,
                  audience=settings.audience)
    conf, reason = confidence
    if conf < settings.abstain_threshold or not passages:
        related = [citation_for(p, i, []) for i, p in enumerate(passages[:3], 1)]
        return base.model_copy(update={"abstained": True, "related": related,
                                       "abstain_reason": ABSTAIN_TEXT.get(settings.audience, ABSTAIN_TEXT["clinician"]),
                                       "notice": f"Abstained: {reason} (confidence {conf:.2f} < "
                                                 f"{settings.abstain_threshold:.2f})."})
    q_terms = set(content_terms(standalone))
    ranked = [p for p in passages if not p.features.get("expanded")]
    pool = ranked[:6] + [p for p in passages if p.features.get("expanded")]
    top_score = pool[0].score or 1.0
    cands: list[Cand] = []
    boiler = _boilerplate(settings)
    from .index import sentence_template

    for i, p in enumerate(pool):
        sents = [c for c in _sentences(p, i) if sentence_template(c.text, p.chunk.title) not in boiler]
        for j, s in enumerate(sents):
            overlap = len(q_terms & s.terms) / len(q_terms) if q_terms else 0.0
            s.score = (p.score / top_score) * (0.6 + overlap) + (0.15 if j == 0 else 0.0) - 0.02 * j
        cands += sents
    if not cands:
        related = [citation_for(p, i, []) for i, p in enumerate(passages[:3], 1)]
        return base.model_copy(update={"abstained": True, "related": related,
                                       "abstain_reason": ABSTAIN_TEXT.get(settings.audience, ABSTAIN_TEXT["clinician"]),
                                       "notice": "Abstained: the retrieved passages hold no usable sentence."})

    chosen: list[tuple[str, Cand]] = []

    def take(group: str, c: Cand) -> bool:
        if any(_near_dup(c.terms, o.terms) or c.text == o.text for _, o in chosen):
            return False
        chosen.append((group, c))
        return True

    # bottom line: the best sentence of the best passage, and its next sentence when it continues the point
    first = [c for c in cands if c.p_index == 0] or cands
    best = max(first, key=lambda c: c.score)
    take("bottom_line", best)
    nxt = [c for c in cands if c.p_index == best.p_index and c.start > best.end]
    if nxt and len(best.text) < 160 and (q_terms & nxt[0].terms):
        take("bottom_line", nxt[0])

    # key points: best remaining sentences, at most 3 per passage, grouped by section label
    per_p: dict[int, int] = {}
    for c in sorted(cands, key=lambda c: -c.score):
        if len(chosen) >= settings.max_key_points + 2:
            break
        if per_p.get(c.p_index, 0) >= 3 or any(o is c for _, o in chosen):
            continue
        if c.score < 0.35 * best.score:
            continue
        if take(_label(c.passage), c):
            per_p[c.p_index] = per_p.get(c.p_index, 0) + 1

    # conflicting evidence: a source that advises against vs one that sounds hopeful, on the same topic
    # (a sentence already in the bottom line stays there; one in the key points moves to the note)
    for c in _conflict(standalone, cands):
        where = next((i for i, (g, o) in enumerate(chosen) if o is c), None)
        if where is None:
            if not any(_near_dup(c.terms, o.terms) for _, o in chosen):
                chosen.append(("conflicting_evidence", c))
        elif chosen[where][0] != "bottom_line":
            chosen[where] = ("conflicting_evidence", c)

    # order: bottom line; then groups, guideline groups first, by best score; conflict note last
    def group_rank(g: str) -> tuple:
        if g == "bottom_line":
            return (0, 0, 0)
        if g == "conflicting_evidence":
            return (3, 0, 0)
        members = [c for gg, c in chosen if gg == g]
        authority = max(1 if c.passage.chunk.doc_type == "guideline" else 0 for c in members)
        return (1, -authority, -max(c.score for c in members))

    order = sorted(dict.fromkeys(g for g, _ in chosen), key=group_rank)
    numbering: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    sentences: list[AnswerSentence] = []
    for g in order:
        for gg, c in chosen:
            if gg != g:
                continue
            cid = c.passage.chunk.chunk_id
            if cid not in numbering:
                numbering[cid] = len(numbering) + 1
            spans.setdefault(cid, []).append((c.start, c.end))
            sentences.append(AnswerSentence(text=c.text, citations=[numbering[cid]], group=g, supported=True))
    by_id = {p.chunk.chunk_id: p for p in passages}
    citations = [citation_for(by_id[cid], n, spans[cid]) for cid, n in numbering.items()]
    cited_ids = set(numbering)
    followups = suggest_followups(passages, cited_ids, standalone)
    return base.model_copy(update={"sentences": sentences, "citations": citations, "suggested_followups": followups})


def _conflict(question: str, cands: list[Cand]) -> list[Cand]:
    topic = topic_terms(question)
    if not topic:
        return []
    relevant = [c for c in cands if len(topic & c.terms) >= min(2, len(topic))]
    neg = [c for c in relevant if NEGATIVE.search(c.text)]
    pos = [c for c in relevant if POSITIVE.search(c.text) and not NEGATIVE.search(c.text)]
    if not neg or not pos:
        return []
    n = max(neg, key=lambda c: (c.passage.chunk.doc_type == "guideline", c.score))
    # the other side must speak of the same subject: the words before the negation ("stem cell [therapy]")
    cue = NEGATIVE.search(n.text)
    subject = content_terms(n.text[: cue.start()])[:2] if cue else []
    if not subject:
        return []
    others = [c for c in pos if c.passage.chunk.doc_id != n.passage.chunk.doc_id and set(subject) <= c.terms]
    if not others:
        return []
    p = max(others, key=lambda c: c.score)
    return [n, p]


def suggest_followups(passages: list[Passage], cited: set[str], question: str, limit: int = 3) -> list[str]:
    """Questions taken from the headings of retrieved sections that the answer did not use."""
    seen: set[str] = set()
    out: list[str] = []
    q_norm = re.sub(r"\W+", " ", question.lower()).strip()
    for p in passages:
        if p.chunk.chunk_id in cited:
            continue
        head = p.chunk.heading_path[-1] if p.chunk.heading_path else ""
        if not head.endswith("?") or head.lower() in seen:
            continue
        if re.sub(r"\W+", " ", head.lower()).strip() == q_norm:
            continue
        seen.add(head.lower())
        out.append(head)
        if len(out) >= limit:
            break
    return out


def _norm_ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def finalize(answer: Answer, settings: Settings, timings: dict[str, float]) -> Answer:
    """Invariants for every composer, then the fixed disclaimer (by code, from settings only)."""
    retrieved = {p.chunk.chunk_id: p for p in answer.passages}
    valid = {c.n: c for c in answer.citations if c.chunk_id in retrieved}
    sentences: list[AnswerSentence] = []
    dropped = 0
    for s in answer.sentences:
        cites = [n for n in s.citations if n in valid]
        if answer.composer == "extractive":
            cites = [n for n in cites if _norm_ws(s.text) in _norm_ws(retrieved[valid[n].chunk_id].chunk.text)]
        if not cites and s.supported is not False:
            dropped += 1
            continue
        sentences.append(s.model_copy(update={"citations": cites}))
    used = {n for s in sentences for n in s.citations}
    citations = [c for n, c in sorted(valid.items()) if n in used]
    abstained = answer.abstained or not sentences
    related = answer.related
    if abstained and not answer.abstained:
        related = [citation_for(p, i, []) for i, p in enumerate(answer.passages[:3], 1)]
    return answer.model_copy(update={
        "sentences": [] if abstained else sentences, "citations": [] if abstained else citations,
        "abstained": abstained, "related": related,
        "abstain_reason": answer.abstain_reason or (ABSTAIN_TEXT.get(settings.audience, ABSTAIN_TEXT["clinician"])
                                                    if abstained else None),
        "dropped_sentences": answer.dropped_sentences + dropped, "disclaimer": settings.disclaimer,
        "audience": settings.audience, "timings_ms": {k: round(v, 2) for k, v in timings.items()}})
