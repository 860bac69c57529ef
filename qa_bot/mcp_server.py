"""MCP server (`qa-bot mcp`): the engine as tools for agents (desktop assistants, IDEs), over stdio or streamable HTTP.

A thin caller of :func:`qa_bot.engine.answer` and :func:`qa_bot.engine.search`, with the HTTP API's keys and
collection scopes (:mod:`qa_bot.keys`, :func:`qa_bot.api.scope_filters`). Tools:

- ``answer(question, history, filters, audience)``: the answer as text (bottom line and key points with ``[n]``
  markers, references, the disclaimer: the same text as the chat-completions content) and, as structured content,
  the citations, ``abstained``, ``standalone_question`` and ``disclaimer``;
- ``search(query, k, filters)``: the ranked passages, as numbered text and as records (citation metadata + text).

Keys: over HTTP each request's ``Authorization: Bearer <key>`` (a request without a valid key gets 401 before the
MCP layer reads it; without configured keys only loopback clients are served); over stdio the key in
``QA_BOT_MCP_KEY`` (checked at start and on every call, so a revoked key stops working). No log line carries
question or answer text.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from qa_bot.api import (MAX_HISTORY_TURNS, MAX_MESSAGES, WARMUP_QUESTION, ApiError, Filters, TurnIn, audit_answer,
                        error_body, is_loopback, passage_links, scope_filters)
from qa_bot.errors import QABotError
from qa_bot.keys import ApiKey, KeyRefused, KeyRing, find_bearer
from qa_bot.render import answer_to_text, passage_record, passages_to_text
from qa_bot.settings import Settings
from qa_bot.types import Citation

log = logging.getLogger("qa_bot.mcp")

INSTRUCTIONS = ("Evidence-grounded answers for clinicians from indexed clinical guidelines and expert answers. "
                "`answer` returns a cited answer (always with its disclaimer; it abstains when the documents do "
                "not answer); `search` returns the passages themselves. Quote the citations; do not add facts.")


class AnswerOutput(BaseModel):
    text: str = Field(description="the answer as text: bottom line, key points with [n] markers, references, "
                                  "disclaimer")
    citations: list[Citation] = Field(description="what each [n] marker cites: document, section, quote, url")
    abstained: bool
    standalone_question: str = Field(description="what was searched (a follow-up made self-contained)")
    disclaimer: str


class PassageOutput(BaseModel):
    rank: int
    text: str
    doc_id: str
    section_id: str
    chunk_id: str
    doc_type: str
    collection: str
    title: str | None = None
    heading: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    page: int | None = None
    score: float


class SearchOutput(BaseModel):
    passages: list[PassageOutput]


class Caller:
    """Who is calling: the key of the HTTP request (read from its headers on each call) or the stdio key."""

    def __init__(self, settings: Settings, stdio_key: str | None = None):
        self.keyring = KeyRing(settings)
        self.stdio_key = stdio_key

    def key(self, ctx: Context) -> ApiKey | None:
        """The caller's key (None: keys are off); KeyRefused when it is missing or not (any longer) valid."""
        if not self.keyring.enabled:
            return None
        request = ctx.request_context.request
        if request is not None:  # HTTP: the middleware checked it; checked again per call (a revoked key stops)
            return find_bearer(self.keyring, request.headers.get("authorization"))
        if not self.stdio_key:
            raise KeyRefused("missing API key: set QA_BOT_MCP_KEY to a key of QA_BOT_API_KEYS / "
                             "QA_BOT_API_KEYS_FILE", 401)
        key = self.keyring.find(self.stdio_key)
        if key is None:
            raise KeyRefused("invalid API key (QA_BOT_MCP_KEY)", 401)
        return key

    def overrides(self, ctx: Context, filters: Filters | None) -> dict[str, Any]:
        """Engine overrides for the call's filters, inside the caller's collection scope (else a tool error)."""
        try:
            return scope_filters(self.key(ctx), filters)
        except KeyRefused as e:
            raise ToolError(str(e)) from None
        except ApiError as e:
            raise ToolError(e.message) from None


