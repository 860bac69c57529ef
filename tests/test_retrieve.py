"""Retrieve-stage helpers that need no index: question segments."""

from __future__ import annotations

from qa_bot.retrieve import question_segments


def test_segments_of_a_long_message_questions_first():
    msg = ("DVT. Can a birth control called Ocella cause DVT? My daughter has pain and swelling in her thigh. "
           "Also these symptoms worsened after she gave birth.")
    segs = question_segments(msg)
    assert segs[0] == "DVT. Can a birth control called Ocella cause DVT?"  # the subject line joins its question
    assert segs[1:] == ["My daughter has pain and swelling in her thigh.",
                        "Also these symptoms worsened after she gave birth."]


def test_no_segments_for_one_sentence_and_at_most_four():
    assert question_segments("What is Noonan syndrome?") == []
    assert question_segments("Noonan syndrome. What is it?") == []  # one segment after joining
    many = " ".join(f"Sentence number {i} has five words." for i in range(8))
    assert len(question_segments(many)) == 4


def test_misspelling_match_keeps_the_first_letter_and_an_edit_budget():
    from qa_bot.retrieve import _near_df

    df = {"diagnos": 40, "pontin": 5, "cofactor": 9, "arrhythmia": 30, "amantadin": 3}
    common = list(df)
    assert _near_df("dianos", common, df) == 40  # one edit
    assert _near_df("arrhthmia", common, df) == 30
    assert _near_df("epoetin", common, df) == 0  # two edits from "pontin", another first letter
    assert _near_df("cefaclor", common, df) == 0  # two edits from "cofactor": over the 1-edit budget of 8 letters
    assert _near_df("rimantadin", common, df) == 0  # two edits from "amantadin", another first letter
    assert _near_df("ab", common, df) == 0  # too short to guess


def test_lexical_scoring_runs_while_the_question_is_embedded(indexed_settings, monkeypatch):
    """The lexical side (10-60 ms at 1M chunks) is scored on another thread while the question is embedded and
    searched: the embedding here waits until the lexical scores exist, which a sequential retrieval never gives."""
    import threading

    from qa_bot.store import get_store
    from qa_bot.retrieve import Retriever

    r = Retriever(get_store(indexed_settings), indexed_settings)
    scored = threading.Event()
    real_lex, real_embed = r.lexical_scores, r._embed_many

    def lexical_scores(query):
        out = real_lex(query)
        scored.set()
        return out

    def embed(texts):
        assert scored.wait(60), "the lexical scores were not computed while the question was embedded"
        return real_embed(texts)
    monkeypatch.setattr(r, "lexical_scores", lexical_scores)
    monkeypatch.setattr(r, "_embed_many", embed)
    result = r.retrieve("Should adults be screened for high blood pressure?")
    assert result.passages and result.passages[0].features


def test_the_question_is_embedded_apart_from_its_sub_questions(indexed_settings, monkeypatch):
    """One batch pads every sub-question to the whole question's length; apart, 35 % less time, same vectors."""
    import numpy as np

    from qa_bot.embed import get_embedder
    from qa_bot.store import get_store
    from qa_bot.retrieve import Retriever

    r = Retriever(get_store(indexed_settings), indexed_settings)
    embedder = get_embedder(indexed_settings.embedding_model, indexed_settings.torch_threads)
    texts = ["My mother is 62 and has high blood pressure readings at home, should she be screened and should "
             "she take aspirin?", "Should she be screened?", "Should she take aspirin?"]
    batches = []
    real = embedder.encode
    monkeypatch.setattr(embedder, "encode", lambda t, *a, **k: batches.append(list(t)) or real(t, *a, **k))
    got = r._embed_many(texts)
    assert batches == [texts[:1], texts[1:]]
    assert np.allclose(got, real(texts), atol=1e-5)


