"""Answer stage (default composer, no LLM): an extractive answer shaped like the model answer page.

Every sentence is a sentence of a retrieved passage, quoted verbatim and followed by its citation
number; the bottom line comes first, key points are grouped under short headings (guidelines before
expert answers), a conflicting-evidence note cites both sides when sources disagree, and a
reference list follows. When the evidence is weak the answer abstains and offers related reading.
``finalize`` (called by the engine for every composer) enforces the invariants and attaches the
fixed disclaimer; nothing in a question or a document can change it.
"""

from __future__ import annotations

import math
import re
from functools import cached_property, lru_cache
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .text import (CITE_MARK, GENERIC, META_HEADING, META_SENTENCE, NEGATIVE, POSITIVE, STOP,
                   CLOSED_VERB, content_terms, expects_quantity, glued_heading, inline_items, is_fragment,
                   is_list_item, question_types, soft_overlap, split_sentences,
                   contradicts, issued_by, issuing_bodies, states_quantity, stem_words, term_set, topic_terms)
from .parse.comparison import thresholds
from .parse.injection import INSTRUCTION as INSTRUCTION_LIKE
from .parse.population import (AGE_OR_OLDER as _OLDER, AGE_OR_YOUNGER as _YOUNGER,  # noqa: F401 - read by tests
                               AGE_RANGE as _RANGE, PATIENT_DESCRIPTOR, age_ranges, population_match)
from .settings import Settings
from .shorthand import expand, generic_name, is_drug
from .coverage import aspect_weights, coverage_features, coverage_model, unsaid_words
from .retrieve import UNKNOWN_NAMES, best_passages
from .scorer import answerable_model, sentence_scorer
from .subject import STRONG_HEADED, Aspect, asked_aspects, condition_context, is_name, subject_classes
from .types import Answer, AnswerSentence, Chunk, Citation, Passage, Subject
from .units import (INSTRUCTS, STRENGTH_ASKED, asked_labels, cross_refs, defines_label, named_unit,
                    section_recommendation)
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
    features: dict[str, float] = field(default_factory=dict)  # what ``Composer.sentence_features`` measured
    ref: str | None = None  # the unit a quoted sentence's cross-reference names ("recommendation 6"), when it is that


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
    spans = [(0, len(text.rstrip()))] if kind == "table_row" else split_sentences(text)
    for i, (a, b) in enumerate(spans):
        unit = _list_unit(text, spans, i)
        if unit is not None:
            out.append(unit)
        s = text[a:b]
        m = _LIST_MARK.match(s)  # list marker: not part of the sentence
        if m:
            a += m.end()
            s = text[a:b]
        m = _LEADING_MARKS.match(s)  # the previous sentence's reference marks ("… of DMD. [2] [5] Testing …")
        if m and m.end() < len(s):
            a += m.end()
            s = text[a:b]
        k = glued_heading(s, text)  # a subheading run into it ("Support Groups Some people …"): not part of it
        if k:
            a += k
            s = text[a:b]
        s_clean = s.strip()
        items = inline_items(s_clean, a + (len(s) - len(s.lstrip())))
        for k, (x, y) in enumerate(items):
            item = text[x:y]
            if k == 0 and len(items) > 1 and not re.search(r"[.!]\s*$", item) and not CLOSED_VERB.search(item):
                continue  # a table's header glued to its first cell ("Signs and Symptoms Approximate number of
                # patients (when available) Abnormality of the face"): no statement
            if (len(item.split()) < 4 or item.endswith(("?", ":")) or item.startswith("#")
                    or _table_like(item) and kind != "table_row"  # a table row keeps its headers: quotable
                    or not re.search(r"[a-z]", item) or INSTRUCTION_LIKE.search(item)):
                continue
            out.append((x, y, item, term_set(item)))
    return tuple(out)


_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_LEAD_IN = re.compile(r"(?:\b(?:include|includes|including|such as|following|as follows|are|is)\s*:?|:)\s*$", re.I)
LIST_UNIT_CHARS = 450  # a list quoted whole with its lead-in, when it is no longer (never a part of a list)


def _list_unit(text: str, spans: list[tuple[int, int]], i: int) -> tuple[int, int, str, frozenset[str]] | None:
    """Sentence ``i`` when it introduces a list ("Digestive signs and symptoms … can include" and the line
    "- abdominal bloating - chronic diarrhea - …") with the whole list after it, as one quotable unit (the lead-in
    alone is a fragment and the items are too short to quote): its text with whitespace folded; None when it is no
    lead-in, no list follows, the unit is longer than ``LIST_UNIT_CHARS``, or the list runs over several lines (a
    PDF's bullets: quoted whole, the lead-in and every line, it would be more than the two adjacent units a quote is
    checked in)."""
    a, b = spans[i]
    lead = text[a:b].strip()
    if _LIST_MARK.match(lead) or not _LEAD_IN.search(lead) or len(lead.split()) < 4 or i + 1 >= len(spans):
        return None
    x, end = spans[i + 1]
    if not _LIST_MARK.match(text[x:end]) or (i + 2 < len(spans) and _LIST_MARK.match(text[slice(*spans[i + 2])])):
        return None
    unit = re.sub(r"\s+", " ", text[a:end]).strip()
    if len(unit) > LIST_UNIT_CHARS or INSTRUCTION_LIKE.search(unit):
        return None
    return a + (len(text[a:b]) - len(text[a:b].lstrip())), end, unit, term_set(unit)


# reference marks that open a sentence ("[2] [5] Testing for DMD may include …"): the source writes them after the
# full stop of the sentence they support (GARD's pages), so they are that sentence's, not the next one's
_LEADING_MARKS = re.compile(rf"^(?:{CITE_MARK.pattern}\s*)+")


def _table_like(s: str) -> bool:
    """Flattened tables (GARD's "Abnormality of the helix 90% …") and run-on blobs are not sentences."""
    return len(s) > 450 or s.count("%") >= 3 or len(re.findall(r"\d+", s)) > 12


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




# --- what the question asks about -------------------------------------------------------------------
def _year(published: str | None) -> str | None:
    from .store.tables import published_ord

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
    return topic_terms(_title_text(title))


def _title_text(title: str | None) -> str:
    return re.sub(r"\b(?:clinical|practice|guidelines?|recommendations?|statement|summary|preventive|"
                  r"services?|task|force|u\.?s\.?|va/dod|update[d]?)\b", " ", title or "", flags=re.I)


def _title_names_topic(title: str | None, asked: Asked) -> bool:
    """Whether a title names one of the question's topic words, also as one word of two ("Pinkeye": "pink eye")."""
    if not _subject_terms(title).isdisjoint(asked.topic):
        return True
    squashed = re.sub(r"[^a-z0-9]", "", asked.text.lower())
    return any(len(w) >= 6 and w in squashed and w not in GENERIC and w.removesuffix("s") not in GENERIC
               for w in re.findall(r"[a-z0-9]+", _title_text(title).lower()))


def same_guidance(a: Passage, b: Passage) -> bool:
    """Two guideline documents on the same subject (an older and a newer version of one guidance)."""
    if a.chunk.doc_type != "guideline" or b.chunk.doc_type != "guideline" or a.chunk.doc_id == b.chunk.doc_id:
        return False
    ta, tb = _subject_terms(a.chunk.title), _subject_terms(b.chunk.title)
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= 0.99






SUBJECT_ABSTAIN = {
    "clinician": "{missing} The indexed documents do not answer this question. Nothing below is an answer: the "
                 "passages listed are the nearest ones found, offered as related reading only.",
    "patient": "{missing} We could not find an answer to this question in our documents. The pages below are the "
               "closest matches we found; they do not answer your question.",
}


def _abstained(base: Answer, passages: list[Passage], settings: Settings, notice: str,
               reason: str | None = None) -> Answer:
    """An abstention: the nearest passages as related reading, the reader's reason (the audience's standing text
    when none is given) and the notice."""
    related = [citation_for(p, i, []) for i, p in enumerate(passages[:3], 1)]
    return base.model_copy(update={"abstained": True, "related": related, "notice": notice,
                                   "abstain_reason": reason or ABSTAIN_TEXT.get(settings.answer.audience,
                                                                                ABSTAIN_TEXT["clinician"])})


def _abstain_on(base: Answer, passages: list[Passage], settings: Settings, missing: str,
                notice: str | None = None) -> Answer:
    """An abstention that says what the documents lack (the subject, or what was asked of it)."""
    text = SUBJECT_ABSTAIN.get(settings.answer.audience, SUBJECT_ABSTAIN["clinician"]).format(missing=missing)
    return _abstained(base, passages, settings, f"Abstained: {notice or missing}", text)


def subject_passages(subject: Subject | None, passages: list[Passage]) -> list[Passage] | None:
    """The passages of the documents about the subject: those where a retrieved passage names it (in its text,
    title or headings; a guideline's section on doses need not repeat the drug's name). None without a subject."""
    if subject is None or not subject.df:
        return None
    docs = {p.chunk.doc_id for p in passages if subject.named_in(term_set(p.chunk.embed_text))}
    return [p for p in passages if p.chunk.doc_id in docs]


def _variant_mark(word: str) -> re.Pattern[str]:
    """``word`` followed by the letter that tells its kinds apart ("hepatitis C", "Vitamin D"): A–E, a lower-case
    "a" aside (an article: "hepatitis a lot")."""
    return re.compile(rf"\b{re.escape(word)}(?:\s+|-)(?:(A)|([B-E])|([b-e]))\b(?!['’-])"
                      r"(?:\s*(?:,|/|\bor\b|\band\b)\s*([A-E])\b)?", re.I)


def _marks(pattern: re.Pattern[str], text: str) -> set[str]:
    """The letters ``pattern`` (``_variant_mark``) finds in ``text``: "hepatitis B or C" gives both."""
    return {x.upper() for m in pattern.finditer(text) if m.group(1) is None or m.group(1) == "A"
            for x in (m.group(1) or m.group(2) or m.group(3), m.group(4)) if x}


def asked_variant(question: str, subject: Subject | None) -> tuple[str, str] | None:
    """(the subject's word, the letter the question gives it: "hepatitis C" of "Should pregnant women be screened for
    hepatitis C?"), or None when it gives none or more than one."""
    if subject is None or not subject.df:
        return None
    word = subject.name.split()[-1]
    marks = _marks(_variant_mark(word), question)
    return (word, marks.pop()) if len(marks) == 1 else None


