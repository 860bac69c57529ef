"""End to end in a real Open WebUI (`make e2e-openwebui`; optional, not in `make test`).

Starts `qa-bot serve` over an index (QA_BOT_DATA_DIR, else the test fixture corpus indexed into a temporary
folder), starts Open WebUI from its own venv (.venv-openwebui, `pip install open-webui`) offline and without auth,
pointed at qa-bot as its one OpenAI connection, and drives it in Chromium (Playwright, /usr/bin/chromium):

1. asks a question: the answer shows with its disclaimer; the chat gets a title (not "New Chat");
2. follow-up suggestions appear under the answer;
3. the answer's first [n] opens a source whose text is the quoted passage;
4. a question the documents do not answer shows the readable abstention.

Then qa-bot's log must show the task prompts answered without retrieval and exactly two engine runs.
Screenshots go to eval-out/e2e-openwebui/. Exit code 0 when every check passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWUI = Path(os.environ.get("OPENWEBUI_BIN", ROOT / ".venv-openwebui" / "bin" / "open-webui"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
OUT = ROOT / "eval-out" / "e2e-openwebui"
KEY = "e2e-key-0123456789abcdef"
QUESTION = "What is Noonan syndrome?"
UNANSWERABLE = "What is the dose of tirzepatide?"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float, proc: subprocess.Popen) -> None:
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited ({proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"{url}: not up after {seconds:.0f}s")


def data_dir(tmp: Path) -> Path:
    if os.environ.get("QA_BOT_DATA_DIR"):
        return Path(os.environ["QA_BOT_DATA_DIR"])
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "tests" / "fixtures" / "corpus", corpus)
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp / "data"), "QA_BOT_CORPUS": str(corpus)}
    subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest"], env=env, check=True, cwd=ROOT)
    return tmp / "data"


def start(tmp: Path) -> tuple[subprocess.Popen, subprocess.Popen, str, Path]:
    qport, wport = free_port(), free_port()
    qlog = tmp / "qa-bot.log"
    qenv = {**os.environ, "QA_BOT_DATA_DIR": str(data_dir(tmp)), "QA_BOT_API_KEYS": KEY,
            "QA_BOT_AUDIT_DB": str(tmp / "audit.sqlite"), "PYTHONPATH": str(ROOT)}
    qa = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "serve", "--port", str(qport)], env=qenv, cwd=ROOT,
                          stdout=qlog.open("w"), stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{qport}/healthz", 120, qa)
    wenv = {k: v for k, v in os.environ.items() if not k.startswith(("QA_BOT_", "PYTHONPATH", "VIRTUAL_ENV"))}
    wenv.update({"DATA_DIR": str(tmp / "owui"), "WEBUI_AUTH": "False", "OFFLINE_MODE": "true",
                 "BYPASS_EMBEDDING_AND_RETRIEVAL": "true", "ENABLE_OLLAMA_API": "false",
                 "OPENAI_API_BASE_URL": f"http://127.0.0.1:{qport}/v1", "OPENAI_API_KEY": KEY,
                 "DEFAULT_MODELS": "qa-bot", "WEBUI_SECRET_KEY": "e2e-secret", "HF_HUB_OFFLINE": "1",
                 "ENABLE_VERSION_UPDATE_CHECK": "false", "ENABLE_FOLLOW_UP_GENERATION": "true",
                 "ENABLE_TITLE_GENERATION": "true", "ENABLE_TAGS_GENERATION": "true",
                 "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "false", "ANONYMIZED_TELEMETRY": "false",
                 "DO_NOT_TRACK": "true", "SCARF_NO_ANALYTICS": "true"})
    webui = subprocess.Popen([str(OWUI), "serve", "--host", "127.0.0.1", "--port", str(wport)], env=wenv,
                             cwd=tmp, stdout=(tmp / "open-webui.log").open("w"), stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{wport}/health", 600, webui)
    return qa, webui, f"http://127.0.0.1:{wport}", qlog


def ask(page, question: str) -> None:
    box = page.locator("#chat-input")
    box.click()
    box.fill(question)
    page.keyboard.press("Enter")


def dismiss(page) -> None:
    """Close a changelog or welcome dialog, if one shows."""
    for label in ("Okay, Let's Go!", "Close"):
        try:
            b = page.get_by_role("button", name=label)
            if b.count():
                b.first.click(timeout=3000)
        except Exception:  # noqa: BLE001 - it went away by itself
            pass


def drive(base: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(base + "/")
        page.wait_for_selector("#chat-input")
        dismiss(page)
        ask(page, QUESTION)
        page.get_by_text("Disclaimer", exact=False).last.wait_for()
        page.screenshot(path=str(OUT / "1-answer.png"), full_page=True)
        check(True, "the answer is shown with its disclaimer")
        try:
            page.get_by_text("Follow up", exact=True).wait_for(timeout=90_000)
            shown = page.locator("button[aria-label^='Follow up:']").count()
        except Exception:  # noqa: BLE001
            shown = 0
        check(shown > 0, f"follow-up suggestions shown ({shown})")
        title_ok = False
        for _ in range(45):  # the window's title is the chat's title
            if "noonan" in page.title().lower():
                title_ok = True
                break
            time.sleep(2)
        page.screenshot(path=str(OUT / "2-title-and-follow-ups.png"), full_page=True)
        check(title_ok, f"the chat got a title from the question ({page.title()!r})")
        src = page.locator("button[aria-label^='View source:']")
        opened = False
        if src.count():
            src.first.click()
            dialog = page.locator("[role='dialog'], .modal").last
            dialog.wait_for()
            text = dialog.inner_text()
            opened = "noonan" in text.lower() and len(text) > 80
            page.screenshot(path=str(OUT / "3-source.png"), full_page=True)
            page.keyboard.press("Escape")
        check(opened, "[1] opens the cited passage")
        page.goto(base + "/")
        page.wait_for_selector("#chat-input")
        dismiss(page)
        ask(page, UNANSWERABLE)
        page.get_by_text("Disclaimer", exact=False).last.wait_for()
        body = page.locator("body").inner_text()
        page.screenshot(path=str(OUT / "4-abstention.png"), full_page=True)
        check("do not answer this question" in body and not re.search(r"confidence \d", body),
              "the abstention is readable (no internal figures)")
        browser.close()
    return failures


def main() -> int:
    if not OWUI.exists():
        print(f"{OWUI} missing: `make e2e-openwebui` installs it", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="qa-e2e-owui-"))
    qa = webui = None
    try:
        qa, webui, base, qlog = start(tmp)
        failures = drive(base)
        time.sleep(5)  # the last follow-up/title tasks
        log = qlog.read_text()
        runs = len(re.findall(r"chat: question_chars=", log))
        tasks = re.findall(r"open webui task (\w+) answered without retrieval", log)
        print(f"qa-bot log: {runs} engine runs, {len(tasks)} task prompts answered without retrieval "
              f"({json.dumps(sorted(set(tasks)))})")
        if runs != 2:
            failures.append(f"engine runs {runs} != 2 (task prompts must not run retrieval)")
        if not tasks:
            failures.append("no task prompt seen")
        shutil.copy(qlog, OUT / "qa-bot.log")
        print("screenshots in", OUT)
        return 1 if failures else 0
    finally:
        for proc in (webui, qa):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if os.environ.get("KEEP_E2E_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
