"""qa_bot web chat (Streamlit): a thin layer over ``qa_bot.engine.stream_answer``; no retrieval or answer logic here.

Run: ``make run`` (or ``streamlit run ui/app.py``). Settings come from the environment (``QA_BOT_*``) and the
optional TOML config, like the CLI. Document and question text is always rendered as text (see
``ui/components.py``), never as Markdown or live HTML.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import qa_bot  # noqa: E402,F401  (first: the package sets the offline defaults)
import streamlit as st  # noqa: E402

from qa_bot.errors import QABotError  # noqa: E402
from qa_bot.render import headings  # noqa: E402
from qa_bot.settings import Settings, setting_name  # noqa: E402
from qa_bot.types import Answer, Turn  # noqa: E402
from ui import components as C  # noqa: E402

log = logging.getLogger("qa_bot.ui")

AUDIENCES = {"clinician": "Clinician", "patient": "Patient or caregiver"}
DOC_TYPE_FILTER = ["guideline", "expert_answer"]
WARM_UP_QUESTION = "How is high blood pressure treated?"
UNEXPECTED = ("Something went wrong while answering ({kind}). The page still works: try again, or rephrase the "
              "question.")


# --- once per server process ------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading the answer engine…")
def load_engine():
    """The engine and its heavy imports (retrieval, index, numpy…), once per server process.

    Every module the warm-up thread will use is imported here, in the script's thread: importing creates
    dataclasses and named tuples (code compiled at import), and on CPython 3.11.7 compiling in two threads at
    once can fail ("AST constructor recursion depth mismatch") in whichever thread parses the page script next."""
    from qa_bot import compose, embed, engine, retrieve, rewrite, shorthand, store, text, verify  # noqa: F401
    import sentence_transformers  # noqa: F401  (torch, transformers: the embedder's imports)

    return engine


def _warm_up(engine, settings: Settings) -> None:
    """Load the embedding model, the lexical index and the vector store before the first question."""
    try:
        engine.answer(WARM_UP_QUESTION, [], settings)  # every stage, so the first real question finds it all loaded
    except Exception as e:  # the page reports problems when a real question is asked
        log.info("warm-up skipped: %s", e)


@st.cache_resource(show_spinner=False)
def start_index_services(data_dir: str, chroma_url: str | None, collection: str, model: str) -> dict[str, Any]:
    """Once per server process and index: fill pending vectors in the background and warm the engine up."""
    from qa_bot.store import start_background_vectors

    settings = Settings()
    vectors = start_background_vectors(settings)
    if os.environ.get("QA_BOT_UI_WARMUP", "1").lower() in ("0", "false", "no"):
        return {"vectors": vectors, "warm": None, "started": time.time()}
    warm = threading.Thread(target=_warm_up, args=(load_engine(), settings), name="qa-bot-warm-up", daemon=True)
    warm.start()
    return {"vectors": vectors, "warm": warm, "started": time.time()}


@st.cache_resource(show_spinner=False)
def expire_feedback(path: str, retention_days: float | None, _settings: Settings | None = None) -> int:
    """Once per server process: apply QA_BOT_FEEDBACK_RETENTION_DAYS to the stored feedback (the shared
    collection on the Chroma server in server mode)."""
    from qa_bot.feedback import FeedbackStore

    try:
        if _settings is not None:
            return FeedbackStore.for_settings(_settings).expire()
        return FeedbackStore(path, retention_days).expire()
    except Exception as e:  # the chat works without the feedback file
        log.warning("feedback expiry skipped: %s", e)
        return 0


# --- helpers ----------------------------------------------------------------------------------------------
def friendly(e: BaseException) -> str:
    """A readable one-line message, escaped for Streamlit's Markdown (paths and user text show as written)."""
    return C.md_text(str(e)) if isinstance(e, QABotError) else UNEXPECTED.format(kind=type(e).__name__)


def load_settings() -> Settings:
    try:
        return Settings()
    except Exception as e:  # bad configuration: one readable line, the page stays up
        errors = getattr(e, "errors", None)
        detail = ("; ".join(f"{setting_name(err['loc']) or 'settings'}: {err['msg']}"
                            for err in errors()[:3]) if callable(errors) else str(e).splitlines()[0])
        st.error(f"The configuration is invalid ({C.md_text(detail)}). Fix the QA_BOT_* environment variables or "
                 "qa_bot.toml and reload the page.")
        st.stop()
        raise


