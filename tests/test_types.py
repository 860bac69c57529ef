"""The shared types' own logic: citation ids, page maps, the subject's names, a chunk's context."""

from __future__ import annotations

import pytest
from helpers import chunk

from qa_bot.types import Chunk, Subject, citation_id, page_at, parse_citation_id


@pytest.mark.parametrize("chunk_id, spans", [
    ("medquad/0001#intro::0", [(0, 12)]),
    ("ngc/abc#1-3-referral::4", [(5, 40), (52, 90)]),
    ("seeds/é-ü#x::1", []),
])
def test_a_citation_id_round_trips(chunk_id, spans):
    cid = citation_id(chunk_id, spans, "the quoted passage")
    parsed = parse_citation_id(cid)
    assert parsed is not None
    got_chunk, got_spans, digest = parsed
    assert got_chunk == chunk_id and [tuple(s) for s in got_spans] == spans and len(digest) == 10
    # the same passage and spans give the same id; another passage text another hash
    assert citation_id(chunk_id, spans, "the quoted passage") == cid
    assert citation_id(chunk_id, spans, "a changed passage") != cid


@pytest.mark.parametrize("cid", ["", "not-an-id", "abc.1-2", "abc.1-2.XYZ0123456", "@@@.0.0123456789",
                                 "abc." + "_".join(["1-2"] * 65) + ".0123456789"])
def test_what_is_not_a_citation_id_parses_to_none(cid):
    assert parse_citation_id(cid) is None


@pytest.mark.parametrize("offset, page", [(0, 1), (99, 1), (100, 2), (250, 3), (10_000, 3)])
def test_page_at(offset, page):
    assert page_at([(0, 1), (100, 2), (200, 3)], offset) == page


def test_page_at_without_a_page_map():
    assert page_at([], 5) is None


def test_a_subject_is_named_by_any_of_its_names():
    s = Subject(name="Accutane", term="accutan", df=18, alternatives=["isotretinoin"], alt_terms=["isotretinoin"])
    assert s.named_in({"isotretinoin", "pregnanc"}) and s.named_in(frozenset({"accutan"}))
    assert not s.named_in({"antibiot"})
    assert s.display == "Accutane (isotretinoin)" and Subject(name="Buspar", term="buspar").display == "Buspar"


def test_a_chunk_knows_its_context_and_its_pages():
    c = chunk("First page text. Second page text.", title="Guide", heading_path=["1 Scope", "1.2 Adults"],
              page_start=3, page_end=4, page_breaks=[(17, 4)])
    assert c.context == "Guide > 1 Scope > 1.2 Adults" == Chunk.context_of("Guide", ["1 Scope", "1.2 Adults"])
    assert c.page_at(0) == 3 and c.page_at(16) == 3 and c.page_at(17) == 4
    assert c.embed_text == "Guide > 1 Scope > 1.2 Adults\nFirst page text. Second page text."
    assert chunk("No pages.").page_at(3) is None and Chunk.embed_text_of(None, [], "Bare.") == "Bare."