def another_variant(variant: tuple[str, str], *texts: str) -> bool:
    """Whether a text is about another kind of the subject than the one asked: the first of ``texts`` that gives the
    subject's word a letter gives it others only ("Hepatitis B Virus Infection in Pregnant Women" for hepatitis C)."""
    word, mark = variant
    pattern = _variant_mark(word)
    marks = next((m for m in (_marks(pattern, t) for t in texts) if m), set())
    return bool(marks) and mark not in marks


def of_another_variant(p: Passage, variant: tuple[str, str]) -> bool:
    """Whether a passage is about another kind of the subject than the one asked: by its title and headings, else
    its text (``another_variant``)."""
    return another_variant(variant, " ".join([p.chunk.title or "", *p.chunk.heading_path]), p.chunk.text)


def _unnamed_by_best(found: Subject | None, passages: list[Passage], reason: str) -> bool:
    """Whether the question names a drug or condition (``is_name``) the index knows and none of the best passages
    speaks of it — unless retrieval's reason names it already ("no indexed document mentions 'lipitor'", which the
    reader is shown)."""
    return found is not None and bool(found.df) and is_name(found.name.split()[-1]) and \
        not reason.startswith(UNKNOWN_NAMES) and \
        not any(found.named_in(term_set(p.chunk.embed_text)) for p in best_passages(passages))


def unspoken(found: Subject | None, passages: list[Passage]) -> bool:
    """Whether the question's subject as found is one it is held to (``strong``), known to the index, and named
    by none of the passages found (their text, title or headings)."""
    return found is not None and found.strong and bool(found.df) and not subject_passages(found, passages)


def missing_aspects(asked: list[Aspect], sentences: list[str]) -> list[Aspect]:
    """The aspects asked (``qa_bot.subject.asked_aspects``) that none of ``sentences`` states."""
    return [a for a in asked if not any(a.said_in(x) for x in sentences)]


def asked_of(question: str, subject: Subject | None, aspects: list[Aspect]) -> list[Aspect]:
    """The aspects that are a substance's own (``own`` in ``aspects.toml``: its dose, its legal status), when asked
    of the subject itself. "named": whenever the question names it ("Gabapentin isn't a controlled substance?").
    "adjacent" (the dose): its name just before the aspect's words ("bedaquiline loading and maintenance dose",
    "typhoid conjugate vaccine dose"), or "dose of <name>"; not a dose asked after other parts of the question ("sore
    throat, FeverPAIN 4 — abx, dose, duration?": of what is prescribed). How long, with what other medicines, in
    pregnancy are often said of a drug's class or under the condition it treats: never asked of it here."""
    if subject is None:
        return []
    name = re.escape(subject.name).replace(r"\ ", r"[\s-]+")
    if not re.search(r"\b" + name + r"\b", question, re.I) and \
            not any(re.search(r"\b" + re.escape(alt) + r"\b", question, re.I) for alt in subject.alternatives):
        return []
    before = re.compile(name + r"((?:\s+[\w'-]+){0,4}?)\s*$", re.I)
    after = re.compile(r"\s+(?:of|for)\s+(?:the\s+|a\s+)?(?:[\w'-]+\s+){0,2}?" + name + r"\b", re.I)
    # "how much melatonin": the noun a quantifier asks the amount of follows it
    quantified = re.compile(r"\s+(?:the\s+|a\s+|my\s+)?" + name + r"\b", re.I)
    return [a for a in aspects if a.own == "named" or (
        a.own == "adjacent" and any(before.search(question[:m.start()]) or after.match(question[m.end():])
                                    or (m.group(0).lower().startswith("how ") and quantified.match(question[m.end():]))
                                    for p in a.ask for m in p.finditer(question)))]


WORD_SPAN = re.compile(r"[^\s]+")
OWN_WINDOW = 10  # words either side of the subject's name: the clause a substance's own property is stated in
INDEX_CHECK = 100  # chunks of the index read per name of the subject (and per class) before saying it is unsaid
PAIR_NAMES = 3  # names and classes of each drug of a pair looked up together in the index (its cost: their product)


def unsaid_of_subject(asked: list[Aspect], subject: Subject | None, passages: list[Passage] | list[Chunk],
                      window: int | None = OWN_WINDOW, classes: set[frozenset[str]] | None = None) -> list[Aspect]:
    """The aspects asked (a substance's own: ``asked_of``), when none of them is stated of the whole subject (every
    word of its name, or another name of it): within ``OWN_WINDOW`` words of its name in a sentence that names it, or
    in a passage whose headings name it (a section on a drug's doses need not repeat its name). Empty when any is
    said of it, or no subject is held. A regimen table's doses of other drugs, beside the subject's name in the same
    passage, are not its dose; a list that names it beside another drug's "abuse liability" is not its status.
    ``window`` None: anywhere in a sentence that names it or one of its ``classes`` (``subject_classes``)."""
    if subject is None or not subject.df or not asked:
        return []
    words, alt = set(subject.words) or {subject.term}, set(subject.alt_terms)

    def names(terms: frozenset[str]) -> bool:
        return names_or_class(subject, classes or set(), terms) or words <= terms  # (another name: ``named_in``)

    of_it: list[str] = []
    for p in passages:
        chunk = p.chunk if isinstance(p, Passage) else p
        text = chunk.text
        if names(term_set(chunk.context)):
            of_it.append(text)
        else:
            spans = split_sentences(text)
            for i, (a, b) in enumerate(spans):
                if not names(term_set(text[a:b])):
                    continue
                if window:
                    of_it += _near_name(text[a:b], words, alt, window)
                    continue
                of_it.append(text[a:b])
                # the next sentence, when it points back to this one ("Stop taking these medicines if …")
                if i + 1 < len(spans) and POINTS_BACK.search(text[spans[i + 1][0]:spans[i + 1][1]]):
                    of_it.append(text[spans[i + 1][0]:spans[i + 1][1]])
    missing = missing_aspects(asked, of_it)
    return missing if len(missing) == len(asked) else []


def classes_in(subject: Subject, texts: list[str]) -> set[frozenset[str]]:
    """``subject_classes`` read from the texts that name the subject."""
    return subject_classes(subject, [t for t in texts if subject.named_in(term_set(t))])


def names_or_class(subject: Subject, classes: set[frozenset[str]], terms: frozenset[str]) -> bool:
    """Whether a text's stemmed ``terms`` name the subject or one of its ``classes`` (each held whole)."""
    return subject.named_in(terms) or any(k <= terms for k in classes)


def lookup_names(subject: Subject, classes: set[frozenset[str]]) -> list[list[str]]:
    """The term lists the index is searched with for what it says of the subject: each of its names, each class."""
    return [[subject.term]] + [[t] for t in sorted(subject.terms - {subject.term})] + \
        [sorted(c) for c in sorted(classes, key=sorted)]


@dataclass
class PairStates:
    """Whether a sentence states an aspect asked of a pair (an interaction): it names both the subject (or its class)
    and a second name of the question (or a class the passages put it in), and states the aspect."""

    asked: list[Aspect]
    named: Subject
    classes: set[frozenset[str]]
    seconds: list[tuple[Subject, set[frozenset[str]]]]

    @classmethod
    def of(cls, asked: list[Aspect], named: Subject, classes: set[frozenset[str]], second: list[Subject],
           texts: list[str]) -> PairStates:
        return cls(asked, named, classes,
                   [(o, classes_in(o, texts)) for o in second])

    def __call__(self, sentence: str) -> bool:
        terms = term_set(sentence)
        return names_or_class(self.named, self.classes, terms) and \
            any(o.term in terms or any(k <= terms for k in ks) for o, ks in self.seconds) and \
            missing_aspects(self.asked, [sentence]) != self.asked


def stating_of(asked: list[Aspect], subject: Subject, cands: list[Cand]) -> list[Cand]:
    """The quotable sentences weighed that state an aspect asked of the subject within ``OWN_WINDOW`` words of its
    name ("Tramadol was recently classified as a controlled substance")."""
    words, alt = set(subject.words) or {subject.term}, set(subject.alt_terms)
    return [c for c in cands if not c.meta and (words <= c.terms or not alt.isdisjoint(c.terms))
            and missing_aspects(asked, _near_name(c.text, words, alt)) != asked]


def _with_antecedent(c: Cand) -> str:
    """A sentence, after the sentence of its passage before it when it points back to that one."""
    if not POINTS_BACK.search(c.text):
        return c.text
    text = c.passage.chunk.text
    prev = [(a, b) for a, b in split_sentences(text) if b <= c.start]
    return (text[prev[-1][0]:prev[-1][1]] + " " + c.text) if prev else c.text


def _of_name(phrase: str, name: str) -> str:
    """What is missing, said of the subject: "whether tramadol is a controlled …", "the dose or schedule of …"."""
    if re.search(r"\bit\b", phrase):
        return re.sub(r"\bit\b", name, phrase, count=1)
    return re.sub(r"^its\b", "the", phrase) + f" of {name}"


def names_drug(subject: Subject | None) -> bool:
    """Whether a subject is a drug (``shorthand.is_drug``: a word of its name, or its first other name)."""
    return subject is not None and any(is_drug(w) for w in subject.name.split() + subject.alternatives[:1])


def _with_context(asked: list[Aspect], question: str) -> list[Aspect]:
    """The aspects asked, one asked with a second thing (``Aspect.contextual``) with its phrase naming it ("whether
    it is safe for someone with high blood pressure", "whether it causes sleepiness"); one whose second thing the
    question does not name is not asked."""
    out = []
    for a in asked:
        if not a.contextual:
            out.append(a)
        elif context := condition_context(question, a):
            out.append(replace(a, phrase=a.phrase.replace("{context}", context)))
    return out


