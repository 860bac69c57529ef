"""Build evals/support_adversarial.jsonl: (claim, cited passage) pairs built to fool the support checker.

Deterministic (seeded); rules, not hand-picked pairs. Passages are real chunks of the bundled corpus (guidelines
first: USPSTF, NGC, the seed pages; MedQuAD for plain answers). Each row carries the passage's ``context`` (title
and heading path, the part of ``Chunk.embed_text`` that is not the passage's own text): a checker may use it to
resolve what a sentence refers to, never as evidence.

unsupported  heading_echo   a claim built from the title / heading path words ("<topic> is recommended as a
                            standard treatment …"), the heading itself as a statement, or a passage sentence whose
                            subject is replaced by the heading topic; the passage does not state the topic
             negation       a negation of a passage sentence removed or added ("not recommended" → "recommended",
                            "recommends against" → "recommends", "is" → "is not")
             grade          a grade or strength changed ("Grade: B" → "Grade: A", "(B recommendation)", "[B]",
                            "strong" ↔ "weak", certainty high / moderate / low)
             number         a number, unit or frequency changed (``make_support_pairs.number_swap``)
             other_drug     a drug or population replaced by one the passage does not name
             stitched       a passage sentence joined to a sentence of another passage under the one citation
             wrong_passage  a sentence of another passage (same document, or the most similar of another
                            document) that this passage does not state
supported    paraphrase     reordered / synonyms (``make_support_pairs.paraphrase``), shortened to the main
                            clause, two neighbour sentences merged, the subject named from the title where the
                            passage says "It …", a grade restated as "(grade B)"

A claim is only labelled unsupported by rules that make it false for the cited passage (a changed number, grade,
negation or name; content the passage lacks: under half of its content words in the passage). ``split`` is
``dev`` or ``test`` by document.

    python evals/make_support_adversarial.py [--out evals/support_adversarial.jsonl] [--seed 17]
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))

import make_support_pairs as sp  # noqa: E402

from qa_bot.chunk import chunk_document, split_sentences  # noqa: E402
from qa_bot.verify import content_stems  # noqa: E402

QUOTA = {"heading_echo": 70, "negation": 60, "grade": 40, "number": 50, "other_drug": 50, "stitched": 40,
         "wrong_passage": 50, "paraphrase": 110}
SUPPORTED = {"paraphrase"}
SAMPLE = {"uspstf": 90, "ngc": 70, "seeds": 2, "medquad": 70}
GUIDELINES = {"uspstf", "ngc", "seeds"}
PER_DOC = 10

ECHO_TEMPLATES = ["{T} is recommended as a standard treatment for all patients.",
                  "The guideline recommends {t} for all adults.",
                  "{T} is strongly recommended.",
                  "{T} is the recommended first-line approach.",
                  "There is strong evidence that {t} improves outcomes."]
GENERIC_HEADING = re.compile(
    r"^(?:question|answer|summary|(?:major\s+)?recommendations?(?:\s+summary)?|summary of recommendations?|importance|"
    r"rationale|background|introduction|overview|discussion|methods?|references?|scope|definitions?|"
    r"clinical considerations|other considerations|implementation|research needs and gaps|table|figure|"
    r"guideline (?:status|objectives?)|target population|disease/condition\(s\)|.*\bgrades?\b.*)$", re.I)
ANAPHOR_START = re.compile(r"^(?:it|its|this|these|they|their|such|he|she|that|those|the\s+(?:condition|disorder|"
                           r"disease|syndrome|drug|medication|test|procedure|infection|virus|tumou?r|cancer))\b", re.I)
SUBJECT = re.compile(r"^(?P<np>[A-Z][\w-]*(?:\s+(?!is\b|are\b)[\w-]+){0,4}?)\s+(?P<v>is|are|should|must|may|can|"
                     r"improves|reduces|increases|results|causes|requires)\b")
DRUG_SWAP = [("aspirin", "clopidogrel"), ("clopidogrel", "aspirin"), ("warfarin", "dabigatran"),
             ("heparin", "warfarin"), ("metformin", "insulin"), ("insulin", "metformin"), ("statins?", "niacin"),
             ("tamoxifen", "letrozole"), ("raloxifene", "tamoxifen"), ("estrogen", "testosterone"),
             ("bupropion", "varenicline"), ("varenicline", "bupropion"), ("nicotine replacement", "bupropion"),
             ("folic acid", "vitamin B12"), ("vitamin D", "vitamin E"), ("calcium", "magnesium"),
             ("fluoride", "iodine"), ("iron", "zinc"), ("penicillin", "vancomycin"), ("doxycycline", "amoxicillin"),
             ("azithromycin", "ciprofloxacin"), ("ceftriaxone", "gentamicin"), ("amoxicillin", "doxycycline"),
             ("acetaminophen", "ibuprofen"), ("ibuprofen", "acetaminophen"), ("opioids?", "benzodiazepines"),
             ("antidepressants?", "antipsychotics"), ("antibiotics?", "antivirals"), ("corticosteroids?",
             "antihistamines"), ("chemotherapy", "radiotherapy"), ("mammography", "colonoscopy"),
             ("colonoscopy", "mammography"), ("ultrasonography", "MRI"), ("ultrasound", "CT scan"),
             ("methotrexate", "cyclophosphamide"), ("lithium", "valproate"), ("levothyroxine", "methimazole"),
             ("beta-blockers?", "calcium channel blockers"), ("ACE inhibitors?", "diuretics"),
             ("psychotherapy", "pharmacotherapy"), ("pharmacotherapy", "psychotherapy"),
             ("vaccination", "antibiotic prophylaxis"), ("cytology", "HPV testing"), ("HPV testing", "cytology")]
POP_SWAP = [("women", "men"), ("men", "women"), ("adults", "children"), ("children", "adults"),
            ("adolescents", "older adults"), ("older adults", "adolescents"), ("infants", "adolescents"),
            ("pregnant women", "postmenopausal women"), ("pregnant persons", "older adults"),
            ("postmenopausal women", "premenopausal women"), ("smokers", "nonsmokers"), ("boys", "girls"),
            ("girls", "boys"), ("newborns", "adolescents"), ("older", "younger"), ("younger", "older")]
GRADE_LETTER = {"A": "B", "B": "A", "C": "B", "D": "C", "I": "B"}
GRADE_RULES = [  # (pattern, replacement for the matched text)
    (re.compile(r"\b(Grade:?\s*)([ABCDI])\b"), lambda m: m.group(1) + GRADE_LETTER[m.group(2)]),
    (re.compile(r"\bgrade\s+([ABCDI])\b", re.I), lambda m: m.group(0)[:-1] + GRADE_LETTER[m.group(1)]),
    (re.compile(r"\(\s*([ABCDI])\s+recommendation\s*\)"), lambda m: m.group(0).replace(
        m.group(1), GRADE_LETTER[m.group(1)])),
    (re.compile(r"\[([ABCD])\]"), lambda m: f"[{GRADE_LETTER[m.group(1)]}]"),
    (re.compile(r"\b([Ss]trong|[Ww]eak|[Cc]onditional)(\s+recommendations?)\b"), lambda m: _flip_strength(m)),
    (re.compile(r"\b(high|moderate|low)(\s+certainty|-quality evidence|\s+quality evidence|-certainty)\b", re.I),
     lambda m: {"high": "low", "moderate": "high", "low": "high"}[m.group(1).lower()] + m.group(2)),
    (re.compile(r"\b(Level|Class)\s+(A|B|C|I|IIa|IIb|III)\b"),
     lambda m: f"{m.group(1)} " + {"A": "C", "B": "A", "C": "A", "I": "III", "IIa": "III", "IIb": "I",
                                   "III": "I"}[m.group(2)]),
]


def _flip_strength(m: re.Match) -> str:
    w = m.group(1)
    new = {"strong": "weak", "weak": "strong", "conditional": "strong"}[w.lower()]
    return (new.capitalize() if w[0].isupper() else new) + m.group(2)


def context_of(chunk) -> str:
    """The chunk's title and heading path, as ``Chunk.embed_text`` puts them before the text."""
    return " > ".join(h for h in ([chunk.title] if chunk.title else []) + chunk.heading_path if h)