def test_what_was_read_of_one_index_version_is_not_reused_for_the_next():
    """An acronym's use counts belong to the lexical index they were read from: a new version (a new index object,
    possibly at the address of the freed old one, the acronym table carried over) is read again."""
    from qa_bot.retrieve import Retriever
    from qa_bot.settings import Settings

    class Store:
        def __init__(self) -> None:
            self.index, self.table, self.counts = object(), {"TIA": "transient ischaemic attack"}, {"TIA": 9}

        def lexical(self):
            return self.index, []

        def acronyms(self):
            return self.table

    store = Store()
    r = Retriever(store, Settings())
    r.chunk_frequency = lambda phrase, scope=None: store.counts.get(phrase, 1)  # TIA in 9 chunks, its long form in 1
    assert r.usable_acronyms() == {}  # the corpus's usual name: not expanded
    store.counts = {"TIA": 1}  # the next version: the long form is as common
    store.index = object()
    assert r.usable_acronyms() == {"TIA": "transient ischaemic attack"}
    assert r.mostly_short("TIA", "transient ischaemic attack") is False


def test_chunks_with_reads_what_the_whole_index_says_of_a_term(indexed_settings):
    """The composer's index-wide check (``CorpusStats.chunks_with``): chunks holding every one of the terms, in the
    collections a question may see, at most ``limit``."""
    from qa_bot.compose import CorpusStats
    from qa_bot.retrieve import Retriever
    from qa_bot.store import get_store
    from qa_bot.text import term_set

    r = Retriever(get_store(indexed_settings), indexed_settings)
    found = r.chunks_with(["blood", "pressur"], limit=5)
    assert 0 < len(found) <= 5 and all({"blood", "pressur"} <= term_set(c.text + " " + c.context) for c in found)
    assert r.chunks_with(["zzqxnotaword"]) == []
    assert r.chunks_with(["blood", "pressur"], collections=["no-such-collection"], limit=5) == []
    # the query's best chunks first (BM25), when more chunks hold the terms than are read
    scores, ids = r.lexical_scores("blood pressure screening in adults")
    ranked = r.chunks_with(["blood"], limit=3, query="blood pressure screening in adults")
    got = [scores[ids.index(c.chunk_id)] for c in ranked]
    assert got == sorted(got, reverse=True) and got[0] == max(scores[i] for i in r.rows_with(["blood"]))
    stats = CorpusStats.of(r)
    assert [c.chunk_id for c in stats.chunks_with(["blood", "pressur"], 5)] == [c.chunk_id for c in found]


def test_a_subject_line_is_a_short_noun_phrase_before_the_message():
    """A consumer's message often opens with its subject line ("Prednisone. My husband has been on …"): a short
    first sentence that asks nothing and names no one; not a web form's label, nor a first sentence of the message."""
    from qa_bot.retrieve import subject_line

    assert subject_line("Prednisone. My husband has been on Prednisone for almost a year.") == "Prednisone"
    assert subject_line("Jock Itch. I have Jock itch, and I have read through your symptoms.") == "Jock Itch"
    assert subject_line("Testing for EDS. I would like to know where I can be tested.") == "Testing for EDS"
    assert subject_line("What is Noonan syndrome?") is None  # one sentence: no line above a message
    assert subject_line("I have diabetes. Can I eat sugar?") is None  # a sentence of the message, not its line
    assert subject_line("Is it inherited? My son has it.") is None  # a question
    assert subject_line("ClinicalTrials.gov - General Complaint. Whom should I consult?") is None  # a form's label
    assert subject_line("Periodic liver tests for patients on statins every year. I was told so.") is None  # long


def test_a_message_under_a_subject_line_is_held_to_what_the_line_names(indexed_settings, monkeypatch):
    """A message of several sentences is not held to its rarest word (often a detail); under a subject line naming
    a subject documents are about, it is held to that subject."""
    from qa_bot.retrieve import Retriever
    from qa_bot.store import get_store

    r = Retriever(get_store(indexed_settings), indexed_settings)
    msg = ("Noonan syndrome. My grandson was told he may have it and gets dizzy spells at school. "
           "Should he see someone about the dizziness?")
    held = r.retrieve(msg).subject
    assert held is not None and held.term == "noonan" and held.strong
    # without the line the message is not held to a subject
    loose = r.retrieve(msg.split(". ", 1)[1]).subject
    assert loose is None or not loose.strong


