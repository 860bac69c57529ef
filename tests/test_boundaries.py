"""Boundaries: no file outside the corpus folder, no data outside a key's collections, no request that exhausts
the server, no output forged by a file name."""

from __future__ import annotations

import os

import pytest

from qa_bot.load import iter_files, load
from qa_bot.settings import Settings
from qa_bot.types import SkippedFile

SECRET = "root:x:0:0:root:/root:/bin/bash\n"


def _corpus_with_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET)
    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    (corpus / "passwd.txt").symlink_to(outside / "passwd")
    (corpus / "also_a.txt").symlink_to(corpus / "a.txt")  # inside the folder: read once, as a.txt
    return corpus.parent


def test_a_file_link_out_of_the_folder_is_skipped_and_named(tmp_path):
    corpus = _corpus_with_links(tmp_path)
    items = list(iter_files([corpus]))
    skipped = [i for i in items if isinstance(i, SkippedFile)]
    assert [os.path.basename(s.path) for s in skipped] == ["passwd.txt"]
    assert "outside" in skipped[0].reason
    res = load([corpus], Settings())
    assert [d.doc_id for d in res.documents] == ["a"]  # the inside link adds no second copy (no duplicate error)
    assert all(SECRET.strip() not in d.text for d in res.documents)


def test_ingest_does_not_index_a_linked_file_and_drops_what_was(tmp_path):
    from qa_bot.index import get_store, ingest

    corpus = _corpus_with_links(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus])
    ingest([corpus / "x" / "passwd.txt"], settings, vectors=False)  # as an earlier version indexed it
    assert "passwd" in get_store(settings).known_documents()
    notes = []
    report = ingest(None, settings, vectors=False, on_notice=notes.append)
    assert not report.failed, report.failed
    assert report.documents == 1
    assert any(n.path.endswith("passwd.txt") for n in notes)
    store = get_store(settings)
    assert set(store.known_documents()) == {"a"}
