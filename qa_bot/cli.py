"""`qa-bot` command line: a thin caller of the engine (no retrieval or answer logic here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text

from .errors import QABotError
from .settings import Settings

app = typer.Typer(help="Evidence-grounded answers for clinicians, from the indexed documents.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
index_app = typer.Typer(help="Inspect the index.", no_args_is_help=True)
app.add_typer(index_app, name="index")
from .feedback import feedback_app  # noqa: E402

app.add_typer(feedback_app, name="feedback")
from .audit import audit_app  # noqa: E402

app.add_typer(audit_app, name="audit")
console = Console()
err = Console(stderr=True)


def printable(text: str, keep_lines: bool = False) -> str:
    """``text`` with undecodable bytes (surrogate escapes from argv or file names) shown as U+FFFD and control
    characters escaped (a file name with a newline cannot print a line of its own)."""
    from .render import escape_controls

    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if isinstance(text, str) else str(text)
    return escape_controls(text, keep_lines)


def fail(message: str, code: int = 2) -> None:
    """One line on stderr; ``message`` (paths, user text) is printed literally, never as Rich markup."""
    err.print(Text.assemble(("error:", "bold red"), " ", printable(message)), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except Exception as e:  # pydantic validation: show the first problem on one line
        fail(f"bad configuration: {' '.join(str(e).splitlines()[:3])}")
        raise


@app.command()
def ingest(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: the bundled corpus).")] = None,
    if_missing: Annotated[bool, typer.Option("--if-missing", help="Do nothing when an index already exists.")] = False,
    no_vectors: Annotated[bool, typer.Option("--no-vectors", help="Text and lexical index only; vectors later.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="When another ingest is writing to this index, wait for it "
                                                      "instead of exiting.")] = False,
    doc_type: Annotated[Optional[str], typer.Option(
        "--doc-type", help="Document type of files that set none (guideline, expert_answer, comment).")] = None,
    collection: Annotated[Optional[str], typer.Option(
        "--collection", help="Collection of files that set none (default: the file's folder name).")] = None,
    report_file: Annotated[Optional[Path], typer.Option(
        "--report", help="Write what was read from each file (pages, pages OCR'd, headings, tables, forms, "
                         "recommendations, warnings, time) to FILE as JSON, and as text to FILE.txt.")] = None,
) -> None:
    """Parse, chunk, embed and index documents (incremental: unchanged documents are skipped)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .store import get_store, ingest as run_ingest

    settings = settings_or_exit()

    def stop(signum, frame):  # SIGTERM (a scheduler stopping the job) ends like Ctrl-C: the writer lock is released
        raise KeyboardInterrupt

    import signal

    signal.signal(signal.SIGTERM, stop)
    if doc_type is not None:
        from .load import DOC_TYPES

        v = doc_type.strip().lower().replace("-", "_").replace(" ", "_")
        if v not in DOC_TYPES:
            fail(f"--doc-type {doc_type!r}: expected one of {', '.join(sorted(DOC_TYPES))}")
            return
        settings = settings.model_copy(update={"default_doc_type": v})
    if collection is not None:
        settings = settings.model_copy(update={"default_collection": collection.strip()})
    try:
        if if_missing and (settings.chroma_url or settings.state_db.is_file()) and get_store(settings).exists() \
                and get_store(settings).count_chunks() > 0:
            store = get_store(settings)
            console.print(f"index present in {settings.data_dir} ({store.count_docs()} documents, "
                          f"{store.count_chunks()} chunks); pending vectors: {store.count_chunks(False)}",
                          markup=False, highlight=False)
            if not settings.chroma_url and not store.lexical_is_current():
                store.publish()  # side tables of an older version (or a killed run): rebuilt, nothing else changes
            if store.count_chunks(False) == 0 or no_vectors:
                return
        failures: list[str] = []
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[chunks]}"),
                      TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                      console=console, transient=False) as bar:
            tasks: dict[str, int] = {}
            started: dict[str, float] = {}

            def progress(phase: str, done: int, total: int | None) -> None:
                import time

                if phase == "chunks":  # shown beside the documents bar
                    if "documents" in tasks:
                        bar.update(tasks["documents"], chunks=f"{done:,} chunks")
                    return
                label = {"documents": "documents", "lexical": "lexical index", "vectors": "chunks → vectors"}[phase]
                if phase not in tasks:
                    tasks[phase] = bar.add_task(label, total=total, rate="", chunks="")
                    started[phase] = time.time()
                rate = done / max(time.time() - started[phase], 1e-6)
                unit = "docs/s" if phase == "documents" else "chunks/s"
                bar.update(tasks[phase], completed=done, total=total,
                           rate="" if phase == "lexical" else f"{rate:,.0f} {unit}")

            def on_error(e) -> None:
                failures.append(f"{e.path}: {e.reason}")
                bar.console.print(Text.assemble(("failed", "red"), f" {printable(e.path)}: {printable(e.reason)}"),
                                  highlight=False, soft_wrap=True)

            def on_notice(e) -> None:  # the path and reason as text, never Rich markup
                bar.console.print(Text.assemble(("note", "yellow"), f" {printable(e.path)}: {printable(e.reason)}"),
                                  highlight=False, soft_wrap=True)

            report = run_ingest(paths or None, settings, progress=progress, vectors=not no_vectors, on_error=on_error,
                                on_notice=on_notice, wait=wait)
    except QABotError as e:
        fail(str(e))
        return
    except KeyboardInterrupt:
        err.print("interrupted: the index is consistent; run `qa-bot ingest` again to finish.")
        raise typer.Exit(130) from None
    console.print(
        f"[bold]done[/] in {report.seconds:.1f}s: {report.documents} documents, {report.chunks} chunks, "
        f"{report.skipped_unchanged} skipped as unchanged, {report.removed} removed, {len(report.failed)} failed; "
        f"vectors: {report.from_cache} from cache, {report.embedded} encoded, {report.pending_vectors} pending")
    if report_file is not None:
        from .ingest_report import summary, write_report

        try:
            write_report(report, report_file)
        except OSError as e:
            fail(f"--report {report_file}: cannot write the report: {e.strerror or e}")
            return
        text = summary(report)  # a long report stays in its file; the console shows the totals
        console.print(text if len(report.per_document) <= 50 else text.splitlines()[-1], markup=False,
                      highlight=False, soft_wrap=True)
        console.print(f"report written to {report_file}", markup=False, highlight=False)
    if report.failed:
        raise typer.Exit(1)