def test_confidence_counts_the_subject_by_any_of_its_names(indexed_settings):
    """A passage on rivaroxaban covers a question on Xarelto: the subject's other names count as its own (a
    question naming a brand is not abstained on because the passages use the generic name)."""
    import re

    from qa_bot.retrieve import Retriever
    from qa_bot.store import get_store
    from qa_bot.types import Passage, Subject

    r = Retriever(get_store(indexed_settings), indexed_settings)
    chunk = r.chunks_with(["rivaroxaban"], limit=1)[0]
    generic = chunk.model_copy(update={"text": re.sub(r"\s*\(Xarelto\)", "", chunk.text)})
    assert "Xarelto" not in generic.text
    passage = Passage(chunk=generic, score=1.0, dense_score=0.5)
    question = "How long is Xarelto given after knee replacement?"
    subject = Subject(name="Xarelto", term="xarelto", df=2, alternatives=["rivaroxaban"], alt_terms=["rivaroxaban"],
                      words=["xarelto"], strong=True)
    without, why = r.confidence(question, [passage])
    held, why_held = r.confidence(question, [passage], subject=subject)
    assert "xarelto" in why and "xarelto" not in why_held
    assert held > without


def test_titled_counts_the_documents_whose_title_holds_a_phrase(indexed_settings):
    """The subject finder reads the indexed documents' titles (``Retriever.titled``): a phrase's stemmed words in
    order, in any part of a title; a collection scope counts only its documents."""
    from qa_bot.retrieve import Retriever
    from qa_bot.store import get_store
    from qa_bot.text import _TOKEN

    store = get_store(indexed_settings)
    r = Retriever(store, indexed_settings)
    titles = store.titles()
    assert titles and len(titles) <= store.count_docs()  # (an untitled document has none)
    title = next(t for t in titles if 2 <= len(_TOKEN.findall(t)) <= 5)  # (runs of up to five words are names)
    words = _TOKEN.findall(title)
    n = sum(1 for t in titles if t.lower() == title.lower())
    assert r.titled(title) >= n >= 1
    assert r.titled(" ".join(words[-2:]).upper()) >= 1  # a part of it, any case
    assert r.titled("zzqx unheard-of phrase") == 0
    other = sorted(set(store.collections()))
    assert r.titled(title, scope=("no-such-collection",)) == 0
    assert r.titled(title, scope=tuple(other)) == r.titled(title)


def test_the_passages_naming_a_drug_join_a_top_k_that_names_it_nowhere():
    from helpers import passage

    from qa_bot.retrieve import _with_subject
    from qa_bot.settings import Settings
    from qa_bot.types import Subject

    s = Settings()
    top = [passage("Only some medicines are safe during pregnancy.", f"preg{i}", chunk_id=f"preg{i}#0", score=1.0 - i / 10)
           for i in range(3)]
    naming = [passage("Acetaminophen is generally well tolerated.", f"apap{i}", chunk_id=f"apap{i}#0", score=0.5 - i / 10)
              for i in range(5)]
    tylenol = Subject(name="tylenol", term="tylenol", df=73, strong=True, words=["tylenol"],
                      alternatives=["acetaminophen"], alt_terms=["acetaminophen"])
    out = _with_subject(top, top + naming, tylenol, s)
    assert out[:3] == top  # the ranking stays (hit@k is retrieval's)
    assert [p.chunk.doc_id for p in out[3:]] == ["apap0", "apap1", "apap2"]  # retrieval.subject_passages, best first
    assert _with_subject(top[:2] + naming[:1], top + naming, tylenol, s) == top[:2] + naming[:1]  # already named
    # a subject word that names no drug ("workup") may be what no passage is about: not held to
    workup = Subject(name="workup", term="workup", df=40, strong=True, words=["workup"])
    workup_naming = [passage("The donor workup includes testing.", "w", chunk_id="w#0", score=0.2)]
    assert _with_subject(top, top + workup_naming, workup, s) == top
