"""qa_bot.langchain: the retriever passes langchain-tests' standard retriever tests, carries the citation metadata and
the collection filters, and both it and the answering Runnable work inside LCEL chains."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_tests.integration_tests import RetrieversIntegrationTests

from qa_bot.engine import answer
from qa_bot.errors import BadQuestionError
from qa_bot.langchain import QABotRetriever, QABotRunnable, format_documents
from qa_bot.render import answer_to_text
from qa_bot.settings import Settings

from conftest import SEED_EXPERT, SEED_GUIDELINE, SEED_QUESTION

pytestmark = pytest.mark.slow


class TestQABotRetrieverStandard(RetrieversIntegrationTests):
    """langchain-tests' standard retriever suite (k in the constructor and in invoke, invoke / ainvoke; its async
    test runs through pytest-asyncio's auto mode, set in pyproject.toml)."""

    settings: Settings | None = None

    @pytest.fixture(autouse=True)
    def _index(self, indexed_settings: Settings) -> None:
        type(self).settings = indexed_settings

    @property
    def retriever_constructor(self) -> type[QABotRetriever]:
        return QABotRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"settings": self.settings}

    @property
    def retriever_query_example(self) -> str:
        return "How should adults be screened for high blood pressure?"


def test_documents_carry_the_citation_metadata(indexed_settings: Settings):
    docs = QABotRetriever(settings=indexed_settings, k=indexed_settings.retrieval.top_k).invoke(SEED_QUESTION)
    assert docs and all(isinstance(d, Document) for d in docs)
    from qa_bot.store import require_index

    chunks = require_index(indexed_settings).get_chunks([d.id for d in docs])
    for rank, d in enumerate(docs, 1):
        c = chunks[d.id]
        m = d.metadata
        assert d.page_content == c.text
        assert (m["doc_id"], m["section_id"], m["chunk_id"], m["doc_type"], m["collection"]) == \
               (c.doc_id, c.section_id, c.chunk_id, c.doc_type, c.collection)
        assert (m["title"], m["source"], m["url"], m["published"], m["page"]) == \
               (c.title, c.source, c.url, c.published, c.page_start)
        assert m["rank"] == rank and isinstance(m["score"], float)
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
    assert len({d.metadata["doc_id"] for d in docs}) == len(docs)  # the engine's one passage per document
    # the documents an answer cites are among those the retriever returns for the same question
    a = answer(SEED_QUESTION, [], indexed_settings)
    assert {c.doc_id for c in a.citations} <= {d.metadata["doc_id"] for d in docs}
    assert {SEED_GUIDELINE, SEED_EXPERT} & {d.metadata["doc_id"] for d in docs}


def test_filters_are_respected(indexed_settings: Settings):
    q = "What are the treatment options after a stroke?"
    seeds = QABotRetriever(settings=indexed_settings, k=5, collections=["seeds"]).invoke(q)
    assert seeds and {d.metadata["collection"] for d in seeds} == {"seeds"}
    unfiltered = QABotRetriever(settings=indexed_settings, k=5).invoke(q)
    assert {d.metadata["collection"] for d in unfiltered} - {"seeds"}, "without the filter other collections come"
    guidelines = QABotRetriever(settings=indexed_settings, k=3, doc_types=["guideline"]).invoke(q)
    assert guidelines and {d.metadata["doc_type"] for d in guidelines} == {"guideline"}
    scoped = indexed_settings.model_copy(update={"collections": ["medquad"]})  # the settings' own filter
    assert {d.metadata["collection"] for d in QABotRetriever(settings=scoped, k=3).invoke(q)} == {"medquad"}


def test_bad_query_is_refused_with_the_engine_reason(indexed_settings: Settings):
    with pytest.raises(BadQuestionError, match="empty"):
        QABotRetriever(settings=indexed_settings).invoke("   ")
    with pytest.raises(ValueError, match="question"):
        QABotRunnable(indexed_settings).invoke({"chat_history": []})
    with pytest.raises(ValueError, match="role"):
        QABotRunnable(indexed_settings).invoke({"question": "What is gout?", "chat_history": [("tool", "x")]})


def test_retriever_in_a_chain(indexed_settings: Settings):
    retriever = QABotRetriever(settings=indexed_settings, k=2)
    context = (retriever | RunnableLambda(format_documents)).invoke(SEED_QUESTION)
    docs = retriever.invoke(SEED_QUESTION)
    assert context.startswith("[1] ") and "\n\n[2] " in context
    assert docs[0].page_content in context and docs[1].page_content in context
    assert docs[0].metadata["title"] in context
    # the usual RAG fan-out: context and question side by side, into a prompt template
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", "Answer from:\n{context}"), ("human", "{question}")])
    chain = {"context": retriever | format_documents, "question": RunnablePassthrough()} | prompt
    system, human = chain.invoke(SEED_QUESTION).to_messages()
    assert human.content == SEED_QUESTION and system.content == "Answer from:\n" + context


def test_runnable_returns_the_engine_answer(indexed_settings: Settings):
    direct = answer(SEED_QUESTION, [], indexed_settings)
    runnable = QABotRunnable(indexed_settings)
    for value in (SEED_QUESTION, {"question": SEED_QUESTION}, {"question": SEED_QUESTION, "chat_history": []}):
        got = runnable.invoke(value)
        assert got.sentences == direct.sentences and got.citations == direct.citations
        assert got.disclaimer == direct.disclaimer and not got.abstained
    # in an LCEL chain: the question passed through, the Answer rendered as text
    chain = {"question": RunnablePassthrough(), "chat_history": RunnableLambda(lambda _: [])} | runnable \
        | RunnableLambda(answer_to_text)
    assert chain.invoke(SEED_QUESTION) == answer_to_text(direct)
    # RunnablePassthrough.assign keeps the input next to the answer
    out = RunnablePassthrough.assign(answer=runnable).invoke({"question": SEED_QUESTION, "chat_history": []})
    assert out["question"] == SEED_QUESTION and out["answer"].citations == direct.citations


def test_runnable_follow_up_from_langchain_messages(indexed_settings: Settings):
    runnable = QABotRunnable(indexed_settings)
    turns = [{"role": "user", "content": "What is Noonan syndrome?"}, {"role": "assistant", "content": "…"}]
    direct = answer("How is it treated?", turns, indexed_settings)
    for history in ([SystemMessage("You are helpful."), HumanMessage("What is Noonan syndrome?"), AIMessage("…")],
                    [("human", "What is Noonan syndrome?"), ("ai", "…")], turns):
        got = runnable.invoke({"question": "How is it treated?", "chat_history": history})
        assert got.standalone_question == direct.standalone_question
        assert "Noonan syndrome" in got.standalone_question
        assert got.citations == direct.citations


def test_runnable_filters_and_audience(indexed_settings: Settings):
    a = QABotRunnable(indexed_settings, collections=["seeds"], audience="patient").invoke(SEED_QUESTION)
    assert a.audience == "patient" and a.citations
    assert {p.chunk.collection for p in a.passages} == {"seeds"}