def index_info(settings: Settings) -> dict[str, Any]:
    from qa_bot.store import index_status

    try:
        return index_status(settings)
    except Exception as e:
        return {"ready": False, "error": friendly(e)}


@st.cache_data(ttl=60, show_spinner=False)
def collection_names(data_dir: str, _settings: Settings) -> list[str]:
    from qa_bot.store import get_store

    if not _settings.chroma_url and not _settings.state_db.is_file():
        return []
    try:
        return get_store(_settings).collections()
    except Exception:
        return []


def engine_history(turns: list[dict]) -> list[Turn]:
    """Earlier answered turns, oldest first, as the engine's conversation history."""
    out: list[Turn] = []
    for t in turns:
        if t.get("answer") is not None:
            out += [Turn(role="user", content=t["question"]),
                    Turn(role="assistant", content=C.history_content(t["answer"]))]
    return out


# --- login (QA_BOT_UI_LOGIN) -----------------------------------------------------------------------------
def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception as e:  # no secrets.toml: no OIDC provider
        if any(os.path.exists(p) for p in st.get_option("secrets.files") or []):
            # there but unreadable (a TOML error): it may hold [auth], so stop rather than serve the page unguarded
            log.error("secrets file unreadable: %s", type(e).__name__)
            st.error("`.streamlit/secrets.toml` cannot be read (a TOML error?): fix it and restart the app.")
            st.stop()
        return False


def login_mode(settings: Settings) -> str:
    """"oidc" (Streamlit's st.login, where [auth] is in .streamlit/secrets.toml), "keys" (the API keys of
    QA_BOT_API_KEYS / QA_BOT_API_KEYS_FILE) or "off"; "auto" picks the first that is configured."""
    mode = settings.ui.login
    if mode == "auto":
        if _oidc_configured():
            return "oidc"
        return "keys" if (settings.server.api_keys or settings.server.api_keys_file) else "off"
    return mode


def allowed_collections() -> list[str] | None:
    """The collections the logged-in key may read (None: all)."""
    login = st.session_state.get("login_key")
    return None if not login else login.get("collections")


def logout() -> None:
    st.session_state.pop("login_key", None)
    new_conversation()


def recheck_login(settings: Settings) -> None:
    """Every run of the page (each question) asks whether the session's key is still accepted: a key removed from
    the keys file (or a keys file gone or broken) ends the session; a changed scope applies at once."""
    from qa_bot.keys import KeyRing

    ss = st.session_state
    try:
        key = KeyRing(settings).current(bytes.fromhex(ss.login_key.get("digest", "")))
    except Exception:  # noqa: BLE001 - an unreadable keys file: no key is valid
        key = None
    if key is None:
        log.warning("web chat session of key %s ended: the key is no longer accepted", ss.login_key.get("id"))
        logout()
        st.warning("Your access key is no longer accepted: log in again.")
        return
    ss.login_key["collections"] = sorted(key.collections) if key.collections is not None else None


def require_login(settings: Settings) -> None:
    """Show a login and stop the page until the user has logged in (nothing else of the page is rendered)."""
    mode = login_mode(settings)
    if mode == "off":
        return
    ss = st.session_state
    if mode == "oidc":
        if not _oidc_configured():
            st.error("QA_BOT_UI_LOGIN=oidc but .streamlit/secrets.toml has no [auth] section: see README, "
                     "\"Deploy for a team\".")
            st.stop()
        if not st.user.is_logged_in:
            st.title("qa_bot")
            st.button("Log in", on_click=st.login, key="login_oidc", type="primary")
            st.stop()
        with st.sidebar:
            st.caption(f"Signed in as {C.md_text(str(st.user.get('email') or st.user.get('name') or 'user'))}")
            st.button("Log out", on_click=st.logout, key="logout")
        return
    if not (settings.server.api_keys or settings.server.api_keys_file):
        st.error("QA_BOT_UI_LOGIN=keys but no key is configured (QA_BOT_API_KEYS or QA_BOT_API_KEYS_FILE).")
        st.stop()
    if ss.get("login_key"):
        recheck_login(settings)
    if not ss.get("login_key"):
        st.title("qa_bot")
        with st.form("login_form"):
            key = st.text_input("Access key", type="password", key="login_key_input",
                                help="The API key your administrator gave you (`qa-bot keys add`).")
            submitted = st.form_submit_button("Log in", type="primary")
        if submitted:
            from qa_bot.keys import KeyRing
            from qa_bot.errors import BadInputError

            try:
                found = KeyRing(settings).find(key.strip()) if key and key.strip() else None
            except BadInputError as e:
                st.error(f"The keys file cannot be read: {C.md_text(str(e))}")
                st.stop()
            if found is not None:
                ss.login_key = {"id": found.id, "digest": found.digest.hex(), "collections": sorted(found.collections)
                                if found.collections is not None else None}
                log.info("web chat login with key %s", found.id)
                st.rerun()
            time.sleep(1.0)  # a wrong key costs a second: no fast guessing
            log.info("web chat login refused")
            st.error("This key is not valid.")
        st.stop()
    with st.sidebar:
        scope = allowed_collections()
        st.caption(f"Signed in with key {ss.login_key['id']}" + (f" (collections: {', '.join(scope)})"
                                                                  if scope is not None else ""))
        st.button("Log out", on_click=logout, key="logout")