def _unsaid_reason(unsaid: list[Aspect], named: Subject) -> str:
    """What the documents leave unsaid of the subject, said of it ("whether tramadol is a controlled …", "the dose
    or schedule of bedaquiline"), or of the documents on it where the aspect's phrase cannot name it ("on tylenol
    (acetaminophen) do not say anything about pregnancy")."""
    if not any(a.phrase.startswith("anything") for a in unsaid):
        return f"The indexed documents do not say {' or '.join(_of_name(a.phrase, named.name) for a in unsaid)}."
    return f"The indexed documents {_on(named)}do not say {' or '.join(a.phrase for a in unsaid)}."


def _near_name(sentence: str, words: set[str], alt: set[str], window: int = OWN_WINDOW) -> list[str]:
    """The stretches of a sentence within ``window`` words of where it names the subject (another name of it, or
    the last word of its own name)."""
    tokens = WORD_SPAN.findall(sentence)
    last = sorted(words)[-1] if len(words) == 1 else None
    at = [i for i, t in enumerate(tokens)
          if (terms := term_set(t)) and (not alt.isdisjoint(terms) or (last in terms if last else terms & words))]
    return [" ".join(tokens[max(0, i - window):i + window + 1]) for i in at]


def _subject_gate(question: str, passages: list[Passage], settings: Settings, base: Answer,
                  subject: Subject | None) -> tuple[Answer | None, Subject | None]:
    """(the abstention when no indexed document covers the subject, or none of the passages found speaks of a
    subject that is a name; the subject the answer is held to). A subject word that is not a name ("resp") and
    that no passage found uses is not held to: the answer is composed as without one."""
    if subject is None or not settings.retrieval.subject_first or not subject.strong:
        return None, None
    if not subject.df:
        if settings.answer.unknown_subject_share >= 1:  # unknown-subject abstention turned off
            return None, None
        who = "Our documents do not mention" if settings.answer.audience == "patient" else "No indexed document mentions"
        generic = generic_name(subject.name)  # "Keflex (cephalexin)": the drug, by the name documents would use
        named = f"{subject.name} ({generic})" if generic and generic not in subject.name.lower() else subject.name
        return _abstain_on(base, passages, settings, f"{who} {named}.",
                           notice=f"no indexed document mentions '{subject.name.lower()}'."), subject
    if not subject_passages(subject, passages):
        if subject.headed >= STRONG_HEADED and is_name(subject.name.split()[-1]):
            return _abstain_on(base, passages, settings,
                               f"None of the passages found speaks of {subject.display}."), subject
        return None, None
    return None, subject


@dataclass(frozen=True)
class CorpusStats:
    """What the composer reads of the index, passed in: term rarity (``idf`` of stemmed terms), the site
    boilerplate templates, and a document's chunks (``doc_chunks``; the lead guideline's other statements).
    The defaults (every term equal, no boilerplate, no chunks) are those of a composer without an index."""

    idf: Callable[[set[str]], dict[str, float]] = lambda terms: {t: 1.0 for t in sorted(terms)}
    boilerplate: frozenset[str] = frozenset()
    doc_chunks: Callable[[str], list[Chunk]] = lambda doc_id: []
    # up to ``limit`` chunks of the index holding every one of some stemmed terms (what it says of a subject), those
    # a query's words score best first
    chunks_with: Callable[..., list[Chunk]] = lambda terms, limit, query=None: []

    @classmethod
    def of(cls, retriever, collections: list[str] | None = None) -> CorpusStats:
        """The statistics of the index a retriever searches (its store's boilerplate and chunks); term rarity over
        the chunks of ``collections`` (what the question may see: a key's scope or a filter) when given."""
        return cls(idf=lambda terms: retriever.idf(terms, collections), boilerplate=retriever.store.boilerplate(),
                   doc_chunks=retriever.store.doc_chunks,
                   chunks_with=lambda terms, limit, query=None: retriever.chunks_with(terms, collections, limit,
                                                                                      query))


@dataclass
class Asked:
    """What the question asks, as the composer weighs it: its search text and content terms with their idf, the
    aspects of the taxonomy, a follow-up's own words (their idf), whether it wants an amount."""

    question: str
    standalone: str
    text: str  # what was searched (shorthand spelled out), else the standalone question
    terms: set[str]
    weights: dict[str, float]
    total: float
    aspects: list[Aspect]
    followup: dict[str, float]
    wants_quantity: bool
    types: set[str]

    @cached_property
    def topic(self) -> set[str]:
        return topic_terms(self.text)

    @property
    def followup_total(self) -> float:
        return math.fsum(self.followup.values()) or 1.0

    def on_followup(self, c: Cand, heading_terms: frozenset[str] | set[str]) -> float:
        """How much a sentence (or its section) speaks of what a follow-up newly asks."""
        if not self.followup:
            return 0.0
        said = math.fsum(self.followup[t] for t in soft_overlap(set(self.followup), c.terms)) / self.followup_total
        titled = math.fsum(self.followup[t] for t in soft_overlap(set(self.followup), set(heading_terms))) / self.followup_total
        return min(1.0, said + 0.5 * titled)

    def states_aspect(self, text: str) -> bool:
        return bool(self.aspects) and any(a.said_in(text) for a in self.aspects)

    def aspect_share(self, text: str) -> float:
        """The share of the aspects asked that a text states (a two-part question: a sentence stating both parts
        answers more of it than one stating either)."""
        return sum(a.said_in(text) for a in self.aspects) / len(self.aspects) if self.aspects else 0.0


@dataclass
class Lead:
    """The document the answer leads with, the older versions of its guidance, and the passages of documents about
    the question's subject (None: no subject held)."""

    passage: Passage
    ranked: list[Passage]
    older: dict[str, str | None]
    about: list[Passage] | None
    subject: Subject | None = None

    @property
    def doc_id(self) -> str:
        return self.passage.chunk.doc_id

    @cached_property
    def about_ids(self) -> set[str] | None:
        return {p.chunk.chunk_id for p in self.about} if self.about is not None else None

    @cached_property
    def subject_terms(self) -> set[str]:
        """The lead document's title's topic words."""
        return _subject_terms(self.passage.chunk.title)

    def index_passages(self, chunks: list[Chunk]) -> list[Passage]:
        """The index's chunks (not retrieved) as passages of this answer: scored as its lowest-ranked passage,
        marked as statements read from the index."""
        score = min((p.score for p in self.ranked), default=self.passage.score)
        return [Passage(chunk=c, score=score, features={"expanded": 1.0, "index_statement": 1.0}) for c in chunks]

    def off_topic(self, asked: Asked) -> bool:
        """Whether the lead document's title names none of the question's topic words (a document on another topic;
        False for an untitled one)."""
        return bool(self.subject_terms) and self.subject_terms.isdisjoint(asked.topic)


# a sentence that opens with a demonstrative points back to the sentence before it
ANAPHORIC = re.compile(r"^(?:This|These|That|Those|Such|Both)\b(?!\s+(?:guideline|recommendation|statement|review|"
                       r"document|summary|report|article|section|table|figure|page)s?\b)")
# a sentence that speaks of what the one before it named: it opens with a demonstrative or a pronoun, or names
# "these medicines"
# (after a connective too: "But, it is possible to have it more than once.")
POINTS_BACK = re.compile(ANAPHORIC.pattern + r"|^(?:(?:But|And|However|Yet|So|Still|Also),?\s+)?"
                         r"(?:It|They|Its|Their)\b|\b(?:these|this|such|both) (?:medicines?|"
                         r"medications?|drugs?|treatments?|products?|pills?|tablets?|creams?)\b", re.I)
STATEMENT_SENTENCES, STATEMENT_CHARS = 3, 600  # a recommendation statement this short is quoted whole
COVERAGE_PASSAGES = 20  # the passages on the subject (best retrieved first) read for the aspect coverage: its cost

HAND_FEATURES = frozenset(("retrieval", "overlap", "heading_overlap", "rec_statement", "rec_sentence", "meta",
                           "quantity", "off_type", "opposite", "subject_named", "aspect_stated", "followup",
                           "population", "lead_doc", "first_sentence", "position"))


@dataclass
class Weighed:
    """What the composer weighed: the question, the lead, the passages (with the lead's extra sections), the
    candidate pool, its scored sentences and the aspects asked that no passage on the subject states."""

    asked: Asked
    lead: Lead
    passages: list[Passage]
    pool: list[Passage]
    cands: list[Cand]
    missing: list[Aspect]
    coverage: dict[str, float] = field(default_factory=dict)  # ``qa_bot.coverage``: the aspect words stated
    unsaid: list[str] = field(default_factory=list)  # the question's aspect words that no passage on it states


