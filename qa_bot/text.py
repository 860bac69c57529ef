"""Text analysis that several stages share: sentences, stopwords and stems, content and topic terms, question
types, negation and recommendation language.

One module so that chunk, retrieve, compose and verify agree on what a sentence, a content word or a negated
statement is (each used to keep its own copy).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache

from .parse.comparison import thresholds  # noqa: F401 - named here too (qa_bot.parse.comparison)
from .parse.names import looks_like_name  # noqa: F401 - named here too (qa_bot.parse.names)

_PARA = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d{1,2}[.)])\s)")


def _locate(para: str, sent: str, cursor: int) -> tuple[int, int] | None:
    i = para.find(sent, cursor)
    if i >= 0:
        return i, i + len(sent)
    # the segmenter normalised whitespace: match word by word, whitespace between them (what the regex
    # ``word\s+word…`` finds, without compiling one per sentence: that cost ~2 ms a sentence)
    words = sent.split()
    if not words:
        return None
    start = para.find(words[0], cursor)
    while start >= 0:
        pos = start + len(words[0])
        for w in words[1:]:
            j = pos
            while j < len(para) and para[j].isspace():
                j += 1
            if j == pos or not para.startswith(w, j):
                break
            pos = j + len(w)
        else:
            return start, pos
        start = para.find(words[0], start + 1)
    return None


# a sentence's full stop with the next sentence glued to it ("… before they show symptoms.Older children …": text
# scraped from web pages where a line break separated them): a word ending in two lower-case letters, its stop and
# a capitalised word; not a web address's parts ("www.ClinicalTrials.gov", "Cancer.Net"), nor "vs." or "et al."
_GLUED_STOP = re.compile(r"(?<!\bwww\.)(?<!\bvs\.)(?<!\bal\.)(?<=[a-z]{2}[.!?])"
                         r"(?=(?:[A-Z][a-z]{2,}|If|In|It|An|As|At|On|Or|So|To|We|He|No|Do|Be|My|Is|By)\b(?![./@]\w))"
                         r"(?!(?:Net|Gov|Org|Com|Edu)\b)")
# a stop with the source's reference marks glued to it, then the next sentence ("… compared with placebo.[42,43] The
# DPP reported …": the sentence splitter reads no stop there); the marks stay with the sentence they close
_CITED_STOP = re.compile(r"(?<=[a-z)%][.!?])\[\d[\d,;\s\u2013-]*\]\s+(?=[A-Z][a-z])")
_GLUE_HINT = re.compile(r"[a-z][.!?][A-Z]|[.!?]\[\d")  # what every glued stop holds: the full patterns run only there


def _unglued(sentence: str) -> list[tuple[int, int]]:
    """(start, end) within ``sentence`` of its parts split at glued sentence stops (``_GLUED_STOP``,
    ``_CITED_STOP``)."""
    if not _GLUE_HINT.search(sentence):
        return [(0, len(sentence))]
    cuts = sorted([m.start() for m in _GLUED_STOP.finditer(sentence)] + [m.end() for m in _CITED_STOP.finditer(sentence)])
    bounds = [0, *cuts, len(sentence)]
    return [(a, a + len(sentence[a:b].rstrip())) for a, b in zip(bounds, bounds[1:]) if sentence[a:b].strip()]


def split_sentences(text: str, base: int = 0, glued: bool = True) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) of ``text``; paragraphs and list items are hard boundaries, and (``glued``)
    a stop with the next sentence glued to it ("symptoms.Older") is a boundary too."""
    import blingfire

    spans: list[tuple[int, int]] = []
    pos = 0
    for m in [*_PARA.finditer(text), None]:
        end = m.start() if m else len(text)
        para = text[pos:end]
        if para.strip():
            cursor = 0
            for sent in blingfire.text_to_sentences(para).split("\n"):
                sent = sent.strip()
                loc = _locate(para, sent, cursor) if sent else None
                if loc is None:
                    continue
                parts = _unglued(para[loc[0]:loc[1]]) if glued else [(0, loc[1] - loc[0])]
                spans.extend((base + pos + loc[0] + a, base + pos + loc[0] + b) for a, b in parts)
                cursor = loc[1]
        pos = m.end() if m else len(text)
    return spans


