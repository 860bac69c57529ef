"""Support check: does a passage support a sentence? Offline, fast enough to run on every answer.

``check_support(sentence, passage, context)`` compares the sentence with each *unit* of the passage (one
sentence, or two adjacent sentences, since a synthesised sentence often merges neighbours). Units are the
passage's own sentences only. The ``context`` (the title and heading path of the passage) and the passage's
non-evidence lines (reference entries, table and figure captions, the site's own text, bare table labels) are
never units: they may resolve what a sentence refers to, never support a claim on their own (a sentence built
from heading words is not supported by a passage that does not state it):

* the subject from the context: a sentence may name its subject by words that only the title or heading path
  has ("Noonan syndrome is caused by …" for a passage headed "What causes Noonan syndrome?" that says "It is
  caused by …") when the rest of the sentence is stated by the unit and the unit is not about something else
  (it opens with a pronoun, an imperative, or with words the sentence keeps); those words then neither count
  for nor against the unit's coverage. A sentence whose words come mostly from the context, or that puts
  context words in place of the unit's own subject, is not supported;

* a soft score per unit: cosine similarity of MiniLM embeddings (the engine's embedder; a pair's vector is
  the normalised sum of its sentences' vectors, so only passage sentences are encoded, once per passage)
  blended with lexical coverage (share of the sentence's content-word stems found in the unit);
* hard rules that matter in medicine, any of which vetoes a unit:
  - numbers: every number of the sentence (digits, number words, "once"/"twice", ordinals as in
    "first-line") appears in the unit, with the same unit of measure when both give one ("3 hours" vs
    "2 hours" and "3 hours" vs "3 days" fail) and no opposite comparator ("at least" vs "less than");
  - frequencies: daily / weekly / monthly / annual / biennial… of the sentence appear in the unit ("every two
    years" and "biennial" are one frequency);
  - negation: a negated claim needs a negated claim about the same words in the unit, and a claim the
    unit negates cannot be stated without negation ("not recommended" vs "recommended" fails);
  - names: drug and condition names, acronyms and capitalised names of the sentence appear in the passage,
    and the sentence does not put a name of its own where the unit has another ("antibiotic prophylaxis" for
    "vaccination", "vitamin E" for "vitamin D");
  - grades: a grade or strength of recommendation or certainty of the sentence ("grade B", "(B
    recommendation)", "strong recommendation", "moderate certainty", "Level A") is stated by the unit (by the
    sentence of a pair that states the claim, when the pair gives two); a unit that finds the evidence
    insufficient (an I statement) supports no recommendation;
  - clauses: each clause of the sentence is mostly in the unit (a claim stitched from two passages is not).

The sentence is supported when some unit passes every rule with a score at or above ``THRESHOLD``
(chosen on the dev half of ``evals/support_pairs.jsonl``; ``benchmarks/support_checker.py`` reports it, and
the per-category figures on the adversarial ``evals/support_adversarial.jsonl``).
Hand-written rules were measured against quantulum3 for quantities (see that script); they were kept because
they are as accurate on this corpus, handle number words, ranges and ordinals, and cost no dependency.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .parse.comparison import comparator_before
from .parse.injection import ADDRESSED_TO_MODEL as _INSTRUCTION
from .parse.names import names_by_ending
from .settings import Settings
# shared with the other stages (qa_bot/text.py): claim stopwords, negation, stems, instructions to a model
from .text import (CITE_MARK as _CITE, CLAIM_STOP as STOP,
                   NEGATION as _NEG, NEGATION_WORDS as _NEG_WORDS, SCOPE_BREAK as _SCOPE_BREAK, WORD_TOKEN as _WORD,
                   stem)

THRESHOLD = 0.62
CONTRADICTION_MARGIN = 0.08
W_SIM = 0.55  # weight of the embedding similarity in a unit's score; the rest is lexical coverage

# --- text helpers ------------------------------------------------------------------------------------

# passage lines that are not statements of the document: never units, only context
_REFERENCE = re.compile(r"\b(?:19|20)\d\d\s*(?:[A-Z][a-z]{2}\s*\d{0,2}\s*)?;\s*\d+\s*(?:\(\s*[\w-]+\s*\))?\s*:\s*[eE]?\d+|"
                        r"\bdoi\s*:|\bPMID\s*:?\s*\d|\b(?:available\s+(?:at|from)|accessed)\b.{0,80}(?:https?:|www\.|\d{4})",
                        re.I)
_AUTHORS = re.compile(r"^\s*(?:\[\d+\]\s*|\d+\.\s+)?[A-Z][A-Za-z'’-]+\s+[A-Z]{1,3}(?:,\s+[A-Z][A-Za-z'’-]+\s+[A-Z]{1,3})*"
                      r"(?:,?\s+et\s+al)?\.\s")  # "Smith J, Jones AB. Title …"
_CAPTION = re.compile(r"^\s*(?:[-*•]\s*)?(?:table|figure|fig\.|box|exhibit|appendix)\s*[A-Z0-9]{0,4}\s*[.:|]", re.I)
_LABEL = re.compile(r"^[^-*•\s][^\n.!?;:,\d]{0,58}$")  # a bare table header or label: "Older adults", "Rationale"

def strip_citations(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _CITE.sub(" ", text)).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def content_stems(text: str) -> list[str]:
    out = []
    for w in words(text):
        lw = w.lower()
        if lw in STOP or (len(lw) < 2 and not lw.isdigit()):
            continue
        out.append(stem(lw))
    return out


# --- numbers, units, frequencies ------------------------------------------------------------------------
_NUMWORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
             "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
             "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
             "thousand": 1000, "dozen": 12, "half": 0.5, "once": 1, "twice": 2, "thrice": 3, "single": 1,
             "double": 2, "triple": 3}
_MULT = {"once": "x", "twice": "x", "thrice": "x"}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10}
_UNITS = {
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour", "hourly": "hour",
    "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute",
    "second": "second_t", "seconds": "second_t", "sec": "second_t",
    "day": "day", "days": "day", "d": "day", "daily": "day",
    "week": "week", "weeks": "week", "wk": "week", "wks": "week", "weekly": "week",
    "month": "month", "months": "month", "mo": "month", "monthly": "month",
    "year": "year", "years": "year", "yr": "year", "yrs": "year", "annually": "year", "annual": "year",
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "g": "g", "gram": "g", "grams": "g",
    "mcg": "mcg", "µg": "mcg", "ug": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "kg": "kg", "kilogram": "kg", "kilograms": "kg", "lb": "lb", "lbs": "lb", "pounds": "lb",
    "ml": "ml", "milliliter": "ml", "milliliters": "ml", "l": "l", "liter": "l", "liters": "l", "litres": "l",
    "iu": "iu", "unit": "unit", "units": "unit", "meq": "meq", "mmol": "mmol", "mol": "mol",
    "mmhg": "mmhg", "cm": "cm", "mm": "mm", "m": "m", "inches": "in", "inch": "in", "ft": "ft", "feet": "ft",
    "%": "%", "percent": "%", "per cent": "%", "percentage": "%",
    "times": "x", "time": "x", "doses": "dose", "dose": "dose", "tablets": "tablet", "tablet": "tablet",
    "pills": "tablet", "pill": "tablet", "capsules": "tablet", "capsule": "tablet", "drops": "drop",
    "cigarettes": "cig", "packs": "pack", "pack": "pack", "pack-years": "pack-year", "pack-year": "pack-year",
    "people": "person", "persons": "person", "patients": "person", "adults": "person", "women": "person",
    "men": "person", "children": "person", "cases": "case", "deaths": "death", "beats": "beat", "bpm": "beat",
    "degrees": "degree", "°c": "degc", "°f": "degf", "cells": "cell",
}
_FREQ = [
    (re.compile(r"\b(?:once\s+)?(?:daily|a\s+day|per\s+day|each\s+day|every\s+day|/\s*day|qd)\b", re.I), "day"),
    (re.compile(r"\b(?:weekly|a\s+week|per\s+week|each\s+week|every\s+week|/\s*week)\b", re.I), "week"),
    (re.compile(r"\b(?:monthly|a\s+month|per\s+month|each\s+month|every\s+month)\b", re.I), "month"),
    (re.compile(r"\b(?:annual(?:ly)?|yearly|a\s+year|per\s+year|each\s+year|every\s+year)\b", re.I), "year"),
    (re.compile(r"\b(?:biennial(?:ly)?|every\s+(?:2|two|other)\s+years?)\b", re.I), "2year"),
    (re.compile(r"\b(?:triennial(?:ly)?|every\s+(?:3|three)\s+years?)\b", re.I), "3year"),
    (re.compile(r"\b(?:hourly|per\s+hour|an\s+hour|every\s+hour)\b", re.I), "hour"),
    (re.compile(r"\b(?:nightly|at\s+bedtime|every\s+night)\b", re.I), "night"),
]
_NUM_TOKEN = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:/\d+)?|\.\d+)(?P<pct>\s*%)?"
    r"|\b(?P<word>" + "|".join(sorted(_NUMWORDS, key=len, reverse=True)) + r")\b"
    r"|\b(?P<ord>" + "|".join(_ORDINALS) + r")\b", re.I)


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str | None
    comparator: str | None  # "gt", "lt" or None
    kind: str  # "num" or "ord"
    text: str


def _unit_after(text: str, pos: int) -> str | None:
    m = re.match(r"\s*(?:-\s*)?(°[cf]|%|per\s+cent|[a-zµ]+(?:-[a-z]+)?)", text[pos:], re.I)
    if not m:
        return None
    tok = m.group(1).lower()
    if tok in _UNITS:
        return _UNITS[tok]
    if "-" in tok:  # "3-hour", "65-year-old", "1-time"
        head = tok.split("-")[0]
        if head in _UNITS:
            return _UNITS[head]
    return None


def quantities(text: str) -> list[Quantity]:
    """Numbers in ``text`` with their unit of measure and comparator. Citation markers are ignored."""
    text = _CITE.sub(" ", text)
    found: list[tuple[int, int, Quantity]] = []
    for m in _NUM_TOKEN.finditer(text):
        if m.group("num"):
            raw = m.group("num").replace(",", "")
            if "/" in raw:
                a, b = raw.split("/")
                value = float(a) / float(b) if float(b) else float(a)
            else:
                value = float(raw)
            unit = "%" if m.group("pct") else _unit_after(text, m.end())
            kind = "num"
        elif m.group("word"):
            w = m.group("word").lower()
            if w == "single" and not _unit_after(text, m.end()):
                continue
            if w in {"double", "triple"}:
                continue
            nxt = text[m.end():m.end() + 40]
            if w == "once" and not re.match(r"\s+(?:(?:a|per|every|each)\s+\w+|daily|weekly|monthly|yearly|annually|"
                                            r"or\s+twice|in\s+(?:a|their|your|his|her)\b)", nxt, re.I):
                continue  # "once the patient is stable"
            if w == "one" and not _unit_after(text, m.end()) and not re.match(r"\s+(?:of|or|to|in)\b", nxt, re.I):
                continue  # "no one", "one should"
            value = float(_NUMWORDS[w])
            unit = _MULT.get(w) or _unit_after(text, m.end())
            kind = "num"
        else:
            w = m.group("ord").lower()
            if w == "second" and _unit_after(text, m.end()) is None and re.match(r"\s*s\b", text[m.end():]):
                continue
            value, unit, kind = float(_ORDINALS[w]), None, "ord"
        before = text[max(0, m.start() - 24):m.start()]
        comp = comparator_before(before)
        found.append((m.start(), m.end(), Quantity(value, unit, comp, kind, m.group(0))))
    # a range ("65 to 75 years", "2-3 days") shares the unit of its last number
    out: list[Quantity] = []
    for i, (a, b, q) in enumerate(found):
        if q.unit is None and q.kind == "num" and i + 1 < len(found):
            a2, _, q2 = found[i + 1]
            if re.fullmatch(r"\s*(?:to|-|–|and|or|through)\s*", text[b:a2], re.I) and q2.unit:
                q = Quantity(q.value, q2.unit, q.comparator, q.kind, q.text)
        out.append(q)
    return out


def frequencies(text: str) -> set[str]:
    return {name for rx, name in _FREQ if rx.search(text)}


def _without_shared_frequencies(sentence: str, unit: str) -> tuple[str, str]:
    """Both texts with the frequency phrases they share replaced by a word: "every two years" in the sentence
    and "biennial" in the unit state the same thing, and "two" is then no number of its own."""
    shared = frequencies(sentence) & frequencies(unit)
    for rx, name in _FREQ:
        if name in shared:
            sentence, unit = rx.sub(" frequency ", sentence), rx.sub(" frequency ", unit)
    return sentence, unit


def _number_problems(sentence: str, unit: str) -> list[str]:
    sf, uf = frequencies(sentence), frequencies(unit)
    sentence, unit = _without_shared_frequencies(sentence, unit)
    sq, uq = quantities(sentence), quantities(unit)
    problems = []
    for q in sq:
        same = [p for p in uq if p.kind == q.kind and abs(p.value - q.value) <= 1e-9 * max(1.0, abs(q.value))]
        if not same:
            problems.append(f"number {q.text.strip()!r} not in the passage")
            continue
        if q.unit and not any(p.unit in (None, q.unit) for p in same):
            problems.append(f"unit of {q.text.strip()} {q.unit} differs from the passage ({same[0].unit})")
            continue
        if q.unit and q.unit in {"x", "dose", "tablet"} and not any(p.unit == q.unit for p in same):
            problems.append(f"frequency {q.text.strip()} {q.unit} not in the passage")
            continue
        if q.comparator and all(p.comparator and p.comparator != q.comparator for p in same):
            problems.append(f"comparator of {q.text.strip()} differs from the passage")
    for v in {q.value for q in sq if q.kind == "num"}:
        ns = sum(1 for q in sq if q.kind == "num" and q.value == v)
        nu = sum(1 for p in uq if p.kind == "num" and p.value == v)
        if nu and ns > nu:
            problems.append(f"number {v:g} appears {ns} times, {nu} in the passage")
    for f in sorted(sf - uf):
        if f == "day" and "day" in {q.unit for q in uq}:
            continue
        problems.append(f"frequency '{f}' not in the passage")
    return problems


# --- negation ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NegScope:
    before: frozenset[str]  # content stems of up to 3 words before the cue, within the clause
    after: frozenset[str]  # content stems of up to 6 words after it: what is negated
    head: tuple[str, ...] = ()  # the first two content stems after the cue ("against routine screening …")

    @property
    def all(self) -> frozenset[str]:
        return self.before | self.after


def negation_scopes(text: str) -> list[NegScope]:
    """One scope per negation cue ("not", "no", "never", "recommends against", "n't", "insufficient"…)."""
    text = _CITE.sub(" ", text)
    neg = {stem(w) for w in _NEG_WORDS} | {"n't"}
    scopes = []
    for m in _NEG.finditer(text):
        after = text[m.end():]
        brk = _SCOPE_BREAK.search(after)
        after = after[:brk.start()] if brk else after
        before = text[:m.start()]
        brk_b = list(_SCOPE_BREAK.finditer(before))
        before = before[brk_b[-1].end():] if brk_b else before
        cue = set(content_stems(m.group(0))) - neg  # "recommends against" → recommend, against
        b = set(content_stems(" ".join(words(before)[-3:]))) - neg
        a = (set(content_stems(" ".join(words(after)[:6]))) | cue) - neg
        head = tuple(w for w in content_stems(" ".join(words(after)[:6])) if w not in neg)[:2]
        scopes.append(NegScope(frozenset(b), frozenset(a), head))
    return scopes


def _negation_problems(sentence: str, unit: str) -> list[str]:
    s_scopes = negation_scopes(sentence)
    u_scopes: list[NegScope] = []
    for line in re.split(r"\n+|(?<=[.!?])\s+(?=[A-Z(])", unit):
        # a negation the unit repeats on another line (a label, then its sentence) is one claim
        kept = list(u_scopes)
        u_scopes += [sc for sc in negation_scopes(line) if not any(
            len(sc.after & u.after) >= 0.75 * min(len(sc.after), len(u.after)) > 0 for u in kept)]
    if len(s_scopes) > len(u_scopes):
        return ["negation: the sentence has a negation the passage does not"]
    for sc in s_scopes:
        if sc.all and not any(len(sc.all & uc.all) >= max(1, len(sc.all) // 2) for uc in u_scopes):
            return ["negation: the sentence negates what the passage does not"]
    # every claim the unit negates and the sentence repeats needs its own negation in the sentence
    s_stems = set(content_stems(sentence))
    need = []
    for k, uc in enumerate(u_scopes):
        key = {w for w in uc.after if not w.isdigit()}
        hit = key & s_stems
        # the sentence repeats most of what is negated, or its first words ("against routine screening for
        # abdominal aortic aneurysm" restated as "routine screening for AAA")
        if key and (len(hit) >= max(1, (len(key) + 1) // 2) or (len(uc.head) == 2 and set(uc.head) <= s_stems)):
            need.append((k, hit))
    if not need:
        return []
    cand = sorted(((len(sc.after & u_scopes[k].after), len(sc.all & u_scopes[k].all), k, j)
                   for k, hit in need for j, sc in enumerate(s_scopes) if sc.after & u_scopes[k].after & hit),
                  reverse=True)
    done_u: set[int] = set()
    used_s: set[int] = set()
    for _, _, k, j in cand:
        if k not in done_u and j not in used_s:
            done_u.add(k)
            used_s.add(j)
    if len(done_u) < len(need):
        return ["negation: the passage negates what the sentence affirms"]
    return []


# --- names ---------------------------------------------------------------------------------------------
_NOT_NAMES = set("""medicine medicines determine determines determined routine routinely examine define online decline
combine baseline guideline guidelines machine engine genuine feminine masculine discipline outline underline imagine
undermine spine saline quarantine magazine marine intestine intestines urine uterine pristine doctrine endocrine
amine examine midline timeline hotline pipeline helpline sunshine shine nine fine mine line lines wine combine
diagnose diagnosis prognosis dose doses purpose response responses whose""".split())
_NAMES = set("""aspirin warfarin heparin insulin metformin morphine codeine penicillin ibuprofen acetaminophen
paracetamol naloxone nicotine caffeine alcohol tobacco steroid steroids opioid opioids antibiotic antibiotics
chemotherapy radiotherapy radiation surgery transplant dialysis vaccine vaccination immunization stroke asthma
cancer diabetes hypertension hypotension obesity depression anxiety dementia epilepsy seizure seizures migraine
arthritis gout lupus psoriasis eczema acne hiv aids hepatitis influenza flu measles mumps rubella tetanus
pertussis polio malaria tuberculosis syphilis gonorrhea chlamydia herpes covid pneumonia sepsis anemia anaemia
leukemia lymphoma melanoma glaucoma cataract cataracts osteoporosis fracture fractures scoliosis autism adhd
schizophrenia bipolar pregnancy pregnant infant infants newborn newborns children adolescents adults women men
elderly smokers smoking ultrasonography ultrasound mammography colonoscopy sigmoidoscopy ct mri x-ray biopsy
statin statins aneurysm thrombosis embolism infarction angina hemorrhage hematoma edema fever cough
zinc iron calcium magnesium potassium sodium iodine fluoride folate selenium copper estrogen estrogens
testosterone progesterone progestin progestins hormone hormones placebo""".split())
_CAP_COMMON = set("""the a an this these those it in on at for to of and or but if when while with by as
however although because since after before during early most many some all no not there their they we you
patients people clinicians physicians doctors""".split())


@lru_cache(maxsize=65536)
def _word_pieces(word: str, model: str) -> int:
    """How many word pieces the embedding model's tokenizer needs: 3+ marks a rare, technical word
    (clopidogrel → cl ##op ##ido ##gre ##l), which is how drug and condition names look to it."""
    try:
        from .chunk import token_counter

        return len(token_counter(model).tok.encode(word, add_special_tokens=False).ids)
    except Exception:  # noqa: BLE001 - a model directory without tokenizer.json: no rare-word rule
        return 1


def key_terms(sentence: str, model: str = "all-MiniLM-L6-v2") -> list[str]:
    """Drug and condition names, acronyms and capitalised names that the passage must contain."""
    text = _CITE.sub(" ", sentence)
    terms = []
    toks = list(re.finditer(r"[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z0-9]+)*", text))
    for i, m in enumerate(toks):
        w = m.group(0)
        lw = w.lower()
        if lw in STOP or lw in _NOT_NAMES or (len(lw) < 2):
            continue
        first = i == 0 or re.search(r"[.!?:]\s*$", text[:m.start()]) is not None
        acronym = len(w) >= 2 and sum(c.isupper() for c in w) >= 2
        cap = w[0].isupper() and not first and lw not in _CAP_COMMON and not (len(w) == 2 and lw in STOP)
        rare = len(lw) >= 6 and lw.isalpha() and _word_pieces(lw, model) >= 3
        part_name = "-" in lw and any(p in _NAMES for p in lw.split("-"))  # "iron-sulfur", "aspirin-induced"
        if acronym or cap or rare or part_name or lw in _NAMES or names_by_ending(lw):
            terms.append(w)
    return terms


_CONTRAST = [{"men", "man", "women", "woman"}, {"male", "males", "female", "females"}, {"boys", "girls"},
             {"older", "younger"}, {"adults", "children", "adolescents", "infants"}, {"premenopausal",
             "postmenopausal"}, {"increase", "increases", "increased", "decrease", "decreases", "decreased"},
             {"higher", "lower"}, {"more", "less", "fewer"}, {"benefit", "harm"}, {"benefits", "harms"},
             {"before", "after"}, {"acute", "chronic"}, {"benign", "malignant"}, {"dominant", "recessive"},
             {"positive", "negative"}, {"left", "right"}, {"upper", "lower"}]
_CONTRAST_NORM = {"man": "men", "woman": "women", "male": "males", "female": "females", "increases": "increase",
                  "increased": "increase", "decreases": "decrease", "decreased": "decrease", "benefits": "benefit",
                  "harms": "harm", "fewer": "less", "highly": "more", "greatly": "more", "slightly": "less"}
_CONTRAST = [{_CONTRAST_NORM.get(w, w) for w in g} for g in _CONTRAST]
_CONTRAST_WORDS = {w: g for g in _CONTRAST for w in g}


def _contrast_problems(sentence: str, unit: str) -> list[str]:
    """Words with an opposite (men/women, older/younger…) must not appear more often than in the unit."""
    sw = [_CONTRAST_NORM.get(w.lower(), w.lower()) for w in words(_CITE.sub(" ", sentence))]
    uw = [_CONTRAST_NORM.get(w.lower(), w.lower()) for w in words(unit)]
    problems = []
    for w in sorted({w for w in sw if w in _CONTRAST_WORDS}):
        if sw.count(w) > uw.count(w) and any(o in uw for o in _CONTRAST_WORDS[w] if o != w):
            problems.append(f"{w!r} where the passage has {sorted(o for o in _CONTRAST_WORDS[w] if o in uw)}")
    return problems


def _initials_match(acronym: str, passage_words: list[str]) -> bool:
    a = re.sub(r"[^a-z]", "", acronym.lower())
    if len(a) < 2:
        return False
    initials = "".join(w[0].lower() for w in passage_words if w)
    sig = "".join(w[0].lower() for w in passage_words if w and w.lower() not in STOP)
    return a in initials or a in sig


def _name_problems(sentence: str, passage: str, p_stems: set[str], p_words: list[str],
                   model: str = "all-MiniLM-L6-v2") -> list[str]:
    low = passage.lower()

    def present(w: str) -> bool:
        return stem(w) in p_stems or re.search(r"(?<![a-z0-9])" + re.escape(w) + r"(?![a-z0-9])", low) is not None

    problems = []
    for t in key_terms(sentence, model):
        lt = t.lower()
        if present(lt):
            continue
        parts = [p for p in re.split(r"[-'’]", lt) if p]
        if len(parts) > 1 and all(present(p) for p in parts):
            continue
        if t.isupper() and _initials_match(t, p_words):
            continue
        problems.append(f"name {t!r} not in the passage")
    return problems


_DESIGNATED = re.compile(r"\b(vitamin|hepatitis|factor|class|stage|phase|group|serotype|schedule|type)s?"
                         r"\s+([A-Z]{1,2}\d{0,2}|[IVX]{1,4}[ab]?|\d{1,2}[a-z]?)\b", re.I)


def designated(text: str) -> set[tuple[str, str]]:
    """Names completed by a letter or numeral: ("vitamin", "D"), ("hepatitis", "B"), ("stage", "IV")."""
    return {(m.group(1).lower(), m.group(2).upper()) for m in _DESIGNATED.finditer(_CITE.sub(" ", text))}


def _present(term: str, stems: set[str], low: str) -> bool:
    lt = term.lower()
    if stem(lt) in stems or re.search(r"(?<![a-z0-9])" + re.escape(lt) + r"(?![a-z0-9])", low):
        return True
    parts = [p for p in re.split(r"[-'’]", lt) if p]
    return len(parts) > 1 and all(stem(p) in stems or p in low for p in parts)


def _substitution_problems(sentence: str, s_terms: list[str], unit: str, unit_terms: list[str],
                           unit_stems: set[str]) -> list[str]:
    """A name of the sentence that the unit lacks, where the unit names something the sentence lacks
    ("pneumococcal antibiotic prophylaxis" for "pneumococcal vaccination"; "vitamin E" for "vitamin D")."""
    s_low, u_low = sentence.lower(), unit.lower()
    s_stems = set(content_stems(sentence))
    extra = [t for t in s_terms if not _present(t, unit_stems, u_low)]
    lost = [t for t in unit_terms if not _present(t, s_stems, s_low) and not re.search(  # who says it may go
        rf"\b{re.escape(t)}\b\s+(?:\w+\s+)?(?:recommend|conclude|found|find|suggest|state|advise|note|report)", unit)]
    problems = []
    if extra and lost:
        problems.append(f"name {extra[0]!r} where the passage sentence has {lost[0]!r}")
    sd, ud = designated(sentence), designated(unit)
    for head, val in sorted(sd - ud):
        if any(h == head for h, _ in ud):
            problems.append(f"{head} {val} where the passage sentence has "
                            f"{', '.join(f'{h} {v}' for h, v in sorted(ud) if h == head)}")
    return problems


_CLAUSE = re.compile(r",\s+(?:and|but|while|whereas|although|yet)\s+|;\s+|\s+whereas\s+")


def _clause_problems(sentence: str, unit_stems: set[str], skip: set[str]) -> list[str]:
    """Each clause of the sentence (with three or more content words) is mostly in the unit: a claim
    stitched from two passages under one citation is not supported by either."""
    for clause in _CLAUSE.split(sentence):
        st = set(content_stems(clause)) - skip
        if len(st) >= 3 and len(st & unit_stems) * 2 < len(st):
            return [f"the clause {clause.strip()[:60]!r} is not in the passage"]
    return []


# --- grades ---------------------------------------------------------------------------------------------
_GRADE_RULES = [  # (system, pattern whose group 1 is the value)
    ("grade", re.compile(r"\b[Gg]rade\s*:?\s*([A-D]|I)\b")),
    ("grade", re.compile(r"\b([A-D]|I)\s+(?:recommendations?|statements?)\b")),
    ("grade", re.compile(r"\b[Gg]rade\s+([A-D]|I)\s+recommendations?\b")),
    ("bracket", re.compile(r"\[\s*([A-D])\s*\]")),
    ("level", re.compile(r"\b(?:[Ll]evel|LOE|[Qq]uality)\s*:?\s*([A-C])\b")),
    ("class", re.compile(r"\b[Cc]lass\s+(I{1,3}[ab]?|IV)\b")),
    ("strength", re.compile(r"\b(strong|weak|conditional)(?:ly)?\s+(?:recommend\w*|for\b|against\b|in\s+favou?r)",
                            re.I)),
    ("strength", re.compile(r"\brecommend\w*\s+(?:\w+\s+)?(strong|weak|conditional)(?:ly)?\b", re.I)),
    ("strength", re.compile(r"\b(strong|weak|conditional)\s+(?:\(|-)?\s*(?:evidence|recommendation)", re.I)),
    ("certainty", re.compile(r"\b(high|moderate|low|very\s+low|insufficient)[\s-]+(?:certainty|quality|strength)\b",
                             re.I)),
    ("certainty", re.compile(r"\b(?:certainty|quality\s+of\s+(?:the\s+)?evidence)\s+(?:is|was|of)\s+(high|moderate|low|"
                             r"very\s+low)\b", re.I)),
]


# every rule above needs one of these words (or "["): a sentence without any states no grade (one search instead
# of eleven; most sentences have none)
_GRADE_WORDS = re.compile(r"grade|recommend|statement|\[|level|loe|quality|class|strong|weak|conditional|certainty|"
                          r"strength", re.I)


@lru_cache(maxsize=50_000)
def grades(text: str) -> frozenset[tuple[str, str]]:
    """Grades and strengths of recommendation or evidence that ``text`` states: {("grade", "B"),
    ("strength", "strong"), ("certainty", "moderate"), …}. Cached (each sentence of a passage is checked
    for every answer that quotes or weighs it)."""
    if not _GRADE_WORDS.search(text):
        return frozenset()
    text = _CITE.sub(" ", text)
    out = set()
    for system, rx in _GRADE_RULES:
        for m in rx.finditer(text):
            out.add((system, re.sub(r"\s+", " ", m.group(1)).lower() if system in {"strength", "certainty"}
                     else m.group(1)))
    return frozenset(out)


_GRADE_ABSENT = "the passage sentence states no grade"
_INSUFFICIENT = re.compile(r"\bevidence\s+(?:is|was|remains)\s+insufficient\s+(?:to|for)\b|\binsufficient\s+evidence\s+"
                           r"(?:to|for)\b", re.I)
_RECOMMENDS = re.compile(r"\brecommend(?:s|ed)?\b|\bshould\s+(?:be\s+)?(?:offer|screen|use|give|receive|start)", re.I)


def _grade_problems(sentence: str, unit: str, parts: Sequence[str] = (), s_stems: set[str] | None = None) -> list[str]:
    """Every grade of the sentence is stated by the unit; where the unit's two sentences give different values
    of one grading system, by the sentence that states most of the claim."""
    ug = grades(unit)
    if (("grade", "I") in ug or _INSUFFICIENT.search(unit)) and _RECOMMENDS.search(sentence) \
            and not negation_scopes(sentence):
        return ["the passage finds the evidence insufficient (I statement); the sentence states a recommendation"]
    sg = grades(sentence)
    if not sg:
        return []
    systems = {sy for sy, _ in ug}
    problems = [f"{system} {value!r} is not what the passage states" if system in systems
                else f"{_GRADE_ABSENT}: {system} {value!r}" for system, value in sorted(sg - ug)]
    if len(parts) == 2 and not problems:
        s_stems = s_stems or set(content_stems(sentence))
        main = max(parts, key=lambda p: len(s_stems & set(content_stems(p))))
        mg = grades(main)
        for system, value in sorted(sg):
            if len({v for sy, v in ug if sy == system}) > 1 and (system, value) not in mg:
                problems.append(f"{system} {value!r}: the passage sentence that states the claim says "
                                f"{sorted(v for sy, v in mg if sy == system) or 'none'}")
    return problems


# --- what is evidence, and what may only resolve a sentence's subject -------------------------------------
@lru_cache(maxsize=50_000)
def is_evidence(text: str) -> bool:
    """Whether a sentence of a passage states something of the document: not a reference entry, a table or
    figure caption, the site's own text (``qa_bot.webpage.is_chrome``) or a bare label line."""
    from .webpage import is_chrome

    t = text.strip()
    if not t:
        return False
    if _REFERENCE.search(t) or _AUTHORS.match(t) or _CAPTION.match(t):
        return False
    if grades(t):  # "( B recommendation )" on its own line grades the sentence before it
        return True
    if (_LABEL.match(t) and len(t.split()) <= 5) or ("\n" not in t and " > " in t and _heading_line(t)):
        return False
    # the site's widgets and badges; a full sentence that mentions "sign up" or "subscribe" is still a statement
    return not ("|" not in t and len(t.split()) <= 12 and is_chrome(t))


def _aside_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the lines of ``text`` that are reference entries (a journal citation, DOI, PMID or author list)
    or captions ("Table 2. …"): each of their sentences is context, not evidence."""
    out, pos = [], 0
    for line in text.split("\n"):
        if (_AUTHORS.match(line) and _REFERENCE.search(line)) or (_CAPTION.match(line) and len(line.split()) <= 40):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _heading_line(line: str) -> bool:
    """A title or heading path on a line of its own ("Stem Cell Therapy > Evidence-Based Recommendations")."""
    t = line.strip()
    if not t or re.search(r"[.!?;:,]$", t) or len(t.split()) > 25:
        return False
    if " > " in t:
        return True
    if ":" in t or re.match(r"[-*•\d]", t):  # "Grade: B", "- Population: …", list items
        return False
    long = [w for w in t.split() if len(w) >= 4 and w[0].isalpha()]
    return len(t.split()) <= 12 and bool(long) and sum(w[0].isupper() for w in long) >= 0.6 * len(long)


def _peel(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """A sentence span with its leading and trailing heading lines as spans of their own (a heading glued to
    the first sentence is not part of it)."""
    out: list[tuple[int, int]] = []
    tail: list[tuple[int, int]] = []
    while "\n" in text[a:b].strip():
        nl = text.index("\n", a + len(text[a:b]) - len(text[a:b].lstrip()))
        if not _heading_line(text[a:nl]):
            break
        out.append((a, nl))
        a = nl + 1
    while "\n" in text[a:b].strip():
        nl = text.rindex("\n", a, a + len(text[a:b].rstrip()))
        if not _heading_line(text[nl + 1:b]):
            break
        tail.insert(0, (nl + 1, b))
        b = nl
    return out + [(a, b)] + tail


_OPEN_START = re.compile(
    r"^\W*(?:it|its|this|these|they|them|their|that|those|such|he|she|his|her|both|either|neither|each|all|"
    r"the\s+(?:condition|disorder|disease|syndrome|drug|medication|medicine|test|procedure|infection|virus|tumou?r|"
    r"cancer|treatment|therapy|vaccine|screening|intervention)s?|"
    r"(?:provide|initiate|progress|perform|implement|include|assess|screen|consider|use|avoid|give|offer|administer|"
    r"monitor|start|begin|emphasi[sz]e|focus|refer|obtain|evaluate|encourage|counsel|discuss|treat|prescribe|do|"
    r"ensure|maintain|continue|stop|discontinue|repeat|measure|check|test|limit|reduce|increase|add|apply|"
    r"recommend|educate|identify|document|review|ask|advise|inform|follow|seek|take|keep|try|see)\b)", re.I)


def _same_stem(a: str, b: str) -> bool:
    return a == b or (len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5])


def _unit_is_open(unit: str, s_stems: set[str]) -> bool:
    """Whether a unit leaves its subject to the context (a pronoun, a generic "the condition", an imperative)
    or is about what the sentence keeps (its first content words are in the sentence)."""
    text = _CITE.sub(" ", unit)
    if _OPEN_START.match(text):
        return True
    lead = content_stems(" ".join(words(text)[:4]))[:2]
    return bool(lead) and all(any(_same_stem(w, x) for x in s_stems) for w in lead)


# words of any heading ("Treatment Recommendations", "Clinical Considerations"): not a subject of their own, so a
# sentence using them is judged as if the context were not there (they count as words the unit may lack)
_HEADING_VOCABULARY = {stem(w) for w in """recommendation recommendations recommended recommend treatment treatments
management evidence based guideline guidelines summary clinical considerations consideration patient patients
population option options approach approaches intervention interventions assessment rationale background overview
care practice strength quality grade level benefit benefits harm harms statement update discussion introduction
methods research gaps major other additional general specific key important priority""".split()}


@lru_cache(maxsize=4096)
def _context_info(context: str) -> tuple[frozenset[str], str]:
    return frozenset(content_stems(_CITE.sub(" ", context))), context.lower()


# --- the checker ---------------------------------------------------------------------------------------
@dataclass
class SupportResult:
    supported: bool
    score: float
    reasons: list[str] = field(default_factory=list)
    span: tuple[int, int] | None = None  # the best-supporting passage unit, offsets in the passage
    similarity: float = 0.0
    coverage: float = 0.0


@dataclass
class _PassageInfo:
    spans: list[tuple[int, int]]  # the passage's evidence sentences (units of one sentence)
    unit_spans: list[tuple[int, int]]  # the sentences, then each two adjacent ones
    unit_texts: list[str]
    unit_stems: list[set[str]]
    stems: set[str]  # of the evidence sentences
    words: list[str]
    text: str  # the evidence sentences, for the names rule
    aside: str  # the passage's other lines (references, captions, site text, labels): context, not evidence
    parts: list[tuple[int, ...]] = field(default_factory=list)  # the sentence(s) of each unit, as indices of spans
    vectors: np.ndarray | None = None  # unit vectors
    unit_terms: dict[int, list[str]] | None = None  # key terms of the units checked so far


class SupportChecker:
    """Holds the embedder and caches of passage and sentence vectors (bounded)."""

    def __init__(self, settings: Settings | None = None, max_cache: int = 512):
        self.settings = settings or Settings()
        self._passages: OrderedDict[str, _PassageInfo] = OrderedDict()
        self._sentences: OrderedDict[str, np.ndarray] = OrderedDict()
        self.max_cache = max_cache
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        from .embed import get_embedder

        return get_embedder(self.settings.embedding_model, self.settings.torch_threads).encode(
            list(texts), self.settings.embedding_batch_size)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()

    def _passage_info(self, passage: str) -> _PassageInfo:
        from .text import split_sentences

        every = [x for a, b in (split_sentences(passage) or [(0, len(passage))]) for x in _peel(passage, a, b)]
        refs = _aside_lines(passage)  # every sentence of a reference entry or a caption line
        keep = [is_evidence(passage[a:b]) and not any(x <= a and b <= y for x, y in refs) for a, b in every]
        spans = [sp for sp, k in zip(every, keep) if k]
        index = {sp: n for n, sp in enumerate(spans)}
        # two sentences make a unit only when nothing that is not evidence stands between them
        adjacent = [j for j in range(len(every) - 1) if keep[j] and keep[j + 1]]
        pairs = [(every[j][0], every[j + 1][1]) for j in adjacent]
        parts = [(n,) for n in range(len(spans))] + [(index[every[j]], index[every[j + 1]]) for j in adjacent]
        aside = "\n".join(passage[a:b] for a, b in every if (a, b) not in set(spans))
        unit_spans = list(spans) + pairs
        unit_texts = [passage[a:b] for a, b in unit_spans]
        clean = strip_citations(" ".join(passage[a:b] for a, b in spans))
        return _PassageInfo(spans, unit_spans, unit_texts, [set(content_stems(t)) for t in unit_texts],
                            set(content_stems(clean)), words(clean), clean, aside, parts)

    def prepare(self, pairs: Sequence[tuple[str, ...]]) -> None:
        """Read every passage not cached yet, then encode, in one batch, what the pairs that are no word-for-word
        quote need: their passages' sentences and their sentences. A pair is (sentence, passage) or
        (sentence, passage, context). A quote needs no vector (``check`` accepts it before any is used)."""
        with self._lock:
            infos = {}
            for _, p, *_ in pairs:
                k = self._key(p)
                if k in self._passages:
                    self._passages.move_to_end(k)
                    infos[k] = self._passages[k]
                elif k not in infos:
                    infos[k] = self._passages[k] = self._passage_info(p)
            need_p: dict[str, _PassageInfo] = {}
            need_s: dict[str, str] = {}
            for sentence, p, *_ in pairs:
                st = strip_citations(sentence)
                info = infos[self._key(p)]
                if not st or not info.spans or self._quote(st, p, info) is not None:
                    continue
                if info.vectors is None:
                    need_p[self._key(p)] = info
                if self._key(st) not in self._sentences:
                    need_s.setdefault(self._key(st), st)
            self._encode_new(need_p, need_s)
            while len(self._passages) > self.max_cache:
                self._passages.popitem(last=False)
            while len(self._sentences) > 4 * self.max_cache:
                self._sentences.popitem(last=False)

    def _encode_new(self, passages: dict[str, _PassageInfo], sentences: dict[str, str]) -> None:
        """Unit vectors of ``passages`` (each sentence, each two adjacent ones) and ``sentences``' vectors, in one
        batch."""
        texts: list[str] = []
        for info in passages.values():
            texts.extend(_CITE.sub(" ", (info.unit_texts[i])) for i in range(len(info.spans)))
        texts.extend(sentences.values())
        if not texts:
            return
        vecs = self._encode(texts)
        pos = 0
        for info in passages.values():
            n = len(info.spans)
            sv = vecs[pos:pos + n].reshape(-1, vecs.shape[1])
            pos += n
            two = [p for p in info.parts if len(p) == 2]
            pair = (sv[[a for a, _ in two]] + sv[[b for _, b in two]] if two
                    else np.zeros((0, vecs.shape[1]), np.float32))
            if len(pair):
                pair = pair / np.maximum(np.linalg.norm(pair, axis=1, keepdims=True), 1e-9)
            info.vectors = np.concatenate([sv, pair]).astype(np.float32)
        for k in sentences:
            self._sentences[k] = vecs[pos]
            pos += 1

    @staticmethod
    def _quote(s: str, passage: str, info: _PassageInfo) -> tuple[int, int] | None:
        """Where the passage states ``s`` word for word within one unit, outside text addressed to a model."""
        quoted = _verbatim_span(s, passage)
        if (quoted is not None and not _INSTRUCTION.search(passage[quoted[0]:quoted[1]])
                and any(a <= quoted[0] and quoted[1] <= b for a, b in info.unit_spans)):
            return quoted
        return None

    def check(self, sentence: str, passage: str, context: str | None = None) -> SupportResult:
        """Whether ``passage`` supports ``sentence``. ``context`` (the passage's title and heading path) may
        name the sentence's subject, never support it (see the module docstring)."""
        s = strip_citations(sentence)
        if not s or not re.search(r"[A-Za-z]", s):
            return SupportResult(False, 0.0, ["empty sentence"])
        if not passage or not passage.strip():
            return SupportResult(False, 0.0, ["empty passage"])
        if self._key(passage) not in self._passages:
            self.prepare([(sentence, passage)])
        info = self._passages[self._key(passage)]
        if not info.spans:
            return SupportResult(False, 0.0, ["the passage has no statement that can be evidence"])
        quoted = self._quote(s, passage, info)
        if quoted is not None:
            # a sentence the passage states word for word is supported by it (the extractive composer's case)
            return SupportResult(True, 1.0, [], quoted, 1.0, 1.0)
        if info.vectors is None or self._key(s) not in self._sentences:
            self.prepare([(sentence, passage)])
        svec = self._sentences[self._key(s)]
        sims = info.vectors @ svec
        s_stems = content_stems(s)
        s_set = set(s_stems) or {""}
        model = self.settings.embedding_model
        name_problems = _name_problems(s, info.text, info.stems, info.words, model)
        s_terms = key_terms(s, model)
        s_grades = grades(s)
        # words that only the context (title, heading path, the passage's non-evidence lines) has
        ctx_stems, ctx_low = _context_info(f"{context or ''}\n{info.aside}")
        ctx_only = (s_set & ctx_stems) - info.stems - _HEADING_VOCABULARY
        ctx_names = [p for p in name_problems if p.split("'")[1].lower() in ctx_low]
        ctx_veto: list[str] = []
        if ctx_only and (len(ctx_only) * 2 > len(s_set) or len(s_set - ctx_only) < 2):
            ctx_veto = [f"the sentence's words come from the title, headings or non-evidence lines "
                        f"({', '.join(sorted(ctx_only))}), not from the passage's sentences"]
        best: SupportResult | None = None
        best_fail: SupportResult | None = None
        silent: SupportResult | None = None
        order = np.argsort(-sims)
        n_single = len(info.spans)
        covs = [len(s_set & st) / len(s_set) for st in info.unit_stems]
        for i in order[: max(6, len(order) // 2)]:
            if _INSTRUCTION.search(info.unit_texts[i]):
                continue
            cov = covs[i]
            if i >= n_single and cov < max(covs[j] for j in info.parts[i]) + 0.1 and not (
                    s_grades and s_grades <= grades(info.unit_texts[i])
                    and not s_grades <= grades(info.unit_texts[max(info.parts[i], key=lambda j: covs[j])])):
                continue  # a pair of sentences only when the sentence draws on both (words, or its grade)
            unit = info.unit_texts[i]
            reasons = list(ctx_veto)
            names = name_problems
            if ctx_only and not ctx_veto:
                if _unit_is_open(unit, s_set):  # the context names the subject the unit leaves open
                    rest = s_set - ctx_only
                    cov = len(rest & info.unit_stems[i]) / len(rest)
                    names = [p for p in name_problems if p not in ctx_names]
                else:
                    reasons.append(f"words of the title, headings or non-evidence lines ({', '.join(sorted(ctx_only))})"
                                   " in place of what the passage sentence is about")
            score = W_SIM * float(sims[i]) + (1 - W_SIM) * cov
            reasons += (names + _number_problems(s, unit) + _negation_problems(s, unit)
                        + _contrast_problems(s, unit) + _grade_problems(s, unit, self._parts(info, i), s_set)
                        + _substitution_problems(s, s_terms, unit, self._unit_terms(info, i), info.unit_stems[i])
                        + _clause_problems(s, info.unit_stems[i], ctx_only))
            res = SupportResult(not reasons and score >= THRESHOLD, round(score, 4), reasons, info.unit_spans[i],
                                round(float(sims[i]), 4), round(cov, 4))
            if not reasons:
                if best is None or score > best.score:
                    best = res
            elif all(r.startswith(_GRADE_ABSENT) for r in reasons):  # silent on the grade: no contradiction
                if silent is None or score > silent.score:
                    silent = res
            elif best_fail is None or score > best_fail.score:
                best_fail = res
        best_fail = best_fail or silent
        # the closest unit contradicting the sentence outweighs a weaker unit that merely fails to contradict it
        if best is None and best_fail is None:
            return SupportResult(False, 0.0, ["the passage text is addressed to a model, not evidence"])
        if best is not None and best_fail is not None and best_fail.score > best.score + CONTRADICTION_MARGIN:
            best = None
        if best is not None and (best.supported or best_fail is None or best.score >= best_fail.score):
            if not best.supported:
                best.reasons = [f"score {best.score:.2f} below {THRESHOLD:.2f} (similarity {best.similarity:.2f}, "
                                f"coverage {best.coverage:.2f})"]
            return best
        assert best_fail is not None
        best_fail.supported = False
        return best_fail

    @staticmethod
    def _parts(info: _PassageInfo, i: int) -> list[str]:
        """The one or two sentences of unit ``i``."""
        return [info.unit_texts[j] for j in info.parts[i]]

    def _unit_terms(self, info: _PassageInfo, i: int) -> list[str]:
        if info.unit_terms is None:
            info.unit_terms = {}
        if i not in info.unit_terms:
            info.unit_terms[i] = key_terms(info.unit_texts[i], self.settings.embedding_model)
        return info.unit_terms[i]

    def check_many(self, pairs: Sequence[tuple[str, ...]]) -> list[SupportResult]:
        """``check`` over (sentence, passage) or (sentence, passage, context) pairs, encoded in one batch."""
        self.prepare(pairs)
        return [self.check(*pair) for pair in pairs]


def _verbatim_span(sentence: str, passage: str) -> tuple[int, int] | None:
    """Where ``sentence`` occurs in ``passage`` word for word (whitespace aside), or None."""
    words = sentence.split()
    if len(words) < 3:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), passage)
    return (m.start(), m.end()) if m else None


_CHECKERS: dict[tuple[str, int], SupportChecker] = {}


def get_checker(settings: Settings | None = None) -> SupportChecker:
    settings = settings or Settings()
    key = (settings.embedding_model, settings.torch_threads)
    if key not in _CHECKERS:
        _CHECKERS[key] = SupportChecker(settings)
    return _CHECKERS[key]


def check_support(sentence: str, passage: str, settings: Settings | None = None,
                  context: str | None = None) -> SupportResult:
    """Whether ``passage`` supports ``sentence`` (see the module docstring for the rules); ``context``, the
    passage's title and heading path, may name the sentence's subject, never support it."""
    return get_checker(settings).check(sentence, passage, context)


def check_many(pairs: Sequence[tuple[str, ...]], settings: Settings | None = None) -> list[SupportResult]:
    """``check_support`` over many (sentence, passage[, context]) pairs, encoding everything new in one batch."""
    return get_checker(settings).check_many(pairs)