def share_in(claim: str, passage_stems: set[str]) -> float:
    st = set(content_stems(claim))
    return len(st & passage_stems) / len(st) if st else 1.0


def topics(chunk) -> list[str]:
    """Topics named by the title and heading path ("Anxiety Disorders in Adults: Screening" → "screening for
    anxiety disorders in adults"), generic headings left out."""
    out = []
    if chunk.title:
        t = re.sub(r"\s*\(.*?\)", "", chunk.title).strip().rstrip(".")
        m = re.match(r"^(.+?):\s*(screening|preventive medication|counseling|behavioral counseling[\w ]*)$", t, re.I)
        if m:
            t = f"{m.group(2)} for {m.group(1)}"
        t = re.split(r"[:;.]", t)[0].strip()
        if 2 <= len(t.split()) <= 9 and not re.search(r"\b(?:statement|guidelines?|recommendations?)$", t, re.I):
            out.append(t)
    for h in chunk.heading_path:
        if "?" in h:  # MedQuAD's question headings
            continue
        h = re.sub(r"\s*\(.*?\)", "", h).strip().rstrip(".:")
        if GENERIC_HEADING.match(h) or not 2 <= len(h.split()) <= 8 or h in out:
            continue
        if len(set(content_stems(h))) >= 2:
            out.append(h)
    return out