# --- question types ------------------------------------------------------------------------------
QTYPES: list[tuple[str, re.Pattern]] = [
    ("treatment", re.compile(r"\b(treat\w*|therap\w*|cure[sd]?|manag\w*|medication|drugs?|surgery|remed\w*|"
                             r"rehabilitat\w*|options?)\b", re.I)),
    ("symptoms", re.compile(r"\b(symptoms?|signs?|feel|features?|look like|manifest\w*)\b", re.I)),
    ("causes", re.compile(r"\b(caus\w*|why|reasons?|triggers?|etiolog\w*)\b", re.I)),
    ("exams and tests", re.compile(r"\b(diagnos\w*|tests?|testing|screen\w*|detect\w*|exams?)\b", re.I)),
    ("prevention", re.compile(r"\b(prevent\w*|avoid\w*|reduce (the )?risk)\b", re.I)),
    ("inheritance", re.compile(r"\b(inherit\w*|hereditary|passed down|runs? in (the )?famil\w*)\b", re.I)),
    ("genetic changes", re.compile(r"\b(genes?|genetic changes?|mutations?|genetic)\b", re.I)),
    ("frequency", re.compile(r"\b(how (common|many|often|rare)|prevalence|incidence|frequen\w*)\b", re.I)),
    ("outlook", re.compile(r"\b(outlook|prognosis|life expectancy|surviv\w*|recover\w*)\b", re.I)),
    ("susceptibility", re.compile(r"\b(at risk|who (gets|is at)|risk factors?|susceptib\w*)\b", re.I)),
    ("complications", re.compile(r"\b(complications?|lead to|side effects?)\b", re.I)),
    ("stages", re.compile(r"\b(stages?|staging)\b", re.I)),
    ("research", re.compile(r"\b(research|clinical trials?|studies)\b", re.I)),
    ("information", re.compile(r"^\s*(what (is|are)|define|definition)\b", re.I)),
]


