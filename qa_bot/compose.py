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
from functools import lru_cache
from dataclasses import dataclass, field

from .text import (CITE_MARK, INSTRUCTION_LIKE, META_HEADING, META_SENTENCE, NEGATIVE, PATIENT_DESCRIPTOR, POSITIVE,
                   content_terms, expects_quantity, is_fragment, question_types, soft_overlap, split_sentences,
                   contradicts, issued_by, issuing_bodies, states_quantity, term_set, thresholds, topic_terms)
from .settings import Settings
from .shorthand import expand
from .types import Answer, AnswerSentence, Citation, Passage
from .verify import is_evidence

QTYPE_LABEL = {"treatment": "Treatment", "symptoms": "Signs and symptoms", "causes": "Causes",
               "exams and tests": "Diagnosis", "prevention": "Prevention", "inheritance": "Inheritance",
               "genetic changes": "Genetic changes", "frequency": "How common it is", "outlook": "Outlook",
               "susceptibility": "Who is at risk", "complications": "Complications", "stages": "Stages",
               "research": "Research", "considerations": "Considerations", "information": "Overview",
               "support groups": "Support"}
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
    terms: frozenset[str] = field(default_factory=frozenset)
    score: float = 0.0
    is_rec: bool = False  # a recommendation statement (recognised at indexing)
    meta: bool = False  # about the document (its objectives, methods, how its summary is organised), not about care
    grade: str | None = None


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
    return [Cand(p, p_index, x, y, item, terms) for x, y, item, terms in _sentence_items(p.chunk.text, p.chunk.kind)]


@lru_cache(maxsize=20_000)
def _sentence_items(text: str, kind: str | None) -> tuple[tuple[int, int, str, frozenset[str]], ...]:
    """The quotable sentences (and list items) of a chunk's text: (start, end, text, terms); cached, a lead
    guideline's chunks are weighed again for every question it leads."""
    out: list[tuple[int, int, str, frozenset[str]]] = []
    # a table row is one sentence: its cells' "b." / "ii." item marks are not sentence ends
    for a, b in ([(0, len(text.rstrip()))] if kind == "table_row" else split_sentences(text)):
        s = text[a:b]
        m = re.match(r"^(?:[-*•]|\d{1,2}[.)])\s+", s)  # list marker: not part of the sentence
        if m:
            a += m.end()
            s = text[a:b]
        s_clean = s.strip()
        for x, y in _inline_items(s_clean, a + (len(s) - len(s.lstrip()))):
            item = text[x:y]
            if (len(item.split()) < 4 or item.endswith(("?", ":")) or item.startswith("#")
                    or _table_like(item) and kind != "table_row"  # a table row keeps its headers: quotable
                    or not re.search(r"[a-z]", item) or INSTRUCTION_LIKE.search(item)):
                continue
            out.append((x, y, item, term_set(item)))
    return tuple(out)


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


def _numbers(s: str) -> set[str]:
    """The amounts a sentence states (not its citation marks, nor years: "In 2015, …" restates, it adds no threshold)."""
    return {n for n in re.findall(r"\d+(?:\.\d+)?", CITE_MARK.sub(" ", s)) if not re.fullmatch(r"(?:19|20)\d\d", n)}


def _new_numbers(a: str, b: str) -> bool:
    """``a`` states a number that ``b`` does not ("BMI >40 or 35.0-39.9" after "BMI ≥35.0"): not a repeat."""
    return bool(_numbers(a) - _numbers(b))


def _repeats(c: Cand, o: Cand) -> bool:
    """``c`` says nothing that ``o`` does not: nearly the same words, no other number, and not two statements of
    different grades (the B recommendation from 24 weeks and the I statement before them)."""
    if not _near_dup(c.terms, o.terms) or _new_numbers(c.text, o.text):
        return False
    return not (c.is_rec and o.is_rec and c.grade and o.grade and c.grade != o.grade)


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


# --- what the question asks about -------------------------------------------------------------------
_AGE = re.compile(r"\b(\d{1,3})[- ]?(?:year|yr)s?[- ]old\b|\baged?\s+(\d{1,3})\b|\b(\d{1,3})\s*(?:yo|y/o)\b", re.I)
_DIGIT = re.compile(r"\d")
_RANGE = re.compile(r"\b(?:aged\s+)?(\d{1,3})\s*(?:to|-|–|through)\s*(\d{1,3})\s*(?:years?|y)\b", re.I)
_OLDER = re.compile(r"\b(?:aged\s+)?(\d{1,3})\s*years?\s*(?:or|and)\s*(?:older|over|above)\b|\b(?:older|over)\s+than\s+(\d{1,3})\b", re.I)
_YOUNGER = re.compile(r"\b(?:aged\s+)?(\d{1,3})\s*years?\s*(?:or|and)\s*(?:younger|under)\b|\b(?:younger|under)\s+than\s+(\d{1,3})\b", re.I)
_FEMALE = re.compile(r"\b(?:women|woman|female|females|girls?|pregnan\w*|postmenopausal|mothers?)\b", re.I)
_MALE = re.compile(r"\b(?:men|man|male|males|boys?)\b", re.I)


