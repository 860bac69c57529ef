"""What users read is for users: no confidence figures, thresholds or internal ids in the answer text (they stay in
the JSON fields), a human title for every document, one reference entry per document, the source's own reference
marks set apart from the answer's [n]."""

from __future__ import annotations

import re
from pathlib import Path

from qa_bot.render import (answer_to_text, display_title, internal_leaks, reader_notice, reference_groups,
                            source_marks)
from qa_bot.types import Answer, AnswerSentence, Citation

ROOT = Path(__file__).resolve().parent.parent
DISCLAIMER = "Not medical advice."
INTERNAL_FIGURE = re.compile(r"\bconfidence\b|\bthreshold\b|\b\d?\.\d{2}\s*[<>]|topic weight", re.I)
ID_LIKE = re.compile(r"\b[A-Za-z]+\d*_\w*\d\w*\b")  # MAS2021_test_102_Answer1, GHR_0000879_Sec1


def cit(n: int, doc: str, **kw) -> Citation:
    base = dict(n=n, chunk_id=f"{doc}#s{n}::0", doc_id=doc, section_id=f"{doc}#s{n}", doc_type="expert_answer",
                quote="Some passage text.")
    return Citation(**{**base, **kw})


def test_source_marks_are_set_apart_and_the_quote_field_stays_verbatim():
    quote = "Smoking causes most cases of lung cancer.[46] Grade (A-55-80-30-15).[23] See [4][5] and [1, 2]."
    shown = source_marks(quote)
    assert "[" not in shown and "⁽⁴⁶⁾" in shown and "(A-55-80-30-15).⁽²³⁾" in shown and "⁽⁴⁾⁽⁵⁾" in shown
    c = cit(3, "d1", quote=quote, spans=[(0, 45)])
    a = Answer(question="q", standalone_question="q", disclaimer=DISCLAIMER, citations=[c],
               sentences=[AnswerSentence(text=quote[:45], citations=[3], group="bottom_line")])
    text = answer_to_text(a)
    assert "lung cancer.⁽⁴⁶⁾ [3]" in text and "[46]" not in text
    assert a.citations[0].quote == quote  # the JSON keeps the source's text as it is


def test_every_document_gets_a_human_title_never_its_id():
    assert display_title(cit(1, "MAS2021_test_102_Answer1", title=None)) == "“Some passage text”"
    assert display_title(cit(1, "x", title="MAS2021_test_102_Answer1", heading="Treatment")) == "Treatment"
    assert display_title(cit(1, "x", url="https://ghr.nlm.nih.gov/condition/cystic-fibrosis")) == \
        "Cystic fibrosis (ghr.nlm.nih.gov)"
    assert display_title(cit(1, "x", quote="What is cystic fibrosis?: Cystic fibrosis is inherited.")) == \
        "What is cystic fibrosis?"
    assert display_title(cit(1, "x", title="NICE NG133")) == "NICE NG133"


def test_the_reference_list_has_one_entry_per_document():
    url = "https://example.org/lung"
    cs = [cit(1, "g", doc_type="guideline", title="Lung cancer screening", heading="Eligibility", url=url),
          cit(2, "e", title="Other"), cit(3, "g", doc_type="guideline", title="Lung cancer screening",
                                          heading="Interval", url=url, page=4)]
    assert [[c.n for c in g] for g in reference_groups(cs)] == [[1, 3], [2]]
    a = Answer(question="q", standalone_question="q", disclaimer=DISCLAIMER, citations=cs,
               sentences=[AnswerSentence(text="Some passage text.", citations=[1, 2, 3], group="bottom_line")])
    text = answer_to_text(a)
    refs = text.split("REFERENCES", 1)[1].split("DISCLAIMER", 1)[0]
    assert refs.count(url) == 1 and refs.count("Lung cancer screening") == 1
    assert "[1][3] Guideline — Lung cancer screening; sections [1] Eligibility · [3] Interval, p. 4 — " + url in refs


