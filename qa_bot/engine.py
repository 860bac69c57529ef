"""The one engine entry point: ``answer(question, history, settings) -> Answer``.

The CLI, the web UI and the evals all call this module; none has retrieval or answer logic of its own.
Stages: rewrite (follow-ups → standalone question) → retrieve (hybrid + re-rank) → compose (extractive
by default, or an optional LLM whose sentences are verified) → disclaimer (added here, by code).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import BadQuestionError
from .settings import Settings
from .types import Answer, Turn


@dataclass
class StreamEvent:
    """What ``stream_answer`` yields: ``stage`` (name of the stage starting), ``token`` (LLM text as it
    arrives, not yet verified), and a final ``answer`` (the verified Answer, replacing any streamed text)."""

    kind: str
    text: str = ""
    answer: Answer | None = None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def clean_question(question: Any, settings: Settings) -> str:
    """Normalise a user question; raise BadQuestionError with a readable reason."""
    if not isinstance(question, str):
        raise BadQuestionError("the question must be text")
    q = unicodedata.normalize("NFKC", question)
    q = _CONTROL.sub(" ", q)
    q = re.sub(r"\s+", " ", q).strip()
    if not q:
        raise BadQuestionError("the question is empty: type a clinical question")
    if len(q) > settings.max_question_chars:
        raise BadQuestionError(f"the question is {len(q):,} characters long; the limit is "
                               f"{settings.max_question_chars:,} (QA_BOT_MAX_QUESTION_CHARS). Shorten it to the question itself.")
    if not re.search(r"\w", q):
        raise BadQuestionError("the question has no words in it")
    return q


def coerce_history(history: Sequence[Turn | dict] | None) -> list[Turn]:
    out: list[Turn] = []
    for h in history or ():
        out.append(h if isinstance(h, Turn) else Turn.model_validate(h))
    return out


def answer(question: str, history: Sequence[Turn | dict] | None = None, settings: Settings | None = None,
           **overrides: Any) -> Answer:
    """Answer ``question`` in the context of ``history`` (earlier turns, oldest first).

    ``overrides`` are settings fields for this call only (``audience="patient"``, ``doc_types=[...]``…).
    """
    final: Answer | None = None
    for ev in stream_answer(question, history, settings, **overrides):
        if ev.kind == "answer":
            final = ev.answer
    assert final is not None
    return final


def stream_answer(question: str, history: Sequence[Turn | dict] | None = None, settings: Settings | None = None,
                  **overrides: Any) -> Iterator[StreamEvent]:
    from .compose import compose, finalize
    from .retrieve import get_retriever
    from .rewrite import standalone_question

    settings = settings or Settings()
    if overrides:
        settings = settings.model_copy(update=overrides)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    q = clean_question(question, settings)
    turns = coerce_history(history)

    yield StreamEvent("stage", "rewrite")
    t = time.perf_counter()
    standalone = standalone_question(q, turns, settings)
    timings["rewrite"] = (time.perf_counter() - t) * 1000

    yield StreamEvent("stage", "retrieve")
    t = time.perf_counter()
    retrieval = get_retriever(settings).retrieve(standalone, settings)
    timings["retrieve"] = (time.perf_counter() - t) * 1000
    timings.update({f"retrieve.{k}": v for k, v in retrieval.timings_ms.items()})

    yield StreamEvent("stage", "compose")
    t = time.perf_counter()
    result = compose(q, standalone, retrieval.passages, settings,
                     confidence=(retrieval.confidence, retrieval.confidence_reason), search=retrieval.search_query)
    if retrieval.expansions:
        result = result.model_copy(update={"expansions": retrieval.expansions})
    timings["compose"] = (time.perf_counter() - t) * 1000

    if settings.llm and not result.abstained:
        from .llm import generate  # optional path: fluent wording, verified citations, safe fallback

        t = time.perf_counter()
        for ev in generate(q, standalone, turns, retrieval.passages, settings, fallback=result):
            if ev.kind == "answer":
                result = ev.answer
            else:
                yield ev
        timings["llm"] = (time.perf_counter() - t) * 1000

    timings["total"] = (time.perf_counter() - t0) * 1000
    yield StreamEvent("answer", answer=finalize(result, settings, timings))
