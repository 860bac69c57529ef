"""Server mode's store (qa_bot/store/server.py) over a real `chroma run`, compared with embedded mode."""

from __future__ import annotations

from qa_bot.settings import Settings


def test_server_mode_statistics_count_chunks_by_their_own_type_like_embedded_mode(chroma, tmp_path):
    from test_server_mode import small_corpus

    from qa_bot.store import get_store, ingest
    from qa_bot.store.server import ServerStore

    corpus = small_corpus(tmp_path / "corpus")
    embedded = Settings(data_dir=tmp_path / "embedded", corpus=[corpus])
    assert not ingest(None, embedded).failed
    s = Settings(data_dir=tmp_path / "data", corpus=[corpus], chroma_url=chroma.url, collection_name="stats",
                 poll_interval=0)
    assert not ingest(None, s).failed
    want, got = get_store(embedded).stats(), ServerStore(s).stats()
    assert want.by_doc_type.get("comment") and got.by_doc_type == want.by_doc_type
    assert got.by_collection == want.by_collection and got.chunks == want.chunks
    mine, theirs = ServerStore(s).stats(["seeds"]), get_store(embedded).stats(["seeds"])
    assert (mine.documents, mine.chunks, mine.by_collection, mine.by_doc_type) == \
        (theirs.documents, theirs.chunks, theirs.by_collection, theirs.by_doc_type)
    assert set(mine.by_collection) == {"seeds"}
    # the documents' titles (the subject finder's names) are the same in both modes, in all or some collections
    assert sorted(ServerStore(s).titles()) == sorted(get_store(embedded).titles()) != []
    assert sorted(ServerStore(s).titles(["seeds"])) == sorted(get_store(embedded).titles(["seeds"]))
