"""HTTP API (`qa-bot serve`): a thin caller of :func:`qa_bot.engine.answer` — no retrieval or answer logic here.

Endpoints: ``POST /v1/answer`` (the ``Answer`` JSON), ``POST /v1/chat/completions`` (OpenAI-compatible, streaming
and not; the message content is the answer as text with ``[n]`` markers, references and the fixed disclaimer, the
structured citations are in an extra ``citations`` field; Open WebUI's task prompts are answered without the
engine, ``qa_bot.openwebui``), ``GET /v1/passages/{citation id}`` (the cited passage, quoted spans marked),
``GET /v1/audit`` (admin keys), ``GET /v1/models``, ``GET /v1/index/stats``, ``GET /healthz`` (the process is up)
and ``GET /readyz`` (the index is reachable and loaded). Each answered request appends a row to the audit trail.

Keys (``QA_BOT_API_KEYS`` plain, or ``QA_BOT_API_KEYS_FILE`` hashed, optionally scoped to collections) are checked
on every endpoint but the health ones. Errors are OpenAI-style JSON ``{"error": {"message", "type"}}``.
Privacy: no log line carries question or answer text (lengths and timings only) unless ``QA_BOT_DEBUG_LOG_TEXT``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .api_limits import BodyLimit
from .errors import BadInputError, BadQuestionError, IndexMissingError, QABotError, StoreUnavailableError
from .keys import (ApiKey, KeyRefused, KeyRing, find_bearer, hash_key, parse_keys_file,  # noqa: F401 - re-exported
                   scoped_collections)
from .settings import Settings

log = logging.getLogger("qa_bot.api")
access_log = logging.getLogger("qa_bot.api.access")

MODEL_ID = "qa-bot"
MAX_HISTORY_TURNS = 20  # earlier turns passed to the engine (follow-ups only need the last few)
MAX_MESSAGES = 500
MAX_TURN_CHARS = 100_000  # a turn longer than this is refused (422); the question has its own, smaller limit
WARMUP_QUESTION = "What is hypertension?"
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # no key needed


# --- errors -----------------------------------------------------------------------------------------
class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.headers = status, message, type_, headers


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(status: int, message: str, type_: str, headers: dict[str, str] | None = None,
                   param: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, type_, param), status_code=status, headers=headers)


_STATUS_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 405: "invalid_request_error", 408: "invalid_request_error",
                 413: "invalid_request_error", 431: "invalid_request_error",
                 422: "invalid_request_error", 503: "service_unavailable"}


def _engine_error(e: QABotError) -> ApiError:
    if isinstance(e, (BadQuestionError, BadInputError)):
        return ApiError(400, str(e), "invalid_request_error")
    if isinstance(e, IndexMissingError):  # the message names the data directory: not for clients
        return ApiError(503, "no index: run `qa-bot ingest` first", "service_unavailable")
    if isinstance(e, StoreUnavailableError):  # the message names the Chroma server's address
        return ApiError(503, "the index store (Chroma server) is unavailable", "service_unavailable")
    return ApiError(500, str(e), "internal_error")


def _unavailable(e: BaseException) -> bool:
    """A lost connection to the store (Chroma server down mid-request): a 503, not a 500."""
    from .store.chroma import is_connection_error

    return is_connection_error(e)


def _store_failed(e: BaseException) -> bool:
    """An error raised inside Chroma (e.g. ``InternalError: Error finding id`` when an embedded store was written by
    another process): the store's state, not the request, so a 503 with what to do."""
    return any(c.__module__.split(".")[0] == "chromadb" for c in type(e).__mro__)


# --- request and response bodies ----------------------------------------------------------------------
class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_types: list[Literal["guideline", "expert_answer", "comment"]] | None = None
    collections: list[str] | None = Field(None, max_length=100)
    published_after: date | None = None


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_TURN_CHARS)


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(max_length=MAX_TURN_CHARS)
    history: list[TurnIn] = Field(default_factory=list, max_length=MAX_MESSAGES)
    filters: Filters | None = None
    audience: Literal["clinician", "patient"] | None = None


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str = Field(max_length=MAX_TURN_CHARS)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls… are accepted and ignored
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = Field(None)

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content)


