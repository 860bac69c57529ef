"""The web chat in a real browser: a Streamlit server on a free loopback port, driven by Debian's Chromium
through Playwright for Python.

Skips (with the reason) where Chromium or Playwright is missing; with ``CI=true`` it must run and fails instead.
Screenshots and measured timings go to ``tests/artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import FIXTURE_CORPUS, ROOT, SEED_QUESTION, make_settings
from helpers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
APP = ROOT / "ui" / "app.py"
ARTIFACTS = ROOT / "tests" / "artifacts"
STARTUP_TIMEOUT_S = 90
ANSWER_TIMEOUT_MS = 240_000  # the server loads the embedding model on its first question


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser test cannot run: {reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        _unavailable(f"Chromium is not installed at {CHROMIUM}; `make chromium` installs it with apt "
                     "(needs root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class PortTaken(Exception):
    """The port given to ``streamlit_server`` was taken by another process between choosing it and Streamlit binding
    it (the suite's processes share the machine): choose another and try again."""


@contextmanager
def streamlit_server(env: dict[str, str], log_path: Path, *, cwd: Path = ROOT, port: int | None = None,
                     host: str = "127.0.0.1") -> Iterator[str]:
    """Start ``streamlit run ui/app.py`` on a free loopback port; wait (bounded) until it is healthy; always stop it.

    ``cwd``: where Streamlit looks for ``.streamlit/`` (secrets.toml); ``host``: the name of the loopback address in
    the URL yielded (``localhost`` where cookies must match a configured origin). A port taken before Streamlit binds
    it: another free one (up to three), or ``PortTaken`` when the caller chose it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    full_env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **env})
    for attempt in range(3):
        chosen = port or free_port()
        proc, log = _start_streamlit(full_env, log_path, cwd, chosen)
        try:
            if _wait_healthy(proc, log_path, chosen):
                break
        except BaseException:
            _stop(proc, log)
            raise
        _stop(proc, log)  # the port was taken before it bound it
        if port is not None:
            raise PortTaken(f"port {port} was taken before streamlit bound it")
    else:
        pytest.fail(f"streamlit found no free port in 3 tries:\n{log_path.read_text()[-3000:]}")
    try:
        yield f"http://{host}:{chosen}"
    finally:
        _stop(proc, log)


def _start_streamlit(env: dict[str, str], log_path: Path, cwd: Path, port: int):
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    log = open(log_path, "w")
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log


def _wait_healthy(proc, log_path: Path, port: int) -> bool:
    """True once Streamlit answers its health check; False when it exited because the port was taken; a test
    failure when it exited for anything else or is not ready in time."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            text = log_path.read_text()
            if f"Port {port} is not available" in text:
                return False
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{text[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"streamlit not ready after {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)


def _stop(proc, log) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: only what this test started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
    log.close()


def _ask(page, question: str, n_answers: int) -> float:
    """Type a question, wait until the n-th answer (or error) is on the page; seconds taken."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    t0 = time.perf_counter()
    box.press("Enter")
    page.locator("[data-testid=stChatMessage]").nth(2 * n_answers - 1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator("[data-testid=stChatMessage]").nth(2 * n_answers - 1).locator(
        "[data-testid=qa-disclaimer]").wait_for(timeout=ANSWER_TIMEOUT_MS)
    return time.perf_counter() - t0


def _watch(page) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def _open_and_ask(browser, url: str, question: str):
    """Open the chat at ``url``, ask ``question``; the page, its dialog log and the first answer's message."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    dialogs = _watch(page)
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    _ask(page, question, 1)
    return page, dialogs, page.locator("[data-testid=stChatMessage]").nth(1)


def test_chat_in_browser_ask_cite_follow_up_export(browser, indexed_settings, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {"QA_BOT_DATA_DIR": str(indexed_settings.data_dir), "QA_BOT_CORPUS": str(indexed_settings.ingest.corpus[0]),
           "QA_BOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite")}
    with streamlit_server(env, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        dialogs = _watch(page)
        t0 = time.perf_counter()
        page.goto(url)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
        page_ready_s = time.perf_counter() - t0
        # the fixed disclaimer is on the page before any question
        disclaimer = indexed_settings.answer.disclaimer
        assert page.get_by_test_id("qa-disclaimer").first.is_visible()
        assert disclaimer[:60] in page.get_by_test_id("qa-disclaimer").first.inner_text()

        first_s = _ask(page, SEED_QUESTION, 1)
        answer = page.locator("[data-testid=stChatMessage]").nth(1)
        assert "Bottom line" in answer.get_by_test_id("qa-answer").inner_text()
        assert "[1]" in answer.get_by_test_id("qa-references").inner_text()
        assert disclaimer[:60] in answer.get_by_test_id("qa-disclaimer").inner_text()

        # a citation number opens the passage, the cited sentence highlighted, with badge, title and date
        answer.get_by_role("button", name=re.compile(r"^\[1\]")).click()
        mark = page.locator("mark.qa-hl:visible").first
        mark.wait_for(timeout=10_000)
        assert len(mark.inner_text()) > 20
        meta = page.locator(".qa-meta:visible").first.inner_text()
        assert "Guideline" in meta and "Stem Cell Therapy for Stroke Recovery" in meta and "2025-11-03" in meta
        bg = mark.evaluate("e => getComputedStyle(e).backgroundColor")
        assert bg not in ("rgba(0, 0, 0, 0)", "transparent")
        page.screenshot(path=str(ARTIFACTS / "ui_citation.png"))
        page.keyboard.press("Escape")
        page.locator("mark.qa-hl:visible").first.wait_for(state="hidden", timeout=10_000)

        # a follow-up is answered in context; the searched standalone question is shown small under it
        follow_s = _ask(page, "And the facial numbness?", 2)
        second = page.locator("[data-testid=stChatMessage]").nth(3)
        searched = second.get_by_test_id("qa-searched").inner_text()
        assert "Searched for" in searched and "stroke" in searched.lower()
        assert second.get_by_test_id("qa-disclaimer").is_visible() or second.get_by_test_id("qa-disclaimer").count()
        third_s = _ask(page, "What is the recommended blood pressure screening for adults?", 3)

        # export: the downloaded Markdown has both turns, citations, references and the disclaimer
        with page.expect_download(timeout=30_000) as dl:
            page.get_by_test_id("stDownloadButton").get_by_role("button").click()
        md = Path(dl.value.path()).read_text()
        assert "## Q1:" in md and "## Q2: And the facial numbness?" in md and "**References**" in md
        assert md.count("**Disclaimer**") == 3

        # the bottom disclaimer stays on screen after scrolling through the conversation
        page.mouse.wheel(0, 5000)
        assert page.get_by_test_id("qa-disclaimer").first.is_visible()
        page.screenshot(path=str(ARTIFACTS / "ui_chat.png"))
        assert dialogs == []
    figures = {"page_ready_s": round(page_ready_s, 2), "first_answer_s": round(first_s, 2),
               "follow_up_answer_s": round(follow_s, 2), "third_answer_s": round(third_s, 2)}
    (ARTIFACTS / "ui_timings.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nbrowser timings: {figures}")


PROBE = """---
id: xss_probe
title: 'Zorblax fever *bold* _x_ [link](http://x) <b>tag</b> $5 :smile:'
collection: probe
doc_type: guideline
source: 'Probe <i>source</i> #1'
url: 'javascript:window.__pwned=1'
published: '2024-01-02'
---
# Zorblax fever *bold* _x_ [link](http://x)

## Treatment of zorblax fever
Zorblax fever is treated with rest, oral fluids and paracetamol <script>window.__pwned=1</script> as the first-line option for zorblax fever.
Adults with zorblax fever should avoid strenuous exercise <img src=x onerror="window.__pwned=1"> for two weeks after zorblax fever treatment.
"""
TITLE = "Zorblax fever *bold* _x_ [link](http://x) <b>tag</b> $5 :smile:"


def test_document_html_and_markdown_render_as_text_in_browser(browser, tmp_path):
    from qa_bot.store import ingest

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    (corpus / "probe").mkdir()
    (corpus / "probe" / "xss_probe.md").write_text(PROBE)
    settings = make_settings(tmp_path / "data", corpus)
    # text + lexical index now; the app fills the vectors in the background while the page is in use
    report = ingest(None, settings, vectors=False)
    assert not report.failed and report.pending_vectors > 0
    env = {"QA_BOT_DATA_DIR": str(settings.data_dir), "QA_BOT_CORPUS": str(corpus)}
    with streamlit_server(env, tmp_path / "streamlit.log") as url:
        page, dialogs, answer = _open_and_ask(browser, url, "How is zorblax fever treated?")
        text = answer.get_by_test_id("qa-answer").inner_text()
        assert "<script>window.__pwned=1</script>" in text
        assert '<img src=x onerror="window.__pwned=1">' in text
        answer.get_by_role("button", name=re.compile(r"^\[1\]")).click()
        page.locator("mark.qa-hl:visible").first.wait_for(timeout=10_000)
        meta = page.locator(".qa-meta:visible").first
        assert TITLE in meta.inner_text() and "Probe <i>source</i> #1" in meta.inner_text()
        assert meta.locator("b, i, strong, em, a").count() == 0
        assert "<script>window.__pwned=1</script>" in page.locator(".qa-passage:visible").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "ui_injection.png"))
        page.keyboard.press("Escape")
        assert TITLE in answer.get_by_test_id("qa-references").inner_text()
        page.wait_for_timeout(1500)  # give any injected handler (img onerror) time to fire
        assert page.evaluate("() => typeof window.__pwned") == "undefined"
        assert page.evaluate("""() => [...document.querySelectorAll('script')]
                                 .filter(s => (s.textContent || '').includes('__pwned')).length""") == 0
        assert page.locator("img[onerror], img[src='x'], a[href^='javascript']").count() == 0
        assert dialogs == []
        # the vectors that were pending at start-up are filled in the background, and the sidebar follows
        page.get_by_test_id("stSidebar").get_by_text(re.compile(r"Vectors: [\d,]+ \(complete\)")).wait_for(
            timeout=120_000)


# --- text from documents is text everywhere, and nothing is fetched from an address in a document ----
def _recording_server():
    """A loopback HTTP server that records every request (path, Referer) it gets."""
    import http.server
    import threading

    hits: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append((self.path, self.headers.get("Referer")))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


def _probe_corpus(corpus: Path, port: int) -> dict[str, str]:
    img = lambda name: f"![t](http://127.0.0.1:{port}/{name}.png)"  # noqa: E731
    texts = {
        "collection": f"probe {img('collection')} **b** $x^2$",
        "outlook": (f"What is the outlook for zorblax fever [click](javascript:alert(1)) {img('followup')} $x^2$ "
                    f"**bold** <img src=\"http://127.0.0.1:{port}/html.png\">?"),
        "causes": f"What causes zorblax fever {img('causes')} :smile: $\\sum$ ?",
    }
    (corpus / "probe").mkdir()
    (corpus / "probe" / "probe_treat.md").write_text(
        f"---\nid: probe_treat\ntitle: Zorblax fever\ncollection: '{texts['collection']}'\ndoc_type: guideline\n---\n"
        "## How is zorblax fever treated?\nZorblax fever is treated with rest, oral fluids and paracetamol as the "
        "first-line option for zorblax fever.\nAdults with zorblax fever should avoid strenuous exercise for two weeks "
        "after zorblax fever treatment.\n")
    (corpus / "probe" / "probe_outlook.md").write_text(
        f"---\nid: probe_outlook\ntitle: Zorblax fever outlook\ncollection: probe\n---\n## {texts['outlook']}\n"
        "Most people recover fully within a month; relapses are uncommon.\n")
    (corpus / "probe" / "probe_causes.md").write_text(
        f"---\nid: probe_causes\ntitle: Zorblax fever causes\ncollection: probe\n---\n## {texts['causes']}\n"
        "A virus spread by ticks causes it in temperate regions.\n")
    return texts


def test_followup_buttons_filters_and_status_render_document_text_as_text(browser, tmp_path):
    from qa_bot.store import ingest

    server, hits = _recording_server()
    port = server.server_address[1]
    try:
        corpus = tmp_path / "corpus"
        shutil.copytree(FIXTURE_CORPUS, corpus)
        texts = _probe_corpus(corpus, port)
        settings = make_settings(tmp_path / "data", corpus)
        assert not ingest(None, settings).failed
        env = {"QA_BOT_DATA_DIR": str(settings.data_dir), "QA_BOT_CORPUS": str(corpus),
               "QA_BOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite")}
        with streamlit_server(env, tmp_path / "streamlit.log") as url:
            page, dialogs, answer = _open_and_ask(browser, url, "How is zorblax fever treated?")
            buttons = answer.get_by_test_id("stBaseButton-tertiary")
            labels = [buttons.nth(i).inner_text() for i in range(buttons.count())]
            # the suggested follow-ups show the headings exactly as written (word joiners aside)
            shown = [x.replace("\u2060", "") for x in labels]
            assert texts["outlook"] in shown and texts["causes"] in shown, labels
            assert answer.locator("[data-testid=stBaseButton-tertiary] :is(img, strong, em, a, .katex, code)").count() == 0
            # the collection filter lists the collection's name as text
            sidebar = page.get_by_test_id("stSidebar")
            sidebar.get_by_test_id("stMultiSelect").first.click()
            option = page.get_by_role("option").filter(has_text="collection.png").first
            option.wait_for(timeout=10_000)
            assert option.inner_text().replace("\u2060", "").strip() == texts["collection"]
            assert page.locator("[role=option] :is(img, strong, .katex)").count() == 0
            page.keyboard.press("Escape")
            # asking a suggested follow-up: the question shows as typed, and the status label too
            buttons.filter(has_text="outlook").first.click()
            page.locator("[data-testid=stChatMessage]").nth(3).locator("[data-testid=qa-disclaimer]").wait_for(
                timeout=ANSWER_TIMEOUT_MS)
            assert texts["outlook"] in page.locator("[data-testid=stChatMessage]").nth(2).inner_text()
            page.screenshot(path=str(ARTIFACTS / "ui_followup_text.png"))
            page.wait_for_timeout(1500)
            assert page.locator("img[src*='127.0.0.1:%d']" % port).count() == 0
            assert page.locator(".katex").count() == 0
            assert dialogs == []
        # nothing was requested from the address found in the documents (no image, no referrer leak)
        assert hits == []
    finally:
        server.shutdown()