def cap_first(s: str) -> str:
    return s[:1].upper() + s[1:]


def low_first(s: str) -> str:
    w = s.split()[0] if s.split() else s
    return s if sum(c.isupper() for c in w) > 1 else s[:1].lower() + s[1:]


def heading_echo(chunk, passage_stems: set[str], rng: random.Random, sentences: list[str]) -> tuple[str, str] | None:
    ts = [t for t in topics(chunk) if share_in(t, passage_stems) <= 1 / 3]
    if not ts:
        return None
    t = rng.choice(ts)
    kind = rng.random()
    if kind < 0.3:  # a passage sentence about something else, its subject replaced by the heading topic
        cands = [s for s in sentences if SUBJECT.match(s) and not ANAPHOR_START.match(s)]
        if cands:
            s = rng.choice(cands)
            m = SUBJECT.match(s)
            if not set(content_stems(m.group("np"))) <= set(content_stems(t)):
                return cap_first(t) + s[m.end("np"):], "subject_swap"
    if kind < 0.4 and len(t.split()) >= 3:
        return cap_first(t) + ".", "heading_statement"
    tpl = rng.choice(ECHO_TEMPLATES)
    return tpl.format(T=cap_first(t), t=low_first(t)), "template"


def grade_swap(text: str, rng: random.Random) -> str | None:
    opts = [(rx, f) for rx, f in GRADE_RULES if rx.search(text)]
    if not opts:
        return None
    rx, f = rng.choice(opts)
    return rx.sub(f, text, count=1)


def other_drug(s: str, passage: str, rng: random.Random) -> str | None:
    low = passage.lower()
    opts = [(a, b) for a, b in DRUG_SWAP + POP_SWAP if re.search(rf"\b{a}\b", s, re.I) and b.lower() not in low]
    if not opts:
        return None
    a, b = rng.choice(opts)
    return re.sub(rf"\b{a}\b", lambda m: cap_first(b) if m.group(0)[0].isupper() else b, s, count=1, flags=re.I)


def subject_resolved(s: str, chunk) -> str | None:
    """The first sentence of a passage headed by a question about the title: "It is caused by …" under "What
    causes Noonan syndrome?" → "Noonan syndrome is caused by …" (a dummy "it is important to …" is left)."""
    t = chunk.title or ""
    if (not chunk.text.lstrip().startswith(s) or not t or len(t.split()) > 6 or re.search(r"[:;(?.]", t)
            or not chunk.heading_path or t.lower() not in chunk.heading_path[-1].lower()):
        return None
    m = re.match(r"^(?:It|This condition|This disorder|This disease|The condition|The disorder)\s+(?=is|can|may|"
                 r"affects|causes|occurs|results)", s)
    if not m or re.match(r"^\S+\s+(?:is|was)\s+(?:\w+\s+){0,2}\w+\s+(?:to|that)\b", s):
        return None
    return t + " " + s[m.end():]


