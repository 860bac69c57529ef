"""Typed result objects, one per stage: load → chunk → index → retrieve → answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, computed_field

DocType = Literal["guideline", "expert_answer", "comment"]


# --- load ------------------------------------------------------------------------------------------
class Section(BaseModel):
    """A span of a document's cleaned text, with its heading path."""

    id: str
    heading_path: list[str] = Field(default_factory=list)
    start: int
    end: int
    doc_type: DocType | None = None  # overrides the document's (reader comments inside an expert page)
    qtype: str | None = None  # MedQuAD question type (treatment, causes, …)
    author: str | None = None  # reader comments
    date: str | None = None
    citation_markers: dict[int, list[int]] = Field(
        default_factory=dict, description="offset of a sentence end in the text → the page's own citation numbers")
    # guideline structure (recognised at loading; carried by every chunk of the section)
    kind: str | None = Field(None, description="recommendation | table_row | None (ordinary text)")
    grade: str | None = Field(None, description="a recommendation's grade or strength as the document gives it")
    population: str | None = Field(None, description="whom a recommendation is about")
    rec_number: str | None = Field(None, description="a recommendation's number in its document (\"1.3.9\", \"12\")")
    page_start: int | None = Field(None, description="1-based page of a paged source (PDF) where the section starts")
    page_end: int | None = None


class SourceDocument(BaseModel):
    """One document after loading and clean-up: text is what chunk offsets refer to."""

    doc_id: str
    text: str
    title: str | None = None
    doc_type: DocType = "expert_answer"
    collection: str = "user"
    source: str | None = None
    url: str | None = None
    published: str | None = None
    license: str | None = None
    path: str | None = None
    sections: list[Section] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    content_hash: str = ""
    page_map: list[tuple[int, int]] = Field(
        default_factory=list, description="paged sources (PDF): (text offset, 1-based page) where each page's text starts")
    notices: list[str] = Field(default_factory=list,
                               description="what loading reports about the file without failing it (pages without text)")
    facts: dict[str, float | int | list[int]] = Field(
        default_factory=dict, description="what reading the file found, for the ingest report: pages, ocr_pages, "
                                          "ocr_seconds, outline_entries, empty_pages, load_seconds")


class LoadError(BaseModel):
    path: str
    reason: str


class SkippedFile(LoadError):
    """A file deliberately not read (a symbolic link out of the folder given): reported, not a failure."""


class LoadResult(BaseModel):
    documents: list[SourceDocument] = Field(default_factory=list)
    errors: list[LoadError] = Field(default_factory=list)


# --- chunk -----------------------------------------------------------------------------------------
class Chunk(BaseModel):
    chunk_id: str
    doc_id: str
    section_id: str
    text: str
    heading_path: list[str] = Field(default_factory=list)
    doc_type: DocType
    collection: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    start: int
    end: int
    n_tokens: int
    content_hash: str
    qtype: str | None = None
    author: str | None = None
    markers: list[int] = Field(default_factory=list, description="the source's own citation numbers in this chunk")
    kind: str | None = None  # the section's kind, grade, population, recommendation number (see Section)
    grade: str | None = None
    population: str | None = None
    rec_number: str | None = None
    page_start: int | None = None  # pages of a paged source the chunk spans
    page_end: int | None = None
    recs: list[tuple[int, int, str]] = Field(
        default_factory=list, description="recommendation statements in the text: (start, end, grade or '')")

    @property
    def context(self) -> str:
        """Title > heading path: what the passage is about (it names a subject; it is not evidence)."""
        return self.context_of(self.title, self.heading_path)

    @staticmethod
    def context_of(title: str | None, heading_path: list[str]) -> str:
        return " > ".join(h for h in ([title] if title else []) + list(heading_path) if h)

    page_breaks: list[tuple[int, int]] = Field(
        default_factory=list, description="(offset in text, page) where a later page of the chunk starts")

    def page_at(self, offset: int) -> int | None:
        """The page of an offset in the chunk's text (paged sources only)."""
        if self.page_start is None:
            return None
        return max([self.page_start, *(pg for off, pg in self.page_breaks if off <= offset)])

    @property
    def embed_text(self) -> str:
        """What is embedded and lexically indexed: the heading path gives context to the passage."""
        return self.embed_text_of(self.title, self.heading_path, self.text)

    @staticmethod
    def embed_text_of(title: str | None, heading_path: list[str], text: str) -> str:
        """``embed_text`` from the three fields it reads (no Chunk built: the server store indexes a million)."""
        head = Chunk.context_of(title, heading_path)
        return f"{head}\n{text}" if head else text


