"""Follow-up questions → a standalone question, without an LLM (an LLM may do it when configured).

"How is it treated?" after "What is Noonan syndrome?" → "How is Noonan syndrome treated?";
"What are its symptoms?" → "What are the symptoms of Noonan syndrome?"; an elliptical
"And the facial numbness?" keeps the earlier question's patient context.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .llm import rewrite_question
from .settings import Settings
from .parse.population import PATIENT_DESCRIPTOR
from .text import STOP
from .types import Turn

PRONOUN = re.compile(r"\b(it|its|it's|they|them|their)\b", re.I)
ANAPHOR_NP = re.compile(r"\b(?:this|that|the|these)\s+(condition|disease|disorder|syndrome|illness|problem|cancer|"
                        r"infection|drug|medication|medicine|treatment|therapy|procedure)\b", re.I)
ELLIPSIS = re.compile(r"^(?:(?:ok|okay|so|well|hmm)\b[\s,]*)?(?:and|also|or|but|what about|how about|and what about|"
                      r"and how about|plus)\b[\s,]*(?P<rest>.*)$", re.I)
_TOPIC_PATTERNS = [
    re.compile(r"^(?:what|who|which)\s+(?:is|are|was|were)\s+(?:the\s+)?(?:[\w-]+\s+){0,4}?(?:of|for|about|with|in)\s+"
               r"(?P<t>.+)$", re.I),
    re.compile(r"^(?:what|who)\s+(?:is|are)\s+(?:an?\s+|the\s+)?(?P<t>.+)$", re.I),
    re.compile(r"^(?:how|can|is|are|does|do|should)\s+(?:an?\s+|the\s+)?(?P<t>.+?)\s+(?:be\s+)?(?:treated|diagnosed|"
               r"inherited|prevented|cured|caused|managed|detected|spread)$", re.I),
    re.compile(r"^(?:tell me about|information (?:on|about)|explain|describe)\s+(?P<t>.+)$", re.I),
    re.compile(r"^(?:what causes|what treats|who gets|how common is|how is|how are)\s+(?P<t>.+)$", re.I),
]


# issue 13: elliptical follow-ups of the MedQuAD question kinds ("What is the outlook?", "prognosis?",
# "And the symptoms?") name an aspect and nothing else: they ask it about the earlier turn's subject
_ASPECT = re.compile(
    r"^(?:(?:and|so|ok|okay|also)[\s,]+)?(?:(?:what|how)(?:'s|\s+is|\s+are|\s+about)?\s+|tell me about\s+)?"
    r"(?:the\s+|its\s+|their\s+)?(?P<a>outlook|prognosis|life expectancy|survival(?: rate)?|treatments?|therapy|"
    r"therapies|symptoms?|signs(?: and symptoms)?|causes?|diagnosis|inheritance(?: pattern)?|genetic changes|"
    r"risk factors|complications|prevention|frequency|research|clinical trials)(?:\s+like)?$", re.I)
_OUTLOOK_LIKE = {"prognosis", "life expectancy", "survival", "survival rate"}


def aspect_question(aspect: str, topic: str) -> str:
    """"outlook" + "Batten disease" → "What is the outlook for Batten disease?" (the MedQuAD heading's form)."""
    a = aspect.lower()
    plural = a.endswith("s") and a not in {"diagnosis", "prognosis", "research"}
    prep = "for" if a in {"outlook", "treatments", "treatment", "therapy", "therapies"} | _OUTLOOK_LIKE else "of"
    shown = f"{a} (outlook)" if a in _OUTLOOK_LIKE else a
    return f"What {'are' if plural else 'is'} the {shown} {prep} {topic}?"


# the last clause of a clinician's question that asks for a thing ("new HIV dx … — what baseline TB testing?"): what a
# follow-up's pronoun points to when the question is about no "X" of "What is X?"
_ASKED_THING = re.compile(r"(?:^|[—–:;,]\s*)(?:what|which)\s+(?!(?:is|are|was|were|do|does|did|should|can|could|would|"
                          r"will|about|if|kind|type|sort|else)\b)(?P<t>[A-Za-z][\w/-]*(?:\s+[A-Za-z][\w/-]*){0,3})$", re.I)


def _strip_q(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip("?.! ").strip()


def topic_of(question: str) -> str | None:
    """The thing a question is about ("What is X?" → X), or None."""
    q = _strip_q(question)
    for pat in _TOPIC_PATTERNS:
        m = pat.match(q)
        if m:
            t = m.group("t").strip()
            t = re.sub(r"^(?:\(are\)\s+)", "", t)
            if t and not PRONOUN.fullmatch(t):
                return t
    return None


# words of a clinician's question that say what is asked or who the patient is, not what it is about
_ASKING = set("""start starting stop stopping now wait till until ok okay give giving need needs needed want wants per
should would could do does did get use using used start whether anyway next step first still just also else really
worth try trying order ordering count counts qualify qualifies qualified how many much often long when who what which
why where grade grades repeat repeating rescreen dose dosing ones one people person patient patients pt pts yes no
about tell know think everyone everybody anyone just then ok okay so w/ w/o""".split())


def subject_of(question: str) -> str:
    """What a clinician's question is about, without the patient's description or the asking words:
    "avg-risk 46yo, no FH — start CRC screening now or wait till 50? grade?" → "CRC screening"."""
    q = PATIENT_DESCRIPTOR.sub(" ", question)
    clauses = [c for c in re.split(r"[—–?;:!]|\s-\s|,", q) if c.strip()]

    def keep(c: str) -> list[str]:
        return [w for w in re.findall(r"[A-Za-z][\w/'&+-]*", c)
                if w.lower() not in STOP and w.lower() not in _ASKING and len(w) > 1]

    words = list(dict.fromkeys(w for c in clauses for w in keep(c)))
    return " ".join(words) if words else _strip_q(question)


def _needs_context(q: str) -> bool:
    return bool(PRONOUN.search(q) or ANAPHOR_NP.search(q) or ELLIPSIS.match(q) or len(q.split()) <= 3
                or _ASPECT.match(_strip_q(q)))


def _has_own_subject(q: str) -> bool:
    """Whether a short question names what it is about: "What is gout?", an acronym or a name (LDCT, Medrol);
    "when do we admit?", "main harms to counsel on?" do not, and take the earlier turn's subject."""
    if _ASPECT.match(_strip_q(q)):  # "What is the outlook?": an aspect, of the earlier subject
        return False
    if topic_of(q):
        return True
    words = re.findall(r"[A-Za-z][\w/-]*", q)
    return any(sum(ch.isupper() for ch in w) >= 2 or (i > 0 and w[0].isupper() and len(w) > 1)
               for i, w in enumerate(words))


def resolve(question: str, topic: str) -> str:
    """Put ``topic`` where the follow-up refers to it."""
    q = re.sub(r"\s+", " ", question).strip()
    end = "?" if q.endswith("?") else ""
    body = _strip_q(q)
    # possessives: "its symptoms" → "the symptoms of X"
    m = re.search(r"\b(its|their)\s+([\w-]+(?:\s+[\w-]+){0,2}?)(?=\s+(?:be|is|are|was|were|in|on|for|with|after|"
                  r"like|look|work|help|mean)\b|$)", body, re.I)
    if m:
        return (body[:m.start()] + f"the {m.group(2)} of {topic}" + body[m.end():]).strip() + end
    body2, n = ANAPHOR_NP.subn(topic, body, count=1)
    if n:
        return body2 + end
    body = re.sub(r"\bit's\b", "it is", body, count=1, flags=re.I)  # ("if it's neg": "if the test is neg")
    body2, n = re.subn(r"\b(it|they|them)\b", topic, body, count=1, flags=re.I)
    if n:
        return body2 + end
    return f"{body} ({topic}){end}"


def standalone_question(question: str, history: list[Turn], settings: Settings,
                        names_subject: Callable[[str], bool] | None = None) -> str:
    """The question to search: the user's question, completed from earlier turns when it depends on them.
    ``names_subject``: whether a question names a subject the index's documents are about ("is shingles
    contagious?" after a question on hepatitis C is a new question, not a follow-up)."""
    users = [t.content for t in history if t.role == "user" and t.content.strip()]
    if not users:
        return question
    own = _has_own_subject(question) or (names_subject is not None and names_subject(question))
    terse = len(question.split()) <= 8 and not own
    if not _needs_context(question) and not terse:
        return question
    if own and not (PRONOUN.search(question) or ANAPHOR_NP.search(question) or ELLIPSIS.match(question)):
        return question  # "What is gout?": short, but about something of its own
    if settings.llm.model:
        try:
            rewritten = rewrite_question(question, history, settings)
            if rewritten:
                return rewritten
        except Exception:  # the LLM is an option: rule-based rewriting is the fallback
            pass
    # the previous turns' own standalone forms carry the context forward
    prev = users[-1]
    prev_turns = [t for t in history if not (t.role == "user" and t.content == prev)] if len(users) > 1 else []
    prev_standalone = standalone_question(prev, prev_turns, settings, names_subject) if prev_turns else prev
    aspect = _ASPECT.match(_strip_q(question))
    if aspect:
        topic = next((t for t in map(topic_of, [prev_standalone, *reversed(users)]) if t), None)
        if topic:
            return aspect_question(aspect.group("a"), topic)
    m = ELLIPSIS.match(_strip_q(question))
    if m or ((len(question.split()) <= 3 or terse) and not PRONOUN.search(question)):
        # the new aspect, of the earlier subject: "and when do we stop?" → "When do we stop? (CRC screening)"
        fragment = (m.group("rest") if m else _strip_q(question)).strip(" ,—–-") or _strip_q(question)
        fragment = re.sub(r"^(?:for|of|about|with|in)\s+", "", fragment, flags=re.I) if m else fragment
        subject = subject_of(prev_standalone)
        return f"{fragment[:1].upper()}{fragment[1:]} ({subject})?"
    topic = None
    for u in [prev_standalone, *reversed(users)]:
        topic = topic_of(u)
        if topic:
            break
    prev_q = _strip_q(prev_standalone)
    asked_for = _ASKED_THING.search(prev_q) if topic is None and PRONOUN.search(question) else None
    context = prev_q[:asked_for.start()].strip(" —–:;,") if asked_for else ""
    if asked_for and context:  # "if it's neg, when do I repeat it?" after "… — what baseline TB testing?"
        return f"{_strip_q(resolve(question, asked_for.group('t')))} ({context})?"
    if topic is None:
        return f"{_strip_q(question)} ({prev_q})?"
    return resolve(question, topic)