def test_an_abstention_reads_without_internal_figures():
    a = Answer(question="tirzepatide dose?", standalone_question="tirzepatide dose?", disclaimer=DISCLAIMER,
               abstained=True, abstain_reason="The indexed documents do not answer this question.",
               notice="Abstained: no indexed document mentions 'tirzepatide' (confidence 0.00 < 0.27).",
               related=[cit(1, "MAS2021_test_1_Answer1", title=None)])
    text = answer_to_text(a)
    assert "No indexed document mentions 'tirzepatide'." in text
    assert not INTERNAL_FIGURE.search(text) and not ID_LIKE.search(text), text
    assert "0.27" in a.notice  # the JSON field keeps the figures
    other = a.model_copy(update={"notice": "Abstained: best passage similarity 0.31 (confidence 0.21 < 0.27)."})
    assert reader_notice(other) is None


def test_internal_leaks_finds_what_a_reader_must_not_see():
    """``internal_leaks`` is what the quick eval gate counts on the whole bundled index (reader_text_leaks = 0 for
    every set in evals/thresholds.toml): a passage id, a confidence figure or an id-like token in the reader's text."""
    clean = Answer(question="gout?", standalone_question="gout?", disclaimer=DISCLAIMER, citations=[cit(1, "GHR_0000879")],
                   sentences=[AnswerSentence(text="Gout is a form of arthritis.", citations=[1], group="bottom_line")])
    assert internal_leaks(clean) == []
    leaky = clean.model_copy(update={"sentences": [AnswerSentence(
        text="See GHR_0000879_Sec1 (confidence 0.31 < 0.27).", citations=[1], group="bottom_line")]})
    got = internal_leaks(leaky)
    assert "GHR_0000879_Sec1" in got and any("confidence" in g.lower() for g in got)
    untitled = clean.model_copy(update={"sentences": [AnswerSentence(text="Gout is a form of arthritis.",
                                                                     citations=[1], group="bottom_line")],
                                        "citations": [cit(1, "MAS2021_test_102_Answer1")]})
    assert "MAS2021_test_102_Answer1" not in answer_to_text(untitled) and internal_leaks(untitled) == []
    quoted = clean.model_copy(update={"sentences": [AnswerSentence(
        text="Home readings were lower (confidence intervals not reported; HbA1c 0.50 lower).", citations=[1],
        group="bottom_line")]})
    assert internal_leaks(quoted) == []  # a document's own words about confidence intervals are its text
    for figure in ("confidence 0.21 < 0.27", "threshold 0.27", "0.31 > 0.27"):
        shown = clean.model_copy(update={"notice": None, "sentences": [AnswerSentence(
            text=f"Gout is a form of arthritis ({figure}).", citations=[1], group="bottom_line")]})
        assert internal_leaks(shown), figure


def test_usage_counts_prompt_and_completion_tokens(indexed_settings):
    from fastapi.testclient import TestClient

    from conftest import SEED_QUESTION
    from qa_bot.api import create_app, estimate_tokens

    with TestClient(create_app(indexed_settings, warmup=False), client=("127.0.0.1", 40000)) as c:
        body = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": SEED_QUESTION}]}).json()
        u = body["usage"]
        assert u["prompt_tokens"] == estimate_tokens(SEED_QUESTION) > 0
        assert u["completion_tokens"] == estimate_tokens(body["choices"][0]["message"]["content"]) > 0
        assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
        with c.stream("POST", "/v1/chat/completions", json={"stream": True, "messages": [
                {"role": "user", "content": SEED_QUESTION}]}) as r:
            frames = [ln[6:] for ln in r.iter_lines() if ln.startswith("data: {")]
        assert '"usage"' in frames[-1] and '"total_tokens": 0' not in frames[-1]


def test_listed_passages_are_titled_for_people_too():
    from qa_bot.render import passages_to_text

    text = passages_to_text([({"doc_id": "MAS2021_test_102_Answer1", "title": None, "heading": None,
                               "source": "CHiQA answer passage"}, "As with many disorders of the spinal cord, no cure.")])
    assert "MAS2021" not in text and text.startswith("[1] “As with many disorders of the spinal cord, no cure”")
