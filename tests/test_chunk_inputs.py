"""The chunker (qa_bot/chunk.py) on over-long headings: shortened, never a crash."""

from __future__ import annotations

import pytest

from qa_bot.chunk import MODEL_WINDOW, chunk_document
from qa_bot.load import load
from qa_bot.settings import Settings

S = Settings()


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