class Composer:
    """The extractive composer, step by step: ``gate`` (subject, confidence) → ``asked`` → ``lead_document`` →
    ``candidate_pool`` → ``score`` (→ ``coverage``, when the answerability check is on) → ``bottom_line`` →
    ``key_points`` → ``conflicts`` → ``numbered``.
    It reads the index only through the ``CorpusStats`` passed in; its weights are ``settings.composer``."""

    def __init__(self, settings: Settings, stats: CorpusStats | None = None):
        self.settings = settings
        self.w = settings.composer
        self.stats = stats or CorpusStats()
        self._docs: dict[str, list[Chunk]] = {}  # ``doc_chunks`` read in this answer
        self._indexed: dict[tuple, list[Chunk]] = {}  # ``index_saying``'s chunks of a subject, read in this answer
        self.scorer = sentence_scorer() if settings.composer.fitted else None
        # the hand-set weight of each feature (``HAND_FEATURES``), read once: every sentence is scored with them
        self.hand_weights = {**self.w.model_dump(include=HAND_FEATURES - {"followup"}),
                             "followup": settings.answer.followup_weight}

    # --- the steps --------------------------------------------------------------------------------
    def run(self, question: str, standalone: str, passages: list[Passage], confidence: tuple[float, str] = (1.0, ""),
            search: str | None = None, subject: Subject | None = None) -> Answer:
        s = self.settings
        base = Answer(question=question, standalone_question=standalone, passages=passages, disclaimer=s.answer.disclaimer,
                      audience=s.answer.audience, subject=subject.display if subject else None)
        found = subject
        gated, subject = self.gate(question, passages, base, subject, confidence)
        if gated is not None:
            return gated
        variant = asked_variant(search or standalone, found)
        if variant is not None:  # "hepatitis C": the passages on hepatitis B are another condition's
            other = [of_another_variant(p, variant) for p in passages]
            if all(other):
                return _abstain_on(base, passages, s, f"None of the passages found speaks of {' '.join(variant)}.")
            passages = [p for p, o in zip(passages, other) if not o]
        wd = self.weigh(question, standalone, passages, search, subject)
        if variant is not None:  # nor is a sentence on hepatitis B in a page on hepatitis C
            wd.cands = [c for c in wd.cands if not another_variant(variant, c.text)]
        asked, lead, passages, pool, cands, missing = wd.asked, wd.lead, wd.passages, wd.pool, wd.cands, wd.missing
        base = base.model_copy(update={"passages": passages})
        # a guideline on the question's topic covers it in sections that need not name the drug asked about; in a
        # lead document on another topic (its title names none of the question's topic words) a weak sentence
        # naming the subject is a mention in passing
        off_topic = lead.off_topic(asked)
        on_topic_guideline = lead.passage.chunk.doc_type == "guideline" and bool(lead.subject_terms) and not off_topic
        stated_of: list[Cand] = []  # sentences stating what was asked of the subject, the one to lead first
        if asked.aspects and cands:
            if len(missing) == len(asked.aspects) and subject is not None and subject.df and \
                    not self.index_saying(asked, missing, subject, passages):
                # documents on the subject, none of them on what was asked — what was retrieved nor the rest of the
                # index (without a subject held, the aspect is only named as missing: a question's context can read
                # like an aspect)
                return _abstain_on(base, pool, s, f"The indexed documents {_on(subject)}do not say "
                                                  f"{' or '.join(a.phrase for a in missing)}.")
            if len(missing) == len(asked.aspects) and unspoken(found, passages):
                # a subject the question names that no passage found speaks of, and nothing found states what
                # was asked: the passages are about something else
                return _abstain_on(base, pool, s, f"None of the passages found speaks of {found.display} or says "
                                                  f"{' or '.join(a.phrase for a in missing)}.")
            # the subject found, when it is a name (a drug's), though the answer is not held to it
            named = subject or (found if found is not None and found.df and is_name(found.name.split()[-1]) else None)
            unsaid, stated_of = self.said_of_subject(question, asked, named, passages, cands, on_topic_guideline, lead)
            known = {p.chunk.chunk_id for p in passages}
            fetched = {c.passage.chunk.chunk_id: c.passage for c in stated_of if c.passage.chunk.chunk_id not in known}
            if fetched:  # what a document on the subject says of it, beyond what was retrieved: one of the answer's
                passages = passages + list(fetched.values())
                base = base.model_copy(update={"passages": passages})
                missing = [a for a in missing if not any(a.said_in(c.text) for c in stated_of)]
            if unsaid:  # said only of other things ("the dose" of other drugs in a regimen table)
                return _abstain_on(base, pool, s, _unsaid_reason(unsaid, named))
        if cands and not on_topic_guideline and \
                passing_mention(subject, cands, pool, self.w.rec_share if off_topic else None):
            return _abstain_on(base, pool, s, f"The indexed documents {_on(subject)}mention it only in passing.")
        if not cands:
            return _abstained(base, passages, s, "Abstained: the retrieved passages hold no usable sentence.")
        if self.settings.composer.answerable and standalone.strip() == question.strip():
            # (fitted on first questions: a follow-up rewritten with an earlier turn's subject is not decided by it)
            model = answerable_model()
            wd = self.coverage(question, wd, subject)
            p_ans = model.prob(answerability_features(wd, confidence[0], subject, found))
            if p_ans < model.threshold:
                return _abstain_on(base, pool, s, _what_is_missing(wd, subject, found),
                                   notice=f"the passages found are unlikely to answer it (answerability {p_ans:.2f} < "
                                          f"{model.threshold:.2f}).")
        chosen = Chosen()
        stated_of = [c for c in stated_of if not is_list_item(c.text)]
        if stated_of:  # what was asked, stated of the subject (its dose, its status, how long …): that sentence leads
            chosen.take("bottom_line", stated_of[0])
        best = self.bottom_line(asked, cands, lead, subject, chosen)
        self.key_points(cands, best, lead, chosen)
        self.conflicts(standalone, cands, chosen)
        self.antecedents(chosen)
        named = self.named_units(asked, chosen)
        passages = passages + named
        update = self.numbered(chosen, passages, standalone)
        if named:  # the units quoted are passages of the answer (its citations point to them)
            update["passages"] = passages
        if missing:  # a two-part question, one part answered: say which part the documents leave out
            update["missing_aspects"] = [a.name for a in missing]
            update["notice"] = f"The indexed documents {_on(subject)}do not say {' or '.join(a.phrase for a in missing)}."
        return base.model_copy(update=update)

    def said_of_subject(self, question: str, asked: Asked, named: Subject | None, passages: list[Passage],
                        cands: list[Cand], on_topic_guideline: bool,
                        lead: Lead | None = None) -> tuple[list[Aspect], list[Cand]]:
        """(the aspects asked that are said only of other things, the sentences stating what was asked of it).
        A substance's own aspect (its dose, its status: ``asked_of``) is said of it within a few words of its name;
        with ``composer.aspect_of_subject``, an interaction with a second drug the question names, of both
        (``PairStates``: checked first); the other aspects (how long, pregnancy, side effects …) in a sentence naming
        it or a class the passages put it in ("antidepressants" for bupropion), or a section headed by it — unless
        the lead is a guideline on the question's topic (its sections need not name the drug)."""
        if named is None:
            return [], []
        own = asked_of(question, named, asked.aspects)
        if own:
            unsaid = unsaid_of_subject(own, named, passages)
            return unsaid, ([] if unsaid else sorted(stating_of(own, named, cands), key=lambda c: -c.score))
        others = [a for a in asked.aspects if not a.own]
        if not (self.w.aspect_of_subject and others and named.df) or \
                (on_topic_guideline and not any(a.contextual for a in others)):
            # (a guideline on the topic need not name the drug in its sections, but a second thing asked with the
            # drug, "coffee right after" levothyroxine, is named by what states it)
            return [], []
        classes = classes_in(named, [p.chunk.text for p in passages])
        context = self.context_name(question, named)
        if context is None:  # asked with a second thing the index does not hold (or the subject itself): not asked
            others = [a for a in others if not a.contextual]
            if not others:
                return [], []
        pair = [a for a in others if a.pair]
        if pair and (second := self.second_names(question, named) + ([context] if context else [])):
            states = PairStates.of(pair, named, classes, second, [p.chunk.text for p in passages])
            stating = [c for c in cands if states(c.text)]
            if stating:
                return [], sorted((c for c in stating if not c.meta), key=lambda c: -c.score)
            # stated in a passage retrieved but not weighed, or elsewhere in the index: that sentence leads; stated
            # nowhere, or only where nothing can be quoted (a flattened list of contraindications): unsaid
            saying = self.pair_saying(states, passages, question, lead) if lead is not None else []
            stated = self.statements_in(saying, pair, named, asked, lead, len(cands), of=states) if saying else []
            if not stated:
                others_named = " or ".join(o.name for o in second)
                return [replace(a, phrase=a.phrase.replace("other medicines", others_named)) for a in pair], []
            return [], stated
        unsaid = unsaid_of_subject(others, named, [p.chunk for p in passages], window=None, classes=classes)
        if unsaid:  # what was retrieved does not say it: neither does the rest of the index, on it or its classes
            saying = self.index_saying(asked, unsaid, named, passages, classes)
            if not saying:
                return unsaid, []
            if lead is None:
                return [], []
            # said elsewhere in the index: a page on the subject (titled by it: its sentences are of it; a page on
            # another drug, a guideline on another condition are not its answer) that says it leads
            titled = lead.index_passages([c for c in saying if named.named_in(term_set(c.title or ""))])
            return [], self.statements_in(titled, unsaid, named, asked, lead, len(cands))

        def of_it(text: str) -> bool:
            return names_or_class(named, classes, term_set(text))
        # the sentences that state it of the subject: naming it or its class, or pointing back to a sentence that does
        # (those naming it first: what a sentence points back to may be a list item the answer cannot quote)
        stating = [c for c in cands if not c.meta and missing_aspects(others, [c.text]) != others
                   and (of_it(c.text) or of_it(_with_antecedent(c)))]
        if not stating and lead is not None:  # said in a passage retrieved but not weighed (not the lead's)
            weighed = {c.passage.chunk.chunk_id for c in cands}
            stating = self.statements_in([p for p in passages if p.chunk.chunk_id not in weighed], others, named,
                                         asked, lead, len(cands), of=of_it)
        return [], sorted(stating, key=lambda c: (not of_it(c.text), -c.score))

    def index_saying(self, asked: Asked, aspects_: list[Aspect], named: Subject, passages: list[Passage],
                     classes: set[frozenset[str]] | None = None) -> list[Chunk]:
        """The index's chunks holding the subject's names (or its classes: those the passages put it in), the
        question's words best first, that state one of ``aspects_`` of it (``unsaid_of_subject``: anywhere in a
        sentence naming it or in a section headed by it)."""
        if classes is None:
            classes = classes_in(named, [p.chunk.text for p in passages])
        key = (named.term, *named.alt_terms, *sorted(tuple(sorted(k)) for k in classes))
        if key not in self._indexed:  # (asked again of the same subject in one answer: read once)
            self._indexed[key] = list({c.chunk_id: c for terms in lookup_names(named, classes)
                                       for c in self.stats.chunks_with(terms, INDEX_CHECK, asked.text)}.values())
        return [c for c in self._indexed[key]
                if not unsaid_of_subject(aspects_, named, [c], window=None, classes=classes)]

    def statements_in(self, passages: list[Passage], aspects_: list[Aspect], named: Subject, asked: Asked, lead: Lead,
                      first_index: int, of: Callable[[str], bool] | None = None) -> list[Cand]:
        """The quotable sentences stating one of ``aspects_`` (of the subject: ``of`` of the sentence or of it with
        the sentence it points back to, when given) in the first of ``passages`` that has some, scored as the
        weighed ones are, best first; empty when none has."""
        for k, p in enumerate(passages):
            sents = [c for c in self.quotable(p, first_index + k) if not is_list_item(c.text)]
            stating = [(j, c) for j, c in enumerate(sents) if missing_aspects(aspects_, [c.text]) != aspects_
                       and (of is None or of(c.text) or of(_with_antecedent(c)))]
            for j, c in stating:
                self.score_sentence(c, j, asked, lead, lead.passage.score or 1.0)
            if stating:
                return sorted((c for _, c in stating), key=lambda c: -c.score)
        return []

    def context_name(self, question: str, named: Subject) -> Subject | None:
        """What the question names beside a drug (``shorthand.is_drug``) in an aspect's context
        (``subject.condition_context``: the condition of "if i have high blood pressure", the effect of "does buspar
        cause sleepiness"), as a second name: its rarest word the index holds (``Subject.term``), when that is not
        the subject's."""
        if not names_drug(named):
            return None  # (a drug's page's question: "the flu shot if I have a cold" is not read as one)
        text = condition_context(question)
        terms = [t for t in stem_words(re.findall(r"[a-z]{3,}", (text or "").lower())) if t not in STOP]
        weights = self.stats.idf(set(terms)) if terms else {}
        held = [t for t in sorted(weights, key=lambda t: (-weights[t], t)) if self._another_indexed(t, named)]
        return Subject(name=text, term=held[0], words=held, df=1) if text and held else None

    def _another_indexed(self, term: str, named: Subject) -> bool:
        """Whether a stemmed term names something other than the subject that the index holds (a second name)."""
        return term not in named.terms and not named.named_in(frozenset({term})) and \
            bool(self.stats.chunks_with([term], 1))

    def second_names(self, question: str, named: Subject) -> list[Subject]:
        """The other names the question gives beside its subject (a second drug: "naproxen … since I took
        ibuprofen"): words that name something (``is_name``) and that the index holds."""
        out: list[Subject] = []
        for w in dict.fromkeys(re.findall(r"[A-Za-z][A-Za-z-]{4,}", question)):
            t = next(iter(term_set(w)), "")
            if t and (is_name(w) or is_drug(w)) and self._another_indexed(t, named):
                out.append(Subject(name=w, term=t, words=[t], df=1))
        return out[:2]

    def pair_saying(self, states: PairStates, passages: list[Passage], question: str, lead: Lead) -> list[Passage]:
        """The passages with a sentence stating it of the pair (``PairStates``): those retrieved first, then the
        index's chunks holding both names (or their classes); empty when none states it."""
        firsts = lookup_names(states.named, states.classes)[:PAIR_NAMES]
        found = list(passages)
        for other, theirs in states.seconds:
            seconds = lookup_names(other, theirs)[:PAIR_NAMES]
            found += lead.index_passages([c for a in firsts for b in seconds
                                          for c in self.stats.chunks_with(a + b, INDEX_CHECK, question)])
        unique: dict[str, Passage] = {}
        for p in found:
            unique.setdefault(p.chunk.chunk_id, p)
        return [p for p in unique.values() if any(states(p.chunk.text[x:y]) for x, y in split_sentences(p.chunk.text))]

    def gate(self, question: str, passages: list[Passage], base: Answer, subject: Subject | None,
             confidence: tuple[float, str]) -> tuple[Answer | None, Subject | None]:
        """The abstentions before composing (the subject first, then retrieval's confidence), and the subject the
        answer is held to."""
        s = self.settings
        found = subject
        gated, subject = _subject_gate(question, passages, s, base, subject)
        if gated is not None:
            return gated, subject
        conf, reason = confidence
        if conf < s.answer.abstain_threshold or not passages:
            notice = f"{reason} (confidence {conf:.2f} < {s.answer.abstain_threshold:.2f})."
            if _unnamed_by_best(found, passages, reason):  # the reader is told what is missing: the name asked of
                who = "The closest pages we found do not" if s.answer.audience == "patient" else \
                    "The best passages found do not"
                return _abstain_on(base, passages, s, f"{who} speak of {found.display}.", notice=notice), subject
            return _abstained(base, passages, s, f"Abstained: {notice}"), subject
        return None, subject

    def weigh(self, question: str, standalone: str, passages: list[Passage], search: str | None,
              subject: Subject | None) -> Weighed:
        """``asked`` → ``lead_document`` → ``candidate_pool`` → ``score``, and the aspects asked that none of the
        passages on the subject states."""
        asked = self.asked(question, standalone, search)
        if not names_drug(subject):  # a precaution, a place applied, an effect: asked of a drug ("does screening
            # cause overdiagnosis" asks no drug's effect)
            asked.aspects = [a for a in asked.aspects if not a.contextual]
        lead = self.lead_document(asked, passages, subject)
        passages = passages + self.lead_extras(lead.passage, passages)
        pool = self.candidate_pool(asked, lead, passages)
        cands = self.score(asked, pool, lead)
        missing: list[Aspect] = []
        if asked.aspects and cands:  # said anywhere in the passages on the subject (not only those weighed here)
            said_in = [c.text for c in cands] + [p.chunk.text for p in (lead.about if lead.about is not None else pool)]
            missing = missing_aspects(asked.aspects, said_in)
        return Weighed(asked, lead, passages, pool, cands, missing)

    def coverage(self, question: str, wd: Weighed, subject: Subject | None) -> Weighed:
        """``wd`` with how much of what the question asks beyond its subject (its aspect words) the sentences
        weighed and the passages on the subject state (``qa_bot.coverage``), the model's probability (``covered``),
        and the question's aspect words that none states (read by the answerability model only)."""
        lead, cands = wd.lead, wd.cands
        held = subject is not None and bool(subject.df)
        weights = aspect_weights(question, (subject.terms | set(subject.words)) if held else lead.subject_terms,
                                 self.stats.idf)
        sentences = [c.terms for c in cands] + [terms for p in (lead.about or [])[:COVERAGE_PASSAGES] for *_, terms in
                                                _sentence_items(p.chunk.text, p.chunk.kind)]
        features = coverage_features(weights, sentences)
        features["covered"] = coverage_model().prob(features)
        wd.coverage, wd.unsaid = features, unsaid_words(question, weights, sentences)
        return wd

    def asked(self, question: str, standalone: str, search: str | None) -> Asked:
        text = search or standalone
        terms = set(content_terms(text))
        weights = self.stats.idf(terms)
        # a follow-up ("main harms to counsel on?" after a question on risk-reducing medications) asks a new thing
        # of the earlier subject: every passage of the lead document speaks of the subject, so the sentences (or
        # sections) that speak of the new thing are the answer
        followup = (self.stats.idf(set(term_set(PATIENT_DESCRIPTOR.sub(" ", expand(question).text))))
                    if standalone.strip() != question.strip() else {})
        return Asked(question=question, standalone=standalone, text=text, terms=terms, weights=weights,
                     total=math.fsum(weights.values()) or 1.0,
                     aspects=_with_context(asked_aspects(question), question) if self.settings.retrieval.subject_first
                     else [],
                     followup=followup, wants_quantity=expects_quantity(PATIENT_DESCRIPTOR.sub(" ", text)),
                     types=question_types(standalone))

    def lead_document(self, asked: Asked, passages: list[Passage], subject: Subject | None) -> Lead:
        """The passage whose document leads: retrieval's best on the subject, unless the question names a body and
        its guideline is retrieved well enough, a clinician's guideline is nearly as good, or a newer version of the
        same guidance is retrieved."""
        about = subject_passages(subject, passages) if self.settings.retrieval.subject_first else None
        about_ids = {p.chunk.chunk_id for p in about} if about is not None else None
        ranked = [p for p in passages if not p.features.get("expanded")]
        if about_ids is not None and ranked and (subject.headed >= STRONG_HEADED or ranked[0].chunk.doc_type != "guideline"
                                                 or any(a.contextual for a in asked.aspects)):
            # the subject leads: passages about something else are not the answer (a guideline that retrieval ranks
            # first covers a topic whose sections need not name a drug or procedure of the question; not when the
            # question asks the topic of the drug: "does synthroid cause weight loss", not the obesity guideline)
            ranked = [p for p in ranked if p.chunk.chunk_id in about_ids] or list(about)
        lead = ranked[0] if ranked else passages[0]
        # a question that names the body whose guidance it asks for ("per VA/DoD", "USPSTF stance?") leads with
        # that body's document when one is retrieved well enough
        bodies = issuing_bodies(asked.standalone)
        if bodies:
            named = [p for p in ranked[:5] if p.chunk.doc_type == "guideline" and p.score >= 0.7 * lead.score
                     and issued_by(p.chunk, bodies)]
            if named and not issued_by(lead.chunk, bodies):
                lead = named[0]
        clinical = asked.text != asked.standalone or re.search(r"\b(?:guidelines?|recommend\w*|USPSTF|grade|per)\b",
                                                               asked.standalone, re.I)
        if self.settings.answer.audience == "clinician" and lead.chunk.doc_type != "guideline" and clinical and not bodies:
            # a clinician's answer leads with a guideline when one is retrieved nearly as well
            lead = next((p for p in ranked[1:5] if p.chunk.doc_type == "guideline" and p.score >= 0.9 * lead.score),
                        lead)
        if not bodies:
            lead = self.on_topic_lead(asked, lead, ranked)
        # an older and a newer version of the same guidance: the newer leads
        for p in ranked[1:5]:
            if same_guidance(lead, p) and _year(p.chunk.published) and \
                    (_year(lead.chunk.published) or "") < _year(p.chunk.published):
                lead = p
        older = {p.chunk.doc_id: _year(p.chunk.published) for p in passages if same_guidance(lead, p)
                 and (_year(p.chunk.published) or "") < (_year(lead.chunk.published) or "")}
        return Lead(passage=lead, ranked=ranked, older=older, about=about, subject=subject)

    def on_topic_lead(self, asked: Asked, lead: Passage, ranked: list[Passage]) -> Passage:
        """A lead whose title names none of the question's topic words (a complication's page for a question on the
        disease, another population's guideline) yields to a document retrieved nearly as well
        (``composer.topic_lead_share`` of its score) whose title names them."""
        if not _subject_terms(lead.chunk.title) or _title_names_topic(lead.chunk.title, asked):
            # of two documents retrieved alike, the one whose title names more of the question leads ("T2DM
            # screen": the screening guideline, not the management one)
            named = self.title_weight(lead.chunk.title, asked)
            return next((p for p in ranked[1:3] if p.chunk.doc_type == lead.chunk.doc_type
                         and p.score >= self.w.title_lead_share * lead.score
                         and self.title_weight(p.chunk.title, asked) > named + 1e-9), lead)
        return next((p for p in ranked[1:5] if p.score >= self.w.topic_lead_share * lead.score
                     and _title_names_topic(p.chunk.title, asked)), lead)

    @staticmethod
    def title_weight(title: str | None, asked: Asked) -> float:
        """The question's topic weight (idf) that a title names, also inside a word of it ("Pinkeye": pink; a topic
        word of 4 letters or more)."""
        terms = _subject_terms(title)
        squashed = re.sub(r"[^a-z0-9]", "", _title_text(title).lower())
        return math.fsum(asked.weights.get(t, 0.0) for t in asked.topic if t in terms or (len(t) >= 4 and t in squashed))

    def lead_extras(self, lead: Passage, passages: list[Passage]) -> list[Passage]:
        """The lead guideline's statements that retrieval did not bring (when it brought none of its other chunks)."""
        if lead.chunk.doc_type != "guideline" or any(p.features.get("lead_doc") and p.chunk.doc_id == lead.chunk.doc_id
                                                     for p in passages):
            return []
        have = {p.chunk.chunk_id for p in passages}
        out = []
        for c in self.stats.doc_chunks(lead.chunk.doc_id):
            if c.chunk_id in have or c.doc_type == "comment":
                continue
            rec = bool(c.recs or c.kind == "recommendation")
            out.append(Passage(chunk=c, score=lead.score * (0.7 if rec else 0.5),
                               features={"expanded": 1.0, "lead_doc": 1.0}))
        return out[:80]

    def on_subject(self, p: Passage, asked: Asked, lead: Lead) -> bool:
        """Whether a passage speaks of the question's subject: the lead document (and its older versions),
        retrieval's near-equals of the lead, documents whose title's rarest words the question or the lead names."""
        if lead.about_ids is not None and p.chunk.chunk_id not in lead.about_ids and p.chunk.doc_id != lead.doc_id:
            return False
        if p.chunk.doc_id == lead.doc_id or p.chunk.doc_id in lead.older:
            return True
        if p in lead.ranked[:3] and p.score >= 0.9 * lead.passage.score:  # retrieval finds it as relevant
            return True
        subj = _subject_terms(p.chunk.title)
        if not subj:
            return True
        q_topic, lead_subject = asked.topic, lead.subject_terms
        w = self.stats.idf(subj)
        covered = math.fsum(v for t, v in w.items() if t in q_topic or t in lead_subject)
        top = max(w.values())
        rarest = {t for t, v in w.items() if v >= top - 1e-9}  # what names the subject (ties: all of them)
        share = covered / (math.fsum(w.values()) or 1.0)
        return share >= 0.75 or (share >= 0.6 and rarest <= (q_topic | lead_subject))

    def candidate_pool(self, asked: Asked, lead: Lead, passages: list[Passage]) -> list[Passage]:
        """The passages whose sentences may be quoted: the best ranked ones on the subject, the expanded sections
        on it, and passages on the subject that state what was asked."""
        pool = [p for p in lead.ranked[:6] if self.on_subject(p, asked, lead)] + \
               [p for p in passages if p.features.get("expanded") and self.on_subject(p, asked, lead)]
        if asked.aspects and lead.about:  # passages on the subject that speak of what was asked are weighed too
            pool += [p for p in lead.about if all(p is not q for q in pool)
                     and any(a.said_in(p.chunk.text) for a in asked.aspects)][:3]
        return pool

    def score(self, asked: Asked, pool: list[Passage], lead: Lead) -> list[Cand]:
        """Every quotable sentence of the pool with its score (``score_sentence``)."""
        top_score = max((p.score for p in pool), default=1.0) or 1.0
        cands: list[Cand] = []
        for i, p in enumerate(pool):
            sents = self.quotable(p, i)
            for j, c in enumerate(sents):
                self.score_sentence(c, j, asked, lead, top_score)
            cands += sents
        return cands

    def quotable(self, p: Passage, p_index: int) -> list[Cand]:
        """A passage's sentences that may be quoted: never the site's boilerplate, a fragment, nor a line the support
        check does not take as evidence (a reference, a caption): every quoted sentence is one its passage states."""
        from .store.tables import sentence_template

        return [c for c in _sentences(p, p_index) if not is_fragment(c.text) and is_evidence(c.text)
                and sentence_template(c.text, p.chunk.title) not in self.stats.boilerplate]

    def score_sentence(self, c: Cand, j: int, asked: Asked, lead: Lead, top_score: float) -> None:
        """A sentence's score: the fitted scorer's (``qa_bot/data/sentence_scorer.json``) over its features, or
        with ``composer.fitted`` off the weighted sum of the hand-set ``settings.composer`` weights."""
        features = c.features = self.sentence_features(c, j, asked, lead, top_score)
        weights = self.hand_weights
        features["hand"] = c.score = sum(weights[k] * v for k, v in features.items() if k in HAND_FEATURES)
        if self.scorer is not None:  # the hand-set sum is one of its features: the fit weighs it against the rest
            c.score = self.scorer.score(features)

    def sentence_features(self, c: Cand, j: int, asked: Asked, lead: Lead, top_score: float) -> dict[str, float]:
        """What a sentence shares with the question, and what it is (sets its ``is_rec``, ``grade``, ``meta``)."""
        p = c.passage
        heading = " ".join(p.chunk.heading_path[1:]) if p.chunk.heading_path else ""
        # a section that answers another kind of question (its outlook, when treatment was asked) counts less
        last = p.chunk.heading_path[-1] if p.chunk.heading_path else ""
        s_types = {p.chunk.qtype} if p.chunk.qtype and p.chunk.qtype != "question" else (
            question_types(last) if last.endswith("?") else set())
        rec = next((r for r in p.chunk.recs if r[0] <= c.start < r[1] or c.start <= r[0] < c.end), None)
        c.grade = (rec[2] or None) if rec else None
        c.is_rec = rec is not None or (p.chunk.kind == "recommendation" and j == 0)
        if c.is_rec and c.grade is None and p.chunk.kind == "recommendation":
            c.grade = p.chunk.grade
        # "Guideline Objective(s)", "Methods", "Funding"; "The recommendations … are organized into 6 modules"
        # (a section on what was asked is not about the document: "Potential Harms" answers a question on harms)
        c.meta = bool((META_HEADING.search(heading) and not asked.states_aspect(heading)) or META_SENTENCE.search(c.text))
        subject = lead.subject
        in_sentence = subject is not None and bool(subject.df) and subject.named_in(c.terms)
        features = {
            "retrieval": p.score / top_score,
            "overlap": math.fsum(asked.weights.get(t, 0.0) for t in soft_overlap(asked.terms, c.terms)) / asked.total,
            "heading_overlap": math.fsum(asked.weights.get(t, 0.0) for t in asked.terms & term_set(heading) - c.terms)
            / asked.total,
            # a structured recommendation statement is the guideline's answer; a recommending sentence elsewhere
            # (rationale, other groups' advice) counts less
            "rec_statement": float(c.is_rec and p.chunk.kind == "recommendation"),
            "rec_sentence": float(c.is_rec and p.chunk.kind != "recommendation"),
            "meta": -float(c.meta),
            # the answer type: a question asking for an amount, a time or a threshold wants a sentence stating one
            "quantity": float(asked.wants_quantity and states_quantity(c.text)),
            "off_type": -float(bool(asked.types and s_types and not (asked.types & s_types))),
            # the opposite case of the question's ("without aura" when "with aura" was asked)
            "opposite": -float(contradicts(asked.text, c.text + " " + heading)),
            # the question's subject named (a page; a guideline's section need not repeat it), its aspect stated
            "subject_named": float(in_sentence and p.chunk.doc_type != "guideline"),
            "aspect_stated": float(asked.states_aspect(c.text)),
            "followup": asked.on_followup(c, term_set(last)),
            "population": population_match(asked.text, c.text + " " + (p.chunk.population or "")),
            "lead_doc": float(p.chunk.doc_id == lead.doc_id),
            "first_sentence": float(j == 0),
            "position": -float(j),
            # (the fitted scorer's further features)
            "dense": p.dense_score or 0.0,
            "subject_in_sentence": float(in_sentence),
            "subject_in_title": float(subject is not None and bool(subject.df)
                                      and subject.named_in(term_set(p.chunk.context))),
            "words": min(len(c.text.split()), 80) / 40.0,
            "guideline": float(p.chunk.doc_type == "guideline"),
        }
        return features

    def bottom_line(self, asked: Asked, cands: list[Cand], lead: Lead, subject: Subject | None,
                    chosen: Chosen) -> Cand:
        """The bottom line: the lead document's recommendation that applies (a guideline), else its best sentence,
        led by the sentence that answers the question's aspect when the recommendation does not; a second
        statement when the question spans two; the lead's sentences that add what the others leave out."""
        w = self.w
        # (an expert answer's best passage is retrieval's own pick: its sentences; a guideline: all its sections)
        from_lead = self._from_lead(cands, lead.passage)
        if subject is not None and subject.df and lead.off_topic(asked):
            # a lead on another topic that names the subject only in a weak sentence: the document whose sentence
            # on the subject is nearly as good as the best leads instead
            top = max(c.score for c in from_lead)
            if not any(_speaks_of(subject, c) and c.score >= w.rec_share * top for c in from_lead):
                naming = max((c for c in cands if _speaks_of(subject, c)), key=lambda c: c.score, default=None)
                if naming is not None and naming.score >= w.rec_share * max(c.score for c in cands):
                    from_lead = self._from_lead(cands, naming.passage)
        top = max(cands, key=lambda c: c.score)
        if lead.passage.chunk.doc_type == top.passage.chunk.doc_type == "guideline" and \
                max(c.score for c in from_lead) < w.lead_share * top.score:
            # (a follow-up's lead is retrieved for the earlier turn's subject: another guideline on it that states
            # what the new turn asks answers it — "when do we admit" after a work-up question; a page's bottom line
            # stays retrieval's pick, its best passage)
            from_lead = self._from_lead(cands, top.passage)
        # a sentence that points to a unit the document does not hold ("see recommendation 1.3.5") is not the
        # bottom line: what it refers to cannot be shown with it
        from_lead = [c for c in from_lead if not self.points_away(c)] or from_lead
        # nor is a list's item quoted without its lead-in ("hunger - dizziness or shakiness - confusion …")
        from_lead = [c for c in from_lead if not is_list_item(c.text)] or \
            [c for c in cands if not is_list_item(c.text)] or from_lead
        # nor a sentence on the case the question rules out ("Penicillin allergy: …" when "no allergy" was said)
        from_lead = [c for c in from_lead if not c.features.get("opposite")] or from_lead
        recs = [c for c in from_lead if c.is_rec]
        best_any = max(from_lead, key=lambda c: c.score)
        # a recommendation statement leads over a better sentence; a recommending sentence elsewhere (a rationale's
        # "avoid …") does not: it is weighed as any sentence
        statements = [c for c in recs if c.passage.chunk.kind == "recommendation"]
        best_rec = max(statements, key=lambda c: c.score) if statements else None
        best = best_rec if best_rec is not None and best_rec.score >= w.rec_share * best_any.score else best_any
        if subject is not None and subject.df and not subject.named_in(best.terms) and \
                lead.passage.chunk.doc_type != "guideline":
            # the bottom line of a page names the subject when a sentence nearly as good does (a guideline's section
            # on the subject need not repeat its name)
            naming = [c for c in from_lead if subject.named_in(c.terms) and c.score >= w.rec_share * best.score]
            best = max(naming, key=lambda c: c.score, default=best)
        # the question's aspect (what it asks beyond the subject: "when do we stop", "what dose"): when a sentence
        # answers it and the recommendation does not, that sentence leads and the recommendation follows
        covers = Covers(asked, lead, w)
        answers = max((c for c in from_lead if c.score >= w.rec_share * best.score and not c.meta),
                      key=lambda c: (covers(c), c.score), default=best)
        # (unless it only restates the recommendation: "Although screening … is not recommended …, several factors …")
        if answers is not best and covers(answers) >= covers(best) + w.cover_margin and \
                not (best.is_rec and _repeats(best, answers)):
            chosen.take("bottom_line", answers)
        chosen.take("bottom_line", best)
        # a second statement when the question spans two (two populations, "and when do we stop")
        second = [c for c in (recs if best.is_rec else from_lead) if c is not best
                  and c.score >= (w.second_rec if c.passage.chunk.kind == "recommendation" else w.second_other) * best.score
                  and not chosen.said_already(c)]  # (the same statement, printed twice)
        if second:
            chosen.take("bottom_line", max(second, key=lambda c: c.score))
        elif not best.is_rec:
            nxt = [c for c in cands if c.p_index == best.p_index and c.start > best.end]
            if nxt and len(best.text) < 160 and (asked.terms & nxt[0].terms) and not is_list_item(nxt[0].text):
                chosen.take("bottom_line", nxt[0])
        self._fill_bottom_line(asked, from_lead, best, chosen)
        return best

    @staticmethod
    def _from_lead(cands: list[Cand], lead: Passage) -> list[Cand]:
        """The sentences the bottom line is taken from: a guideline's, of all its sections; an expert answer's
        best passage, retrieval's own pick (all candidates when it has none)."""
        return ([c for c in cands if c.passage.chunk.doc_id == lead.chunk.doc_id] if lead.chunk.doc_type == "guideline"
                else [c for c in cands if c.passage is lead]) or cands

    def _fill_bottom_line(self, asked: Asked, from_lead: list[Cand], best: Cand, chosen: Chosen) -> None:
        """The sentences of the lead document that answer what the statements leave out of the question (an
        interval, a dose, a risk group), when there are some."""
        for _ in range(self.settings.answer.bottom_line_extra):
            said = set().union(*(c.terms for _, c in chosen.items))
            missing = {t: asked.weights.get(t, 0.0) for t in asked.terms - soft_overlap(asked.terms, said)}
            if not missing:
                break

            def adds(c: Cand) -> float:
                return math.fsum(missing[t] for t in soft_overlap(set(missing), c.terms)) / asked.total

            extra = [c for c in from_lead if not chosen.has(c) and adds(c) >= self.w.extra_min
                     and c.score >= self.w.extra_share * best.score and not c.meta]
            if not extra or not chosen.take("bottom_line", max(extra, key=lambda c: (adds(c), c.score))):
                break

    def key_points(self, cands: list[Cand], best: Cand, lead: Lead, chosen: Chosen) -> None:
        """The best remaining sentences, at most ``per_passage`` of each passage, grouped by section label."""
        per_p: dict[int, int] = {}
        for c in sorted(cands, key=lambda c: -c.score):
            if len(chosen.items) >= self.settings.answer.max_key_points + 2:
                break
            if per_p.get(c.p_index, 0) >= self.w.per_passage or chosen.has(c):
                continue
            if c.score < self.w.key_point_share * best.score:
                continue
            label = _label(c.passage)
            older = lead.older
            if c.passage.chunk.doc_id in older:
                year = older[c.passage.chunk.doc_id]
                label = f"{label} (older guidance{', ' + year if year else ''})"
            if chosen.take(label, c):
                per_p[c.p_index] = per_p.get(c.p_index, 0) + 1

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """A document's chunks (``CorpusStats.doc_chunks``), read once per answer."""
        if doc_id not in self._docs:
            self._docs[doc_id] = self.stats.doc_chunks(doc_id)
        return self._docs[doc_id]

    def points_away(self, c: Cand) -> bool:
        """A sentence whose cross-references all name units its document does not hold."""
        refs = cross_refs(c.text)
        return bool(refs) and not any(named_unit(k, n, self.doc_chunks(c.passage.chunk.doc_id)) for k, n in refs)

    @staticmethod
    def whole_statements(chosen: Chosen) -> None:
        """A short recommendation statement is one unit: quoted in part, its other sentences that say what to do are
        quoted with it, in its order ("… should be given with an ACT … to reduce transmission. G6PD testing is not
        required."; not "Literature scans conducted in 2022 … showed …")."""
        for i, (group, c) in reversed(list(enumerate(chosen.items))):
            unit = c.passage.chunk
            if unit.kind != "recommendation" or len(unit.text) > STATEMENT_CHARS:
                continue
            sents = [s for s in _sentences(c.passage, c.p_index) if not is_fragment(s.text)]
            if len(sents) > STATEMENT_SENTENCES or not any(s.start == c.start for s in sents):
                continue
            rest = [s for s in sents if s.start != c.start and INSTRUCTS.search(s.text) and is_evidence(s.text)
                    and not META_SENTENCE.search(s.text) and not chosen.said_already(s)]
            before, after = [s for s in rest if s.end <= c.start], [s for s in rest if s.start >= c.end]
            for s in before + after:
                s.score = c.score  # (the unit's grade note stays on the sentence quoted for it)
            chosen.items[i:i + 1] = [(group, s) for s in before] + [(group, c)] + [(group, s) for s in after]

    @staticmethod
    def antecedents(chosen: Chosen) -> None:
        """A sentence that points back ("This can cause pain …", "It is inherited …", "Stop taking these medicines
        if …") is quoted after the sentence of its passage that it points to ("In men, chlamydia can infect the
        epididymis …"), moved up when it is quoted later: alone it does not say what it is about."""
        for i, (group, c) in reversed(list(enumerate(chosen.items))):
            if not POINTS_BACK.search(c.text):
                continue
            text = c.passage.chunk.text
            prev = next((s for s in reversed(_sentences(c.passage, c.p_index)) if s.end <= c.start), None)
            if prev is None or text[prev.end:c.start].strip() or ANAPHORIC.match(prev.text) or \
                    is_fragment(prev.text) or not is_evidence(prev.text):
                continue  # (the sentence before is a heading or lead-in the answer cannot quote)
            later = next((j for j, (_, o) in enumerate(chosen.items) if j > i and o.text == prev.text), None)
            if later is not None:  # quoted later: it moves up, before the sentence pointing back to it
                chosen.items.pop(later)
            elif chosen.said_already(prev):
                continue  # (quoted already, before it)
            prev.score = c.score
            chosen.items.insert(i, (group, prev))

    def named_units(self, asked: Asked, chosen: Chosen) -> list[Passage]:
        """The units the chosen sentences lead to, each quoted after the sentence that leads to it (its first
        sentence, cited): the recommendation or section a cross-reference names, and, when the question asks how
        strong the recommendation is and no quoted sentence carries a grade, the graded recommendation of the bottom
        line's section. Returns their passages (for the citations)."""
        added: list[Passage] = []

        def quote(i: int, group: str, c: Cand, unit: Chunk, ref: str | None) -> None:
            if unit.chunk_id == c.passage.chunk.chunk_id or any(p.chunk.chunk_id == unit.chunk_id for p in added):
                return
            p = Passage(chunk=unit, score=c.passage.score, features={"expanded": 1.0, "named_unit": 1.0})
            first = next((s for s in _sentences(p, -1) if not is_fragment(s.text)), None)
            if first is None:
                return
            if chosen.said_already(first):  # quoted already: its note names it
                same = next(o for _, o in chosen.items if o.text == first.text or _repeats(first, o))
                same.ref = same.ref or ref
                return
            first.is_rec = unit.kind == "recommendation" or any(r[0] <= first.start < r[1] for r in unit.recs)
            first.grade, first.ref, first.score = unit.grade, ref, c.score
            chosen.items.insert(i + 1, (group, first))
            added.append(p)

        self.whole_statements(chosen)
        for i, (group, c) in reversed(list(enumerate(chosen.items))):
            for kind, num in cross_refs(c.text):
                unit = named_unit(kind, num, self.doc_chunks(c.passage.chunk.doc_id))
                if unit is not None:
                    quote(i, group, c, unit, f"{kind} {num}")
        if STRENGTH_ASKED.search(asked.question) and not any(c.is_rec and c.grade for _, c in chosen.items):
            at = next(((i, c) for i, (g, c) in enumerate(chosen.items) if g == "bottom_line"
                       and c.passage.chunk.doc_type == "guideline"), None)
            rec = (section_recommendation(at[1].passage.chunk, self.doc_chunks(at[1].passage.chunk.doc_id))
                   if at else None)
            if rec is not None:
                quote(at[0], "bottom_line", at[1], rec, None)
        return added

    @staticmethod
    def conflicts(standalone: str, cands: list[Cand], chosen: Chosen) -> None:
        """A source that advises against vs one that sounds hopeful, on the same topic, as a note (a sentence
        already in the bottom line stays there; one in the key points moves to the note)."""
        for c in _conflict(standalone, cands):
            where = next((i for i, (g, o) in enumerate(chosen.items) if o is c), None)
            if where is None:
                if not any(_near_dup(c.terms, o.terms) for _, o in chosen.items):
                    chosen.items.append(("conflicting_evidence", c))
            elif chosen.items[where][0] != "bottom_line":
                chosen.items[where] = ("conflicting_evidence", c)

    @staticmethod
    def numbered(chosen: Chosen, passages: list[Passage], standalone: str) -> dict:
        """The sentences in their order (bottom line; groups, guideline groups first, by best score; the conflict
        note last), each cited passage numbered at its first use, and the citations and follow-ups."""
        order = sorted(dict.fromkeys(g for g, _ in chosen.items), key=chosen.group_rank)
        numbering: dict[str, int] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        sentences: list[AnswerSentence] = []
        for g in order:
            for gg, c in chosen.items:
                if gg != g:
                    continue
                cid = c.passage.chunk.chunk_id
                if cid not in numbering:
                    numbering[cid] = len(numbering) + 1
                spans.setdefault(cid, []).append((c.start, c.end))
                note = grade_note(c.passage, c.grade) if c.is_rec else None
                if c.ref:  # the unit a sentence above names: which one
                    note = f"{c.ref}; {note}" if note else c.ref
                sentences.append(AnswerSentence(text=c.text, citations=[numbering[cid]], group=g, supported=True,
                                                note=note))
        by_id = {p.chunk.chunk_id: p for p in passages}
        citations = [citation_for(by_id[cid], n, spans[cid]) for cid, n in numbering.items()]
        followups = suggest_followups(passages, set(numbering), standalone)
        return {"sentences": sentences, "citations": citations, "suggested_followups": followups}