@index_app.command("stats")
def index_stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts by collection and document type, model and store location."""
    from rich.table import Table

    from .store import require_index

    settings = settings_or_exit()
    try:
        stats = require_index(settings).stats()
    except QABotError as e:
        fail(str(e))
        return
    if as_json:
        console.print_json(stats.model_dump_json())
        return
    console.print(f"documents: {stats.documents}   chunks: {stats.chunks}   vectors: {stats.vectors}   "
                  f"lexical: {stats.lexical_chunks}")
    console.print(f"model: {stats.model}   store: {stats.store}", markup=False, highlight=False)
    for title, data in (("collection", stats.by_collection), ("doc_type", stats.by_doc_type)):
        t = Table(title=f"chunks by {title}")
        t.add_column(title)
        t.add_column("chunks", justify="right")
        for k, v in sorted(data.items(), key=lambda kv: -kv[1]):
            t.add_row(Text(printable(str(k))), str(v))
        console.print(t)


@index_app.command("check")
def index_check(
    repair: Annotated[bool, typer.Option("--repair", help="Fix what disagrees with the state (lexical index rebuilt, "
                                                          "vectors deleted or added).")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="With --repair: wait for a running ingest.")] = False,
) -> None:
    """Chunks in the state, vectors in the store, chunks in the lexical index, and any mismatch."""
    from .store import check_index

    settings = settings_or_exit()
    if not settings.chroma_url and not settings.state_db.is_file():
        fail(f"no index in {settings.data_dir}: run `qa-bot ingest` first")
    try:
        report, done = check_index(settings, repair=repair, wait=wait)
    except QABotError as e:
        fail(str(e))
        return
    for line in done:
        console.print(f"repaired: {printable(line)}", markup=False, highlight=False)
    console.print(f"documents: {report['documents']}   chunks: {report['chunks']}   vectors: {report['vectors']}   "
                  f"lexical: {report['lexical']}", markup=False, highlight=False)
    if report["problems"]:
        for p in report["problems"]:
            err.print(f"mismatch: {printable(p)}", markup=False, highlight=False)
        err.print("run `qa-bot index check --repair` to fix it" if not repair else "not all problems could be fixed",
                  markup=False, highlight=False)
        raise typer.Exit(1)
    console.print("consistent", markup=False, highlight=False)


def _read_history(path: Path | None) -> list[dict]:
    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path}: no such history file")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"{path}: not a JSON list of {{role, content}} turns ({e})")
    if not isinstance(data, list) or not all(isinstance(t, dict) and t.get("role") in {"user", "assistant"}
                                             and isinstance(t.get("content"), str) for t in data):
        fail(f"{path}: history must be a JSON list of {{\"role\": \"user\"|\"assistant\", \"content\": \"…\"}}")
    return data


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question (quote it).")],
    history: Annotated[Optional[Path], typer.Option("--history", help="JSON file of earlier turns [{role, content}].")] = None,
    audience: Annotated[Optional[str], typer.Option("--audience", help="clinician (default) or patient.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
) -> None:
    """Answer one question from the indexed documents."""
    from .engine import answer
    from .render import answer_to_text

    if audience is not None and audience not in {"clinician", "patient"}:
        fail(f"--audience must be clinician or patient, not {audience!r}")
    settings = settings_or_exit(audience=audience)
    turns = _read_history(history)
    try:
        result = answer(question, turns, settings)
    except QABotError as e:
        fail(str(e))
        return
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        console.print(printable(answer_to_text(result), keep_lines=True), highlight=False, markup=False)


@app.command()
def chat(audience: Annotated[str, typer.Option("--audience")] = "clinician") -> None:
    """A terminal conversation with follow-up questions (empty line or Ctrl-D to quit)."""
    from .engine import answer
    from .render import answer_to_text

    settings = settings_or_exit(audience=audience)
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")  # any bytes: invalid UTF-8 becomes U+FFFD, never a traceback
    turns: list[dict] = []
    console.print("Ask a clinical question; follow-ups keep the context. Empty line to quit.")
    while True:
        try:
            q = console.input("[bold]> [/]")
        except (EOFError, KeyboardInterrupt):
            break
        if not q.strip():
            break
        try:
            result = answer(q, turns, settings)
        except QABotError as e:
            err.print(Text(printable(str(e)), style="red"), highlight=False)
            continue
        console.print(printable(answer_to_text(result), keep_lines=True), highlight=False, markup=False)
        turns += [{"role": "user", "content": result.question},
                  {"role": "assistant", "content": " ".join(s.text for s in result.sentences)}]


keys_app = typer.Typer(help="API keys for `qa-bot serve` (hashed lines for QA_BOT_API_KEYS_FILE).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _key_line(key: str, collections: str | None, admin: bool = False) -> str:
    from .keys import hash_key

    cols = ",".join(c.strip() for c in (collections or "").split(",") if c.strip())
    return hash_key(key) + (f" {cols}" if cols else "") + (" admin" if admin else "")


@keys_app.command("hash")
def keys_hash(
    collections: Annotated[Optional[str], typer.Option("--collections", help="Restrict the key to these collections "
                                                                             "(comma-separated).")] = None,
) -> None:
    """Read a key on stdin and print its line for the keys file (`sha256:<hex> [collection,...]`)."""
    key = sys.stdin.readline().strip()
    if not key:
        fail("no key on stdin: `printf %s \"$KEY\" | qa-bot keys hash`")
    if len(key) < 16:
        fail("a key must be at least 16 characters (`qa-bot keys add` makes a random one)")
    print(_key_line(key, collections))


@keys_app.command("add")
def keys_add(
    collections: Annotated[Optional[str], typer.Option("--collections", help="Restrict the key to these collections "
                                                                             "(comma-separated).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Keys file (default: QA_BOT_API_KEYS_FILE).")] = None,
    comment: Annotated[Optional[str], typer.Option("--comment", help="Who the key is for (kept as a # comment).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="The key may also read the audit trail.")] = False,
) -> None:
    """Make a new random key, append its hashed line to the keys file, print the key (shown only this once)."""
    import os
    import secrets

    from .keys import parse_keys_file

    path = file or settings_or_exit().server.api_keys_file
    if path is None:
        fail("no keys file: pass --file PATH or set QA_BOT_API_KEYS_FILE")
    key = "qab-" + secrets.token_urlsafe(32)
    line = _key_line(key, collections, admin)
    if comment:
        line += "  # " + " ".join(comment.split())
    try:
        if path.exists():
            parse_keys_file(path.read_text(encoding="utf-8"), str(path))  # never append to a file we cannot read
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            if f.tell() and not path.read_bytes().endswith(b"\n"):
                f.write("\n")
            f.write(line + "\n")
    except QABotError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    err.print(f"added to {path}; the key (shown only now):", markup=False, highlight=False)
    print(key)


def keyring_or_exit(settings: Settings, host: str | None = None):
    """The API keys (a bad keys file: exit with its message); a server on a non-loopback ``host`` needs keys."""
    from .api import is_loopback
    from .keys import KeyRing

    try:
        keyring = KeyRing(settings)
    except QABotError as e:
        fail(str(e))
        raise
    if host is not None and not keyring.enabled and not is_loopback(host):
        fail(f"refusing to listen on {host} without API keys: set QA_BOT_API_KEYS or QA_BOT_API_KEYS_FILE "
             "(`qa-bot keys add --file keys.txt`), or listen on 127.0.0.1")
    return keyring


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (each loads the index).")] = 1,
) -> None:
    """Serve the HTTP API (OpenAI-compatible chat completions, /v1/answer, health) with uvicorn."""
    import copy

    import uvicorn

    from .api_limits import MAX_HEADER_BYTES, LimitedH11Protocol

    settings = settings_or_exit()
    keyring = keyring_or_exit(settings, host)
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["formatters"]["qa_bot"] = {"()": "uvicorn.logging.DefaultFormatter",
                                          "fmt": "%(levelprefix)s %(asctime)s %(name)s %(message)s"}
    log_config["handlers"]["qa_bot"] = {"formatter": "qa_bot", "class": "logging.StreamHandler",
                                        "stream": "ext://sys.stderr"}
    log_config["loggers"]["qa_bot"] = {"handlers": ["qa_bot"], "level": "INFO", "propagate": False}
    err.print(f"qa_bot API on http://{host}:{port}/v1 ({workers} worker{'s' * (workers > 1)}; "
              f"keys: {'on' if keyring.enabled else 'off, loopback only'})", markup=False, highlight=False)
    # uvicorn's access log prints the request line with its query string: off; the app logs method, route,
    # status and time instead (qa_bot.api.access)
    # h11 with a deadline for a request's headers (408) and a cap on their size (431): qa_bot/api_limits.py
    uvicorn.run("qa_bot.api:app_from_env", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=log_config, proxy_headers=False, server_header=False,
                http=LimitedH11Protocol, h11_max_incomplete_event_size=MAX_HEADER_BYTES)


@app.command()
def mcp(
    transport: Annotated[str, typer.Option(
        "--transport", help="stdio (an agent starts this command) or http (streamable HTTP, over the network).")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="http: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="http: port.")] = 8001,
    path: Annotated[str, typer.Option("--path", help="http: the MCP endpoint's path.")] = "/mcp",
) -> None:
    """Serve the engine to MCP clients (tools `answer` and `search`), with the HTTP API's keys and scopes."""
    settings = settings_or_exit()
    keyring = keyring_or_exit(settings, host if transport == "http" else None)
    if transport == "stdio":
        from .mcp_server import create_server, warm_up

        key = settings.server.mcp_key.get_secret_value() if settings.server.mcp_key else None
        if keyring.enabled and (not key or keyring.find(key) is None):
            fail("QA_BOT_MCP_KEY: " + ("missing: API keys are configured, so stdio calls need one of them"
                                       if not key else "invalid API key"))
        warm_up(settings)
        create_server(settings, key).run("stdio")
    elif transport == "http":
        import uvicorn

        from .mcp_server import http_app, warm_up

        warm_up(settings)
        err.print(f"qa_bot MCP (streamable HTTP) on http://{host}:{port}{path} "
                  f"(keys: {'on' if keyring.enabled else 'off, loopback only'})", markup=False, highlight=False)
        uvicorn.run(http_app(settings, path, host), host=host, port=port, access_log=False, log_level="warning",
                    proxy_headers=False, server_header=False)
    else:
        fail(f"--transport {transport!r}: expected stdio or http")


from .evaluate.cli import eval_command  # noqa: E402

app.command("eval")(eval_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