def grade_kept(sents: list[str], i: int) -> str | None:
    """A recommendation restated with its grade: "… recommends X (grade B)." from a USPSTF summary block
    ("Population: … Grade: B Recommendation: The USPSTF recommends X.")."""
    m = re.search(r"\bGrade:?\s*([ABCD])\b", sents[i])
    if not m:
        return None
    r = re.search(r"Recommendation:\s*(The USPSTF (?:strongly )?recommends[^.]{10,400})\.", sents[i])
    return f"{r.group(1)} (grade {m.group(1)})." if r else None


NEGATED = re.compile(r"\b(?:not|against|no longer|never|without|cannot)\b")


class Builder:
    """The rows under construction: quotas per category, at most ``PER_DOC`` a document, no (passage, claim) twice.
    Each ``add_*`` method is one family of rules; their order and the seeded ``rng`` make the output deterministic."""

    def __init__(self, rng: random.Random, items: list, chunks: list):
        self.rng, self.items, self.chunks = rng, items, chunks
        self.rows: list[dict] = []
        self.counts = dict.fromkeys(QUOTA, 0)
        self.per_doc: dict[str, int] = {}
        self.used: set[tuple[str, str]] = set()
        self.stems_of: dict[str, set[str]] = {}

    def pstems(self, text: str) -> set[str]:
        if text not in self.stems_of:
            self.stems_of[text] = set(content_stems(text))
        return self.stems_of[text]

    def add(self, cat: str, d, c, claim: str, src: str | None, sub: str, note: str | None = None) -> bool:
        claim = re.sub(r"\s+", " ", claim).strip()
        key = (c.chunk_id, claim)
        if self.counts[cat] >= QUOTA[cat] or key in self.used or self.per_doc.get(d.doc_id, 0) >= PER_DOC \
                or claim == src:
            return False
        self.used.add(key)
        self.per_doc[d.doc_id] = self.per_doc.get(d.doc_id, 0) + 1
        self.counts[cat] += 1
        self.rows.append({"category": cat, "subtype": sub, "supported": cat in SUPPORTED, "sentence": claim,
                          "passage": c.text, "context": context_of(c), "doc_id": d.doc_id, "chunk_id": c.chunk_id,
                          "source_sentence": src, "note": note})
        return True

    def add_heading_echoes(self) -> None:
        """Claims from the title / heading path, cited to a passage that does not state the topic."""
        for d, c in self.chunks:
            sents = [c.text[a:b] for a, b in split_sentences(c.text)]
            got = heading_echo(c, self.pstems(c.text), self.rng, [s for s in sents if sp.good_sentence(s)])
            if got:
                self.add("heading_echo", d, c, got[0], None, got[1], f"topic from: {context_of(c)}")

    def add_grades(self) -> None:
        """Every sentence (or sentence + neighbour) of a guideline chunk that states a grade or strength, changed."""
        for d, c in self.chunks:
            if d.collection not in GUIDELINES:
                continue
            sents = [c.text[a:b] for a, b in split_sentences(c.text)]
            for i, s in enumerate(sents):
                if not any(rx.search(s) for rx, _ in GRADE_RULES):
                    continue
                src = s if len(s.split()) >= 8 or i == 0 else sents[i - 1] + " " + s
                new = grade_swap(src, self.rng)
                if new and self.add("grade", d, c, new, src, "changed"):
                    break

    def add_sentence_changes(self) -> None:
        """Negations, numbers and drugs changed in one sentence."""
        rng = self.rng
        makers = {
            "negation": lambda it: (sp.negate(it[2], rng), "removed" if NEGATED.search(it[2]) else "added"),
            "number": lambda it: (sp.number_swap(it[2], rng), "swap"),
            "other_drug": lambda it: (other_drug(it[2], it[1], rng), "swap"),
        }
        for cat, make in makers.items():
            # negations: 60% flips of negated sentences ("not recommended" → "recommended"), then added negations
            removed = 0
            pool = sorted(self.items, key=lambda it: not NEGATED.search(it[2])) if cat == "negation" else self.items
            for it in pool:
                if cat == "negation" and NEGATED.search(it[2]) and removed >= 0.6 * QUOTA[cat]:
                    continue
                out, sub = make(it)
                if out and "with or with " in out:  # "with or without" → "with or with" says nothing new
                    continue
                if out and out != it[2] and self.add(cat, it[0], it[4], out, it[2], sub):
                    removed += sub == "removed"

    def add_foreign_content(self) -> None:
        """Stitched and wrong passage: content from another passage that this one lacks."""
        items, rng = self.items, self.rng
        by_doc: dict[str, list] = {}
        for it in items:
            by_doc.setdefault(it[0].doc_id, []).append(it)
        for k, it in enumerate(items):
            d, text, s, _, c = it
            same = [x for x in by_doc[d.doc_id] if x[4].chunk_id != c.chunk_id
                    and share_in(x[2], self.pstems(text)) < 0.5]
            if self.counts["stitched"] < QUOTA["stitched"] and same and k % 2 == 0:
                o = rng.choice(same)
                if self.add("stitched", d, c, s.rstrip(".") + ", and " + low_first(o[2]), s, "same document",
                            f"second half from {o[4].chunk_id}"):
                    continue
            if self.counts["wrong_passage"] < QUOTA["wrong_passage"]:
                if same and k % 4 == 1:
                    o = max(same, key=lambda x: share_in(x[2], self.pstems(text)))
                    self.add("wrong_passage", d, c, o[2], None, "same document", f"from {o[4].chunk_id}")
                elif k % 4 == 3:
                    others = [x for x in rng.sample(items, min(300, len(items))) if x[0].doc_id != d.doc_id
                              and share_in(x[2], self.pstems(text)) < 0.5]
                    if others:
                        o = max(others, key=lambda x: share_in(x[2], self.pstems(text)))
                        self.add("wrong_passage", d, c, o[2], None, "other document", f"from {o[4].chunk_id}")

    def add_paraphrases(self) -> None:
        """Supported paraphrases: the subject named from the title, a grade restated, then rewordings."""
        n_sub = 0
        for d, _, s, _, c in self.items:
            r = subject_resolved(s, c)
            if r and n_sub < 15 and self.add("paraphrase", d, c, r, s, "subject_from_title"):
                n_sub += 1
        n_grade = 0
        for d, c in self.chunks:
            sents = [c.text[a:b] for a, b in split_sentences(c.text)]
            for i in range(len(sents)):
                g = grade_kept(sents, i)
                if g and n_grade < 12 and self.add("paraphrase", d, c, g, sents[i], "grade_restated"):
                    n_grade += 1
                    break
        for k, it in enumerate(self.items):
            d, text, s, nxt, c = it
            if k % 3 == 0:
                out = sp.paraphrase(s, self.rng)
                sub = "reworded"
            elif k % 3 == 1:
                out = sp.compress(s, None, self.rng)
                sub = "shortened"
            else:
                out = (s.rstrip(".") + ", and " + low_first(nxt)) if nxt and len((s + nxt).split()) <= 50 else None
                sub = "merged"
            if out:
                self.add("paraphrase", d, c, out, s, sub)


