"""Chunker: model-window budget measured with the model's tokenizer, sentence boundaries, offsets, metadata;
over-long headings shortened, never a crash."""

from __future__ import annotations

import pytest
from conftest import FIXTURE_CORPUS, SEED_EXPERT, SEED_GUIDELINE

from qa_bot.chunk import MODEL_WINDOW, chunk_document, split_sentences, token_counter
from qa_bot.load import load
from qa_bot.settings import Settings
from qa_bot.types import SourceDocument

S = Settings()


def chunks_of(doc):
    from qa_bot.chunk import chunk_document

    return chunk_document(doc, S).chunks


def test_every_fixture_chunk_fits_the_window_and_points_into_the_text():
    counter = token_counter(S.embedding_model)
    res = load([FIXTURE_CORPUS], S)
    n = 0
    for doc in res.documents:
        for c in chunks_of(doc):
            n += 1
            assert doc.text[c.start:c.end] == c.text
            # measured with the model's tokenizer, special tokens included: nothing is truncated
            assert counter.count([c.embed_text])[0] + 2 <= MODEL_WINDOW
            assert c.content_hash and c.doc_id == doc.doc_id and c.collection == doc.collection
            assert c.section_id and c.doc_type in {"guideline", "expert_answer", "comment"}
    assert n > 200


def test_long_section_splits_at_sentence_boundaries():
    sentence = "Patients with chronic kidney disease should have their estimated glomerular filtration rate checked. "
    text = "## Monitoring\n" + sentence * 60
    doc = SourceDocument(doc_id="ckd", text=text, title="CKD")
    from qa_bot.load import markdown_sections

    doc.sections = markdown_sections("ckd", text, "CKD")
    cs = chunks_of(doc)
    assert len(cs) > 3
    for c in cs:
        assert c.text.startswith("Patients") and c.text.endswith("checked.")
        assert c.heading_path == ["CKD", "Monitoring"]


def test_overlong_sentence_is_split_not_truncated():
    words = " ".join(f"word{i}" for i in range(600))
    doc = SourceDocument(doc_id="long", text=words + ".", title=None)
    cs = chunks_of(doc)
    assert len(cs) >= 3
    assert " ".join(c.text for c in cs).replace(" .", ".") == words + "."


def test_abbreviations_do_not_break_sentences():
    text = "Give 5 mg i.v. daily, e.g. after meals. Dr. Smith et al. reported 2.5 vs. 3.1 mmol/L. Next one."
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans][-1] == "Next one."
    assert any(text[a:b].startswith("Give 5 mg i.v. daily, e.g. after meals.") for a, b in spans)


def test_seed_chunks_carry_structure():
    res = load([FIXTURE_CORPUS / "seeds"], S)
    by_id = {d.doc_id: d for d in res.documents}
    g = chunks_of(by_id[SEED_GUIDELINE])
    assert g[0].qtype == "question"  # the page's own question is kept apart from its answer
    first_answer = next(c for c in g if c.qtype != "question")
    assert first_answer.text.startswith("Stem cell therapy is not currently recommended")
    assert first_answer.published == "2025-11-03" and first_answer.doc_type == "guideline"
    assert any(c.markers == [1] for c in g)
    e = chunks_of(by_id[SEED_EXPERT])
    comments = [c for c in e if c.doc_type == "comment"]
    assert comments and all(c.author for c in comments)
    assert all(c.doc_type == "expert_answer" for c in e if "_answer" in c.section_id)


# --- an over-long heading or title -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "# " + " ".join(f"word{i}" for i in range(300)) + "\n\nGout is a form of arthritis. Colchicine treats flares.\n",
    "---\ntitle: " + " ".join(f"Title{i}" for i in range(150)) + "\n---\n# Gout\n\nGout is a form of arthritis.\n",
    "---\ntitle: " + "x" * 3000 + "\n---\n" + "".join(f"{'#' * (i % 6 + 1)} " + "deep heading " * 30 + "\n\nText.\n"
                                                      for i in range(12)),
])
def test_row2_an_over_long_heading_is_shortened_not_a_crash(tmp_path, text):
    f = tmp_path / "long.md"
    f.write_text(text)
    res = load([f], S)
    assert not res.errors
    chunks = chunk_document(res.documents[0], S).chunks
    assert chunks and all(c.n_tokens + 2 <= MODEL_WINDOW for c in chunks)
    body = res.documents[0].text
    assert all(c.text == body[c.start:c.end] for c in chunks)  # the text itself is never shortened
