"""Shared fixtures: a small fixture corpus indexed once per test session into a temporary data dir."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # the package sets the other offline defaults
for _k in [k for k in os.environ if k.startswith("QA_BOT_")]:
    del os.environ[_k]  # tests never inherit a developer's configuration

import pytest  # noqa: E402

from qa_bot.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"
SEED_GUIDELINE = "000_ae22a4cf9e8dc6bc"
SEED_EXPERT = "001_e21b6edce746d0a5"
SEED_QUESTION = ("What are the treatment options for a stroke survivor with left-sided hemiparesis (weakness on one "
                 "side of the body) and left facial numbness, considering stem cell therapy?")


def make_settings(data_dir: Path, corpus: Path = FIXTURE_CORPUS, **kw) -> Settings:
    return Settings(data_dir=data_dir, corpus=[corpus], **kw)


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory) -> Settings:
    """The fixture corpus (seeds + ~40 real documents), fully indexed (lexical + vectors)."""
    from qa_bot.store import ingest

    data = tmp_path_factory.mktemp("qa_data")
    corpus = tmp_path_factory.mktemp("qa_corpus") / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    settings = make_settings(data, corpus)
    report = ingest(None, settings)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def chroma(tmp_path_factory):
    """A real ``chroma run`` server shared by the session (a module may start its own under the same name); tests
    keep apart by collection name."""
    from helpers import ChromaServer

    with ChromaServer(tmp_path_factory.mktemp("chroma_server")) as server:
        yield server


@pytest.fixture(scope="session")
def bundled_settings() -> Settings:
    """The index of the whole bundled corpus in ``data/`` (read-only), built by `make eval-quick`/`make run`; a test
    that uses it is marked ``bundled`` (`make test` runs those after the quick eval gate has built the index)."""
    if not (ROOT / "data" / "state.sqlite").is_file() or not (ROOT / "data" / "chroma").is_dir():
        pytest.skip("the bundled corpus is not indexed (make eval-quick / make run index it)")
    return Settings(data_dir=ROOT / "data")


# a test that uses one of these fixtures starts a real server or browser: it is slow whatever its own marks say
SLOW_FIXTURES = {"chroma", "browser", "bundled_settings"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if "bundled_settings" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.bundled)


@pytest.fixture
def fresh_settings(tmp_path) -> Settings:
    """An empty data dir and a private copy of the fixture corpus (safe to modify)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    return make_settings(tmp_path / "data", corpus)