async def _run(fn, *args, **kwargs):
    """An engine call in a worker thread (the engine is blocking); its errors as tool errors (their messages
    name the problem, never the question)."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
    except QABotError as e:
        raise ToolError(str(e)) from None


def warm_up(settings: Settings) -> threading.Thread:
    """Load the index and the embedding model in a background thread, so that the first call does not wait for
    them (a failure is left for that call to report)."""
    def run() -> None:
        from qa_bot.engine import search
        from qa_bot.shorthand import load_drug_dictionary

        try:
            search(WARMUP_QUESTION, settings)
            load_drug_dictionary()
        except Exception as e:  # noqa: BLE001
            log.warning("warm-up failed: %s", type(e).__name__)

    thread = threading.Thread(target=run, name="qa-bot-mcp-warmup", daemon=True)
    thread.start()
    return thread


def create_server(settings: Settings | None = None, stdio_key: str | None = None) -> MCPServer:
    """The MCP server over one settings object (``stdio_key``: the key stdio calls are made under)."""
    settings = settings or Settings()
    caller = Caller(settings, stdio_key)
    server = MCPServer("qa-bot", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    async def answer(ctx: Context,
                     question: Annotated[str, Field(description="the clinical question", max_length=100_000)],
                     history: Annotated[list[TurnIn], Field(description="earlier turns, oldest first",
                                                            max_length=MAX_MESSAGES)] = [],  # noqa: B006
                     filters: Filters | None = None, audience: Literal["clinician", "patient"] | None = None,
                     ) -> Annotated[CallToolResult, AnswerOutput]:
        """Answer a clinical question from the indexed guidelines and expert answers, with citations and the
        disclaimer (or an abstention when the documents do not answer it)."""
        from qa_bot.engine import answer as engine_answer

        overrides = caller.overrides(ctx, filters)
        if audience:
            overrides["audience"] = audience
        turns = [t.model_dump() for t in history][-MAX_HISTORY_TURNS:]
        t = time.perf_counter()
        result = await _run(engine_answer, question, turns, settings, **overrides)
        log.info("answer: question_chars=%d history_turns=%d abstained=%s citations=%d total_ms=%.0f",
                 len(question), len(history), result.abstained, len(result.citations), (time.perf_counter() - t) * 1000)
        audit_answer(settings, caller.key(ctx), overrides, result, time.perf_counter() - t)
        text = answer_to_text(result, links=passage_links(settings, result))  # as the chat completions text
        out = AnswerOutput(text=text, citations=result.citations, abstained=result.abstained,
                           standalone_question=result.standalone_question, disclaimer=result.disclaimer)
        return CallToolResult(content=[TextContent(type="text", text=text)],
                              structured_content=out.model_dump(mode="json"))

    @server.tool()
    async def search(ctx: Context,
                     query: Annotated[str, Field(description="what to search for", max_length=100_000)],
                     k: Annotated[int, Field(ge=1, le=50, description="passages to return")] = 5,
                     filters: Filters | None = None) -> Annotated[CallToolResult, SearchOutput]:
        """Search the indexed documents: the best passages (at most one per document), with where each comes
        from (title, section, source, url, date, page) and its score. No answer is composed."""
        from qa_bot.engine import search as engine_search

        overrides = caller.overrides(ctx, filters)
        result = await _run(engine_search, query, settings, top_k=k, **overrides)
        records = [(passage_record(p, i), p.chunk.text) for i, p in enumerate(result.passages[:k], 1)]
        log.info("search: query_chars=%d passages=%d", len(query), len(records))
        out = SearchOutput(passages=[PassageOutput(text=text, **m) for m, text in records])
        return CallToolResult(content=[TextContent(type="text", text=passages_to_text(records) or "no passages")],
                              structured_content=out.model_dump(mode="json"))

    return server


class RequireKey:
    """ASGI middleware of the HTTP transport: the bearer key is checked before the MCP layer reads the request
    (401 JSON, as the HTTP API); without configured keys only loopback clients are served (403)."""

    def __init__(self, app, keyring: KeyRing):
        self.app, self.keyring = app, keyring

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        problem = None
        if not self.keyring.enabled:
            if not is_loopback((scope.get("client") or (None,))[0]):
                problem = (403, "no API keys are configured: only loopback clients are served", "permission_error")
        else:
            try:
                find_bearer(self.keyring, headers.get("authorization"))
            except KeyRefused as e:
                problem = (e.status, str(e), "authentication_error")
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, message, type_ = problem
        await JSONResponse(error_body(message, type_), status_code=status,
                           headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)(scope, receive, send)


def http_app(settings: Settings | None = None, path: str = "/mcp", host: str = "127.0.0.1"):
    """The streamable HTTP transport as an ASGI app (stateless: each request stands alone), behind the key check."""
    settings = settings or Settings()
    server = create_server(settings)
    app = server.streamable_http_app(streamable_http_path=path, stateless_http=True, json_response=True, host=host)
    return RequireKey(app, KeyRing(settings))
