"""One settings object for every stage (load → chunk → index → retrieve → answer).

Values come, in increasing priority, from defaults, an optional TOML config file
(``QA_BOT_CONFIG`` or ``./qa_bot.toml``), and environment variables prefixed ``QA_BOT_``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DISCLAIMER = (
    "This answer is generated automatically from the indexed documents for healthcare professionals. "
    "It is not medical advice and does not replace clinical judgment: verify all information against "
    "primary sources and current practice standards before applying it to patient care."
)


def _config_file() -> Path | None:
    explicit = os.environ.get("QA_BOT_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path.cwd() / "qa_bot.toml"
    return local if local.is_file() else None


ANSWER_SETTINGS = ("audience", "collections", "doc_types", "published_after", "embedding_model", "candidates", "top_k",
                   "max_per_doc", "abstain_threshold", "unknown_subject_share", "expand_acronyms", "expand_shorthand", "segment_weight",
                   "max_key_points", "bottom_line_extra", "followup_weight", "subject_first", "subject_weight", "llm", "unsupported_policy", "collection_name")


class ComposerWeights(BaseModel):
    """The extractive composer's weights (``qa_bot.compose.Composer``), in one place. A sentence's score is the
    weighted sum of its features; the bottom line and key points are chosen by shares of the best score."""

    model_config = ConfigDict(extra="forbid")

    retrieval: float = Field(0.6, description="the passage's retrieval score, relative to the pool's best")
    overlap: float = Field(1.0, description="the question's terms the sentence states (idf-weighted share)")
    heading_overlap: float = Field(0.3, description="the question's terms its section heading states")
    rec_statement: float = Field(0.5, description="a recommendation statement recognised at indexing")
    rec_sentence: float = Field(0.15, description="a recommending sentence elsewhere (rationale, others' advice)")
    meta: float = Field(0.4, description="(subtracted) a sentence about the document: objectives, methods, funding")
    quantity: float = Field(0.15, description="an amount, time or threshold stated, when the question asks for one")
    off_type: float = Field(0.25, description="(subtracted) a section answering another kind of question")
    opposite: float = Field(0.3, description="(subtracted) the opposite case of the question's (without/with aura)")
    subject_named: float = Field(0.2, description="a page's sentence that names the question's subject")
    aspect_stated: float = Field(0.25, description="a sentence that states the aspect asked (qa_bot/data/aspects.toml)")
    population: float = Field(0.3, description="the question's age or sex in the sentence's population (+1/-1)")
    lead_doc: float = Field(0.15, description="a sentence of the lead document")
    first_sentence: float = Field(0.08, description="the first sentence of its passage")
    position: float = Field(0.01, description="(subtracted) per sentence before it in its passage")
    rec_share: float = Field(0.6, description="the lead's best recommendation leads when it scores this share of the "
                                              "best sentence; a sentence naming the subject or answering the aspect "
                                              "leads when it scores this share of the bottom line")
    cover_margin: float = Field(0.1, description="how much more of the aspect a sentence must cover to lead")
    cover_aspect: float = Field(0.3, description="aspect cover: the taxonomy aspect stated")
    cover_population: float = Field(0.15, description="aspect cover: the question's population")
    cover_quantity: float = Field(0.1, description="aspect cover: an amount stated when one is asked")
    cover_threshold: float = Field(0.15, description="aspect cover: the question's threshold (> 500) stated")
    second_rec: float = Field(0.7, description="a second recommendation statement joins the bottom line at this share")
    second_other: float = Field(0.85, description="a second sentence (not a statement) joins at this share")
    extra_min: float = Field(0.08, description="a lead sentence that adds at least this share of the question's "
                                               "unsaid terms joins the bottom line…")
    extra_share: float = Field(0.5, description="…when it scores at least this share of the bottom line")
    key_point_share: float = Field(0.35, description="key points score at least this share of the bottom line")
    per_passage: int = Field(3, description="key points quoted from one passage at most")
    fitted: bool = Field(False, description="score sentences with the fitted scorer (qa_bot/data/sentence_scorer.json, "
                                           "benchmarks/fit_scorer.py) rather than the hand-set weights above")
    answerable: bool = Field(False, description="abstain on a first question when the fitted answerability model "
                                               "(qa_bot/data/answerable.json) finds the weighed sentences unlikely to "
                                               "answer it")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_BOT_", extra="ignore", validate_default=True)

    # --- storage -----------------------------------------------------------------------------
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Where the index and its state live.")
    corpus: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [PROJECT_ROOT / "corpus"],
                               description="What `qa-bot ingest` reads when no path is given.")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; embedded when unset.")
    collection_name: str = "qa_bot"

    # --- embedding ---------------------------------------------------------------------------
    embedding_model: str = Field("all-MiniLM-L6-v2",
                                 description="'all-MiniLM-L6-v2' (the packaged weights) or a local model directory.")
    embedding_batch_size: int = 64
    embedding_cache: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [PROJECT_ROOT / "corpus" / "embeddings"],
                                        description="Directories searched for shipped embedding caches.")

    # --- chunking ----------------------------------------------------------------------------
    chunk_max_tokens: int = Field(200, description="Token budget of a chunk's text (model window is 256).")
    chunk_overlap_sentences: int = 1
    max_file_bytes: int = Field(50 * 1024 * 1024, description="Files above this size are refused.")
    file_time_budget_s: float = Field(120.0, gt=0, description="Seconds one PDF may take to read (OCR included); "
                                                              "past it the file fails with a message naming it, "
                                                              "the other files go on.")
    default_doc_type: str | None = Field(None, description="doc_type of ingested files that do not set one "
                                         "(`qa-bot ingest --doc-type`); a folder's _meta.yaml does the same per folder")
    default_collection: str | None = Field(None, description="collection of ingested files that do not set one "
                                           "(`qa-bot ingest --collection`)")

    # --- retrieval ---------------------------------------------------------------------------
    candidates: int = Field(60, description="Candidates taken from each of dense and lexical search.")
    top_k: int = Field(10, description="Passages kept after re-ranking.")
    max_per_doc: int = Field(1, description="Diversity cap: passages per document in the ranked top-k.")
    expand_sections: int = Field(4, description="More sections of the two best documents, appended for the answer.")
    lead_doc_chunks: int = Field(60, description="Chunks of the best guideline's other sections offered to the "
                                                 "answer (scored like candidates); 0 turns it off.")
    collections: Annotated[list[str] | None, NoDecode] = None
    doc_types: Annotated[list[str] | None, NoDecode] = None
    published_after: str | None = None
    segment_weight: float = Field(
        1.0, ge=0.0, le=1.0,
        description="dense similarity of a several-sentence message = (1-w)·whole + w·max(whole, best sentence); "
                    "0 turns sentence matching off (benchmarks/retrieval_sweep.py)")
    expand_acronyms: bool = Field(True, description="search an acronym with the long form the corpus defines for it")
    expand_shorthand: bool = Field(True, description="search clinician shorthand (46yo, FH, sx, HTN, q3y, brand names) "
                                                     "with the words the documents use (qa_bot/shorthand.py)")

    # --- answer ------------------------------------------------------------------------------
    audience: Literal["clinician", "patient"] = "clinician"
    max_key_points: int = 8
    bottom_line_extra: int = Field(2, description="Sentences of the lead document added to the bottom line, each "
                                                  "one answering a part of the question the others leave out.")
    followup_weight: float = Field(0.5, description="Weight, in a follow-up's answer, of the sentences (or sections) "
                                                    "that speak of what the follow-up newly asks (its own words).")
    abstain_threshold: float = Field(0.272, description="Calibrated by benchmarks/calibrate_abstention.py (evals/calibration.json).")
    unknown_subject_share: float = Field(
        0.4, description="Abstain when at least this share of the question's topic weight (idf) is in words that no "
                         "indexed document contains (misspellings of indexed words count as known); 1 disables.")
    subject_first: bool = Field(True, description="Find the question's subject (qa_bot/subject.py), search for it "
                                "first and answer only from passages that name it; abstain naming it otherwise.")
    subject_alias_max_df: int = Field(200, description="A subject held by at most this many chunks is looked up in "
                                      "them for its other names (\"loperamide (Imodium)\").")
    subject_pool: int = Field(30, description="Chunks naming the subject added to the candidates (best lexical "
                                              "scores among them).")
    subject_weight: float = Field(0.3, description="Re-ranking weight of a passage naming the question's subject.")
    composer: ComposerWeights = Field(default_factory=ComposerWeights,
                                      description="the extractive composer's weights (qa_bot.compose.Composer)")
    disclaimer: str = DEFAULT_DISCLAIMER
    max_question_chars: int = 4000

    # --- optional LLM ------------------------------------------------------------------------
    llm: str | None = Field(None, description="init_chat_model string, e.g. 'openai:gpt-4o-mini' or 'ollama:llama3'.")
    llm_base_url: str | None = None
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_timeout: float = 30.0
    llm_temperature: float = 0.0
    llm_max_tokens: int = 800
    unsupported_policy: Literal["drop", "mark"] = "drop"

    # --- serving -----------------------------------------------------------------------------
    server_address: str = "localhost"
    server_port: int = 8501
    feedback_db: Path | None = None
    feedback_retention_days: float | None = Field(
        None, gt=0, description="Feedback older than this many days is deleted (at start-up and after each write); "
                                "unset: kept until `qa-bot feedback purge`.")
    feedback_keep_conversation: bool = Field(
        False, description="Store the whole earlier conversation with a rating (default: only the rated turn).")
    torch_threads: int = 1

    # --- server mode (QA_BOT_CHROMA_URL) -------------------------------------------------------
    poll_interval: float = Field(5.0, ge=0, description="Seconds between two checks of the published index version "
                                                        "(server mode); 0 turns the check off.")
    server_cache: bool = Field(True, description="Server mode: keep each published version's lexical index in "
                                                 "data_dir/server-cache, so a restart loads it instead of rebuilding "
                                                 "it from every chunk in the server (a drop-in cache).")
    server_text_cache: bool = Field(True, description="Server mode: keep the chunk texts this host reads from the "
                                                      "server (each full build, each update) in data_dir/server-texts/"
                                                      "<collection id>.sqlite, shared by its processes: a "
                                                      "question then reads only vectors from the server (a drop-in "
                                                      "cache: checked against each chunk's content hash).")
    lock_ttl: float = Field(120.0, gt=0, description="Seconds after which the ingest lock of a writer that stopped "
                                                     "renewing it (killed) may be taken over (server mode).")

    # --- HTTP API (`qa-bot serve`) -----------------------------------------------------------
    api_keys: Annotated[list[SecretStr] | None, NoDecode] = Field(
        None, description="Comma-separated plain API keys (tests, small setups); never logged or printed.")
    api_keys_file: Path | None = Field(
        None, description="File of hashed API keys, one `sha256:<hex> [collection,collection]` per line "
                          "(`qa-bot keys add` writes it); re-read when it changes.")
    mcp_key: SecretStr | None = Field(
        None, description="The API key `qa-bot mcp` (stdio) answers under, when keys are configured: its collection "
                          "scope applies to every call (the HTTP transport takes each request's bearer key instead).")
    api_max_body_bytes: int = Field(4 * 1024 * 1024, gt=0, description="Largest request body the API reads; a "
                                                                       "larger one is refused with 413.")
    api_header_timeout_s: float = Field(10.0, gt=0, description="Seconds a connection may take to send a request's "
                                                                "headers; then 408 and the connection is closed.")
    ui_login: Literal["auto", "off", "keys", "oidc"] = Field(
        "auto", description="Login of the web chat: 'oidc' (Streamlit st.login, [auth] in .streamlit/secrets.toml), "
                            "'keys' (an access-key field checked against the API keys), 'off'; 'auto': oidc when "
                            "[auth] is configured, else keys when API keys are, else off.")
    openwebui: bool = Field(
        True, description="Answer Open WebUI's background task prompts (chat title, tags, follow-up suggestions, "
                          "search queries, autocomplete: '### Task:' … JSON …) in the JSON they ask for, from the "
                          "conversation itself, without running the engine; off: they are asked as questions.")
    public_base_url: str | None = Field(
        None, description="The API's address as clients reach it (https://qa-bot.example.org): each reference in "
                          "the answer text then carries the link to its passage, <base>/v1/passages/<citation id>.")
    audit_db: Path | None = Field(None, description="The audit trail's SQLite file (default data_dir/audit.sqlite; "
                                                    "server mode without it: a collection on the Chroma server).")
    audit_retention_days: float | None = Field(
        None, gt=0, description="Audit rows older than this many days are deleted (after each write); unset: kept.")
    audit_text: bool = Field(False, description="Keep each audited question's text (default: its SHA-256 only).")
    debug_log_text: bool = Field(
        False, description="Let logs carry question and answer text (debugging only: questions can hold patient "
                           "details); off: lengths and timings only.")

    @field_validator("disclaimer")
    @classmethod
    def _disclaimer_not_empty(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("the disclaimer must be a non-empty text")
        return v.strip()

    @field_validator("corpus", "embedding_cache", mode="before")
    @classmethod
    def _split_paths(cls, v: Any) -> Any:
        if isinstance(v, (str, Path)):
            return [p for p in str(v).split(os.pathsep) if p]
        return v

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [k.strip() for k in v.split(",") if k.strip()] or None
        return v

    @field_validator("collections", "doc_types", mode="before")
    @classmethod
    def _split_names(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()] or None
        return v

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        cfg = _config_file()
        if cfg is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cfg))
        return tuple(sources)

    def answer_snapshot(self) -> dict[str, Any]:
        """The settings that shape an answer, JSON-ready (no paths, no secrets, nothing user-private): what a
        feedback record and an eval report store, so two runs or two ratings can be compared."""
        return self.model_dump(mode="json", include=set(ANSWER_SETTINGS))

    # derived locations --------------------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical"

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.sqlite"

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or (self.data_dir / "feedback.sqlite")

    @property
    def audit_path(self) -> Path:
        return self.audit_db or (self.data_dir / "audit.sqlite")


def get_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
