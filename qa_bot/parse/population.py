"""Ages and populations: "62M", "46yo", "50-year-old", "aged 50", "aged 45 to 49 years", "65 years or older",
"younger than 5", women / men.

One vocabulary of age marks (``YEARS_OLD``: "yo", "y/o", "y.o.", "-year-old", "yrs old"…) read four ways: the ages
a question gives (``question_ages``), the age ranges a text states (``age_ranges``), the patient's description in a
clinician's shorthand ("62M" → "62-year-old man", ``AGE_SEX``), and the patient's description to set aside when
asking what the question is about (``PATIENT_DESCRIPTOR``). ``population_match`` scores a text's population
against the question's.
"""

from __future__ import annotations

import re
from functools import lru_cache

# the marks of an age in years after its number ("46yo", "46 y/o", "46 y.o.", "46-year-old", "46 yrs old")
YEARS_OLD = r"(?:yo|y/o|y\.o\.|-?(?:years?|yrs?)[- ]?old|year-old)"

AGE = re.compile(rf"\b(\d{{1,3}})\s*{YEARS_OLD}(?!\w)|\baged?\s+(\d{{1,3}})\b", re.I)
AGE_RANGE = re.compile(r"\b(?:aged\s+)?(\d{1,3})\s*(?:to|-|–|through)\s*(\d{1,3})\s*(?:years?|y)\b", re.I)
AGE_OR_OLDER = re.compile(r"\b(?:aged\s+)?(\d{1,3})\s*years?\s*(?:or|and)\s*(?:older|over|above)\b|"
                          r"\b(?:older|over)\s+than\s+(\d{1,3})\b", re.I)
AGE_OR_YOUNGER = re.compile(r"\b(?:aged\s+)?(\d{1,3})\s*years?\s*(?:or|and)\s*(?:younger|under)\b|"
                            r"\b(?:younger|under)\s+than\s+(\d{1,3})\b", re.I)
FEMALE = re.compile(r"\b(?:women|woman|female|females|girls?|pregnan\w*|postmenopausal|mothers?)\b", re.I)
MALE = re.compile(r"\b(?:men|man|male|males|boys?)\b", re.I)
# a smoking history in pack-years ("30 pk-yr", "20 pack years"): the number is group 1
PACK_YEARS = re.compile(r"\b(\d+)\s*(?:pk|pack)[-\s]?(?:yrs?|years?|y)\b", re.I)
# a clinician's shorthand for the patient: "62M", "62 yo F", "46yo" (case-sensitive: "m" is a metre)
AGE_SEX = re.compile(rf"\b(\d{{1,3}})\s?{YEARS_OLD}?\s?([MF])\b|\b(\d{{1,3}})\s?(?:yo|y/o|y\.o\.)(?=\W|$)")
# who the patient is, in a clinician's question ("46yo", "avg-risk", "no FH (family history)"): not what is asked
PATIENT_DESCRIPTOR = re.compile(rf"\b\d{{1,3}}\s*(?:{YEARS_OLD}|[MF])(?!\w)(?:\s+(?:man|woman))?|"
                                rf"{PACK_YEARS.pattern}|\bquit\s+\d+\s*(?:y|yrs?|years?)(?:\s+ago)?\b|"
                                r"\b(?:avg|average|high|low|increased)[- ]risk\b|\bno\s+(?:FH|family history|sx|symptoms)"
                                r"(?:\s*\([^)]*\))?|\b\d+\b", re.I)
_DIGIT = re.compile(r"\d")


def question_ages(text: str) -> list[int]:
    """The ages a question gives ("46-year-old", "aged 46", "46yo")."""
    return [int(next(g for g in m.groups() if g)) for m in AGE.finditer(text or "")]


def age_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Age ranges a sentence or population states ("aged 45 to 49 years", "65 years or older")."""
    if not _DIGIT.search(text or ""):  # every form has a number
        return ()
    out = [(int(a), int(b)) for a, b in AGE_RANGE.findall(text or "") if int(a) <= int(b) <= 120]
    out += [(int(a or b) + (0 if a else 1), 120) for a, b in AGE_OR_OLDER.findall(text or "")]
    out += [(0, int(a or b) - (0 if a else 1)) for a, b in AGE_OR_YOUNGER.findall(text or "")]
    return tuple(out)


@lru_cache(maxsize=50_000)
def population(text: str) -> tuple[tuple[tuple[int, int], ...], bool, bool]:
    """(age ranges, speaks of women, speaks of men) of a text; cached."""
    return age_ranges(text), bool(FEMALE.search(text)), bool(MALE.search(text))


def population_match(question: str, text: str) -> float:
    """+1 when the question's age falls in an age range the text states, -1 when the text states ranges and
    none holds it; -1 when the text is about the other sex only. 0 when nothing is known."""
    score = 0.0
    ages = question_ages(question)
    ranges, t_f, t_m = population(text)
    if ages and ranges:
        score += 1.0 if any(lo <= a <= hi for a in ages for lo, hi in ranges) else -1.0
    _, q_f, q_m = population(question)
    if q_f != q_m and t_f != t_m:  # both speak of one sex
        score += 0.5 if q_f == t_f else -1.0
    return score