class ChatRequest(BaseModel):
    """The OpenAI chat-completions body. Sampling options (temperature, max_tokens, …) are accepted and ignored:
    the answer is extractive and verified. ``filters`` and ``audience`` are qa_bot extensions (``extra_body``)."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    n: int | None = Field(None, ge=1, le=1)
    filters: Filters | None = None
    audience: Literal["clinician", "patient"] | None = None


def scope_filters(key: ApiKey | None, filters: Filters | None) -> dict[str, Any]:
    """Engine overrides from the request's filters, restricted to the key's collections."""
    f = filters or Filters()
    out: dict[str, Any] = {}
    if f.doc_types:
        out["doc_types"] = list(f.doc_types)
    if f.published_after:
        out["published_after"] = f.published_after.isoformat()
    try:
        cols = scoped_collections(key, f.collections)
    except KeyRefused as e:
        raise ApiError(e.status, str(e), "permission_error") from None
    if cols:
        out["collections"] = cols
    return out


# --- usage ------------------------------------------------------------------------------------------
def estimate_tokens(text: str) -> int:
    """An estimate of a text's tokens for the ``usage`` field: about four characters a token (OpenAI's rule of
    thumb for English); no tokenizer is loaded, and nothing here is billed."""
    return (len(text) + 3) // 4 if text else 0


def usage_of(messages: list[ChatMessage], content: str) -> dict[str, int]:
    prompt = sum(estimate_tokens(m.text()) for m in messages)
    completion = estimate_tokens(content)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_body(content: str, messages: list[ChatMessage], **extra) -> dict:
    return {"id": "chatcmpl-" + uuid.uuid4().hex, "object": "chat.completion", "created": int(time.time()),
            "model": MODEL_ID, "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                            "finish_reason": "stop", "logprobs": None}],
            "usage": usage_of(messages, content), **extra}


def passage_links(settings: Settings, result) -> dict[int, str]:
    """Citation number → its passage's link, when the API's public address is configured."""
    base = (settings.server.public_base_url or "").rstrip("/")
    return {c.n: f"{base}/v1/passages/{c.id}" for c in result.citations} if base else {}


def audit_answer(settings: Settings, key: ApiKey | None, overrides: dict[str, Any], result, seconds: float) -> None:
    """One row of the audit trail for an answered request (``qa_bot.audit``)."""
    from .audit import AuditStore

    try:
        AuditStore.for_settings(settings).record(key.id if key else None, overrides.get("collections"),
                                                 result, seconds, settings.server.audit_text)
    except Exception as e:  # noqa: BLE001 - an audit store away is logged; the answer is still given
        log.error("audit: not recorded (%s)", type(e).__name__)


def openwebui_task(body: ChatRequest, text: str, settings: Settings, memory, owner: str) -> Any:
    """Open WebUI's background task prompts (title, tags, follow-ups, queries, autocomplete), answered in the JSON
    they ask for without the engine (``qa_bot.openwebui``); None for anything else. Their text is not logged."""
    from .openwebui import recognise, reply

    task = recognise(text)
    if task is None:
        return None
    content = reply(task, text, settings, memory, owner)
    log.info("chat: open webui task %s answered without retrieval", task.key)
    done = completion_body(content, body.messages)
    if not body.stream:
        return done
    frame = {**done, "object": "chat.completion.chunk",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": "stop",
                          "logprobs": None}]}

    async def events():
        yield f"data: {json.dumps(frame, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# --- the app ----------------------------------------------------------------------------------------
def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Warmup:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: str | None = None
        self.seconds: float | None = None
        self.store_failed = False  # the last answer failed inside the vector store, none has worked since


class AccessAndErrors:
    """Pure ASGI middleware: one access line per request (method, route, status, milliseconds: never a query
    string or a body) and a JSON 500 for anything unexpected (the exception's type is logged, not its message,
    which could quote the question)."""

    def __init__(self, app, settings: Settings, warm: _Warmup | None = None):
        self.app, self.settings, self.warm = app, settings, warm

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        state = {"status": 500, "started": False}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback to the client
            where = ""
            tb = e.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None:
                where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
            if self.settings.server.debug_log_text:
                log.exception("unhandled error")
            else:
                log.error("unhandled %s%s", type(e).__name__, where)
            if not state["started"]:
                if _unavailable(e):
                    resp = error_response(503, "the index store is unavailable", "service_unavailable")
                elif _store_failed(e):
                    if self.warm is not None:
                        self.warm.store_failed = True  # /readyz is 503 until an answer works again
                    resp = error_response(503, "the vector store failed on this request; with the embedded store "
                                               "this happens after another process (an ingest) wrote to it: restart "
                                               "the API after an ingest, or use a Chroma server (QA_BOT_CHROMA_URL)",
                                          "service_unavailable")
                else:
                    resp = error_response(500, "internal error", "internal_error")
                await resp(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "<no route>"
            access_log.info("%s %s %d %.0fms", scope.get("method", "?"), path, state["status"],
                            (time.perf_counter() - t0) * 1000)


def embedded_store_busy(settings: Settings, warm: _Warmup) -> str | None:
    """Why the embedded store cannot answer now (another process writing it; an answer failed inside it and a
    test question still fails), else None."""
    from .engine import answer
    from .store import writer_running

    if settings.chroma_url:
        return None
    if writer_running(settings):
        return "an ingest by another process is writing the index (questions fail until it ends)"
    if warm.store_failed:
        try:
            answer(WARMUP_QUESTION, [], settings)
            warm.store_failed = False
        except Exception as e:  # noqa: BLE001
            if _store_failed(e):
                return "the vector store fails on questions (restart the API after an ingest)"
            raise
    return None


def warm_up(settings: Settings, keyring: KeyRing, warm: _Warmup) -> None:
    """Load the index and the model by answering a test question (once per key scope, for its statistics); the
    outcome lands in ``warm`` (``/readyz`` reads it)."""
    from .engine import answer
    from .shorthand import load_drug_dictionary

    t = time.perf_counter()
    try:
        answer(WARMUP_QUESTION, [], settings)
        load_drug_dictionary()
        for scope in {k.collections for k in keyring.keys() if k.collections}:  # each key scope's statistics
            answer(WARMUP_QUESTION, [], settings, collections=sorted(scope))
    except QABotError as e:
        warm.error = str(e)
    except Exception as e:  # noqa: BLE001
        warm.error = f"{type(e).__name__} while loading"
    warm.seconds = time.perf_counter() - t
    warm.done.set()
    log.info("warm-up %s in %.1fs", "failed" if warm.error else "done", warm.seconds)


def validation_error(e: RequestValidationError) -> JSONResponse:
    """A 422 naming where the body is wrong and why, never echoing the input value."""
    problems = []
    for p in e.errors()[:5]:  # location and reason only: the input value is never echoed
        loc = ".".join(str(x) for x in p.get("loc", ()) if x != "body")
        problems.append(f"{loc or 'body'}: {p.get('msg', 'invalid')}")
    first = e.errors()[0] if e.errors() else {}
    # the field at fault; a JSON syntax error's location is an offset in the body, not a parameter
    param = None if first.get("type") == "json_invalid" else \
        ".".join(str(x) for x in first.get("loc", ()) if x != "body") or None
    return error_response(422, "invalid request: " + "; ".join(problems), "invalid_request_error", param=param)


def add_error_handlers(app: FastAPI) -> None:
    """Every error as OpenAI-style JSON ``{"error": {"message", "type"}}``."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError):
        return error_response(e.status, e.message, e.type, e.headers)

    @app.exception_handler(QABotError)
    async def _qa_error(request: Request, e: QABotError):
        err = _engine_error(e)
        return error_response(err.status, err.message, err.type)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, e: RequestValidationError):
        return validation_error(e)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException):
        message = {404: "not found", 405: "method not allowed"}.get(e.status_code, str(e.detail))
        return error_response(e.status_code, message, _STATUS_TYPES.get(e.status_code, "invalid_request_error"),
                              getattr(e, "headers", None))