class Chosen:
    """The sentences chosen so far, with their group (``bottom_line``, a key-point label, ``conflicting_evidence``)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Cand]] = []

    def has(self, c: Cand) -> bool:
        return any(o is c for _, o in self.items)

    def said_already(self, c: Cand) -> bool:
        return any(c.text == o.text or _repeats(c, o) for _, o in self.items)

    def take(self, group: str, c: Cand) -> bool:
        if self.said_already(c):
            return False
        self.items.append((group, c))
        return True

    def group_rank(self, g: str) -> tuple:
        if g == "bottom_line":
            return (0, 0, 0)
        if g == "conflicting_evidence":
            return (3, 0, 0)
        members = [c for gg, c in self.items if gg == g]
        authority = max(1 if c.passage.chunk.doc_type == "guideline" else 0 for c in members)
        return (1, -authority, -max(c.score for c in members))


class Covers:
    """How much a sentence answers the question's aspect (what it asks beyond the lead document's subject): its
    words, or a follow-up's own words; the share of the taxonomy aspects asked that it states; the population; an
    amount; a threshold."""

    def __init__(self, asked: Asked, lead: Lead, w):
        self.asked, self.w = asked, w
        title_terms = term_set(lead.passage.chunk.title or "")  # every content word of the title
        self.aspect = {t: asked.weights.get(t, 0.0)
                       for t in set(term_set(PATIENT_DESCRIPTOR.sub(" ", asked.text))) - title_terms}
        self.thresholds = thresholds(asked.text)
        self.labels = asked_labels(asked.question)

    def __call__(self, c: Cand) -> float:
        a, w = self.asked, self.w
        # a follow-up's aspect is its own words (the rest of the search text is the earlier turn's subject);
        # a table row says what its caption says ("Oxycodone; Conversion factor: 1.5" of "… MME doses …")
        head = term_set((c.passage.chunk.heading_path or [""])[-1])
        terms = c.terms | head if c.passage.chunk.kind == "table_row" else c.terms
        said = (a.on_followup(c, head) if a.followup
                else math.fsum(self.aspect[t] for t in soft_overlap(set(self.aspect), set(terms))) / a.total)
        return (said
                + w.cover_aspect * a.aspect_share(c.text)
                + (w.cover_population if population_match(a.text, c.text + " " + (c.passage.chunk.population or "")) > 0
                   else 0.0)
                + (w.cover_quantity if a.wants_quantity and states_quantity(c.text) else 0.0)
                + (w.cover_threshold if self.thresholds and self.thresholds & thresholds(c.text) else 0.0)
                # the legend line of the numbered label asked ("category 3" → "3 = …"), weighed as a threshold
                + (w.cover_threshold if self.labels and defines_label(c.text, self.labels) else 0.0))


def _speaks_of(subject: Subject, c: Cand) -> bool:
    """Whether a sentence speaks of the subject: it names it, or (a guideline's section) its passage's title or
    headings do."""
    return subject.named_in(c.terms) or (c.passage.chunk.doc_type == "guideline"
                                         and subject.named_in(term_set(c.passage.chunk.context)))


def passing_mention(subject: Subject | None, cands: list[Cand], pool: list[Passage],
                    share: float | None = None) -> bool:
    """A named subject (a drug, a rare condition) that no title or heading of the passages weighed names, and that
    no quotable sentence names — or, with ``share``, none scoring at least that share of the best sentence: the
    documents mention it in passing (a list of symptoms, one trial of a guideline on another topic), they do not
    answer it."""
    if subject is None or not subject.df or not is_name(subject.name.split()[-1]):
        return False
    if any(subject.named_in(term_set(p.chunk.context)) for p in pool):
        return False
    naming = [c.score for c in cands if subject.named_in(c.terms)]
    if not naming:
        return True
    return share is not None and max(naming) < share * max(c.score for c in cands)


def answerability_features(wd: Weighed, confidence: float, subject: Subject | None,
                           found: Subject | None = None) -> dict[str, float]:
    """What the answerability model reads of a weighed question: retrieval's confidence and similarity, the best
    sentences' scores and what they share with the question, the subject (held, named by the best sentences, how
    much documents are about it) and the aspects asked that no passage on the subject states."""
    cands = sorted(wd.cands, key=lambda c: -c.score)
    top = cands[:3]
    best = top[0].features if top else {}
    held = subject is not None and bool(subject.df)
    ranked = [p for p in wd.passages if not p.features.get("expanded")][:3]
    named = found is not None and bool(found.df) and is_name(found.name.split()[-1])
    return {
        "confidence": confidence,
        "dense": max((p.dense_score or 0.0 for p in ranked), default=0.0),
        "best": top[0].score if top else 0.0,
        "top3": sum(c.score for c in top) / 3,
        "overlap": best.get("overlap", 0.0),
        "heading_overlap": best.get("heading_overlap", 0.0),
        "best_dense": best.get("dense", 0.0),
        "subject": float(subject is not None),
        "subject_known": float(held),
        "subject_headed": subject.headed if held else 0.0,
        "subject_in_best": float(held and any(subject.named_in(c.terms) for c in top)),
        "subject_in_pool": float(held and any(subject.named_in(c.terms) for c in cands)),
        "aspects": float(len(wd.asked.aspects)),
        "aspects_missing": float(len(wd.missing)),
        "aspect_in_best": float(any(wd.asked.states_aspect(c.text) for c in top)),
        "n_cands": min(len(cands), 60) / 60,
        # the question's subject as found (held or not): a name the index knows that the best sentences never name
        "name_found": float(named),
        "name_unsaid": float(named and not any(found.named_in(c.terms) for c in top)),
        # the question's aspect words (beyond its subject) stated by the best sentence, by any passage on the
        # subject, and the aspect-coverage model's probability (fitted on MedQuAD question → answer sections)
        **{k: wd.coverage.get(k, 0.0) for k in ("cov_best", "cov_any", "miss_share", "covered")},
    }


def _what_is_missing(wd: Weighed, subject: Subject | None, found: Subject | None) -> str:
    """What an answerability abstention says the documents lack: the subject as found when no sentence weighed
    names it, else the aspects of the taxonomy that no passage on the subject states, else the question's own
    aspect words that none states (``qa_bot.coverage``), else that they do not answer what was asked."""
    if subject is None and found is not None and found.df and not any(found.named_in(c.terms) for c in wd.cands):
        return f"None of the passages found speaks of {found.display}."
    if wd.missing:
        return f"The indexed documents {_on(subject)}do not say {' or '.join(a.phrase for a in wd.missing)}."
    if wd.unsaid:
        words = " or ".join(f"\u201c{w}\u201d" for w in wd.unsaid[:3])
        return f"The indexed documents {_on(subject)}do not mention {words}."
    return f"The indexed documents {_on(subject)}do not answer what was asked."


def _on(subject: Subject | None) -> str:
    return f"on {subject.display} " if subject is not None and subject.df else "found "


def compose(question: str, standalone: str, passages: list[Passage], settings: Settings,
            confidence: tuple[float, str] = (1.0, ""), search: str | None = None,
            subject: Subject | None = None, stats: CorpusStats | None = None) -> Answer:
    """``Composer(settings, stats).run(…)``. ``confidence``: (score, reason) from retrieval; below the calibrated
    threshold the answer abstains. ``search``: the text that was searched (shorthand spelled out). ``subject``: what
    the question is about (retrieval's ``subject``): the answer comes from passages that name it, or abstains saying
    so. ``stats``: the index's statistics (none: every term weighs the same)."""
    return Composer(settings, stats).run(question, standalone, passages, confidence, search, subject)


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
        "abstain_reason": answer.abstain_reason or (ABSTAIN_TEXT.get(settings.answer.audience, ABSTAIN_TEXT["clinician"])
                                                    if abstained else None),
        "dropped_sentences": answer.dropped_sentences + dropped, "disclaimer": settings.answer.disclaimer,
        "audience": settings.answer.audience, "timings_ms": {k: round(v, 2) for k, v in timings.items()}})
