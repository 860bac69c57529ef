"""What a question is about (its **subject**) and what it asks of it (its **aspect**).

The subject is found from the question and the index's own vocabulary, never from a list of names:

* candidates are the question's content words that are not question words (``text.STOP``/``GENERIC``), not
  aspect words (``data/aspects.toml``) and not everyday English (``wordfreq``'s Zipf frequency ≥
  ``COMMON_ZIPF``: "okay", "baby", "cheap");
* a misspelt candidate is read as the indexed word it is one or two edits from ("menigitis" → "meningitis");
* the subject is the candidate the index finds rarest (highest idf): a brand or drug name, a condition, a test;
  its name is that word with its neighbours in the question when the index uses them together ("respiratory
  infection", "cold sore");
* its other names come from the indexed text itself: "isotretinoin (Accutane)", "Imodium (loperamide)"
  (``alternatives``), so a brand name finds the documents that use the generic one.

The aspect is the question type of two published taxonomies of consumer health questions (``data/aspects.toml``
names them): a dose, how long, pregnancy, an interaction, contagiousness, when to seek care.
Nothing here reads a global store: the caller passes a :class:`Vocabulary` of its index.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from .text import CONDITION_HEADS, GENERIC, STOP, issuing_bodies, stem_words, term_set
from .types import Subject

ASPECTS_FILE = Path(__file__).parent / "data" / "aspects.toml"
COMMON_ZIPF = 5.0  # words at least this frequent in general English (per billion: 100,000) are not a subject
UNKNOWN_ZIPF = 3.0  # an unindexed word rarer than this in general English names something (a brand, a drug)
ACRONYM_MIN_DF = 50  # an abbreviation in capitals names the subject when at least this many chunks use it
HEADED_OF = 3  # the rarest candidates weighed by how often titles and headings name them
HEADING_WEIGHT = 4.0  # idf (nats) a candidate gains when every sampled chunk holding it is headed by it
STRONG_HEADED = 0.2  # a subject the answer is held to: titles or headings name it in this share of its chunks…
QUALIFIER_SHARE = 0.5  # a phrase that titles and headings mostly write as "<it> … for/of <another thing>" is a section
# word ("Conservative care options for …", "Management of …"): what they do about a subject, not one; no heading bonus
RANK_HEADED = 0.5  # … and retrieval re-ranks by it when they name it in at least this share (documents are about it)
STRONG_MAX_SHARE = 0.02  # … and at most this share of the index's chunks hold it ("screening", "adults" do not)
NAME_MAX_DF = 100  # … or a name (``is_name``) that few chunks hold: the few documents on it are its answer
UNKNOWN_SHARE = 0.3
UNIT_SHARE = 0.2  # an everyday word is part of a name when the index writes it with it in this share of their chunks
COMPOUND_MIN_DF = 10  # an indexed word written with an unindexed, capitalised name ("Epoetin Alfa") names it with it
# when this many chunks hold it (a misspelt word beside a known one, "sydrome conditon", is no name)  # ... and carries at least this share of the question's topic weight (idf)
MIN_KEYNESS = -0.35  # a subject word is used by the index about as much as by general English, or more
WORDS_PER_CHUNK = 150  # the index's chunks hold about this many words (the rate of a word in the index)
# a word as the index's tokenizer splits it (bm25s: ``\w\w+``): a hyphen separates two words ("anti-fungal",
# "pepto-bismol"), which ``_closed`` reads as one when the index spells the compound closed
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*[A-Za-z0-9]")
# a form of "be" (or a linking verb) and an optional adverb right before a participle: "are contraindicated",
# "is often elevated". A predicative participle says what is asked of the subject; it names nothing
_LINKING = re.compile(r"\b(?:am|is|are|was|were|be|been|being|get|gets|got|gotten|become|becomes|became|seem|seems|"
                      r"seemed|remain|remains|stay|stays)\s+(?:[a-z]+ly\s+)?$", re.I)
# discourse markers and pronoun-like words of conversational English that no stopword list holds (the "background"
# of a consumer question in the CHQ annotation guideline, Kilicoglu et al. 2018); contractions typed without their
# apostrophe ("dont", "whats") are recognised by ``_contraction``
_FILLER = frozenset("alright okay ok thanks thank hello hi maybe anything something someone anyone lot thing things "
                    "question questions wondering thoughts".split())
_CONTRACTED = ("n't", "'s", "'m", "'d", "'ll", "'ve", "'re")
# what a clinician asks of a guideline, not what it is about: the parts of a graded recommendation (USPSTF grade
# definitions; GRADE: strength of recommendation, quality of evidence)
_GUIDANCE = frozenset("grade grades graded recommendation recommendations guideline guidelines evidence strength "
                      "quality".split())


def _contraction(word: str) -> bool:
    """"dont", "whats", "youd": an everyday English contraction typed without its apostrophe."""
    for tail in _CONTRACTED:
        bare = tail.replace("'", "")
        if word.endswith(bare) and len(word) > len(bare) + 1:
            if english_zipf(word[: -len(bare)] + tail) >= 4.5:
                return True
    return False


# --- aspects -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Aspect:
    name: str
    phrase: str
    ask: tuple[re.Pattern[str], ...]
    say: tuple[re.Pattern[str], ...]
    own: str | None = None  # "adjacent" / "named": a property of each substance itself (``aspects.toml``)
    pair: bool = False  # a property of two things together (an interaction): stated of both (``aspects.toml``)

    @property
    def contextual(self) -> bool:
        """Asked of the subject with a second thing the question names (``condition_context``)."""
        return any("context" in p.groupindex for p in self.ask)

    def asked_in(self, question: str) -> bool:
        return any(p.search(question) for p in self.ask)

    def said_in(self, sentence: str) -> bool:
        return any(p.search(sentence) for p in self.say)


@cache
def aspects(path: Path = ASPECTS_FILE) -> tuple[Aspect, ...]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(Aspect(name, str(a["phrase"]), tuple(re.compile(p, re.I) for p in a["ask"]),
                        tuple(re.compile(p, re.I) for p in a["say"]), _own(name, a.get("own")), bool(a.get("pair", False)))
                 for name, a in data.items())


def _own(name: str, own: object) -> str | None:
    if own not in (None, "adjacent", "named"):
        raise ValueError(f"{ASPECTS_FILE}: [{name}] own must be 'adjacent' or 'named', not {own!r}")
    return own  # type: ignore[return-value]


def asked_aspects(question: str) -> list[Aspect]:
    """The aspects a question asks about, in the order the taxonomy file lists them."""
    return [a for a in aspects() if a.asked_in(question)]


_CONTEXT_END = re.compile(r"\s+(?:and|but|or|so|then|can|could|should|would|will|is|are|was|do|does|did|am|i|to|for|"
                          r"since|after|before|last|ago|now|currently|that|which|who|what|how|take|taking|use|using|"
                          r"get|getting|it|this|these|safe|safely|okay|ok)\b.*$", re.I | re.S)
_CONTEXT_DET = re.compile(r"^(?:(?:a|an|the|my|some|mild|bad|severe|really|very|chronic|history\s+of)\s+)+", re.I)


def condition_context(question: str, aspect: Aspect | None = None) -> str | None:
    """What the question names beside its subject in an aspect's ``context`` group (of ``aspect``, else of the first
    aspect that has one): the condition its asker has ("if i have high blood pressure" → "high blood pressure",
    "Because I have a fatty liver, …" → "fatty liver"), the effect asked of it ("does buspar cause sleepiness" →
    "sleepiness"); at most four words. None when the question says none (or names pregnancy: its own aspect)."""
    for a in [aspect] if aspect is not None else aspects():
        for p in a.ask:
            if "context" not in p.groupindex:
                continue
            m = p.search(question)
            if not m:
                continue
            text = _CONTEXT_DET.sub("", _CONTEXT_END.sub("", " " + m.group("context").strip()).strip())
            words = _RUN_WORD.findall(text)[:4]
            if words and any(re.search(r"[a-z]{3}", w, re.I) for w in words) and \
                    not any(b.name == "pregnancy" and b.asked_in(text) for b in aspects()):
                return " ".join(words)
    return None


def _aspect_spans(question: str) -> list[tuple[int, int]]:
    """Where the question words its aspects: not what it names (an aspect's ``subject`` and ``context`` groups)."""
    spans = []
    for a in aspects():
        for p in a.ask:
            for m in p.finditer(question):
                end = m.start("context") if "context" in p.groupindex else m.end()
                if "subject" in p.groupindex and m.start("subject") >= 0:  # the name the aspect is asked of
                    spans += [(m.start(), m.start("subject")), (m.end("subject"), end)]
                else:
                    spans.append((m.start(), end))
    return spans


# --- the index's vocabulary, as the caller gives it ---------------------------------------------------------
@dataclass
class Vocabulary:
    """What the subject finder needs of an index: ``df`` (stemmed term → chunks containing it), ``n`` (chunks),
    ``nearest`` (a misspelt stemmed term → the indexed term it is one or two edits from, or None) and
    ``phrase_count`` (indexed chunks, of a sample, that hold a phrase as written, case and hyphens aside) and
    ``headed`` (the share of a sample of the chunks holding a term whose title or headings hold it; ``phrase_headed``
    the same of a phrase as written) and ``spellings`` (every indexed term as near to a misspelt one)."""

    df: Mapping[str, int]
    n: int
    nearest: Callable[[str], str | None] = lambda t: None
    phrase_count: Callable[[str], int] = lambda phrase: 0
    headed: Callable[[str], float] = lambda term: 0.0
    phrase_headed: Callable[[str], float] = lambda phrase: 0.0  # ``headed`` of a phrase as written
    phrase_share: Callable[[str], float] | None = None  # of the sampled chunks holding its words, those holding it
    spellings: Callable[[str], list[str]] | None = None  # every indexed term as near as the nearest (ties)
    together: Callable[[str, str], int] | None = None  # chunks holding both stemmed terms (None: not known)
    # of the distinct titles and headings (of a sample of chunks) that hold a phrase, the share that write it before
    # "for"/"of" and another name ("Conservative care options for carpal tunnel syndrome"): a generic section word
    qualifier: Callable[[str], float] = lambda phrase: 0.0
    titled: Callable[[str], int] = lambda phrase: 0  # indexed documents whose title holds a phrase's words in order

    def cohesion(self, phrase: str) -> float:
        """How much the index writes a phrase's words together (``phrase_share``; else 1 when it ever does)."""
        if self.phrase_share is not None:
            return self.phrase_share(phrase)
        return 1.0 if self.phrase_count(phrase) > 0 else 0.0

    def respellings(self, term: str) -> list[str]:
        """The indexed terms a misspelt stemmed ``term`` may stand for (``spellings``, else ``nearest``)."""
        if self.spellings is not None:
            return self.spellings(term)
        near = self.nearest(term)
        return [near] if near else []

    def idf(self, term: str) -> float:
        import math

        return math.log(1 + max(self.n, 1) / (self.df.get(term, 0) + 1))


@lru_cache(maxsize=50_000)
def english_zipf(word: str) -> float:
    """Zipf frequency of ``word`` in general English (wordfreq; 0 for a word it does not know)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


Cand = tuple[int, str, str]  # a candidate word: its position in the question, the word (lower case), as written


def _masked(question: str) -> str:
    """The question with its aspect words blanked: they are what is asked, not what it is asked about ("side
    effects")."""
    masked = question
    for a, b in _aspect_spans(question):
        masked = masked[:a] + " " * (b - a) + masked[b:]
    return masked


def _candidates(question: str) -> list[Cand]:
    """(position, word, as written) of the question's words that may name its subject."""
    masked = _masked(question)
    out = []
    for m in _WORD.finditer(masked):
        w = m.group(0).lower().removesuffix("'s").replace("'", "")
        if len(w) < 3 or w in STOP or w in GENERIC or w in _FILLER or w in _GUIDANCE or _contraction(w):
            continue
        if m.group(0).isupper() and re.match(r"\s*\(", masked[m.end():]):
            continue  # an abbreviation spelled out after it ("LBP (low back pain)"): its long form names it
        out.append((m.start(), w, m.group(0)))
    return out


def _gap(question: str, a: Cand, b: Cand) -> str:
    return question[a[0] + len(a[2]):b[0]]


def _closed(question: str, cands: list[Cand], vocab: Vocabulary) -> list[Cand]:
    """``cands`` with each compound that the index spells closed read as that one word: "heart burn" and
    "anti-fungal" as "heartburn" and "antifungal" when the closed word is indexed and the index's chunks hold it
    more often than they hold the parts written apart (``phrase_count`` of the open form)."""
    out: list[Cand] = []
    i = 0
    while i < len(cands):
        pos, w, surface = cands[i]
        parts = [cands[i]]
        if i + 1 < len(cands) and re.fullmatch(r"[ -]?", _gap(question, cands[i], cands[i + 1])):
            parts.append(cands[i + 1])
        joined = "".join(c[1] for c in parts).replace("-", "")
        written = question[pos:parts[-1][0] + len(parts[-1][2])]
        closed_df = vocab.df.get(stem_words([joined])[0], 0) if joined != w or len(parts) > 1 else 0
        if joined.isalpha() and closed_df >= 2 and closed_df > vocab.phrase_count(written.replace("-", " ")):
            out.append((pos, joined, written))
            i += len(parts)
            continue
        out.append(cands[i])
        i += 1
    return out


def _glossed(question: str, cands: list[Cand]) -> tuple[list[Cand], dict[int, list[str]]]:
    """``cands`` without the words of a short gloss in parentheses right after a candidate ("Zoloft (sertraline)",
    as the question or the search's spelling out of it writes it): another name of the same thing, not a second
    topic; and, per remaining candidate, the words of its gloss."""
    spans = [(m.start(1), m.end(1), m.start()) for m in re.finditer(r"[A-Za-z0-9]\s*\(([^()]{2,60})\)", question)
             if len(m.group(1).split()) <= 3]
    heads: dict[int, list[str]] = {}
    keep: list[Cand] = []
    for c in cands:
        span = next((sp for sp in spans if sp[0] <= c[0] < sp[1]), None)
        head = next((k for k, h in enumerate(keep) if span and h[0] + len(h[2]) == span[2] + 1), None) \
            if span else None
        if head is None:
            keep.append(c)
        else:
            heads.setdefault(head, []).append(c[1])
    return keep, heads


def keyness(term: str, word: str, vocab: Vocabulary) -> float:
    """How much more the index uses a word than general English does (Zipf scale; per-chunk document frequency
    as the index's rate): below 0 for everyday words the documents rarely use ("meantime", "bother")."""
    import math

    rate = max(vocab.df.get(term, 0), 0.5) / max(vocab.n, 1) / WORDS_PER_CHUNK
    return math.log10(rate * 1e9) - english_zipf(word)


def _compound(question: str, cands: list[Cand], i: int, vocab: Vocabulary) -> bool:
    """Whether candidate ``i`` is written next to an indexed word ("medrol dosepak"): a form or a detail of
    something the index knows, not an unknown subject."""
    for j in (i - 1, i + 1):
        if 0 <= j < len(cands):
            a, b = sorted((i, j))
            # an everyday word beside it ("using Robaxin") is no part of its name
            if re.fullmatch(r"[ -]?", _gap(question, cands[a], cands[b])) and english_zipf(cands[j][1]) < COMMON_ZIPF \
                    and vocab.df.get(stem_words([cands[j][1]])[0], 0):
                return True
    return False


def find_subject(question: str, vocab: Vocabulary, heading_weight: float | None = None,
                 min_keyness: float | None = None) -> Subject | None:
    """The question's subject (see the module's doc), or None when no candidate word names one.

    A word no indexed chunk holds (not even misspelt) that is rare in general English ("Buspar", "Saxenda") is the
    subject, unknown to the index (``df`` 0): passages about anything else are not its answer. Otherwise the
    indexed word with the highest idf among those the index uses at least as much as general English does."""
    heading_weight = HEADING_WEIGHT if heading_weight is None else heading_weight
    min_keyness = MIN_KEYNESS if min_keyness is None else min_keyness
    cands, glosses = _glossed(question, _closed(question, _candidates(question), vocab))
    if not cands:
        return None
    bodies = issuing_bodies(question)
    words = [c[1] for c in cands]
    terms = stem_words(words)
    best: tuple[float, int, str, int] | None = None
    scored: list[tuple[float, int, str, int]] = []
    unknown: tuple[float, int, str] | None = None
    unnamed: dict[int, str] = {}  # position → stem of each unindexed name
    resolved: list[str | None] = []
    for i, (w, t) in enumerate(zip(words, terms)):
        zipf = english_zipf(w)
        t, d, terms[i] = _resolve(question, cands, i, t, glosses.get(i, []), vocab)
        if d == 0:
            resolved.append(None)
            if is_name(_surface(question, cands[i])):
                unnamed[i] = t
                if not _compound(question, cands, i, vocab) and not _EXAMPLE.search(question[:cands[i][0]]) and \
                        (unknown is None or zipf < unknown[0]):
                    # (a name given as an example of what is asked, "an OTC anti-fungal like Tinactin", is not it)
                    unknown = (zipf, i, t)
            continue
        resolved.append(t)  # indexed: may be part of the subject's name
        if zipf >= COMMON_ZIPF or (keyness(t, w, vocab) < min_keyness and not is_name(_surface(question, cands[i]))):
            continue  # an everyday word the documents seldom use; a name ("Zoloft") is no everyday word
        if _surface(question, cands[i]).upper() in bodies:
            continue  # the body whose guidance is asked for ("per VA/DoD") is not what it is asked about
        if _surface(question, cands[i]).isupper() and len(w) <= 5 and d < ACRONYM_MIN_DF:
            continue  # an abbreviation the documents seldom use ("MSM"): they spell out what it names
        if _predicative(question, cands[i]):
            continue  # "which drugs are contraindicated …": what is asked of the subject, not the subject
        scored.append((vocab.idf(t), i, t, d))
    # of the rarest few, the one that documents are about: the index's titles and headings name it
    headed: dict[str, float] = {}
    for idf, i, t, d in sorted(scored, reverse=True)[:HEADED_OF]:
        headed[t] = vocab.headed(t)  # what the answer is held to (see ``Subject.headed``) is the word's own
        score = idf + heading_weight * _heading_bonus(question, cands, resolved, i, headed[t], vocab)
        if best is None or score > best[0]:
            best = (score, i, t, d)
    taken = [x for x in scored if _taken_drug(question, cands[x[1]])]
    taken_at = {x[1] for x in taken}
    if best is not None and taken and best[1] not in taken_at:
        # "can i take ibuprofen if i have high blood pressure?": what is asked is whether the drug may be taken; the
        # condition the asker has (a heading of many documents) is its context
        _, i, t, d = max(taken)
        best = (0.0, i, t, d)
    if unknown is not None:
        # the unindexed name is the subject when it carries much of the question's topic weight (a question about
        # it, "Doe the buspar cause sleepiness?"), not when it is one detail of a question about indexed things
        _, i, term = unknown
        # (of its topic words: everyday English, "took", "hour", "ago", names nothing, though documents seldom use it)
        weights = [0.0 if english_zipf(w) >= COMMON_ZIPF else vocab.idf(t) if t else vocab.idf("")
                   for w, t in zip(words, resolved)]
        if weights[i] / (math.fsum(weights) or 1.0) >= UNKNOWN_SHARE:
            return Subject(name=_surface(question, cands[i]), term=term, df=0, strong=True)
    if best is None:
        return None
    _, i, term, d = best
    for j in (i - 1, i + 1):  # "Epoetin Alfa": a common indexed word that qualifies an unindexed name
        if j in unnamed and d > COMPOUND_MIN_DF and _surface(question, cands[j])[:1].isupper():
            a, b = sorted((i, j))
            if re.fullmatch(r"[ -]?", _gap(question, cands[a], cands[b])):
                name = question[cands[a][0]:cands[b][0] + len(_surface(question, cands[b]))]
                return Subject(name=name, term=unnamed[j], df=0, strong=True)
    lo, hi = _name_span(question, cands, resolved, i, vocab)
    name = re.sub(r"\s+", " ", question[cands[lo][0]:cands[hi][0] + len(cands[hi][2])]).strip()
    h = headed.get(term, 0.0)
    focus = _surface(question, cands[i])
    # written as the index writes it: a word read through a misspelling ("uprate" as "update") is not held to
    spelled = vocab.df.get(terms[i], 0) >= 2
    # (a drug the question takes is held to as one that few documents are about: whether it may be taken is asked)
    strong = spelled and ((h >= STRONG_HEADED and d <= STRONG_MAX_SHARE * vocab.n) or (is_name(focus)
                                                                                     and d <= NAME_MAX_DF)
                          or (i in taken_at and d <= STRONG_MAX_SHARE * vocab.n))
    # a compound read closed ("heart burn"): its closed word is searched too, as another name
    closed = [words[i]] if words[i] not in name.lower() else []
    words_of = [x for x in resolved[lo:hi + 1] if x]
    # the head of a name of several words (the last word of an English noun phrase: "infection" of "respiratory
    # infection") is required of a text naming it when the focus word alone is no subject documents are about
    head = words_of[-1] if len(words_of) > 1 and words_of[-1] != term and h < STRONG_HEADED else None
    found = Subject(name=name, term=term, df=d, headed=h, strong=strong, words=words_of, head=head,
                    alternatives=closed, alt_terms=stem_words(closed) if closed else [])
    return _titled_name(question, (cands[lo][0], cands[hi][0] + len(cands[hi][2])), found, vocab) or found


_RUN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*")
_NAME_HEADS = CONDITION_HEADS  # the last word of a name ("stiff-person syndrome")
_HEAD_STEMS = frozenset(stem_words(sorted(_NAME_HEADS)))
TITLE_RUN = 5  # the longest run of the question's words read as a title's name


def _titled_name(question: str, at: tuple[int, int], found: Subject, vocab: Vocabulary) -> Subject | None:
    """A name of several words that documents' titles hold (``Vocabulary.titled``), for the subject ``found`` at
    ``at`` (its span in the question): one that holds it is its whole name ("stiff-person syndrome" of "stiff",
    "cri-du-chat syndrome" of "cri"; the same term, held to as it was); when the name found is no subject the
    answer is held to (not ``strong``), any such name is the subject in its place ("What happens if you ignore a
    heart attack?": "heart attack", whose words are everyday English, not "happens"; "natural remedies for
    enlarged prostate"). The longest, then the rarest words; None when none."""
    strong = found.strong
    masked = _masked(question)
    toks = [(m.start(), m.end(), m.group(0).lower()) for m in _RUN_WORD.finditer(masked)]
    edge = STOP | GENERIC | _FILLER | _GUIDANCE
    untitled = not strong and not vocab.titled(question[at[0]:at[1]])
    best: tuple[int, float, int, int, bool] | None = None
    for i in range(len(toks)):
        if toks[i][2] in edge or len(toks[i][2]) < 3:
            continue
        for j in range(i + 1, min(i + TITLE_RUN, len(toks))):
            if not re.fullmatch(r"[ -]", masked[toks[j - 1][1]:toks[j][0]]) or len(toks[j][2]) < 2:
                break
            if toks[j][2] in edge - _NAME_HEADS or len(toks[j][2]) < 3:
                continue
            a, b = toks[i][0], toks[j][1]
            holds = a <= at[0] and at[1] <= b
            # (in place of the name found when apart from it, or when no title holds that name: "sensorineural
            # hearing" is not "sensorineural hearing loss"; "dry eyes" is the name in "relieve dry eyes")
            apart = b <= at[0] or at[1] <= a or untitled
            if not (holds or (apart and not strong)) or (a, b) == at or not vocab.titled(question[a:b]):
                continue
            rarity = sum(vocab.idf(t) for t in stem_words([w for *_, w in toks[i:j + 1] if w not in STOP]))
            key = (j - i + 1, rarity, a, b, holds)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None:
        return None
    name = question[best[2]:best[3]]
    words = [t for t in stem_words([w.lower() for w in _RUN_WORD.findall(name) if w.lower() not in STOP])
             if vocab.df.get(t, 0)]
    if not words:
        return None
    if best[4]:  # the whole name of what was found (a text naming it is read as before)
        return found.model_copy(update={"name": name})
    term = max(words, key=vocab.idf)
    d = vocab.df.get(term, 0)
    # held to as a name documents are about (titled) that few chunks hold
    named = any(is_name(w) for w in _RUN_WORD.findall(name))
    held = d <= STRONG_MAX_SHARE * vocab.n or (named and d <= NAME_MAX_DF)
    # its head word is required of a text naming it ("eye" of "dry eyes"), not a generic one ("Lewy body dementia"
    # speaks of "Lewy body disease")
    head = words[-1] if words[-1] != term and words[-1] not in _HEAD_STEMS else None
    return Subject(name=name, term=term, df=d, words=words, head=head,
                   headed=max(vocab.headed(term), vocab.phrase_headed(name)), strong=held)


# a name given as an example of what is asked ("an OTC anti-fungal like Tinactin"): not an unknown subject
_EXAMPLE = re.compile(r"\b(?:like|such\s+as|e\.?g\.?,?|for\s+example,?|for\s+instance,?|say)\s+(?:an?\s+|the\s+)?$", re.I)
_TAKE = re.compile(r"\b(?:take|takes|taking|took|taken|use|uses|using|used|start|starting|stop|stopping|give|giving)"
                   r"\s+(?:(?:a|an|the|my|some|more|any|this|that|her|his|their|our|your|extra|daily|regular)\s+){0,2}$", re.I)
_CAUSES = re.compile(r"\s+(?:cause|causes|caused|causing|give|gives|make|makes|lead\s+to|leads\s+to|trigger|triggers)\b",
                     re.I)


def _taken_drug(question: str, cand: Cand) -> bool:
    """A drug (the drug dictionary's, ``shorthand.is_drug``) the question takes, uses, starts, stops or gives ("take
    ibuprofen", "taking my metformin") or asks an effect of ("does lisinopril cause a cough")."""
    from .shorthand import is_drug

    pos, word, surface = cand
    return bool(_TAKE.search(question[:pos]) or _CAUSES.match(question, pos + len(surface))) and is_drug(surface)


def _predicative(question: str, cand: Cand) -> bool:
    """A past participle after a form of "be" or a linking verb ("are contraindicated", "is often elevated"): it
    says what the question asks of its subject (a predicate), it does not name a thing. Before a noun it stays a
    candidate ("engorged breast", "enlarged prostate"): there it may be part of a name."""
    pos, word, _ = cand
    return len(word) > 4 and word.endswith("ed") and bool(_LINKING.search(question[:pos]))


def _resolve(question: str, cands: list[Cand], i: int, term: str, gloss: list[str],
             vocab: Vocabulary) -> tuple[str, int, str]:
    """(the indexed term candidate ``i`` stands for, its chunk count — 0: none —, the term as written or glossed):
    itself; else the indexed word of its gloss ("Buspar (buspirone)"); else the indexed word it is misspelt from."""
    d = vocab.df.get(term, 0)
    glossed = [(g, vocab.df.get(g, 0)) for g in (stem_words(gloss) if gloss else [])]
    # (a word in a single chunk is no spelling the index uses: its gloss names it as the documents do, "synthroid
    # (levothyroxine)")
    if d >= 2 or (d and not any(gd > d for _, gd in glossed)):
        return term, d, term
    for g, gd in glossed:
        if gd:
            return g, gd, g
    from .shorthand import generic_name  # a brand the question does not gloss ("medrol dosepak": methylprednisolone)

    generic = generic_name(cands[i][1])
    for g in stem_words(generic.split()) if generic else []:
        if vocab.df.get(g, 0):
            return g, vocab.df[g], g
    near = _respelt(question, cands, i, term, vocab)
    zipf = english_zipf(cands[i][1])
    if near and 0 < zipf < UNKNOWN_ZIPF and english_zipf(near) >= UNKNOWN_ZIPF + 0.5:
        # a rare name is not a misspelt everyday word ("singulair" is not "singular"); a word general English never
        # writes ("pregnent") is
        near = None
    return (near, vocab.df.get(near, 0), term) if near else (term, 0, term)


def _respelt(question: str, cands: list[Cand], i: int, term: str, vocab: Vocabulary) -> str | None:
    """The indexed word a misspelt candidate stands for. Of several as near, the one the index writes beside the
    candidate's neighbouring word ("vestibular nueritis": neuritis, not nutrition); else the one that titles and
    headings name most (what documents are about)."""
    options = vocab.respellings(term)
    if len(options) < 2:
        return options[0] if options else None
    for j in (i - 1, i + 1):
        if 0 <= j < len(cands) and re.fullmatch(r"[ -]?", _gap(question, *sorted((cands[i], cands[j])))):
            beside = [o for o in options if vocab.phrase_count(
                f"{cands[j][2]} {o}" if j < i else f"{o} {cands[j][2]}") > 0]
            if len(beside) == 1:
                return beside[0]
    return max(options, key=lambda o: (vocab.headed(o), vocab.df.get(o, 0)))


def _heading_bonus(question: str, cands: list[Cand], resolved: list[str | None], i: int, headed: float,
                   vocab: Vocabulary) -> float:
    """How much titles and headings name candidate ``i``: its word's ``headed``, or the multi-word name it is part
    of ("ulcerative colitis", "blood pressure": a condition that documents are about as a unit outweighs a rarer word
    beside it that no heading uses, "contraindicated", "measure"). 0 when they mostly write its name as a section word
    qualifying another name (``QUALIFIER_SHARE``: "conservative care" of "Conservative care options for carpal tunnel
    syndrome", "management" of "Management of …")."""
    lo, hi = _name_span(question, cands, resolved, i, vocab)
    name = question[cands[lo][0]:cands[hi][0] + len(cands[hi][2])]
    bonus = max(headed, vocab.phrase_headed(name) if lo != hi else 0.0)
    if bonus <= 0:
        return bonus
    return 0.0 if vocab.qualifier(name) >= QUALIFIER_SHARE else bonus


def _name_span(question: str, cands: list[Cand], resolved: list[str | None], i: int,
               vocab: Vocabulary) -> tuple[int, int]:
    """The candidates that name the subject: the focus word ``i`` with its neighbours, where the index uses them
    as one phrase ("respiratory infection", "cold sore"). An everyday word joins the name only where the index
    writes the two together in at least ``UNIT_SHARE`` of the chunks holding both ("cold sore"): a verb is no part
    of its object's name ("take ibuprofen" is written in a few of the many chunks holding "take" and "ibuprofen")."""
    lo = hi = i

    def joins(a: int, b: int, word: int) -> bool:
        if not resolved[word] or not re.fullmatch(r"[ -]?", _gap(question, cands[a], cands[b])):
            return False
        text = question[cands[min(a, lo)][0]:cands[max(b, hi)][0] + len(cands[max(b, hi)][2])]
        if english_zipf(cands[word][1]) >= COMMON_ZIPF:
            return vocab.cohesion(text) >= UNIT_SHARE
        return vocab.phrase_count(text) > 0

    while lo > 0 and joins(lo - 1, lo, lo - 1):
        lo -= 1
    while hi + 1 < len(cands) and joins(hi, hi + 1, hi + 1):
        hi += 1
    return lo, hi


def is_name(word: str) -> bool:
    """A word that names a thing (a brand, a drug, a rare condition): one word of letters, five or more, rare in
    general English, not an acronym in capitals ("resp", "AECOPD" are not)."""
    return (word.isalpha() and len(word) >= 5 and not word.isupper()
            and english_zipf(word.lower()) < UNKNOWN_ZIPF)


def _surface(question: str, cand: Cand) -> str:
    return cand[2]


# other names, as the indexed text gives them: "isotretinoin (Accutane)", "Imodium (loperamide)",
# "gabapentin (Gabarone, Neurontin)"; after the name, the other name is a whole item of a parenthesised list of
# names ("insomnia (lisdexamfetamine 30 mg daily)" names no insomnia). Whether the two name one thing, not a class
# and its member, is the index's to say (``_same_thing``)
_ITEM = r"[A-Za-z][\w-]*"
_MORE = rf"(?:\s*(?:,|;|\bor\b|\band\b)\s*{_ITEM})*"
ALIAS_SHARE = 0.5  # two names of one thing share their chunks: the rarer is written mostly where the other is


def _paren_pairs(name_word: str) -> re.Pattern[str]:
    w = re.escape(name_word)
    return re.compile(rf"\b([A-Za-z][A-Za-z-]{{3,}})\s*\(\s*(?:{_ITEM}\s*,\s*)*{w}\b[^)]*\)|"
                      rf"\b{w}\s*\(\s*([A-Za-z][A-Za-z-]{{3,}}(?:\s+[A-Za-z][A-Za-z-]+){{0,2}}){_MORE}\s*\)", re.I)


def _plural(word: str) -> bool:
    """A plural noun: it ends in "s" and general English writes its singular about as often ("inhibitors",
    "medications"; not "herpes", "measles", whose "singular" is no word)."""
    return word.endswith("s") and not word.endswith("ss") and english_zipf(word[:-1]) >= english_zipf(word) - 0.5


def _same_thing(a: str, b: str, vocab: Vocabulary) -> bool:
    """Whether two indexed terms written "a (b)" name one thing rather than a class and its member ("anticonvulsants
    (gabapentin)") or a thing and its cause ("insomnia (lisdexamfetamine)"): the chunks holding the rarer are
    mostly chunks holding the other too (``ALIAS_SHARE``). True when the vocabulary cannot tell."""
    if vocab.together is None:
        return True
    fewer = min(vocab.df.get(a, 0), vocab.df.get(b, 0))
    return fewer > 0 and vocab.together(a, b) >= ALIAS_SHARE * fewer


def spelled_out(subject: Subject, search: str, vocab: Vocabulary) -> Subject:
    """``subject`` with the words the searched text adds right after its name in parentheses (the clinical
    lexicon's or the corpus's spelling out: "medrol (methylprednisolone corticosteroid)") as other names."""
    m = re.search(rf"\b{re.escape(subject.name)}\s*\(([^()]{{3,80}})\)", search, re.I)
    if not m:
        return subject
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", m.group(1)) if w.lower() not in STOP]
    names = [w.lower() for w, t in zip(words, stem_words([w.lower() for w in words]))
             if vocab.df.get(t, 0) and t not in subject.terms]
    if not names:
        return subject
    terms = stem_words(names)
    return subject.model_copy(update={"alternatives": [*subject.alternatives, *names],
                                      "alt_terms": [*subject.alt_terms, *terms],
                                      "df": max(subject.df, max(vocab.df.get(t, 0) for t in terms))})


def alternatives(subject: Subject, texts: Iterable[str], vocab: Vocabulary, limit: int = 3) -> Subject:
    """``subject`` with the other names that texts holding it give it in parentheses ("loperamide (Imodium)"):
    a single indexed word, itself rare in general English (a drug or condition name, not "pain (Imodium)")."""
    if " " in subject.name or english_zipf(subject.name.lower()) >= UNKNOWN_ZIPF + 0.5:
        return subject  # a phrase, or an everyday word: its parentheses gloss it, they do not rename it
    pat = _paren_pairs(subject.name)
    seen: Counter[str] = Counter()
    for text in texts:
        for m in pat.finditer(text):
            other = " ".join((m.group(1) or m.group(2) or "").lower().split())
            if not other or other == subject.name.lower() or other.split()[0] in STOP or other.split()[-1] in STOP \
                    or other in GENERIC:
                continue
            seen[other] += 1
    names, terms = [], []
    for other, _ in seen.most_common():
        # a name of a few words ("herpes zoster"), each rare in general English ("except cyclooxygenase inhibitors"
        # is no name), is searched whole and named by its rarest word
        word = min(other.split(), key=english_zipf)
        t = stem_words([word])[0]
        if t == subject.term or t in terms or vocab.df.get(t, 0) == 0 or max(map(english_zipf, other.split())) >= 4.0:
            continue
        if _plural(other.split()[-1]):
            continue  # a plural names a class ("anticonvulsants (gabapentin)", "medications (NSAIDs)"), not one thing
        if subject.df and not _same_thing(subject.term, t, vocab):
            continue
        names.append(other)
        terms.append(t)
        if len(names) >= limit:
            break
    if not names:
        return subject
    # a name the index writes only once is held to like any name when the index gives it another name there
    # ("sertraline (Zoloft)"): it is no misspelling
    strong = subject.strong or (is_name(subject.name) and subject.df <= NAME_MAX_DF)
    return subject.model_copy(update={"alternatives": names, "alt_terms": terms, "strong": strong})


# a drug's class, as the indexed text writes it beside the drug: "anticonvulsants such as clonazepam or gabapentin",
# "antiepileptics including gabapentin", "the antidepressant bupropion (Wellbutrin)", "gabapentin is an
# anticonvulsant", "anticonvulsants (gabapentin)". A class word is a content word that is not generic ("drugs",
# "medications" name no class), not a negation ("non-benzodiazepine"), not a verb or adverb form ("taking
# bupropion (Zyban)")
_NOT_CLASS = frozenset("""drug drugs medication medications medicine medicines agent agents product products pill pills
tablet tablets option options treatment treatments therapy therapies substance substances compound compounds
remedy remedies supplement supplements other others newer older common commonly used including such""".split())
_LIST_ITEMS = r"(?:[^.;:!?()]|\([^()]*\)){0,160}?"


CLASS_MAX_ZIPF = 4.2  # a class word is no everyday English word ("against", "other", "contain": Zipf above 4.2)
# a class's head is a noun of a drug class ("antihistamines", "antidepressant", "inhibitor", "statin", "steroid",
# "antibiotic", "sedative", "anti-inflammatory"), not an adjective the texts put before a name ("make you sleepy, including …")
_CLASS_HEAD = re.compile(r"(?:s|ant|ic|or|ory|in|ine|ide|id|ol|er|ive|al|ate)$|^anti")


def _class_words(phrase: str) -> list[str]:
    """The class name a phrase ends with: its last run of class words, after any generic head ("anti-inflammatory"
    of "nonsteroidal anti-inflammatory drugs"; "antiepileptics" of "or against antiepileptics"), or the class's
    acronym the phrase is ("PPIs" of "proton pump inhibitors (PPIs) include omeprazole")."""
    found = re.findall(r"[A-Za-z][A-Za-z-]*", phrase)
    if len(found) == 1 and re.fullmatch(r"[A-Z]{3,}s", found[0]):  # a class's acronym ("PPIs", "SSRIs", "NSAIDs")
        return [found[0].lower()]
    words = [w.lower() for w in found]
    while words and words[-1] in _NOT_CLASS:
        words.pop()
    run: list[str] = []
    for w in reversed(words):
        if (len(w) < 5 or w in _NOT_CLASS or w in STOP or w in GENERIC or w.startswith("non")
                or re.search(r"(?:ing|ed|ly)$", w) or english_zipf(w) >= CLASS_MAX_ZIPF
                or (not run and not _CLASS_HEAD.search(w))):
            break
        run.insert(0, w)
    return run


def subject_classes(subject: Subject, texts: Iterable[str]) -> set[frozenset[str]]:
    """The classes the texts put the subject in, each the stemmed words of its name ("selective serotonin reuptake
    inhibitor": all four; what is said of "antidepressants" may be said of bupropion). Empty for a subject of
    several words."""
    names = [subject.name, *subject.alternatives]
    if any(" " in n for n in names):
        return set()
    name = "(?:" + "|".join(re.escape(n) for n in names) + ")"
    pats = (rf"\b((?:[A-Za-z][\w-]*\s+){{0,2}}[A-Za-z][\w-]*)\s*(?:\(([^()]*)\)\s*)?,?\s+(?:such as|including|includes?|like|"
            rf"e\.g\.,?|for example,?)\s+{_LIST_ITEMS}\b{name}\b",
            rf"\b([A-Za-z][\w-]*)\s+{name}\s*\(",
            rf"\b{name}\b(?:\s*\([^()]*\))?\s+(?:is|are)\s+an?\s+((?:[A-Za-z][\w-]*\s+){{0,3}}[A-Za-z][\w-]*)",
            rf"\b([A-Za-z][\w-]*s)\s*\(\s*(?:[\w-]+\s*,\s*)*{name}\b")
    found: set[frozenset[str]] = set()
    for text in texts:
        for pat in pats:
            for m in re.finditer(pat, text, re.I):
                phrase = m.group(2) if (m.lastindex or 0) >= 2 and m.group(2) else m.group(1)
                words = frozenset(stem_words(_class_words(phrase or ""))) - subject.terms
                if words:
                    found.add(words)
    return found


def speaks_of(subject: Subject, text: str) -> bool:
    """Whether a text (a passage with its title and headings, or a sentence) names the subject."""
    return subject.named_in(term_set(text))