# --- auth: checked before anything else of the request is read (an unauthenticated client learns nothing,
# not even whether its body is valid or a route exists) ----------------------------------------------
def check_key(keyring: KeyRing, headers: dict[str, str], client: str | None) -> ApiKey | None:
    """The request's key (None: keys are off and the client is on loopback); ApiError when refused."""
    if not keyring.enabled:
        if not is_loopback(client):
            raise ApiError(403, "no API keys are configured: only loopback clients are served "
                                "(set QA_BOT_API_KEYS or QA_BOT_API_KEYS_FILE)", "permission_error")
        return None
    try:
        return find_bearer(keyring, headers.get("authorization"))
    except KeyRefused as e:
        raise ApiError(e.status, str(e), "authentication_error", {"WWW-Authenticate": "Bearer"}) from None


class RequireKey:
    """Pure ASGI middleware: the key check for every path but the health ones; the accepted key is left in the
    request's state (``authorize`` reads it)."""

    def __init__(self, app, keyring: KeyRing):
        self.app, self.keyring = app, keyring

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = (scope.get("client") or (None,))[0]
        try:
            key = check_key(self.keyring, headers, client)
        except ApiError as e:
            await error_response(e.status, e.message, e.type, e.headers)(scope, receive, send)
            return
        scope.setdefault("state", {})["api_key"] = key
        await self.app(scope, receive, send)


