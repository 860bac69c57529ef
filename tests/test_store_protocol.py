"""Both stores implement the store interface (``qa_bot.store.protocol``): every member, with its parameters."""

import inspect

from qa_bot.settings import Settings
from qa_bot.store import StoreReader, StoreWriter, get_store
from qa_bot.store.base import BaseStore
from qa_bot.store.embedded import EmbeddedStore
from qa_bot.store.server import ServerStore


def protocol_members(proto) -> set[str]:
    return {n for n in dir(proto) if not n.startswith("_") and n not in dir(object)} - {"settings"}


def test_both_stores_implement_the_writer_protocol_with_its_parameters(tmp_path):
    embedded = EmbeddedStore(Settings(data_dir=tmp_path / "data", corpus=[tmp_path]))
    server = ServerStore(Settings(data_dir=tmp_path / "srv", corpus=[tmp_path], chroma_url="localhost:1"))  # no I/O
    for store in (embedded, server):
        assert isinstance(store, StoreReader) and isinstance(store, StoreWriter) and isinstance(store, BaseStore)
        for name in protocol_members(StoreWriter):
            want = [p for p in inspect.signature(getattr(StoreWriter, name)).parameters if p != "self"]
            got = list(inspect.signature(getattr(type(store), name)).parameters)
            assert got[1:len(want) + 1] == want, (type(store).__name__, name, got)
    assert protocol_members(StoreReader) < protocol_members(StoreWriter)


def test_shared_behaviour_lives_once_in_the_base():
    """What both stores do alike is not written twice (nor overridden)."""
    for name in ("collection", "vectorstore", "heartbeat", "lexical_search", "dense_search", "_vectors", "_stemmer",
                 "_chroma"):
        assert name in vars(BaseStore)
        assert name not in vars(EmbeddedStore) and name not in vars(ServerStore), name


def test_get_store_picks_the_store_of_the_settings(tmp_path):
    assert type(get_store(Settings(data_dir=tmp_path / "d", corpus=[tmp_path]))) is EmbeddedStore
    assert type(get_store(Settings(data_dir=tmp_path / "s", corpus=[tmp_path], chroma_url="localhost:1"))) is ServerStore
