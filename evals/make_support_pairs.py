"""Build evals/support_pairs.jsonl: labelled (sentence, passage, supported?) pairs for the support checker.

Deterministic (seeded): the same corpus gives the same file. Passages are real chunks of the bundled corpus
(``qa_bot.load.load`` + ``qa_bot.chunk.chunk_document``); sentences are derived from them:

supported      true        a sentence of the passage, verbatim
               paraphrase  synonyms, a lead-in ("Evidence indicates that …"), clause moves, parentheses dropped
               compressed  the main clause only, or two adjacent sentences merged into one
unsupported    number_swap a number, unit or frequency changed ("3 hours" → "2 hours", "daily" → "weekly")
               negation    a negation added or removed ("is recommended" → "is not recommended")
               entity_swap a condition/drug name or population replaced (title of another document, men ↔ women)
               other_doc   a sentence of another document: random, or the most similar of a sample (hard)

``split`` is ``dev`` or ``test`` by document (a document never feeds both): thresholds are chosen on dev.

    python evals/make_support_pairs.py [--out evals/support_pairs.jsonl] [--seed 13]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.chunk import chunk_document, split_sentences  # noqa: E402
from qa_bot.load import load  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402

QUOTA = {"true": 60, "paraphrase": 70, "compressed": 50, "number_swap": 60, "negation": 60, "entity_swap": 40,
         "other_doc": 60}
SAMPLE = {"uspstf": 45, "ngc": 45, "medquad": 130, "mediqa2019": 45, "mediqa2021": 35}

SYNONYMS = [
    ("recommends", "advises"), ("recommended", "advised"), ("should", "ought to"), ("approximately", "about"),
    ("helps", "aids"), ("help", "assist"), ("symptoms", "signs"), ("common", "frequent"), ("rare", "uncommon"),
    ("increases", "raises"), ("increase", "rise"), ("reduces", "lowers"), ("reduce", "lower"),
    ("decreases", "lowers"), ("important", "essential"), ("physicians", "doctors"), ("physician", "doctor"),
    ("begin", "start"), ("begins", "starts"), ("includes", "comprises"), ("include", "comprise"),
    ("occurs", "happens"), ("occur", "happen"), ("caused by", "due to"), ("because of", "due to"),
    ("treatment", "therapy"), ("medications", "drugs"), ("medication", "drug"), ("often", "frequently"),
    ("usually", "typically"), ("affects", "impacts"), ("affect", "impact"), ("individuals", "people"),
    ("evidence", "data"), ("determine", "establish"), ("shows", "demonstrates"), ("show", "demonstrate"),
    ("needs", "requires"), ("need", "require"), ("large", "big"), ("small", "little"), ("however", "but"),
    ("may", "can"), ("can", "may"), ("called", "known as"), ("develop", "get"), ("severe", "serious"),
    ("doctor", "physician"), ("identify", "detect"), ("assess", "evaluate"), ("improve", "enhance"),
    ("risk", "chance"), ("condition", "disorder"), ("disorder", "condition"), ("problems", "issues"),
]
LEADINS = ["Evidence indicates that ", "According to the source, ", "The guidance states that ",
           "It is reported that ", "In summary, "]
SWAP_POP = [("women", "men"), ("men", "women"), ("adults", "children"), ("children", "adults"),
            ("older", "younger"), ("younger", "older"), ("boys", "girls"), ("girls", "boys"),
            ("males", "females"), ("females", "males")]
SWAP_DRUG = [("aspirin", "ibuprofen"), ("warfarin", "heparin"), ("insulin", "metformin"),
             ("antibiotics", "antivirals"), ("corticosteroids", "antihistamines"), ("chemotherapy", "radiotherapy"),
             ("surgery", "radiation therapy"), ("mammography", "colonoscopy"), ("statin", "beta-blocker"),
             ("vaccine", "antibiotic"), ("ultrasonography", "MRI"), ("ultrasound", "CT scan")]
WORDNUM = {"one": "two", "two": "three", "three": "four", "four": "five", "five": "six", "six": "eight",
           "seven": "nine", "eight": "six", "ten": "twelve", "twice": "three times", "once": "twice"}
UNIT_SWAP = {"hours": "days", "days": "weeks", "weeks": "months", "months": "years", "years": "months",
             "mg": "g", "minutes": "hours", "daily": "weekly", "weekly": "monthly", "annually": "every 5 years",
             "annual": "biennial", "monthly": "weekly"}
NEG_ADD = [(r"\b(is|are|was|were)\b(?! not)", r"\1 not"), (r"\b(can|may|should|will|must|could|would)\b(?! not)",
            r"\1 not"), (r"\brecommends\b", "recommends against"),
           (r"\b(causes|increases|reduces|improves|prevents|affects|includes|requires)\b",
            lambda m: "does not " + m.group(1)[:-1])]
NEG_REMOVE = [(r"\b(is|are|was|were|can|may|should|will|must|does|do|did) not\b", r"\1"), (r"\bcannot\b", "can"),
              (r"\brecommends against\b", "recommends"), (r"\bdoes not (\w+)", r"\1s"), (r"\bno longer\b", "still"),
              (r"\bnever\b", "always"), (r"\bwithout\b", "with")]


def good_sentence(s: str) -> bool:
    w = s.split()
    return (8 <= len(w) <= 45 and s[-1:] in ".!" and not s.endswith(":") and s[0].isupper()
            and not re.search(r"https?:|www\.|\|", s) and sum(c.isalpha() for c in s) > 0.6 * len(s)
            and "?" not in s)


def lower_first(s: str) -> str:
    first = s.split()[0] if s.split() else s
    return s if len(first) > 1 and sum(c.isupper() for c in first) > 1 else s[0].lower() + s[1:]


def paraphrase(s: str, rng: random.Random) -> str | None:
    out, changes = s, 0
    syns = SYNONYMS[:]
    rng.shuffle(syns)
    for a, b in syns:
        rx = re.compile(rf"\b{re.escape(a)}\b", re.I)
        if rx.search(out) and changes < 3:
            out = rx.sub(lambda m: b.capitalize() if m.group(0)[0].isupper() else b, out, count=1)
            changes += 1
    noparen = re.sub(r"\s*\([^()]{1,80}\)", "", out)
    if noparen != out and len(noparen.split()) >= 6:
        out, changes = noparen, changes + 1
    m = re.match(r"(.+?), (because|since|although|if|when|as) (.+)\.$", out)
    if m and rng.random() < 0.7:
        out = f"{m.group(2).capitalize()} {m.group(3)}, {lower_first(m.group(1))}."
        changes += 1
    elif rng.random() < 0.5:
        out = rng.choice(LEADINS) + lower_first(out)
        changes += 1
    return out if changes >= 2 and out != s else None


def compress(s: str, nxt: str | None, rng: random.Random) -> str | None:
    if nxt and rng.random() < 0.4 and len((s + nxt).split()) <= 50:
        return s.rstrip(".") + ", and " + lower_first(nxt)
    parts = re.split(r"(?:, (?:which|and|but|while|including|such as|as well as)|; | - | – )", s)
    head = parts[0].strip().rstrip(",")
    if len(parts) > 1 and len(head.split()) >= 6:
        return head + "."
    noparen = re.sub(r"\s*\([^()]{1,120}\)", "", s)
    return noparen if noparen != s and len(noparen.split()) >= 6 else None


def number_swap(s: str, rng: random.Random) -> str | None:
    nums = list(re.finditer(r"(?<![\w.\[])(\d+(?:\.\d+)?)(?![\w.]*\])", s))
    nums = [m for m in nums if not re.match(r"(19|20)\d\d$", m.group(1))]  # years of publication: too easy
    options = []
    if nums:
        m = rng.choice(nums)
        v = float(m.group(1))
        if v == int(v):
            iv = int(v)
            new = str(rng.choice([iv + 1, iv + 2, max(0, iv - 1) if iv > 1 else iv + 3, iv * 2 if iv > 1 else iv + 5]))
        else:
            new = f"{v * 2:.{len(m.group(1).split('.')[1])}f}"
        if new != m.group(1):
            options.append(s[:m.start()] + new + s[m.end():])
    for w, r in WORDNUM.items():
        if re.search(rf"\b{w}\b", s):
            options.append(re.sub(rf"\b{w}\b", r, s, count=1))
    for u, r in UNIT_SWAP.items():
        if re.search(rf"(?<=\d )\b{u}\b|\b{u}\b(?= )" if u in {"daily", "weekly", "annually", "annual", "monthly"}
                     else rf"(?<=\d )\b{u}\b", s):
            options.append(re.sub(rf"\b{u}\b", r, s, count=1))
    return rng.choice(options) if options else None


def negate(s: str, rng: random.Random) -> str | None:
    for rx, rep in NEG_REMOVE:
        if re.search(rx, s):
            return re.sub(rx, rep, s, count=1)
    opts = [(rx, rep) for rx, rep in NEG_ADD if re.search(rx, s)]
    if not opts:
        return None
    rx, rep = rng.choice(opts)
    return re.sub(rx, rep, s, count=1)


def entity_swap(s: str, title: str | None, other_titles: list[str], rng: random.Random) -> str | None:
    if title:
        t = re.sub(r"\s*[:(].*$", "", title).strip()
        if len(t) >= 4 and re.search(re.escape(t), s, re.I):
            cands = [o for o in other_titles if o.lower() != t.lower()]
            return re.sub(re.escape(t), rng.choice(cands), s, count=1, flags=re.I)
    opts = [(a, b) for a, b in SWAP_DRUG + SWAP_POP if re.search(rf"\b{a}\b", s, re.I)]
    if not opts:
        return None
    a, b = rng.choice(opts)
    return re.sub(rf"\b{a}\b", lambda m: b.capitalize() if m.group(0)[0].isupper() else b, s, count=1, flags=re.I)


def content(s: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", s.lower())}


def collect_items(docs: list, settings: Settings) -> list[tuple]:
    """(doc, chunk text, sentence, next sentence or None, chunk) for every good sentence of the documents'
    chunks (chunks of two or more sentences), in document and chunk order, leaving out sentences found in
    several documents (boilerplate makes "another document" ambiguous)."""
    items = []
    for d in docs:
        for c in chunk_document(d, settings).chunks:
            spans = split_sentences(c.text)
            if len(spans) < 2:
                continue
            sents = [c.text[a:b] for a, b in spans]
            for i, s in enumerate(sents):
                if good_sentence(s) and "\n" not in s:
                    items.append((d, c.text, s, sents[i + 1] if i + 1 < len(sents) and good_sentence(sents[i + 1])
                                  else None, c))
    seen: dict[str, set[str]] = {}
    for d, _, s, _, _ in items:
        seen.setdefault(s, set()).add(d.doc_id)
    return [it for it in items if len(seen[it[2]]) == 1]


def sampled_documents(argv: list[str] | None, doc: str, out: str, seed: int, sample: dict[str, int],
                      suffixes: tuple[str, ...] = (".md",)) -> tuple[argparse.Namespace, random.Random, Settings, list]:
    """What both generators start with: their arguments (--out, --corpus, --seed), a seeded sample of ``sample[c]``
    files of each corpus collection, loaded and sorted by document id."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "evals" / out))
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--seed", type=int, default=seed)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    settings = Settings()
    corpus = Path(args.corpus)
    files: list[Path] = []
    for coll, n in sample.items():
        cand = sorted(p for p in (corpus / coll).rglob("*") if p.suffix in suffixes)
        files += rng.sample(cand, min(n, len(cand)))
    docs = sorted(load(files, settings).documents, key=lambda d: d.doc_id)
    return args, rng, settings, docs