def question_ages(text: str) -> list[int]:
    return [int(next(g for g in m.groups() if g)) for m in _AGE.finditer(text or "")]


def age_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Age ranges a sentence or population states ("aged 45 to 49 years", "65 years or older")."""
    if not _DIGIT.search(text or ""):  # every form has a number
        return ()
    out = [(int(a), int(b)) for a, b in _RANGE.findall(text or "") if int(a) <= int(b) <= 120]
    out += [(int(a or b) + (0 if a else 1), 120) for a, b in _OLDER.findall(text or "")]
    out += [(0, int(a or b) - (0 if a else 1)) for a, b in _YOUNGER.findall(text or "")]
    return tuple(out)


@lru_cache(maxsize=50_000)
def _population(text: str) -> tuple[tuple[tuple[int, int], ...], bool, bool]:
    """(age ranges, speaks of women, speaks of men) of a text; cached."""
    return age_ranges(text), bool(_FEMALE.search(text)), bool(_MALE.search(text))


def population_match(question: str, text: str) -> float:
    """+1 when the question's age falls in an age range the text states, -1 when the text states ranges and
    none holds it; -1 when the text is about the other sex only. 0 when nothing is known."""
    score = 0.0
    ages = question_ages(question)
    ranges, t_f, t_m = _population(text)
    if ages and ranges:
        score += 1.0 if any(lo <= a <= hi for a in ages for lo, hi in ranges) else -1.0
    _, q_f, q_m = _population(question)
    if q_f != q_m and t_f != t_m:  # both speak of one sex
        score += 0.5 if q_f == t_f else -1.0
    return score


def _year(published: str | None) -> str | None:
    from .index import published_ord

    o = published_ord(published)
    return str(o // 10000) if o else None


def _short_source(source: str | None) -> str | None:
    """"U.S. Preventive Services Task Force" → "USPSTF"; long lists of publishers → None."""
    if not source or len(source.split()) > 6:
        return None
    letters = "".join(w.replace(".", "") if re.fullmatch(r"(?:[A-Z]\.)+", w) else w[0]
                      for w in source.split() if w[:1].isupper())
    return letters if len(letters) >= 2 else None


def grade_note(p: Passage, grade: str | None) -> str | None:
    """"USPSTF grade B, 2021" / "Strong For, 2014": the grade printed in (or with) the passage and its date."""
    if not grade:
        return None
    c = p.chunk
    g = f"grade {grade}" if re.fullmatch(r"[A-D]|I", grade) else grade
    src = _short_source(c.source)
    if src and g.startswith("grade"):
        g = f"{src} {g}"
    year = _year(c.published)
    return f"{g}, {year}" if year else g


def _subject_terms(title: str | None) -> set[str]:
    """What a document is about: its title's topic words (not "screening", "guideline", publishers)."""
    return topic_terms(re.sub(r"\b(?:clinical|practice|guidelines?|recommendations?|statement|summary|preventive|"
                              r"services?|task|force|u\.?s\.?|va/dod|update[d]?)\b", " ", title or "", flags=re.I))


def same_guidance(a: Passage, b: Passage) -> bool:
    """Two guideline documents on the same subject (an older and a newer version of one guidance)."""
    if a.chunk.doc_type != "guideline" or b.chunk.doc_type != "guideline" or a.chunk.doc_id == b.chunk.doc_id:
        return False
    ta, tb = _subject_terms(a.chunk.title), _subject_terms(b.chunk.title)
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= 0.99


def _idf(terms: set[str], settings: Settings) -> dict[str, float]:
    try:
        from .retrieve import get_retriever

        return get_retriever(settings).idf(terms, settings.collections)  # over what the question may see
    except Exception:  # no index (unit tests of the composer): every term counts the same
        return {t: 1.0 for t in terms}