def authorize(request: Request) -> ApiKey | None:
    """The key the middleware accepted (None: keys are off, a loopback client)."""
    return getattr(request.state, "api_key", None)


def run_engine(settings: Settings, warm: _Warmup, question: str, history: list[dict], overrides: dict[str, Any],
               endpoint: str):
    """``engine.answer`` for one request: engine errors become API errors; lengths and timings are logged, never
    the text (unless ``debug_log_text``)."""
    from .engine import answer

    t = time.perf_counter()
    try:
        result = answer(question, history[-MAX_HISTORY_TURNS:], settings, **overrides)
    except QABotError as e:
        log.info("%s: refused (%s) question_chars=%d history_turns=%d", endpoint, type(e).__name__,
                 len(question), len(history))
        raise _engine_error(e) from None
    warm.store_failed = False
    ms = (time.perf_counter() - t) * 1000
    log.info("%s: question_chars=%d history_turns=%d abstained=%s sentences=%d citations=%d total_ms=%.0f",
             endpoint, len(question), len(history), result.abstained, len(result.sentences),
             len(result.citations), ms)
    if settings.server.debug_log_text:
        log.info("%s: DEBUG question=%r standalone=%r", endpoint, result.question, result.standalone_question)
    return result


def readiness(settings: Settings, warm: _Warmup):
    """``GET /readyz``: ready, or a 503 saying why not (no key is asked for; no detail of the index)."""
    from .store import require_index

    if not warm.done.is_set():
        return error_response(503, "not ready: loading the index and the embedding model", "not_ready")
    try:
        store = require_index(settings)
        if settings.chroma_url:
            try:
                store.heartbeat()
            except StoreUnavailableError:
                raise
            except Exception as e:
                raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url} "
                                            f"({type(e).__name__})") from None
        if store.count_chunks() == 0:
            raise IndexMissingError("the index is empty")
        busy = embedded_store_busy(settings, warm)
        if busy:
            return error_response(503, f"not ready: {busy}", "service_unavailable")
    except (IndexMissingError, StoreUnavailableError) as e:
        # no key is asked for here: ready or not, and no detail of the index (counts, paths, addresses)
        why = "no index (run `qa-bot ingest`)" if isinstance(e, IndexMissingError) else \
            "the index store is unreachable"
        return error_response(503, f"not ready: {why}", "service_unavailable")
    return {"status": "ready"}


def add_status_routes(app: FastAPI, settings: Settings, warm: _Warmup) -> None:
    """``GET /healthz``, ``/readyz``, ``/v1/models`` and ``/v1/index/stats``."""

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        return readiness(settings, warm)

    @app.get("/v1/models")
    def models(key: ApiKey | None = Depends(authorize)):
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "qa_bot"}]}

    @app.get("/v1/index/stats")
    def index_stats(key: ApiKey | None = Depends(authorize)):
        from .store import require_index

        scoped = key is not None and key.collections is not None
        # a scoped key sees its own collections only (every count); no key sees where the store lives
        stats = require_index(settings).stats(sorted(key.collections) if scoped else None)
        stats = stats.model_copy(update={"store": "chroma server" if settings.chroma_url else "embedded"})
        return stats.model_dump(mode="json")


