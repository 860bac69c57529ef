"""LangChain adapters (``qa_bot.langchain``): a retriever and a Runnable over the engine, for apps built with LangChain.

Both are thin callers: :class:`QABotRetriever` returns the retrieve stage's ranked passages
(:func:`qa_bot.engine.search`) as ``Document``s carrying the citation metadata; :class:`QABotRunnable` returns the
engine's whole ``Answer`` (:func:`qa_bot.engine.answer`: rewrite, retrieve, compose, verify, disclaimer). Neither
has retrieval or answer logic of its own.

    from qa_bot.langchain import QABotRetriever, QABotRunnable

    docs = QABotRetriever(k=4, collections=["guidelines"]).invoke("How is gout treated?")
    answer = QABotRunnable().invoke({"question": "How is it treated?",
                                     "chat_history": [("human", "What is gout?"), ("ai", "Gout is …")]})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import ConfigDict, Field

from qa_bot.render import passage_record, passages_to_text
from qa_bot.settings import Settings
from qa_bot.types import Answer, Passage, Turn

_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant"}


def _filters(collections: Sequence[str] | None, doc_types: Sequence[str] | None,
             published_after: str | None) -> dict[str, Any]:
    """Engine overrides for the filters that are set (unset ones leave the settings' own)."""
    out: dict[str, Any] = {}
    if collections:
        out["collections"] = list(collections)
    if doc_types:
        out["doc_types"] = list(doc_types)
    if published_after:
        out["published_after"] = published_after
    return out


def passage_document(p: Passage, rank: int) -> Document:
    """A retrieved passage as a LangChain ``Document``: its text, and what a citation of it needs as metadata."""
    return Document(id=p.chunk.chunk_id, page_content=p.chunk.text, metadata=passage_record(p, rank))


def format_documents(docs: Sequence[Document]) -> str:
    """Retrieved documents as numbered context for a prompt: ``[n] title > heading (source, published)`` then the
    passage's text."""
    return passages_to_text([(d.metadata, d.page_content) for d in docs])


class QABotRetriever(BaseRetriever):
    """The engine's hybrid search (dense + lexical, re-ranked) as a LangChain retriever.

    ``settings`` (default: ``Settings()`` from the environment) says which index; ``collections``, ``doc_types``
    and ``published_after`` narrow the search (unset: the settings' own); ``k`` passages are returned (at most
    one per document, as the engine ranks them), and ``invoke(query, k=…)`` changes it for one call. Each
    ``Document``'s metadata: ``doc_id``, ``section_id``, ``chunk_id``, ``doc_type``, ``collection``, ``title``,
    ``heading``, ``source``, ``url``, ``published``, ``page`` (PDFs), ``grade``, ``rec_number``, ``rank``,
    ``score``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: Settings | None = None
    k: int = Field(4, ge=1)
    collections: list[str] | None = None
    doc_types: list[str] | None = None
    published_after: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None) -> list[Document]:
        from qa_bot.engine import search

        n = k or self.k
        result = search(query, self.settings or Settings(), top_k=n,
                        **_filters(self.collections, self.doc_types, self.published_after))
        return [passage_document(p, i) for i, p in enumerate(result.passages[:n], 1)]


def _turn(item: Any) -> Turn | None:
    """One earlier turn from what LangChain apps hold: a message, a ``(role, text)`` pair, a ``{"role",
    "content"}`` dict or a ``Turn``; system messages are skipped."""
    if isinstance(item, Turn):
        return item
    if isinstance(item, BaseMessage):
        role, content = item.type, item.text
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        role, content = item
    elif isinstance(item, dict):
        role, content = item.get("role"), item.get("content")
    else:
        raise TypeError(f"chat_history: cannot read a turn of type {type(item).__name__} (expected a message, a "
                        "(role, text) pair or a {'role', 'content'} dict)")
    if role in ("system", "developer"):
        return None
    if role not in _ROLES or not isinstance(content, str):
        raise ValueError(f"chat_history: a turn's role must be one of {', '.join(sorted(_ROLES))} (got {role!r}) "
                         "and its content text")
    return Turn(role=_ROLES[role], content=content)


def question_and_history(value: Any) -> tuple[str, list[Turn]]:
    """The Runnable's input: a question string, or a dict with ``question`` (or ``input`` / ``query``) and an
    optional ``chat_history`` (or ``history``) of earlier turns, oldest first."""
    if isinstance(value, str):
        return value, []
    if isinstance(value, BaseMessage):
        return value.text, []
    if not isinstance(value, dict):
        raise TypeError(f"QABotRunnable input: expected a question string or a dict with 'question', "
                        f"got {type(value).__name__}")
    question = next((value[k] for k in ("question", "input", "query") if k in value), None)
    if question is None:
        raise ValueError("QABotRunnable input: the dict has no 'question' (nor 'input' / 'query')")
    history = value.get("chat_history", value.get("history")) or []
    return question, [t for t in map(_turn, history) if t is not None]


class QABotRunnable(Runnable[Any, Answer]):
    """The engine's answer as a LangChain Runnable: input a question string or ``{"question", "chat_history"}``,
    output the ``Answer`` (sentences with citations, the structured citations, the disclaimer, abstention);
    ``qa_bot.render.answer_to_text`` turns it into text. Filters as for :class:`QABotRetriever`; ``audience``:
    "clinician" or "patient" (unset: the settings')."""

    def __init__(self, settings: Settings | None = None, *, collections: Sequence[str] | None = None,
                 doc_types: Sequence[str] | None = None, published_after: str | None = None,
                 audience: str | None = None) -> None:
        self.settings = settings
        self.overrides = _filters(collections, doc_types, published_after)
        if audience:
            self.overrides["audience"] = audience

    @property
    def InputType(self) -> type:  # noqa: N802 - LangChain's name
        return dict

    @property
    def OutputType(self) -> type[Answer]:  # noqa: N802 - LangChain's name
        return Answer

    def _answer(self, value: Any) -> Answer:
        from qa_bot.engine import answer

        question, history = question_and_history(value)
        return answer(question, history, self.settings or Settings(), **self.overrides)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:  # noqa: A002
        return self._call_with_config(self._answer, input, config, run_type="chain")