def overrides_from_sidebar() -> dict[str, Any]:
    ss = st.session_state
    after = ss.get("f_after")
    chosen = list(ss.get("f_collections") or []) or None
    allowed = allowed_collections()
    if allowed is not None:  # a key scoped to collections reads those only
        chosen = [c for c in (chosen or allowed) if c in allowed] or allowed
    return {"audience": ss.get("audience") or "clinician",
            "collections": chosen,
            "doc_types": list(ss.get("f_doc_types") or []) or None,
            "published_after": after.isoformat() if isinstance(after, date) else None}


def new_conversation() -> None:
    ss = st.session_state
    for k in [k for k in ss.keys() if str(k).startswith(("fb", "pop_", "fu_"))]:
        del ss[k]
    ss.turns = []
    ss.pending = None
    ss.conversation = uuid.uuid4().hex[:8]


def ask_followup(question: str) -> None:
    st.session_state.pending = {"question": question, "id": uuid.uuid4().hex[:12]}


def save_feedback(tid: str, with_comment: bool = False) -> None:
    from qa_bot.feedback import FeedbackStore

    ss = st.session_state
    turn = next((t for t in ss.turns if t["id"] == tid), None)
    if turn is None or turn.get("answer") is None:
        return
    value = ss.get(f"fb_{tid}")
    if value is None:
        ss[f"fbmsg_{tid}"] = ("info", "Choose 👍 or 👎 first, then add a comment.") if with_comment else None
        return
    rating = "helpful" if value == 1 else "not_helpful"
    comment = ss.get(f"fbc_{tid}") if with_comment else None
    try:
        FeedbackStore.for_settings(turn["settings"]).record(tid, turn["answer"], rating, comment,
                                                             history=turn["history"], settings=turn["settings"])
        ss[f"fbmsg_{tid}"] = ("ok", "Thanks: your comment was saved." if comment else "Thanks: feedback saved.")
    except Exception as e:
        ss[f"fbmsg_{tid}"] = ("error", f"Feedback could not be saved: {friendly(e)}")


# --- rendering --------------------------------------------------------------------------------------------
def render_citations(tid: str, cites: list, label: str) -> None:
    if not cites:
        return
    st.caption(label)
    with st.container(horizontal=True, gap="small"):
        for c in cites:
            with st.popover(C.citation_label(c), key=f"pop_{tid}_{c.n}"):
                st.html(C.citation_card_html(c))


def render_feedback(tid: str) -> None:
    ss = st.session_state
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption("Was this answer helpful?")
        st.feedback("thumbs", key=f"fb_{tid}", on_change=save_feedback, args=(tid,))
    if ss.get(f"fb_{tid}") is not None:
        with st.form(f"fbform_{tid}", border=False, clear_on_submit=False):
            st.text_input("Comment (optional)", key=f"fbc_{tid}", max_chars=2000,
                          placeholder="What was missing, wrong or especially useful?")
            st.form_submit_button("Send comment", on_click=save_feedback, args=(tid, True))
    msg = ss.get(f"fbmsg_{tid}")
    if msg:
        kind, text = msg
        (st.error if kind == "error" else st.caption)(text)