def chat_response(body: ChatRequest, result, content: str, links: dict[int, str], openwebui: bool):
    """The chat-completions reply for an answer: one body, or (``stream``) the answer line by line as server-sent
    events, the citations and the usage in the last frame."""
    from .openwebui import source_events

    cid = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())
    citations = [c.model_dump(mode="json") for c in result.citations]
    extra = {"citations": citations, "abstained": result.abstained,
             "standalone_question": result.standalone_question, "disclaimer": result.disclaimer}
    if not body.stream:
        return {"id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": usage_of(body.messages, content), **extra}

    def chunk(delta: dict, finish: str | None = None, **more) -> str:
        obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}
        return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

    # the answer is verified as a whole before anything is sent: the stream carries it line by line
    parts = [chunk({"role": "assistant", "content": ""})]
    if openwebui:  # Open WebUI keeps each as a source of the message: its [n] opens the n-th passage
        parts += [chunk({}, event=e) for e in source_events(result.citations, links)]
    parts += [chunk({"content": line}) for line in content.splitlines(keepends=True)]
    parts += [chunk({}, "stop", **extra, usage=usage_of(body.messages, content)), "data: [DONE]\n\n"]

    async def events():
        for p in parts:
            yield p

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def add_answer_routes(app: FastAPI, settings: Settings, warm: _Warmup, followups) -> None:
    """``POST /v1/answer`` and ``POST /v1/chat/completions``: the engine's answer, audited."""

    @app.post("/v1/answer")
    def post_answer(body: AnswerRequest, key: ApiKey | None = Depends(authorize)):
        overrides = scope_filters(key, body.filters)
        if body.audience:
            overrides["audience"] = body.audience
        t0 = time.perf_counter()
        result = run_engine(settings, warm, body.question, [t.model_dump() for t in body.history], overrides,
                            "answer")
        audit_answer(settings, key, overrides, result, time.perf_counter() - t0)
        return JSONResponse(result.model_dump(mode="json"))

    @app.post("/v1/chat/completions")
    def chat_completions(body: ChatRequest, key: ApiKey | None = Depends(authorize)):
        from .render import answer_to_text

        if body.model not in (None, "", MODEL_ID):
            raise ApiError(404, f"unknown model; use {MODEL_ID!r} (GET /v1/models)", "not_found_error")
        turns = [m for m in body.messages if m.role in ("user", "assistant")]  # system prompts are ignored
        if not turns or turns[-1].role != "user":
            raise ApiError(400, "the last message must be the user's question (role `user`)",
                           "invalid_request_error")
        if settings.server.openwebui:
            task = openwebui_task(body, turns[-1].text(), settings, followups, key.id if key else "")
            if task is not None:
                return task
        history = [{"role": m.role, "content": m.text()} for m in turns[:-1]]
        overrides = scope_filters(key, body.filters)
        if body.audience:
            overrides["audience"] = body.audience
        t0 = time.perf_counter()
        result = run_engine(settings, warm, turns[-1].text(), history, overrides, "chat")
        audit_answer(settings, key, overrides, result, time.perf_counter() - t0)
        links = passage_links(settings, result)
        content = answer_to_text(result, links=links)  # the fixed disclaimer is always part of it
        if settings.server.openwebui:
            followups.remember(content, result.suggested_followups, key.id if key else "")
        return chat_response(body, result, content, links, settings.server.openwebui)


def create_app(settings: Settings | None = None, warmup: bool = True) -> FastAPI:
    """The API over one settings object. ``warmup`` loads the index and the model in a background thread at
    start-up (``/readyz`` answers 503 until it is done)."""
    from contextlib import asynccontextmanager

    from .openwebui import FollowupMemory

    settings = settings or Settings()
    keyring = KeyRing(settings)
    warm = _Warmup()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warmup:
            threading.Thread(target=warm_up, args=(settings, keyring, warm), name="qa-bot-warmup",
                             daemon=True).start()
        else:
            warm.done.set()
        yield

    app = FastAPI(title="qa_bot API", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/v1/openapi.json")
    app.state.settings = settings
    app.state.keyring = keyring
    app.state.warmup = warm
    add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.server.api_max_body_bytes)  # after the key check: key holders only
    app.add_middleware(RequireKey, keyring=keyring)
    # outermost: every request, 401s included, is logged
    app.add_middleware(AccessAndErrors, settings=settings, warm=warm)
    add_status_routes(app, settings, warm)
    add_answer_routes(app, settings, warm, FollowupMemory())
    add_passage_and_audit_routes(app, settings, authorize)
    return app