def main(argv: list[str] | None = None) -> int:
    args, rng, settings, docs = sampled_documents(argv, __doc__, "support_pairs.jsonl", 13, SAMPLE)
    items = [it[:4] for it in collect_items(docs, settings)]  # (doc, chunk text, sentence, next sentence)
    titles = sorted({re.sub(r"\s*[:(].*$", "", d.title).strip() for d in docs if d.title and len(d.title) < 60})
    rng.shuffle(items)
    rows: list[dict] = []
    used: set[tuple[str, str]] = set()
    counts = dict.fromkeys(QUOTA, 0)
    makers = {
        "true": lambda it: it[2],
        "paraphrase": lambda it: paraphrase(it[2], rng),
        "compressed": lambda it: compress(it[2], it[3], rng),
        "number_swap": lambda it: number_swap(it[2], rng),
        "negation": lambda it: negate(it[2], rng),
        "entity_swap": lambda it: entity_swap(it[2], it[0].title, titles, rng),
    }
    per_doc: dict[str, int] = {}
    for cat in ["number_swap", "entity_swap", "negation", "compressed", "paraphrase", "true"]:
        for it in items:
            if counts[cat] >= QUOTA[cat]:
                break
            d, passage, s, _ = it
            if (d.doc_id, s) in used or per_doc.get(d.doc_id, 0) >= 4:
                continue
            out = makers[cat](it)
            if not out or (cat != "true" and out == s):
                continue
            used.add((d.doc_id, s))
            per_doc[d.doc_id] = per_doc.get(d.doc_id, 0) + 1
            counts[cat] += 1
            rows.append({"category": cat, "supported": cat in {"true", "paraphrase", "compressed"},
                         "sentence": out, "passage": passage, "doc_id": d.doc_id, "source_sentence": s})
    # sentences from another document: half random, half the most similar of a sample of 200
    for k, it in enumerate(x for x in items if (x[0].doc_id, x[2]) not in used):
        if counts["other_doc"] >= QUOTA["other_doc"]:
            break
        d, passage, s, _ = it
        cs = content(passage)
        others = [x for x in rng.sample(items, 200) if x[0].doc_id != d.doc_id
                  and len(content(x[2]) - cs) >= 0.3 * len(content(x[2]))]
        if k % 2:
            pick, sub = rng.choice(others), "random"
        else:
            pick, sub = max(others, key=lambda x: len(content(x[2]) & cs) / (len(content(x[2])) or 1)), "similar"
        used.add((d.doc_id, s))
        counts["other_doc"] += 1
        rows.append({"category": "other_doc", "supported": False, "sentence": pick[2], "passage": passage,
                     "doc_id": d.doc_id, "source_sentence": None, "note": f"{sub}, from {pick[0].doc_id}"})
    for r in rows:
        r["split"] = "dev" if int(hashlib.sha1(r["doc_id"].encode()).hexdigest(), 16) % 2 == 0 else "test"
    rows.sort(key=lambda r: (list(QUOTA).index(r["category"]), r["doc_id"], r["sentence"]))
    for i, r in enumerate(rows):
        r["id"] = f"sp{i:04d}"
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({k: r[k] for k in ["id", "category", "supported", "split", "sentence", "passage",
                                                   "doc_id", "source_sentence"]} | ({"note": r["note"]} if "note" in r
                                                                                    else {}),
                               ensure_ascii=False) + "\n")
    print(f"{len(rows)} pairs → {args.out}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