def write_rows(rows: list[dict], out) -> None:
    """The rows, split by document (dev / test), sorted by category, numbered, one JSON object a line."""
    for r in rows:
        r["split"] = "dev" if int(hashlib.sha1(r["doc_id"].encode()).hexdigest(), 16) % 2 == 0 else "test"
    rows.sort(key=lambda r: (list(QUOTA).index(r["category"]), r["doc_id"], r["sentence"]))
    keys = ["id", "category", "subtype", "supported", "split", "sentence", "passage", "context", "doc_id",
            "chunk_id", "source_sentence", "note"]
    with open(out, "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            r["id"] = f"adv{i:04d}"
            f.write(json.dumps({k: r[k] for k in keys if r.get(k) is not None or k == "source_sentence"},
                               ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    args, rng, settings, docs = sp.sampled_documents(argv, __doc__, "support_adversarial.jsonl", 17, SAMPLE,
                                                     suffixes=(".md", ".txt"))
    items = sp.collect_items(docs, settings)  # (doc, chunk text, sentence, next sentence, chunk)
    chunks = [(d, c) for d in docs for c in chunk_document(d, settings).chunks if len(c.text.split()) >= 12]
    rng.shuffle(items)
    rng.shuffle(chunks)
    b = Builder(rng, items, chunks)
    b.add_heading_echoes()
    b.add_grades()
    b.add_sentence_changes()
    b.add_foreign_content()
    b.add_paraphrases()
    write_rows(b.rows, args.out)
    print(f"{len(b.rows)} pairs → {args.out}: {b.counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