def slug(text: str, limit: int = 48) -> str:
    """A section id's readable part: lower-case letters and digits joined by hyphens ("section" when none)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].rstrip("-") or "section"


def question_types(text: str) -> set[str]:
    found = {name for name, pat in QTYPES if pat.search(text or "")}
    if len(found) > 1:
        found.discard("information")
    return found


STOP = set("""a an the of for to in on at by with and or is are was were be been being do does did can could should would
may might will shall what which who whom whose when where why how that this these those it its their there here about
from as into than then so such i me my we our you your he she his her they them not no if any some more most also
has have had please tell know want get getting there help""".split())
GENERIC = set("""treatment treatments treat treated therapy symptoms symptom cause causes causing diagnosis diagnosed test
tests information disease condition disorder syndrome people person patient patients risk outlook prevention prevent
inherited inheritance genetic changes common option options doctor use used best way ways type types new information
long term help work does affect effects effect""".split())
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*[a-z0-9]|[a-z0-9]")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern: what the lexical vocabulary is made of


_STEMMER_LOCK = threading.Lock()  # a PyStemmer object is not safe to share between threads


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stem_words(words: list[str]) -> list[str]:
    with _STEMMER_LOCK:
        return _stemmer().stemWords(words)


def content_terms(text: str) -> list[str]:
    """Stemmed content words (no stopwords)."""
    words = [w for w in _WORD.findall((text or "").lower()) if w not in STOP and len(w) > 1]
    return stem_words(words)


@lru_cache(maxsize=50_000)
def term_set(text: str) -> frozenset[str]:
    """``content_terms`` as a set, cached: passages and their sentences are scored again and again."""
    return frozenset(content_terms(text))


def topic_terms(text: str) -> set[str]:
    """Content words that name the topic (not generic question words)."""
    words = [w for w in _WORD.findall((text or "").lower()) if w not in STOP and w not in GENERIC and len(w) > 2]
    return set(stem_words(words))



NEGATIVE = re.compile(r"\b(not (currently |yet |routinely )?(recommended|proven|effective|approved|supported|available|"
                      r"used)|no (proven |clear |good )?(evidence|benefit)|insufficient|failed to|unproven|"
                      r"recommends against|should not|do not|does not (work|help)|ineffective|not been shown)\b", re.I)
POSITIVE = re.compile(r"\b(could|may|might|promis\w*|potential|hope\w*|effective|improv\w*|restor\w*|benefit\w*|"
                      r"regenerat\w*|recommend(s|ed)?)\b", re.I)




# --- recommendation language ---------------------------------------------------------------------------
# a grade or strength tag as guidelines print it: "( Strong For )", "( Weak Against; Reviewed, New-added )",
# "(Strong Recommendation, Low-Quality Evidence)", "[A]", "(Grade B)", "(strong, moderate certainty)"
GRADE_TAG = re.compile(
    r"[(\[]\s*(?P<g>(?:strong|weak|moderate|conditional|limited|insufficient)\b[^()\[\]]{0,70}?|grade\s+[A-DI]\b[^()\[\]]{0,20}?|"
    r"level\s+[A-C]\b[^()\[\]]{0,20}?|[A-D][0-9]?|I|expert opinion|consensus)\s*[)\]]", re.I)
RECOMMEND = re.compile(
    r"\b(?:recommend(?:s|ed)?|suggest(?:s|ed)?|advis(?:e|es|ed)|should(?:\s+not)?|must(?:\s+not)?|is\s+(?:not\s+)?(?:recommended|indicated|"
    r"required)|(?:do|does)\s+not\s+(?:use|offer|give|routinely|prescribe|screen|perform)|concludes?\s+that\s+the\s+"
    r"(?:current\s+)?evidence\s+is\s+insufficient|insufficient\s+evidence|selectively\s+offer|clinicians?\s+"
    r"(?:should|offer|provide|refer|prescribe|screen)|offer|refer|initiate|avoid|consider|"
    r"is\s+(?:an?\s+)?(?:option|reasonable|preferred)|may\s+be\s+considered)\b", re.I)
# a sentence that only points elsewhere ("See Table 2", "(For more information, go to …)", "Learn more about …")
POINTER = re.compile(r"^\(?\s*(?:see|refer\s+to|for\s+(?:more|additional|further)\s+(?:information|details)|"
                     r"(?:to\s+)?learn\s+more|read\s+more\s+about|"
                     r"(?:table|figure|box|appendix|exhibit|algorithm)\s+[\dA-Z]+\b)|\b(?:see|refer\s+to)\s+(?:the\s+)?"
                     r"(?:original\s+guideline|ngc\s+summary|\"[^\"]+\"\s+section|modeling\s+report|table|figure|appendix|"
                     r"box|exhibit|algorithm)|\((?:see\s+)?(?:table|figure|box|appendix)\s+[\dA-Z]+\)\s*\.?\s*$", re.I)


CLOSED_VERB = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|does|did|can|could|may|might|must|shall|should|"
                          r"will|would|recommends?|suggests?|includes?|requires?|needs?)\b", re.I)


# a list's item quoted without its lead-in: it starts lower case ("hunger", "eating several small meals", "may be
# used with statins") or runs several items together with dashes before any verb ("acarbose (Precose) - metformin
# (Glucophage) - miglitol …"); a word written with a capital inside ("pH", "mRNA") is a sentence's start
_LOWER_START = re.compile(r"[a-z]+\b(?![-'’]?[A-Z])")
_ITEM_DASH = re.compile(r"\s[-–•]\s")


def is_list_item(sentence: str) -> bool:
    """A list item quoted without the sentence that introduces it: no bottom line (what it lists is not said)."""
    s = (sentence or "").strip()
    if _LOWER_START.match(s) and not re.match(r"(?:e\.g|i\.e|vs|etc)\b", s):
        return True
    parts = _ITEM_DASH.split(s)
    return len(parts) >= 3 and not CLOSED_VERB.search(parts[0])


def inline_items(s: str, base: int = 0) -> list[tuple[int, int]]:
    """MedQuAD flattens lists into one sentence ("Symptoms are - A - B - C"): split it into its items. A list of
    one item is one too when what comes before its dash states nothing (no verb: a table's header and its only
    cell) and a sentence follows it ("Signs and Symptoms Approximate number of patients (when available)
    Autosomal recessive inheritance - The Human Phenotype Ontology (HPO) has collected … condition."), not a
    table cell's parts ("Dexamethasone 12mg bd IVI (60kg) - (0,4mg/kg/d): initial stabilization …")."""
    dashes = s.count(" - ")
    if len(s) < 160 or dashes < 1:
        return [(base, base + len(s))]
    if dashes == 1:
        before, after = s.split(" - ", 1)
        if CLOSED_VERB.search(before) or not (re.match(r"[A-Z][a-z]", after) and CLOSED_VERB.search(after)
                                               and re.search(r"[.!]\s*$", after)):
            return [(base, base + len(s))]
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in [*re.finditer(r" - ", s), None]:
        end = m.start() if m else len(s)
        piece = s[pos:end]
        lead = len(piece) - len(piece.lstrip())
        if piece.strip() and not re.search(r"\b(are|include|includes|including|such as|as follows)\s*:?$", piece.strip(),
                                           re.I):
            spans.append((base + pos + lead, base + pos + lead + len(piece.strip())))
        pos = m.end() if m else len(s)
    if spans:  # the last item run into the sentence after the list ("- dry mouth Some side effects can be serious.")
        a, b = spans[-1]
        last = s[a - base:b - base]
        m = re.match(r"([a-z](?:\S*\s+){0,7}?\S*[a-z)])\s+(?=[A-Z][a-z]+\s)", last)  # (an item in lower case)
        if m and not CLOSED_VERB.search(m.group(1)):
            rest = last[m.end():]
            if CLOSED_VERB.search(rest) and re.search(r"[.!]\s*$", rest) and len(rest.split()) >= 4:
                spans[-1:] = [(a, a + len(m.group(1))), (a + m.end(), b)]
    return spans


# a page's subheading run into the sentence after it (MedQuAD's flattened pages: "Diagnosis Can Take Time Symptoms of
# rheumatoid arthritis can be …", "Lipoproteins and Cholesterol Cholesterol circulates …", "What the Kidneys Do You
# have two kidneys."): the sentence's leading run of capitalised words (small words between them) is a heading and
# the run's last word the sentence's first, when the heading ends in a capitalised word of its own
_SMALL = frozenset("and or of the to for in on with a an is are your you not".split())
_CAP_WORD = re.compile(r"[A-Z][A-Za-z'’-]*$")
# the last words of English names of conditions ("stiff-person syndrome") and of bodies ("Ramsay Hunt Syndrome is
# …", "The Work Group suggests …"): a run ending in one is a name, not a heading before a sentence
CONDITION_HEADS = frozenset({"syndrome", "disease", "disorder"})
_NAME_ENDS = CONDITION_HEADS | frozenset("deficiency group college association society institute foundation force "
                                         "center centre organization department services council academy committee "
                                         "program network alliance".split())


def glued_heading(sentence: str, text: str = "") -> int:
    """Where the sentence starts after a subheading glued before it (0: none). The heading has two words or more,
    does not open with an article nor end in a small word; the sentence after it opens with a capitalised word (not
    an acronym, not the last word of a name), goes on in lower case and has at least four words and a full stop
    ("The American College of Obstetricians and Gynecologists recommends …", "Infants with Tay-Sachs disease …"
    have no heading). The heading's last word and the sentence's first written together elsewhere in ``text`` (the
    passage) are one name ("Treatment for Miller Fisher syndrome is …" where "Miller Fisher" recurs)."""
    words = list(re.finditer(r"\S+", sentence))
    end = 0  # words[:end] is the leading run
    while end < len(words):
        w = words[end].group(0)
        if _CAP_WORD.match(w):
            end += 1
        elif w in _SMALL and end + 1 < len(words) and _CAP_WORD.match(words[end + 1].group(0)):
            end += 1
        else:
            break
    if end < 3 or end >= len(words):
        return 0
    opener, last = words[end - 1].group(0), words[end - 2].group(0)
    if not re.fullmatch(r"[A-Z][a-z'’]+", opener) or last.lower() in _SMALL or opener.lower() in _NAME_ENDS \
            or not words[end].group(0)[:1].islower() or words[0].group(0) in ("The", "A", "An") \
            or words[end].group(0).lower() in _NAME_ENDS or is_fragment(sentence):
        return 0  # ("… Miller Fisher syndrome is …": a name; "See Acute Myeloid Leukemia for more information.")
    if text and len(re.findall(rf"\b{re.escape(last)}\s+{re.escape(opener)}\b", text)) > 1:
        return 0
    rest = sentence[words[end - 1].start():]
    if len(rest.split()) < 4 or not re.search(r"[.!]\s*$", rest):
        return 0
    return words[end - 1].start()


def grade_of(text: str) -> str | None:
    """The grade or strength tag in ``text`` ("Strong For", "B"), or None."""
    m = GRADE_TAG.search(text or "")
    if not m:
        return None
    g = re.sub(r"\s+", " ", m.group("g")).strip(" ;,")
    return g.split(";")[0].strip()


def is_grade_tag(text: str) -> bool:
    """A line that is only a grade tag ("( Weak For; Reviewed, New-added )")."""
    m = GRADE_TAG.search(text or "")
    return bool(m) and not re.sub(r"[\W_]+", "", text[:m.start()] + text[m.end():])


def is_recommendation(sentence: str) -> bool:
    """A sentence that states what to do (or not to do), as recommendation statements do."""
    return bool(RECOMMEND.search(sentence or ""))


_LINK = re.compile(r"\b(?:available|accessed|found|read more|web links?|visit)\b[^.]{0,100}(?:https?://|www\.)|"
                   r"(?:https?://|www\.)\S+\s*\.?\s*$", re.I)
_MARKUP = re.compile(r"</?(?:h\d|p|div|span|br|li|ul|ol|table|tr|td|a)\b[^>]*>", re.I)


@lru_cache(maxsize=50_000)
def is_fragment(sentence: str) -> bool:
    """Not a statement: a pointer to a figure/table/report, a heading or table cell, a bare grade tag, a footnote."""
    s = (sentence or "").strip()
    if len(s) < 12 or is_grade_tag(s) or POINTER.search(s):
        return True
    if re.fullmatch(r"[\W\d_a-z]{0,3}", s) or s.endswith((":", "?")):
        return True
    # a footnote of a table or chart ("‡ Condition associated with increased risk …", "* Consult …")
    if re.match(r"[‡†§¶*#]+\s*\w", s):
        return True
    # the lead-in of a list whose items are elsewhere ("Recommended intervals … include", "… can result from")
    if re.search(r"\b(?:include|includes|including|following|follows|such as|are|is|were|was|from|by|of|to|with|"
                 r"and|or)\s*$", s, re.I):
        return True
    # a definition or list item quoted without what it defines: it starts with its verb ("have accelerated
    # progression of CKD (see recommendation 1.3.5)"); a form's check-box labels ("… used for Yes No more than …")
    if re.match(r"(?:have|has|had|is|are|was|were|be|include|includes|mean|means|refers?)\b", s) or \
            re.search(r"\bYes\s+No\b|\bNo\s+Not applicable\b|[❑☐□]", s):
        return True
    # a reference-list heading, a web link, markup left in the text
    if (re.match(r"(?:references?|bibliography|sources?|resources?|abbreviations?|acronyms?)\b", s, re.I)
            or _LINK.search(s) or _MARKUP.search(s)):
        return True
    # no sentence ending and nothing that works as a verb: a heading, a label, a table cell, a noun phrase
    if not re.search(r"[.!]\s*$", s) and not CLOSED_VERB.search(s) and len(s.split()) < 12:
        return True
    return False


def recommendation_spans(text: str, grade: str | None = None) -> list[tuple[int, int, str]]:
    """(start, end, grade) of each recommendation statement in a chunk's text: a sentence that recommends,
    with the grade printed in it or in the bare tag that follows it (before the next statement), else
    ``grade`` (the section's)."""
    spans = split_sentences(text)
    out: list[tuple[int, int, str]] = []
    for i, (a, b) in enumerate(spans):
        s = text[a:b]
        if is_grade_tag(s) or not is_recommendation(s) or is_fragment(s):
            continue
        g = grade_of(s)
        if g is None:
            for a2, b2 in spans[i + 1:i + 6]:
                nxt = text[a2:b2]
                if is_grade_tag(nxt):
                    g = grade_of(nxt)
                    break
                if is_recommendation(nxt) and not re.match(r"^\s*[-*•]", text[max(0, a2 - 4):a2 + 1]):
                    break
        out.append((a, b, g or grade or ""))
    return out


# sections that describe the document rather than the care it recommends: not an answer to a clinical question
META_HEADING = re.compile(
    r"\b(?:objectives?|scope|target (?:population|users?)|intended users?|status|bibliographic|source\(s\)|funding|"
    r"financial|disclosures?|conflicts? of interest|acknowledg\w*|methodolog\w*|methods? (?:used|to)|"
    r"rating scheme|description of (?:the )?methods?|availability|copyright|disclaimer|qualifying statements?|"
    r"guideline developers?|committee|composition|adaptation|date released|companion documents?|patient resources?|"
    r"potential (?:benefits|harms)|implementation|inclusion criteria|endorser|keywords?|categories)\b", re.I)


# a sentence about the document or its summary rather than about care ("The recommendations … are organized into
# 6 modules", "Note from the … and the National Guideline Clearinghouse")
META_SENTENCE = re.compile(r"\b(?:are organized into|original guideline document|(?:this|the) (?:clinical practice )?"
                           r"guideline (?:is|was|does|updates|meets)|NGC summary|National Guideline Clearinghouse|"
                           r"^note from|(?:the|these|this) recommendations? (?:are|is|were|was) (?:based|developed)|"
                           r"grading (?:of|scheme)|levels? of evidence (?:are|is) defined)\b", re.I)


# words a clinician asks with and the words guidelines answer with (stems): "when do we admit?" is answered by
# "Hospitalize people with …", "which test first?" by "an initial nontreponemal test"
_SYNONYM_GROUPS = [
    {"admit", "admiss", "hospit"}, {"first", "initi"}, {"stop", "discontinu", "ceas", "cessat"},
    {"start", "begin", "commenc"}, {"harm", "advers"}, {"kid", "child", "pediatr", "paediatr"},
    {"dose", "dosag"}, {"often", "frequenc", "interv"}, {"avoid", "contraind"}, {"refer", "referr"},
    {"still", "persist"}, {"fridg", "refriger"}, {"repeat", "recheck", "re-check", "retest", "rescreen"},
]
SYNONYMS: dict[str, frozenset[str]] = {}
for _g in _SYNONYM_GROUPS:
    for _t in _g:
        SYNONYMS[_t] = SYNONYMS.get(_t, frozenset()) | frozenset(_g - {_t})


def _parts_found(t: str, found: Callable[[str], bool]) -> bool:
    """"door-to-analgesia" is found where "analgesia" is (its long words all are); "stop-bang" only where both are."""
    parts = [p for p in t.split("-") if len(p) > 2 and p not in STOP]
    long = [p for p in parts if len(p) >= 5] or parts
    return bool(long) and all(found(p) for p in long)


@lru_cache(maxsize=50_000)
def _pool_and_heads(other: frozenset[str] | set[str], prefix: int) -> tuple[frozenset[str], frozenset[str]]:
    """The words of ``other`` with the parts of its hyphenated ones, and their ``prefix``-letter heads (cached
    for a sentence's term set: it is matched against every question that weighs it)."""
    parts = {p for t in other if "-" in t for p in t.split("-") if p}
    pool = frozenset(other | parts)
    return pool, frozenset(t[:prefix] for t in pool if len(t) >= prefix)


def soft_overlap(terms: set[str], other: set[str], prefix: int = 6) -> set[str]:
    """Terms of ``terms`` found in ``other``, also when only their first ``prefix`` letters agree
    ("analgesia"/"analgesic", "hospitalize"/"hospitalization": stems the stemmer keeps apart), when ``other``
    has it as a part of a hyphenated word ("higher-intensity"), or a synonym of it (``SYNONYMS``)."""
    hits = terms & other
    rest = terms - hits
    if not rest:
        return hits
    pool, heads = (_pool_and_heads(other, prefix) if isinstance(other, frozenset)
                   else _pool_and_heads.__wrapped__(other, prefix))

    def found(t: str) -> bool:
        return (t in pool or (len(t) >= prefix and t[:prefix] in heads)
                or (t in SYNONYMS and any(x in pool or x[:prefix] in heads for x in SYNONYMS[t])))

    out = set(hits)
    for t in rest:
        # a hyphenated word of the question ("door-to-analgesia") is found when its long words are
        if found(t) or ("-" in t and _parts_found(t, found)):
            out.add(t)
    return out


# --- answer types ----------------------------------------------------------------------------------------
# a question that asks for an amount, a time, an age or a threshold …
EXPECTS_QUANTITY = re.compile(
    r"\b(?:how\s+(?:many|much|long|often|soon|fast|frequently|old)|what\s+(?:dose|age|interval|threshold|cutoff|"
    r"level|target)|dos(?:e|es|ing)|duration|interval|target|cut-?offs?|thresholds?|ceiling|limit|max(?:imum)?|"
    r"min(?:imum)?|frequency|when|at what|till|until|days?|weeks?|months?|years?|hours?|minutes?|mg|sessions?|"
    r"titrat\w*|schedule|course length|to what|"
    r"how\s+(?!(?:do|does|did|is|are|was|were|can|could|should|would|will|to|about|come|so)\b)[a-z]+)\b", re.I)
# … and a sentence that states one: a number with a unit, or a number word with one
QUANTITY = re.compile(
    r"\b(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|thirty)\s*(?:-|–|to|or)?"
    r"\s*(?:\d+(?:[.,]\d+)?\s*)?(?:(?:or more|or fewer|or less|contact|total|separate|consecutive)\s+){0,2}(?:%|percent|mg|mcg|µg|g/dl|g|kg|ml|mmol|mmhg|iu|units?|minutes?|min|hours?|hrs?|"
    r"days?|weeks?|wks?|months?|years?|y|times|sessions?|doses?|injections?|visits?|°f|°c|degrees|"
    r"kg/m\s?2|mg/dl|meq)\b|"
    r"\b(?:annual(?:ly)?|yearly|daily|weekly|monthly|once|twice|every (?:\d+|other|year|month|week|day)|"
    r"(?:at )?each (?:\w+ ){0,2}visit)\b", re.I)


_WITH_WORD = {k: re.compile(rf"\b{k}\s+([a-z][\w-]+)", re.I) for k in ("with", "without")}
_WITH_AT = {k: re.compile(rf"\b{k}\s+") for k in ("with", "without")}


@lru_cache(maxsize=1024)
def _with_positions(question: str) -> tuple[str, dict[str, tuple[int, ...]]]:
    """The lower-cased question and where the words after each "with" / "without" start."""
    q = question.lower()
    return q, {k: tuple(m.end() for m in rx.finditer(q)) for k, rx in _WITH_AT.items()}


# a case the question rules out: "no allergy", "without diabetes", "non-smoker" (a word of 4+ letters)
_RULED_OUT = re.compile(r"\b(?:no|without|non-?)\s*([a-z][a-z-]{3,})(?:\s+([a-z][a-z-]{2,}))?", re.I)


@lru_cache(maxsize=1024)
def _ruled_out(question: str) -> tuple[re.Pattern, ...]:
    """For each case the question rules out, a pattern of a sentence stating that case: a case label ("Penicillin
    allergy: clarithromycin", a table row) or "with/if/who have … allergy" (not the sentence's own "no allergy")."""
    out = []
    for m in _RULED_OUT.finditer(question):
        if m.group(1).lower() in CLAIM_STOP:  # ("no other": no case)
            continue
        # the case is its word ("no allergy —") or its two words ("no penicillin allergy": not penicillin itself)
        two = m.group(2) and m.group(2).lower() not in CLAIM_STOP
        w = re.escape((f"{m.group(1)} {m.group(2)}" if two else m.group(1)).lower().rstrip("s"))
        out.append(re.compile(rf"(?<!\bno )(?<!\bnon-)(?<!\bnon )(?<!\bwithout )\b(?:\w+ )?{w}\w*\s*:"
                              rf"|\b(?:with|if|who (?:have|has))\s+(?:(?!no\b|not\b|without\b)\w+\s+){{0,2}}{w}", re.I))
    return tuple(out)


def with_without(question: str, sentence: str) -> bool:
    """The sentence says "without X" where the question says "with X" (not "without X"), or the reverse."""
    q, at = _with_positions(question or "")
    for said, asked in (("without", "with"), ("with", "without")):
        for m in _WITH_WORD[said].finditer(sentence or ""):
            w = m.group(1).lower()
            if any(q.startswith(w, i) for i in at[asked]) and not any(q.startswith(w, i) for i in at[said]):
                return True
    return False


def contradicts(question: str, sentence: str) -> bool:
    """The sentence is about the opposite case of the question's: "migraine with aura" asked, "Without aura" said;
    "no allergy" asked, "Penicillin allergy: clarithromycin" or "in people with a penicillin allergy" said."""
    return with_without(question, sentence) or any(rx.search(sentence or "") for rx in _ruled_out(question or ""))


def expects_quantity(question: str) -> bool:
    return bool(EXPECTS_QUANTITY.search(question or ""))


def states_quantity(sentence: str) -> bool:
    return bool(QUANTITY.search(sentence or ""))


# --- claims (the support checker's vocabulary) -------------------------------------------------------------
CITE_MARK = re.compile(r"\[\s*\d+(?:\s*[-–,;]\s*\d+)*\s*\]")
WORD_TOKEN = re.compile(r"[A-Za-z0-9µ]+(?:[-'’][A-Za-z0-9]+)*")
CLAIM_STOP = set("""a an the and or but if then than that this these those there here of in on at to for from by with
without within into onto over under about as is are was were be been being am do does did done have has had having
it its it's they them their theirs he she his her we our you your i me my which who whom whose what when where why how
can could may might must shall should will would also such other others some any each every all both either more most
less least much many very so too just only even still yet again further once per via vs e.g i.e etc not no nor never
one ones s t""".split())
NEGATION_WORDS = {"no", "not", "never", "none", "nor", "neither", "without", "cannot", "nobody", "nothing", "unable",
                  "insufficient", "fails", "failed", "fail", "lack", "lacks", "lacking", "absence"}
NEGATION = re.compile(r"\b(?:no|not|never|none|nor|neither|without|cannot|nobody|nothing|unable|insufficient|"
                      r"lack(?:s|ing)?|absence\s+of|"
                      r"fail(?:s|ed)?\s+to|\w+n['’]t|(?:recommend\w*|advis\w*|argu\w*|caution\w*|counsel\w*)\s+against)\b",
                      re.I)
SCOPE_BREAK = re.compile(r"[,;:.()]|\b(?:but|however|whereas|while|although|instead|rather)\b", re.I)

@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    with _STEMMER_LOCK:
        return _stemmer().stemWord(w)




# --- who issued a guideline ----------------------------------------------------------------------------------
# bodies clinicians name in questions ("per VA/DoD", "USPSTF stance?") → words of their name in a document's
# source or title
BODIES: dict[str, tuple[str, ...]] = {
    "USPSTF": ("preventive services task force", "uspstf"), "VA": ("veterans affairs", "va/dod"),
    "DOD": ("department of defense", "va/dod"), "CDC": ("centers for disease control", "cdc"),
    "WHO": ("world health organization",), "NICE": ("national institute for health and care excellence", "nice"),
    "ACOG": ("american college of obstetricians",), "AAP": ("american academy of pediatrics",),
    "ACP": ("american college of physicians",), "AAFP": ("american academy of family physicians",),
    "IDSA": ("infectious diseases society",), "ADA": ("american diabetes association",),
    "AHA": ("american heart association",), "ACC": ("american college of cardiology",),
    "NHLBI": ("heart, lung, and blood institute", "nhlbi"), "ACS": ("american cancer society",),
    "NCCN": ("national comprehensive cancer network",), "ATS": ("american thoracic society",),
    "ASCO": ("american society of clinical oncology",), "AUA": ("american urological association",),
    "ACR": ("american college of radiology", "american college of rheumatology"),
    "AAN": ("american academy of neurology",), "L&I": ("labor and industries", "labor & industries"),
}


def issuing_bodies(question: str) -> set[str]:
    """The guideline bodies a question names (by their usual abbreviation)."""
    found = set()
    for tok in re.findall(r"[A-Za-z&]+(?:/[A-Za-z]+)?", question or ""):
        for part in tok.split("/"):
            if part.upper() in BODIES and (part.isupper() or part.upper() in {"DOD"}):
                found.add(part.upper())
    return found


def issued_by(chunk, bodies: set[str]) -> bool:
    """Whether a chunk's document comes from (or is titled for) one of ``bodies``."""
    hay = f"{chunk.source or ''} {chunk.title or ''}".lower()
    return any(name in hay for b in bodies for name in BODIES[b])