def render_answer(turn: dict, last: bool) -> None:
    tid, a = turn["id"], turn["answer"]
    h = headings(a.audience)
    searched = C.searched_html(a)
    if searched:
        st.html(searched)
    st.html(C.answer_html(a))
    if a.abstained:
        render_citations(tid, a.related, h["related"])
    else:
        render_citations(tid, a.citations, "Sources: open a number to read the cited passage")
        st.html(C.references_html(a.citations, h["references"]))
    if last and a.suggested_followups:
        st.caption("Suggested follow-up questions")
        with st.container(horizontal=True, gap="small"):
            for i, q in enumerate(a.suggested_followups):
                st.button(C.md_text(q), key=f"fu_{tid}_{i}", on_click=ask_followup, args=(q,), type="tertiary")
    render_feedback(tid)
    total = a.timings_ms.get("total")
    if total is not None:
        took = f"{total / 1000:.1f} s" if total >= 1000 else f"{total:.0f} ms"
        st.caption(f"Answered in {took} · {a.composer} composer")
    st.html(C.disclaimer_html(a.disclaimer))


def render_turn(turn: dict, last: bool, disclaimer: str) -> None:
    with st.chat_message("user"):
        st.text(turn["question"])
    with st.chat_message("assistant"):
        if turn.get("answer") is not None:
            render_answer(turn, last)
        else:
            st.error(turn.get("error") or "No answer.")
            st.html(C.disclaimer_html(disclaimer))


def answer_now(question: str, tid: str, settings: Settings, overrides: dict[str, Any]) -> None:
    """Run the engine for one question, showing its stages (and LLM text) as they come; store the turn."""
    ss = st.session_state
    history = engine_history(ss.turns)
    turn_settings = settings.model_copy(update=overrides)
    with st.chat_message("user"):
        st.text(question)
    answer: Answer | None = None
    error: str | None = None
    with st.chat_message("assistant"):
        status = st.status(C.STAGE_LABELS["rewrite"], expanded=False)
        live = st.empty()
        tokens: list[str] = []
        try:
            engine = load_engine()
            for ev in engine.stream_answer(question, history, settings, **overrides):
                if ev.kind == "stage":
                    status.update(label=C.STAGE_LABELS.get(ev.text, C.md_text(f"{ev.text}…")))
                elif ev.kind == "token":
                    if not tokens:
                        status.update(label=C.STAGE_LABELS["llm"])
                    tokens.append(ev.text)
                    live.text("".join(tokens))  # unverified draft, as plain text; replaced by the answer
                elif ev.kind == "answer":
                    answer = ev.answer
            status.update(label="Done", state="complete")
        except Exception as e:
            if not isinstance(e, QABotError):
                log.exception("answering failed")
            error = friendly(e)
            status.update(label="Could not answer", state="error")
    ss.turns.append({"id": tid, "question": question, "answer": answer, "error": error,
                     "history": [t.model_dump() for t in history], "settings": turn_settings,
                     "time": datetime.now().isoformat(timespec="seconds")})
    ss.pending = None
    st.rerun()


def render_sidebar(settings: Settings, info: dict[str, Any]) -> None:
    with st.sidebar:
        st.header("qa_bot")
        st.radio("Which best describes you?", list(AUDIENCES), format_func=AUDIENCES.get, key="audience")
        st.subheader("Filters")
        names = collection_names(str(settings.data_dir), settings)
        if allowed_collections() is not None:
            names = [n for n in names if n in allowed_collections()]
        st.multiselect("Collections", names, key="f_collections",
                       placeholder="All collections")
        st.multiselect("Document types", DOC_TYPE_FILTER, format_func=C.doc_type_label, key="f_doc_types",
                       placeholder="All document types")
        st.date_input("Published after", value=None, key="f_after", min_value=date(1900, 1, 1),
                      max_value=date.today(), format="YYYY-MM-DD")
        st.subheader("Index")
        if info.get("ready") and info.get("pending_vectors"):
            st.fragment(run_every=3)(index_panel)(settings)
        else:
            index_panel(settings, info)
        if info.get("ready") and allowed_collections() is None:  # an admin: not limited to some collections
            documents_read_panel(settings)


@st.cache_data(ttl=30, show_spinner=False)
def documents_read(data_dir: str, _settings: Settings) -> list[dict[str, Any]]:
    from qa_bot.store import get_store
    from qa_bot.ingest_report import documents_read as read

    try:
        return [d.model_dump() for d in read(get_store(_settings))]
    except Exception:
        return []


