"""Fuzzing the PDF line and table heuristics with long and repetitive lines: they end, keep every segment,
respect the character budgets, and the linear rewrites agree with the regexes they replace."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from qa_bot import pdf
from qa_bot.pdf import LINE_CHARS, Line

ALPHABET = "aAbZ09 .-…•:;()\x1f\u00a0xyz"
units = st.text(alphabet=ALPHABET, min_size=1, max_size=12)


@st.composite
def texts(draw, most: int = LINE_CHARS):
    """A short text repeated up to the line budget, with a free head and tail."""
    unit = draw(units)
    n = draw(st.integers(1, max(1, most // len(unit))))
    return (draw(st.text(ALPHABET, max_size=8)) + unit * n + draw(st.text(ALPHABET, max_size=8)))[:most].strip() or "x"


@st.composite
def segments(draw):
    n = draw(st.integers(1, 40))
    rows = draw(st.integers(1, 12))
    out = []
    for i in range(n):
        size = draw(st.sampled_from([1.0, 8.0, 10.0, 12.0]))
        x0 = draw(st.floats(0, 560, allow_nan=False))
        top = 760 - 14 * draw(st.integers(0, rows)) + draw(st.sampled_from([0.0, 0.01, 0.3]))
        text = draw(texts())
        out.append(Line(text, x0, x0 + draw(st.floats(2, 600, allow_nan=False)), top, top - size, size,
                        draw(st.booleans()), 1))
    return out


FUZZ = hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(segments())
def test_line_and_table_heuristics_end_keep_every_segment_and_respect_the_budget(segs):
    rows = pdf._rows(segs)
    assert Counter(map(id, (s for r in rows for s in r))) == Counter(map(id, segs))
    joined = [pdf._join(r, 1) for r in rows]
    assert all(len(j.text) <= LINE_CHARS for j in joined)
    blocks = pdf._reading_order(segs, 612)
    assert Counter(map(id, (s for b in blocks for r in b for s in r))) == Counter(map(id, segs))
    for block in blocks:
        last = 0
        for h, i, j in pdf._table_runs(block):
            assert last <= h <= i < j <= len(block)
            last = j
            for para in pdf._table_paras(block[h:j], i - h + 1, 1):
                assert para.kind == "table_row"
    assert pdf._is_toc_page(joined, segs) in (True, False)


@FUZZ
@given(st.text(ALPHABET + "\n", max_size=60) | texts(200))
def test_the_linear_rewrites_agree_with_the_regexes_they_replace(text):
    assert pdf._numbered_end(text) == bool(re.search(r"[A-Za-z].*\s\d{1,3}$", text))
    assert pdf._numbered_end(text + " 12") == bool(re.search(r"[A-Za-z].*\s\d{1,3}$", text + " 12"))
    assert pdf._ends_sentence(text) == bool(re.search(r"[.!?:;)\]]\s*$", text))


@FUZZ
@given(texts(), st.text("abcz", min_size=1, max_size=10))
def test_mending_a_long_paragraph_looks_at_its_tail_only(prev, word):
    vocab = {"ab", "a-b"}
    mended = pdf._mend(prev + " ab-", word, vocab)
    assert mended.startswith(prev) and mended.endswith(word)
