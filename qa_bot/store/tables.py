"""What both stores derive from chunks: the metadata stored beside a vector, the publication date as a sortable
number, and the side tables built with the lexical index (boilerplate sentence templates, defined acronyms)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from ..acronyms import build as build_acronyms
from ..text import inline_items, split_sentences
from ..types import Chunk
from ..webpage import parse_date


@lru_cache(maxsize=10_000)
def published_ord(value: str | None) -> int:
    """YYYYMMDD of the latest date mentioned ("1996 (revised 2013 Mar 19)" → 20130319); 0 when unknown."""
    if not value:
        return 0
    best = 0
    for m in re.finditer(r"\d{4}-\d{2}-\d{2}|\d{4}(?:\s+[A-Z][a-z]{2,8}\.?(?:\s+\d{1,2})?)?", value):
        iso = parse_date(m.group(0)) if not re.fullmatch(r"\d{4}", m.group(0)) else f"{m.group(0)}-01-01"
        if iso:
            best = max(best, int(iso.replace("-", "")))
    return best


def chunk_metadata(c: Chunk) -> dict:
    meta = {"doc_id": c.doc_id, "section_id": c.section_id, "doc_type": c.doc_type, "collection": c.collection,
            "title": c.title, "source": c.source, "url": c.url, "published": c.published,
            "published_ord": published_ord(c.published), "heading": " > ".join(c.heading_path),
            "content_hash": c.content_hash}
    return {k: v for k, v in meta.items() if v is not None}


@lru_cache(maxsize=50_000)
def sentence_template(sentence: str, title: str | None) -> str:
    """A sentence with its document's topic masked and digits folded: equal templates = boilerplate."""
    s = sentence.lower()
    if title:
        s = s.replace(title.lower(), "<t>")
    s = re.sub(r"\d+", "0", s)
    s = re.sub(r"\W+", " ", s).strip()
    return hashlib.sha1(s.encode()).hexdigest()[:16]


TABLES_VERSION = 4  # what the side tables hold (2: boilerplate of a flattened list's items too; 3: of the
# sentences split at a glued stop, "symptoms.Older", too; 4: at a stop with reference marks glued, "placebo.[42] The")


def boilerplate_templates(chunks: Iterable[Chunk], min_docs: int = 25) -> set[str]:
    """The sentence templates that at least ``min_docs`` documents hold: of each sentence and, when it is a
    flattened list ("… Vacuolated lymphocytes - The Human Phenotype Ontology (HPO) has collected information …"),
    of each of its items, as the composer quotes them (``text.inline_items``)."""
    docs_of: dict[str, set[str]] = {}
    for c in chunks:
        for a, b in split_sentences(c.text):
            s = c.text[a:b].strip()
            parts = inline_items(s)
            for x, y in [(0, len(s)), *(parts if len(parts) > 1 else [])]:
                docs_of.setdefault(sentence_template(s[x:y], c.title), set()).add(c.doc_id)
    return {t for t, docs in docs_of.items() if len(docs) >= min_docs}


def side_tables(chunks: Sequence[Chunk]) -> tuple[str, str]:
    """(boilerplate JSON, acronyms JSON) of every chunk of an index: what both stores keep beside the lexical index
    (``boilerplate()``, ``acronyms()``)."""
    boiler_json = json.dumps(sorted(boilerplate_templates(chunks)))
    acr_json = json.dumps(build_acronyms([c.text for c in chunks if c.doc_type != "comment"]
                                         + sorted({c.population for c in chunks if c.population})), sort_keys=True)
    return boiler_json, acr_json