class ChunkResult(BaseModel):
    doc_id: str
    chunks: list[Chunk]


# --- index -----------------------------------------------------------------------------------------
class DocumentReport(BaseModel):
    """What ingest read from one file, for the people who add documents (``qa-bot ingest --report``)."""

    path: str
    doc_id: str | None = None
    failed: str | None = Field(None, description="why the file was not indexed")
    pages: int | None = None
    ocr_pages: list[int] = Field(default_factory=list, description="pages read by OCR (no text layer)")
    ocr_seconds: float = 0.0
    headings: str = Field("", description="outline (the PDF's bookmarks) | inferred (layout or markup) | none")
    sections: int = 0
    tables: int = 0
    table_rows: int = 0
    forms: int = Field(0, description="check-list/form items read as items (their tick-box labels dropped)")
    recommendations: int = 0
    chunks: int = 0
    warnings: list[str] = Field(default_factory=list)
    seconds: float = 0.0


class IngestReport(BaseModel):
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    from_cache: int = 0
    skipped_unchanged: int = 0
    removed: int = 0
    failed: list[LoadError] = Field(default_factory=list)
    notices: list[LoadError] = Field(default_factory=list, description="loaded, with a remark (a page without text)")
    pending_vectors: int = 0
    seconds: float = 0.0
    per_document: list[DocumentReport] = Field(default_factory=list, description="what was read from each file")


class IndexStats(BaseModel):
    documents: int
    chunks: int
    vectors: int
    by_collection: dict[str, int]
    by_doc_type: dict[str, int]
    model: str
    store: str
    lexical_chunks: int
    version: int | None = None  # server mode: the published index version this process serves


# --- retrieve --------------------------------------------------------------------------------------
class Passage(BaseModel):
    """A retrieved chunk with its scores."""

    chunk: Chunk
    score: float = 0.0
    dense_score: float | None = None
    lexical_score: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None
    heading_match: float = 0.0
    features: dict[str, float] = Field(default_factory=dict)


class Subject(BaseModel):
    """What a question is about (``qa_bot.subject``): ``name`` as the user wrote it, ``term`` the indexed (stemmed)
    word that names it, ``df`` the chunks holding it (0: no indexed document mentions it), ``alternatives`` its
    other names in the indexed text ("loperamide (Imodium)") and their stemmed ``alt_terms``."""

    name: str
    term: str
    df: int = 0
    alternatives: list[str] = Field(default_factory=list)
    alt_terms: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list, description="the stemmed words of the name")
    headed: float = Field(0.0, description="share of the chunks holding it whose title or headings name it: how "
                                           "much documents are about it")
    strong: bool = Field(False, description="the answer is held to it: unknown to the index, or a subject that "
                                            "documents are about and that few chunks hold")
    head: str | None = Field(None, description="the stemmed head of a name of several words that a text must hold "
                                               "too (\"infect\" of \"respiratory infection\"), when its own term "
                                               "alone names other things")

    @property
    def terms(self) -> frozenset[str]:
        """Any of these in a text means the text speaks of the subject."""
        return frozenset((self.term, *self.alt_terms))

    def named_in(self, terms: frozenset[str] | set[str]) -> bool:
        """Whether a text's stemmed ``terms`` name the subject: another name of it, or its own term (with the
        ``head`` of its name when one is required: a text on "respiratory syncytial virus" shares only the modifier
        of "respiratory infection"), as the index reads the text (``holds_term``)."""
        return any(holds_term(terms, t) for t in self.alt_terms) or (
            holds_term(terms, self.term) and (self.head is None or holds_term(terms, self.head)))

    @property
    def display(self) -> str:
        return self.name if not self.alternatives else f"{self.name} ({', '.join(self.alternatives)})"


def holds_term(terms: frozenset[str] | set[str], term: str) -> bool:
    """Whether a text's stemmed ``terms`` hold the stemmed ``term`` as the index reads the text: the text splitter
    keeps a hyphenated word whole ("dentatorubral-pallidoluysian", "anti-fung") where the index's tokenizer splits
    it, so a part (of which a stem is the start: "dentatorubr" of "dentatorubral") or the closed spelling
    ("antifung") holds it too."""
    if term in terms:
        return True
    for t in terms:
        if "-" in t and (t.replace("-", "") == term or any(
                p == term or (len(term) >= 4 and p.startswith(term)) for p in t.split("-"))):
            return True
    return False


class RetrievalResult(BaseModel):
    query: str
    passages: list[Passage]
    subject: Subject | None = Field(None, description="the question's subject, when one was found")
    search_query: str = Field("", description="what was searched: the query with its acronyms' long forms")
    expansions: dict[str, str] = Field(default_factory=dict, description="acronym → long form defined by the corpus")
    timings_ms: dict[str, float] = Field(default_factory=dict)
    confidence: float = 1.0
    confidence_reason: str = ""