def documents_read_panel(settings: Settings) -> None:
    """What ingest read from each file (``qa-bot ingest --report``): for the people who add documents."""
    docs = documents_read(str(settings.data_dir), settings)
    if not docs:
        return
    with st.expander(f"Documents read ({len(docs)})"):
        rows = [{"file": Path(d["path"]).name, "status": "FAILED: " + d["failed"] if d["failed"] else "indexed",
                 "pages": d["pages"], "OCR pages": len(d["ocr_pages"]), "OCR s": d["ocr_seconds"],
                 "headings": d["headings"], "tables": d["tables"], "table rows": d["table_rows"],
                 "form items": d["forms"], "recommendations": d["recommendations"], "chunks": d["chunks"],
                 "warnings": "; ".join(d["warnings"]), "seconds": d["seconds"]} for d in docs]
        st.dataframe(rows, hide_index=True, key="documents_read")
        for d in docs:
            if d["failed"] or d["warnings"]:
                st.caption(f"{C.md_text(Path(d['path']).name)}: " + C.md_text(d["failed"] or "; ".join(d["warnings"])))


def index_panel(settings: Settings, info: dict[str, Any] | None = None) -> None:
    s = info or index_info(settings)
    if s.get("error"):
        st.error(s["error"])
        return
    if not s.get("ready"):
        st.warning("No index yet: run `qa-bot ingest` (or `make run`), then reload this page.")
        return
    c1, c2 = st.columns(2)
    c1.metric("Documents", f"{s['documents']:,}")
    c2.metric("Chunks", f"{s['chunks']:,}")
    st.caption(f"Model: {C.md_text(s['model'])}")
    st.caption(f"Store: {C.md_text(s['store'])}")
    if s.get("pending_vectors"):
        st.progress(min(1.0, s.get("progress") or 0.0),
                    text=f"Building vectors: {s['vectors']:,} / {s['chunks']:,}. The chat works meanwhile "
                         "(keyword search covers the rest).")
    else:
        st.caption(f"Vectors: {s['vectors']:,} (complete)")


# --- page -------------------------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="qa_bot: clinical answers from the evidence", page_icon="🩺", layout="centered")
    st.html(C.CSS)
    ss = st.session_state
    settings = load_settings()
    require_login(settings)
    ss.setdefault("turns", [])
    ss.setdefault("pending", None)
    ss.setdefault("conversation", uuid.uuid4().hex[:8])
    if "audience" not in ss:
        ss.audience = settings.answer.audience

    expire_feedback(str(settings.feedback_path) if not settings.chroma_url else f"{settings.chroma_url}#"
                    f"{settings.collection_name}", settings.ui.feedback_retention_days, settings)
    info = index_info(settings)
    if info.get("ready"):
        try:
            start_index_services(str(settings.data_dir), settings.chroma_url, settings.collection_name,
                                 settings.embedding_model)
        except Exception as e:
            st.error(f"Background indexing could not start: {friendly(e)}")
    render_sidebar(settings, info)

    st.title("Clinical questions, answered from the evidence")
    if info.get("error"):
        st.error(info["error"])
    elif not info.get("ready"):
        st.error(f"No index in {C.md_text(settings.data_dir)}: run `qa-bot ingest` (or `make run`) first, then reload.")

    with st.container(horizontal=True, gap="small"):
        st.button("New conversation", on_click=new_conversation, icon=":material/add_comment:", key="new_conv")
        st.download_button("Export conversation (Markdown)", data=C.export_markdown(ss.turns, settings.answer.disclaimer),
                           file_name=f"qa_bot-conversation-{datetime.now():%Y%m%d-%H%M}.md", mime="text/markdown",
                           disabled=not ss.turns, on_click="ignore", icon=":material/download:", key="export")

    if not ss.turns and not ss.pending:
        st.caption("Ask a clinical question. Answers quote the indexed guidelines and expert answers, with numbered "
                   "citations; follow-up questions keep the context.")
    for i, turn in enumerate(ss.turns):
        render_turn(turn, last=(i == len(ss.turns) - 1), disclaimer=settings.answer.disclaimer)

    with st.bottom:
        prompt = st.chat_input("Ask a clinical question, or a follow-up…", key="question", submit_mode="disable")
        st.html(C.disclaimer_html(settings.answer.disclaimer))  # always on screen, under the input
    if prompt is not None:
        ss.pending = {"question": prompt, "id": uuid.uuid4().hex[:12]}
    if ss.pending:
        answer_now(ss.pending["question"], ss.pending["id"], settings, overrides_from_sidebar())


main()