def _lead_extras(lead: Passage, have: set[str], settings: Settings) -> list[Passage]:
    """The lead document's recommendation statements that retrieval did not bring: the answer may quote them."""
    from .index import get_store

    try:
        chunks = get_store(settings).doc_chunks(lead.chunk.doc_id)
    except Exception:
        return []
    out = []
    for c in chunks:
        if c.chunk_id in have or c.doc_type == "comment":
            continue
        rec = bool(c.recs or c.kind == "recommendation")
        out.append(Passage(chunk=c, score=lead.score * (0.7 if rec else 0.5), features={"expanded": 1.0, "lead_doc": 1.0}))
    return out[:80]


def compose(question: str, standalone: str, passages: list[Passage], settings: Settings,
            confidence: tuple[float, str] = (1.0, ""), search: str | None = None) -> Answer:
    """``confidence``: (score, reason) from retrieval (``Retriever.confidence``); below the calibrated
    threshold the answer abstains. ``search``: the text that was searched (shorthand spelled out)."""
    base = Answer(question=question, standalone_question=standalone, passages=passages, disclaimer=settings.disclaimer,
                  audience=settings.audience)
    conf, reason = confidence
    if conf < settings.abstain_threshold or not passages:
        related = [citation_for(p, i, []) for i, p in enumerate(passages[:3], 1)]
        return base.model_copy(update={"abstained": True, "related": related,
                                       "abstain_reason": ABSTAIN_TEXT.get(settings.audience, ABSTAIN_TEXT["clinician"]),
                                       "notice": f"Abstained: {reason} (confidence {conf:.2f} < "
                                                 f"{settings.abstain_threshold:.2f})."})
    asked = search or standalone
    q_terms = set(content_terms(asked))
    weights = _idf(q_terms, settings)
    q_weight = sum(weights.values()) or 1.0
    ranked = [p for p in passages if not p.features.get("expanded")]
    lead = ranked[0] if ranked else passages[0]
    # a question that names the body whose guidance it asks for ("per VA/DoD", "USPSTF stance?") leads with that
    # body's document when one is retrieved well enough
    bodies = issuing_bodies(standalone)
    if bodies:
        named = [p for p in ranked[:5] if p.chunk.doc_type == "guideline" and p.score >= 0.7 * lead.score
                 and issued_by(p.chunk, bodies)]
        if named and not issued_by(lead.chunk, bodies):
            lead = named[0]
    clinical = asked != standalone or re.search(r"\b(?:guidelines?|recommend\w*|USPSTF|grade|per)\b", standalone, re.I)
    if settings.audience == "clinician" and lead.chunk.doc_type != "guideline" and clinical and not bodies:
        # a clinician's answer leads with a guideline when one is retrieved nearly as well
        lead = next((p for p in ranked[1:5] if p.chunk.doc_type == "guideline" and p.score >= 0.9 * lead.score), lead)
    # an older and a newer version of the same guidance: the newer leads
    for p in ranked[1:5]:
        if same_guidance(lead, p) and _year(p.chunk.published) and (_year(lead.chunk.published) or "") < _year(p.chunk.published):
            lead = p
    older = {p.chunk.doc_id: _year(p.chunk.published) for p in passages if same_guidance(lead, p)
             and (_year(p.chunk.published) or "") < (_year(lead.chunk.published) or "")}
    have_lead = any(p.features.get("lead_doc") and p.chunk.doc_id == lead.chunk.doc_id for p in passages)
    extras = (_lead_extras(lead, {p.chunk.chunk_id for p in passages}, settings)
              if lead.chunk.doc_type == "guideline" and not have_lead else [])
    passages = passages + extras
    base = base.model_copy(update={"passages": passages})

    # on the question's subject: the lead document, and documents whose subject the question names
    lead_subject = _subject_terms(lead.chunk.title)
    q_topic = topic_terms(asked)

    def on_subject(p: Passage) -> bool:
        if p.chunk.doc_id == lead.chunk.doc_id or p.chunk.doc_id in older:
            return True
        if p in ranked[:3] and p.score >= 0.9 * lead.score:  # retrieval finds it as relevant as the lead
            return True
        subj = _subject_terms(p.chunk.title)
        if not subj:
            return True
        w = _idf(subj, settings)
        covered = sum(v for t, v in w.items() if t in q_topic or t in lead_subject)
        top = max(w.values())
        rarest = {t for t, v in w.items() if v >= top - 1e-9}  # what names the subject (ties: all of them)
        share = covered / (sum(w.values()) or 1.0)
        return share >= 0.75 or (share >= 0.6 and rarest <= (q_topic | lead_subject))

    pool = [p for p in ranked[:6] if on_subject(p)] + [p for p in passages if p.features.get("expanded") and on_subject(p)]
    top_score = max((p.score for p in pool), default=1.0) or 1.0
    cands: list[Cand] = []
    boiler = _boilerplate(settings)
    from .index import sentence_template

    wants_quantity = expects_quantity(PATIENT_DESCRIPTOR.sub(" ", asked))
    q_types = question_types(standalone)
    # a follow-up ("main harms to counsel on?" after a question on risk-reducing medications) asks a new thing of
    # the earlier subject: every passage of the lead document speaks of the subject, so the sentences (or sections)
    # that speak of the new thing are the answer
    followup = _idf(set(term_set(PATIENT_DESCRIPTOR.sub(" ", expand(question).text))), settings
                    ) if standalone.strip() != question.strip() else {}
    f_weight = sum(followup.values()) or 1.0

    def on_followup(c: Cand, heading_terms: frozenset[str] | set[str]) -> float:
        if not followup:
            return 0.0
        said = sum(followup[t] for t in soft_overlap(set(followup), c.terms)) / f_weight
        titled = sum(followup[t] for t in soft_overlap(set(followup), set(heading_terms))) / f_weight
        return min(1.0, said + 0.5 * titled)
    for i, p in enumerate(pool):
        heading = " ".join(p.chunk.heading_path[1:]) if p.chunk.heading_path else ""
        # a section that answers another kind of question (its outlook, when treatment was asked) counts less
        last = p.chunk.heading_path[-1] if p.chunk.heading_path else ""
        last_terms = term_set(last)
        s_types = {p.chunk.qtype} if p.chunk.qtype and p.chunk.qtype != "question" else (
            question_types(last) if last.endswith("?") else set())
        off_type = 0.25 if q_types and s_types and not (q_types & s_types) else 0.0
        h_terms = term_set(heading)
        # never a fragment, nor a line the support check does not take as evidence (a reference, a caption,
        # the site's own text): every quoted sentence must be one that its passage states
        sents = [c for c in _sentences(p, i) if sentence_template(c.text, p.chunk.title) not in boiler
                 and not is_fragment(c.text) and is_evidence(c.text)]
        for j, c in enumerate(sents):
            rec = next((r for r in p.chunk.recs if r[0] <= c.start < r[1] or c.start <= r[0] < c.end), None)
            c.grade = (rec[2] or None) if rec else None
            c.is_rec = rec is not None or (p.chunk.kind == "recommendation" and j == 0)
            if c.is_rec and c.grade is None and p.chunk.kind == "recommendation":
                c.grade = p.chunk.grade
            overlap = sum(weights.get(t, 0.0) for t in soft_overlap(q_terms, c.terms)) / q_weight
            h_overlap = sum(weights.get(t, 0.0) for t in q_terms & h_terms - c.terms) / q_weight
            pop = population_match(asked, c.text + " " + (p.chunk.population or ""))
            # a structured recommendation statement is the guideline's answer; a recommending sentence elsewhere
            # (rationale, other groups' advice) counts less
            rec_bonus = 0.5 if c.is_rec and p.chunk.kind == "recommendation" else 0.15 if c.is_rec else 0.0
            # "Guideline Objective(s)", "Methods", "Funding"; "The recommendations … are organized into 6 modules"
            c.meta = bool(META_HEADING.search(heading) or META_SENTENCE.search(c.text))
            meta = 0.4 if c.meta else 0.0
            # the answer type: a question asking for an amount, a time or a threshold wants a sentence stating one
            typed = 0.15 if wants_quantity and states_quantity(c.text) else 0.0
            # the opposite case of the question's ("without aura" when "with aura" was asked)
            opposite = 0.3 if contradicts(asked, c.text + " " + heading) else 0.0
            c.score = ((p.score / top_score) * 0.6 + overlap + 0.3 * h_overlap + rec_bonus - meta + typed - off_type
                       - opposite
                       + settings.followup_weight * on_followup(c, last_terms)
                       + 0.3 * pop + (0.15 if p.chunk.doc_id == lead.chunk.doc_id else 0.0)
                       + (0.08 if j == 0 else 0.0) - 0.01 * j)
        cands += sents
    if not cands:
        related = [citation_for(p, i, []) for i, p in enumerate(passages[:3], 1)]
        return base.model_copy(update={"abstained": True, "related": related,
                                       "abstain_reason": ABSTAIN_TEXT.get(settings.audience, ABSTAIN_TEXT["clinician"]),
                                       "notice": "Abstained: the retrieved passages hold no usable sentence."})

    chosen: list[tuple[str, Cand]] = []

    def said_already(c: Cand) -> bool:
        return any(c.text == o.text or _repeats(c, o) for _, o in chosen)

    def take(group: str, c: Cand) -> bool:
        if said_already(c):
            return False
        chosen.append((group, c))
        return True

    # bottom line: the recommendation of the lead document that applies (a guideline), else its best sentence
    # (an expert answer's best passage is retrieval's own pick: its sentences; a guideline: all its sections)
    from_lead = ([c for c in cands if c.passage.chunk.doc_id == lead.chunk.doc_id] if lead.chunk.doc_type == "guideline"
                 else [c for c in cands if c.passage is lead]) or cands
    recs = [c for c in from_lead if c.is_rec]
    best_any = max(from_lead, key=lambda c: c.score)
    best = max(recs, key=lambda c: c.score) if recs and max(recs, key=lambda c: c.score).score >= 0.6 * best_any.score else best_any
    # the question's aspect (what it asks beyond the subject: "when do we stop", "what dose"): when a sentence
    # answers it and the recommendation does not, that sentence leads and the recommendation follows
    subject = term_set(lead.chunk.title or "")  # every content word of the title (its subject terms among them)
    aspect = {t: weights.get(t, 0.0) for t in set(term_set(PATIENT_DESCRIPTOR.sub(" ", asked))) - subject}

    asked_thresholds = thresholds(asked)

    def covers(c: Cand) -> float:
        # a follow-up's aspect is its own words (the rest of the search text is the earlier turn's subject);
        # a table row says what its caption says ("Oxycodone; Conversion factor: 1.5" of "… MME doses …")
        head = term_set((c.passage.chunk.heading_path or [""])[-1])
        terms = c.terms | head if c.passage.chunk.kind == "table_row" else c.terms
        said = (on_followup(c, head) if followup
                else sum(aspect[t] for t in soft_overlap(set(aspect), set(terms))) / q_weight)
        return (said
                + (0.15 if population_match(asked, c.text + " " + (c.passage.chunk.population or "")) > 0 else 0.0)
                + (0.1 if wants_quantity and states_quantity(c.text) else 0.0)
                + (0.15 if asked_thresholds and asked_thresholds & thresholds(c.text) else 0.0))  # "> 500" for "more than 500"

    answers = max((c for c in from_lead if c.score >= 0.6 * best.score and not c.meta),
                  key=lambda c: (covers(c), c.score), default=best)
    # (unless it only restates the recommendation: "Although screening … is not recommended …, several factors …")
    if answers is not best and covers(answers) >= covers(best) + 0.1 and not (best.is_rec and _repeats(best, answers)):
        take("bottom_line", answers)
    take("bottom_line", best)
    # a second statement when the question spans two (two populations, "and when do we stop")
    second = [c for c in (recs if best.is_rec else from_lead) if c is not best
              and c.score >= (0.7 if c.passage.chunk.kind == "recommendation" else 0.85) * best.score
              and not said_already(c)]  # (the same statement, printed twice)
    if second:
        take("bottom_line", max(second, key=lambda c: c.score))
    elif not best.is_rec:
        nxt = [c for c in cands if c.p_index == best.p_index and c.start > best.end]
        if nxt and len(best.text) < 160 and (q_terms & nxt[0].terms):
            take("bottom_line", nxt[0])
    # and the sentence of the lead document that answers what the statement leaves out of the question
    # (an interval, a dose, a risk group), when there is one
    for _ in range(settings.bottom_line_extra):
        said = set().union(*(c.terms for _, c in chosen))
        missing = {t: weights.get(t, 0.0) for t in q_terms - soft_overlap(q_terms, said)}
        if not missing:
            break

        def adds(c: Cand) -> float:
            return sum(missing[t] for t in soft_overlap(set(missing), c.terms)) / q_weight

        extra = [c for c in from_lead if all(c is not o for _, o in chosen) and adds(c) >= 0.08
                 and c.score >= 0.5 * best.score and not c.meta]
        if not extra or not take("bottom_line", max(extra, key=lambda c: (adds(c), c.score))):
            break

    # key points: best remaining sentences, at most 3 per passage, grouped by section label
    per_p: dict[int, int] = {}
    for c in sorted(cands, key=lambda c: -c.score):
        if len(chosen) >= settings.max_key_points + 2:
            break
        if per_p.get(c.p_index, 0) >= 3 or any(o is c for _, o in chosen):
            continue
        if c.score < 0.35 * best.score:
            continue
        label = _label(c.passage)
        if c.passage.chunk.doc_id in older:
            label = f"{label} (older guidance{', ' + older[c.passage.chunk.doc_id] if older[c.passage.chunk.doc_id] else ''})"
        if take(label, c):
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
            note = grade_note(c.passage, c.grade) if c.is_rec else None
            sentences.append(AnswerSentence(text=c.text, citations=[numbering[cid]], group=g, supported=True, note=note))
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