# --- answer ----------------------------------------------------------------------------------------
class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    n: int
    chunk_id: str
    doc_id: str
    section_id: str
    doc_type: DocType
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    heading: str | None = None
    page: int | None = Field(None, description="paged sources (PDF): the 1-based page where the cited span starts")
    quote: str = Field(description="the cited passage")
    spans: list[tuple[int, int]] = Field(default_factory=list, description="cited sentences' spans inside quote")

    @computed_field(  # type: ignore[prop-decorator]
        description="stable id of the cited passage and spans: GET /v1/passages/{id}")
    @property
    def id(self) -> str:
        return citation_id(self.chunk_id, self.spans, self.quote)


class AnswerSentence(BaseModel):
    text: str
    citations: list[int]
    group: str = Field("", description="bottom_line, a key-point heading, or conflicting_evidence")
    supported: bool | None = None
    note: str | None = Field(None, description="the recommendation's grade and date, from the cited passage's "
                                               "metadata, shown after the quote (\"grade B, 2021\"); for a unit "
                                               "that a quoted cross-reference names, that unit "
                                               "(\"recommendation 1.3.5; grade …\")")

    @property
    def display(self) -> str:
        """What the reader sees: the verbatim quote, then its grade and date."""
        return f"{self.text} ({self.note})" if self.note else self.text


class Answer(BaseModel):
    question: str
    standalone_question: str
    passages: list[Passage] = Field(default_factory=list)
    sentences: list[AnswerSentence] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    related: list[Citation] = Field(default_factory=list, description="nearest passages offered when abstaining")
    abstained: bool = False
    abstain_reason: str | None = None
    disclaimer: str
    audience: str = "clinician"
    composer: str = "extractive"
    notice: str | None = None
    expansions: dict[str, str] = Field(default_factory=dict,
                                       description="the question's acronyms and the long forms searched with them")
    dropped_sentences: int = 0
    unsupported_sentences: int = 0
    suggested_followups: list[str] = Field(default_factory=list)
    subject: str | None = Field(None, description="what the question is about, as the answer understood it")
    missing_aspects: list[str] = Field(default_factory=list,
                                       description="what was asked that the documents on the subject do not say")
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def bottom_line(self) -> list[AnswerSentence]:
        return [s for s in self.sentences if s.group == "bottom_line"]


def page_at(page_map: list[tuple[int, int]], offset: int) -> int | None:
    """The page of a text offset, from a document's page map ((offset, page) where each page's text starts)."""
    import bisect

    if not page_map:
        return None
    i = bisect.bisect_right([o for o, _ in page_map], offset) - 1
    return page_map[max(i, 0)][1]


def citation_id(chunk_id: str, spans: list[tuple[int, int]], quote: str) -> str:
    """``<chunk id, base64url>.<start-end_start-end>.<10 hex of the passage's SHA-256>``: the same passage and
    spans give the same id; the hash tells a changed passage from the one cited."""
    import base64
    import hashlib

    cid = base64.urlsafe_b64encode(chunk_id.encode("utf-8")).decode("ascii").rstrip("=")
    where = "_".join(f"{s}-{e}" for s, e in spans) or "0"
    return f"{cid}.{where}.{hashlib.sha256(quote.encode('utf-8')).hexdigest()[:10]}"


def parse_citation_id(cid: str) -> tuple[str, list[tuple[int, int]], str] | None:
    """(chunk id, spans, passage hash) of a citation id, or None when it is not one."""
    import base64
    import re

    m = re.fullmatch(r"([A-Za-z0-9_-]{1,1400})\.((?:\d{1,7}-\d{1,7})(?:_\d{1,7}-\d{1,7}){0,63}|0)\.([0-9a-f]{10})",
                     cid or "")
    if not m:
        return None
    try:
        chunk_id = base64.urlsafe_b64decode(m.group(1) + "=" * (-len(m.group(1)) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    spans = [] if m.group(2) == "0" else [tuple(int(x) for x in p.split("-")) for p in m.group(2).split("_")]
    return chunk_id, spans, m.group(3)  # type: ignore[return-value]


@dataclass
class StreamEvent:
    """What ``stream_answer`` yields: ``stage`` (name of the stage starting), ``token`` (LLM text as it
    arrives, not yet verified), and a final ``answer`` (the verified Answer, replacing any streamed text)."""

    kind: str
    text: str = ""
    answer: Answer | None = None