def _passage_view(chunk, spans: list[tuple[int, int]], cid: str) -> dict[str, Any]:
    from .render import display_title
    from .types import Citation

    c = Citation(n=1, chunk_id=chunk.chunk_id, doc_id=chunk.doc_id, section_id=chunk.section_id,
                 doc_type=chunk.doc_type, title=chunk.title, source=chunk.source, url=chunk.url,
                 published=chunk.published, heading=chunk.heading_path[-1] if chunk.heading_path else None,
                 page=chunk.page_at(spans[0][0] if spans else 0), quote=chunk.text, spans=spans)
    return {"id": cid, "title": display_title(c), **c.model_dump(mode="json", exclude={"n", "id"}),
            "quoted": [chunk.text[s:e] for s, e in spans]}


def _passage_html(view: dict[str, Any]) -> str:
    from html import escape

    text, pos, parts = view["quote"], 0, []
    for s, e in view["spans"]:
        parts += [escape(text[pos:s]), f"<mark>{escape(text[s:e])}</mark>"]
        pos = e
    parts.append(escape(text[pos:]))
    where = " · ".join(escape(str(x)) for x in (view.get("heading"), view.get("source"), view.get("published"),
                                               f"p. {view['page']}" if view.get("page") is not None else None) if x)
    link = (f'<p><a href="{escape(view["url"])}" rel="noopener noreferrer">{escape(view["url"])}</a></p>'
            if view.get("url", "") and view["url"].startswith(("http://", "https://")) else "")
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + escape(view["title"]) + "</title>"
            "<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;line-height:1.5}"
            "mark{background:#ffe58a}</style></head><body>"
            f"<h1>{escape(view['title'])}</h1><p>{where}</p>{link}<blockquote>{''.join(parts)}</blockquote>"
            "</body></html>")


def add_passage_and_audit_routes(app: FastAPI, settings: Settings, authorize) -> None:
    """``GET /v1/passages/{citation id}`` (the cited passage, its quoted spans marked; JSON, or HTML for a
    browser or ``?format=html``) and ``GET /v1/audit`` (admin keys only)."""
    from fastapi.responses import HTMLResponse, PlainTextResponse

    from .types import parse_citation_id

    @app.get("/v1/passages/{cid}")
    def passage(cid: str, request: Request, format: str | None = None, key: ApiKey | None = Depends(authorize)):
        from .store import require_index

        parsed = parse_citation_id(cid)
        if parsed is None:
            raise ApiError(404, "no such passage: not a citation id", "not_found_error")
        chunk_id, spans, digest = parsed
        chunk = require_index(settings).get_chunks([chunk_id]).get(chunk_id)
        outside = key is not None and key.collections is not None and chunk is not None \
            and chunk.collection not in key.collections
        if chunk is None or outside:
            raise ApiError(404, "no such passage (removed from the index, or outside this key's collections)",
                           "not_found_error")
        if hashlib.sha256(chunk.text.encode("utf-8")).hexdigest()[:10] != digest:
            raise ApiError(410, "this passage has changed since it was cited (the document was re-ingested)",
                           "not_found_error")
        if any(not (0 <= s < e <= len(chunk.text)) for s, e in spans):
            raise ApiError(404, "no such passage: the spans lie outside it", "not_found_error")
        view = _passage_view(chunk, spans, cid)
        wants_html = format == "html" or (format is None and "text/html" in request.headers.get("accept", ""))
        return HTMLResponse(_passage_html(view)) if wants_html else view

    @app.get("/v1/audit")
    def audit(since: str | None = None, format: Literal["jsonl", "csv"] = "jsonl",
              key: ApiKey | None = Depends(authorize)):
        from .audit import AuditStore, parse_since, to_text

        if key is None or not key.admin:
            raise ApiError(403, "the audit trail is readable only with an admin key (`admin` on its line in the "
                                "keys file)", "permission_error")
        rows = AuditStore.for_settings(settings).rows(parse_since(since))
        return PlainTextResponse(to_text(rows, format),
                                 media_type="text/csv" if format == "csv" else "application/x-ndjson")


def app_from_env() -> FastAPI:
    """The factory ``uvicorn --factory`` calls in each worker: settings from the environment / config file."""
    return create_app(Settings())
