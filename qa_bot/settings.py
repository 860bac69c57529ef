"""One settings object for every stage (load → chunk → index → retrieve → answer).

Values come, in increasing priority, from defaults, an optional TOML config file
(``QA_BOT_CONFIG`` or ``./qa_bot.toml``), environment variables prefixed ``QA_BOT_`` and keyword arguments.
Settings are grouped (``settings.retrieval.top_k``); every key also keeps its flat name (``top_k`` in the TOML
file, ``QA_BOT_TOP_K``, ``Settings(top_k=3)``), and a group's key can be named in full (``[retrieval]`` table,
``QA_BOT_RETRIEVAL__TOP_K``). An unknown key stops start-up with a message naming it and the nearest valid one.
``python -m qa_bot.settings_doc`` writes docs/configuration.md from the descriptions below.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DISCLAIMER = (
    "This answer is generated automatically from the indexed documents for healthcare professionals. "
    "It is not medical advice and does not replace clinical judgment: verify all information against "
    "primary sources and current practice standards before applying it to patient care."
)

ENV_PREFIX = "QA_BOT_"
# QA_BOT_ variables that are not settings (read by their own code)
NOT_SETTINGS = frozenset({"config", "admin_key", "ui_warmup", "test_full_data"})


class SettingsError(ValueError):
    """A configuration key that is not a setting: names it, where it was given, and the nearest valid key."""


def _config_file() -> Path | None:
    explicit = os.environ.get("QA_BOT_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path.cwd() / "qa_bot.toml"
    return local if local.is_file() else None


def _split_paths(v: Any) -> Any:
    if isinstance(v, (str, Path)):
        return [p for p in str(v).split(os.pathsep) if p]
    return v


def _split_commas(v: Any) -> Any:
    if isinstance(v, str):
        return [p.strip() for p in v.split(",") if p.strip()] or None
    return v


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
    lead_share: float = Field(0.8, description="the bottom line comes from the guideline of the pool's best sentence "
                                               "when the lead guideline's best scores below this share of it")
    topic_lead_share: float = Field(0.9, description="a lead document whose title names none of the question's topic "
                                                     "words yields to one retrieved with this share of its score whose "
                                                     "title names them (1 or more: never)")
    title_lead_share: float = Field(0.95, description="of two documents of a kind retrieved this alike (a share of the "
                                                      "lead's score), the one whose title names more of the question's "
                                                      "topic weight leads (1 or more: never)")
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
    fitted: bool = Field(True, description="score sentences with the fitted scorer (qa_bot/data/sentence_scorer.json, "
                                          "benchmarks/fit_scorer.py: the hand-set weights above plus a correction "
                                          "fitted on held-out folds); off: the hand-set weights alone")
    aspect_of_subject: bool = Field(True, description="abstain, naming what is missing, when what the question asks "
                                                     "of a named subject (how long, pregnancy, an interaction …) is "
                                                     "said only of other things: by no sentence naming it or a class "
                                                     "the documents put it in, nor under a heading naming it, in what "
                                                     "was retrieved or elsewhere in the index")
    answerable: bool = Field(False, description="abstain on a first question when the fitted answerability model "
                                               "(qa_bot/data/answerable.json) finds the weighed sentences unlikely to "
                                               "answer it")


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class IngestSettings(_Group):
    """What `qa-bot ingest` reads and how documents are cut into chunks."""

    corpus: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [PROJECT_ROOT / "corpus"],
                                                    description="What `qa-bot ingest` reads when no path is given "
                                                                "(`:`-separated paths).")
    chunk_max_tokens: int = Field(200, description="Token budget of a chunk's text (model window is 256).")
    chunk_overlap_sentences: int = Field(1, description="Sentences a chunk repeats from the end of the one before.")
    max_file_bytes: int = Field(50 * 1024 * 1024, description="Files above this size are refused.")
    file_time_budget_s: float = Field(120.0, gt=0, description="Seconds one PDF may take to read (OCR included); "
                                                              "past it the file fails with a message naming it, "
                                                              "the other files go on.")
    default_doc_type: str | None = Field(None, description="doc_type of ingested files that do not set one "
                                         "(`qa-bot ingest --doc-type`); a folder's _meta.yaml does the same per folder")
    default_collection: str | None = Field(None, description="collection of ingested files that do not set one "
                                           "(`qa-bot ingest --collection`)")

    _paths = field_validator("corpus", mode="before")(_split_paths)


class RetrievalSettings(_Group):
    """Search: candidates, filters, re-ranking and the question's subject."""

    candidates: int = Field(60, description="Candidates taken from each of dense and lexical search.")
    top_k: int = Field(10, description="Passages kept after re-ranking.")
    max_per_doc: int = Field(1, description="Diversity cap: passages per document in the ranked top-k.")
    expand_sections: int = Field(4, description="More sections of the two best documents, appended for the answer.")
    lead_doc_chunks: int = Field(60, description="Chunks of the best guideline's other sections offered to the "
                                                 "answer (scored like candidates); 0 turns it off.")
    collections: Annotated[list[str] | None, NoDecode] = Field(
        None, description="Search only these collections (comma-separated); unset: all.")
    doc_types: Annotated[list[str] | None, NoDecode] = Field(
        None, description="Search only these document types (comma-separated: guideline, expert_answer, …); unset: all.")
    published_after: str | None = Field(None, description="Search only documents published after this date "
                                                          "(YYYY-MM-DD).")
    segment_weight: float = Field(
        1.0, ge=0.0, le=1.0,
        description="dense similarity of a several-sentence message = (1-w)·whole + w·max(whole, best sentence); "
                    "0 turns sentence matching off (benchmarks/retrieval_sweep.py)")
    expand_acronyms: bool = Field(True, description="search an acronym with the long form the corpus defines for it")
    expand_shorthand: bool = Field(True, description="search clinician shorthand (46yo, FH, sx, HTN, q3y, brand names) "
                                                     "with the words the documents use (qa_bot/shorthand.py)")
    subject_first: bool = Field(True, description="Find the question's subject (qa_bot/subject.py), search for it "
                                "first and answer only from passages that name it; abstain naming it otherwise.")
    subject_alias_max_df: int = Field(200, description="A subject held by at most this many chunks is looked up in "
                                      "them for its other names (\"loperamide (Imodium)\").")
    subject_pool: int = Field(30, description="Chunks naming the subject added to the candidates (best lexical "
                                              "scores among them).")
    subject_weight: float = Field(0.3, description="Re-ranking weight of a passage naming the question's subject.")
    subject_passages: int = Field(3, description="When no passage of the top k names the question's subject, the "
                                  "best-ranked candidates naming it (at most this many) are added after them.")

    _names = field_validator("collections", "doc_types", mode="before")(_split_commas)


class AnswerSettings(_Group):
    """The extractive answer: its length, abstention and disclaimer."""

    audience: Literal["clinician", "patient"] = Field("clinician", description="Who reads the answer: "
                                                      "'clinician' or 'patient' (plain-language sources first).")
    max_key_points: int = Field(8, description="Key points under the bottom line, at most.")
    bottom_line_extra: int = Field(2, description="Sentences of the lead document added to the bottom line, each "
                                                  "one answering a part of the question the others leave out.")
    followup_weight: float = Field(0.5, description="Weight, in a follow-up's answer, of the sentences (or sections) "
                                                    "that speak of what the follow-up newly asks (its own words).")
    abstain_threshold: float = Field(0.272, description="Calibrated by benchmarks/calibrate_abstention.py "
                                                        "(evals/calibration.json).")
    unknown_subject_share: float = Field(
        0.4, description="Abstain when at least this share of the question's topic weight (idf) is in words that no "
                         "indexed document contains (misspellings of indexed words count as known); 1 disables.")
    disclaimer: str = Field(DEFAULT_DISCLAIMER, description="The text attached by code to every answer (must not "
                                                           "be empty).")
    max_question_chars: int = Field(4000, description="Longer questions are refused with a message.")

    @field_validator("disclaimer")
    @classmethod
    def _disclaimer_not_empty(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("the disclaimer must be a non-empty text")
        return v.strip()


class LLMSettings(_Group):
    """The optional LLM composer (off unless ``model`` is set); its sentences are verified against the passages."""

    model: str | None = Field(None, description="init_chat_model string, e.g. 'openai:gpt-4o-mini' or "
                                                "'ollama:llama3' (flat name: `llm`).")
    base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server.")
    api_key_env: str = Field("OPENAI_API_KEY", description="The environment variable holding the LLM's API key.")
    timeout: float = Field(30.0, description="Seconds an LLM call may take; then the extractive answer is given.")
    temperature: float = Field(0.0, description="Sampling temperature of the LLM.")
    max_tokens: int = Field(800, description="Longest LLM answer, in tokens.")
    unsupported_policy: Literal["drop", "mark"] = Field("drop", description="An LLM sentence the passages do not "
                                                                            "support is dropped or marked.")


class ServerSettings(_Group):
    """The HTTP API (`qa-bot serve`), MCP, audit trail, and server mode (`chroma_url`)."""

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

    _keys = field_validator("api_keys", mode="before")(_split_commas)


class UISettings(_Group):
    """The web chat (`make run`): where it serves, its login, and the ratings it stores."""

    server_address: str = Field("localhost", description="Address `make run` serves the chat on.")
    server_port: int = Field(8501, description="Port `make run` serves the chat on.")
    login: Literal["auto", "off", "keys", "oidc"] = Field(
        "auto", description="Login of the web chat: 'oidc' (Streamlit st.login, [auth] in .streamlit/secrets.toml), "
                            "'keys' (an access-key field checked against the API keys), 'off'; 'auto': oidc when "
                            "[auth] is configured, else keys when API keys are, else off (flat name: `ui_login`).")
    feedback_db: Path | None = Field(None, description="The ratings' SQLite file (default data_dir/feedback.sqlite).")
    feedback_retention_days: float | None = Field(
        None, gt=0, description="Feedback older than this many days is deleted (at start-up and after each write); "
                                "unset: kept until `qa-bot feedback purge`.")
    feedback_keep_conversation: bool = Field(
        False, description="Store the whole earlier conversation with a rating (default: only the rated turn).")


GROUPS: dict[str, type[BaseModel]] = {"ingest": IngestSettings, "retrieval": RetrievalSettings,
                                      "answer": AnswerSettings, "llm": LLMSettings, "server": ServerSettings,
                                      "ui": UISettings, "composer": ComposerWeights}
# flat names whose nested name differs from the group's field name
RENAMED = {"llm": "model", "llm_base_url": "base_url", "llm_api_key_env": "api_key_env", "llm_timeout": "timeout",
           "llm_temperature": "temperature", "llm_max_tokens": "max_tokens", "ui_login": "login"}


def _flat_names() -> dict[str, tuple[str, str]]:
    """Every grouped setting's flat name (``top_k``, ``llm_timeout``) → (group, field)."""
    out: dict[str, tuple[str, str]] = {}
    back = {(g, f): flat for flat, f in RENAMED.items() for g in ("llm", "ui") if f in GROUPS[g].model_fields}
    for group, model in GROUPS.items():
        if group == "composer":
            continue
        for field in model.model_fields:
            out[back.get((group, field), field)] = (group, field)
    return out


FLAT = _flat_names()
# what an answer's record stores, in the order it always has (feedback rows and eval reports compare them)
ANSWER_SETTINGS = ("collection_name", "embedding_model", "candidates", "top_k", "max_per_doc", "collections", "doc_types",
                   "published_after", "segment_weight", "expand_acronyms", "expand_shorthand", "audience",
                   "max_key_points", "bottom_line_extra", "followup_weight", "abstain_threshold",
                   "unknown_subject_share", "subject_first", "subject_weight", "llm", "unsupported_policy")


def setting_name(loc: tuple | list) -> str:
    """A validation error's location as the user writes the key: its flat name (``("answer", "audience")`` →
    ``audience``, ``("llm", "model")`` → ``llm``), else the dotted path (``composer.overlap``)."""
    parts = tuple(str(x) for x in loc)
    flat = {v: k for k, v in FLAT.items()}.get(parts[:2]) if len(parts) >= 2 else None
    return ".".join((flat, *parts[2:])) if flat else ".".join(parts)


def _nearest(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.0)
    return close[0] if close else valid[0]


def nest(values: Mapping[str, Any], where: str, spell=lambda path: ".".join(path)) -> dict[str, Any]:
    """``values`` keyed by flat names (``top_k``), groups (``{"retrieval": {"top_k": 3}}``) or both, as the
    settings' nested form; an unknown key raises :class:`SettingsError` naming it (as ``spell`` writes a key path)
    and the nearest valid key. A flat name never overrides the same key given in its group."""
    out: dict[str, Any] = {}
    flat_given: dict[tuple[str, str], Any] = {}
    top = [f for f in Settings.model_fields if f not in GROUPS]
    for key, value in values.items():
        if key.startswith("_"):  # pydantic-settings' own init arguments (_env_file, …)
            out[key] = value
        elif key == "llm" and not isinstance(value, (Mapping, BaseModel)):
            flat_given[("llm", "model")] = value
        elif key in GROUPS:
            if isinstance(value, Mapping):
                fields = list(GROUPS[key].model_fields)
                for sub in value:
                    if sub not in fields:
                        raise SettingsError(f"unknown setting '{spell((key, sub))}' in {where}; did you mean "
                                            f"'{spell((key, _nearest(sub, fields)))}'?")
                out.setdefault(key, {}).update(value)
            else:
                out[key] = value
        elif key in FLAT:
            flat_given[FLAT[key]] = value
        elif key in top:
            out[key] = value
        else:
            valid = [*top, *FLAT, *GROUPS]
            raise SettingsError(f"unknown setting '{spell((key,))}' in {where}; did you mean "
                                f"'{spell((_nearest(key, valid),))}'?")
    for (group, field), value in flat_given.items():
        current = out.setdefault(group, {})
        if isinstance(current, Mapping):
            current.setdefault(field, value)  # the key named in its group wins
        else:  # a whole group object given as well: the flat name updates it
            out[group] = {**dict(current), field: value}
    return out


class _EnvSource(PydanticBaseSettingsSource):
    """``QA_BOT_*`` variables: flat names (``QA_BOT_TOP_K``), group keys (``QA_BOT_RETRIEVAL__TOP_K``) or whole
    groups as JSON (``QA_BOT_COMPOSER='{"overlap": 1}'``); any other ``QA_BOT_`` variable stops start-up."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ reads everything at once
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in sorted(os.environ.items()):
            if not name.upper().startswith(ENV_PREFIX):
                continue
            key = name[len(ENV_PREFIX):].lower()
            if key in NOT_SETTINGS:
                continue
            group, _, sub = key.partition("__")
            if sub:
                values.setdefault(group, {})
                if isinstance(values[group], dict):
                    values[group][sub] = value
            elif key in GROUPS and key != "llm" or key == "llm" and value.lstrip().startswith("{"):
                values[key] = json.loads(value) if value.lstrip().startswith("{") else value
            else:
                values[key] = value
        return nest(values, "the environment", lambda path: ENV_PREFIX + "__".join(path).upper())


class _TomlSource(PydanticBaseSettingsSource):
    """The TOML config file: flat keys (``top_k = 7``) or group tables (``[retrieval]``)."""

    def get_field_value(self, field, field_name):  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _config_file()
        if path is None or not path.is_file():
            return {}
        with path.open("rb") as f:
            return nest(tomllib.load(f), str(path))


class Settings(BaseSettings):
    """Storage and the embedding model at the top level; everything else in its group."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    # --- storage and the embedding model (shared by every stage) ---------------------------------
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Where the index and its state live.")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; embedded when unset.")
    collection_name: str = Field("qa_bot", description="Name of the Chroma collection (and its lexical index).")
    embedding_model: str = Field("all-MiniLM-L6-v2",
                                 description="'all-MiniLM-L6-v2' (the packaged weights) or a local model directory.")
    embedding_batch_size: int = Field(64, description="Texts embedded per batch at ingest.")
    embedding_cache: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [PROJECT_ROOT / "corpus" / "embeddings"],
        description="Directories searched for shipped embedding caches (`:`-separated).")
    torch_threads: int = Field(1, description="CPU threads the embedding model uses.")

    # --- the groups ---------------------------------------------------------------------------------
    ingest: IngestSettings = Field(default_factory=IngestSettings, description=IngestSettings.__doc__)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description=RetrievalSettings.__doc__)
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description=AnswerSettings.__doc__)
    composer: ComposerWeights = Field(default_factory=ComposerWeights,
                                      description="the extractive composer's weights (qa_bot.compose.Composer)")
    llm: LLMSettings = Field(default_factory=LLMSettings, description=LLMSettings.__doc__)
    server: ServerSettings = Field(default_factory=ServerSettings, description=ServerSettings.__doc__)
    ui: UISettings = Field(default_factory=UISettings, description=UISettings.__doc__)

    def __init__(self, **values: Any) -> None:
        super().__init__(**nest(values, "Settings(...)"))

    _paths = field_validator("embedding_cache", mode="before")(_split_paths)

    @model_validator(mode="before")
    @classmethod
    def _nest(cls, data: Any) -> Any:
        return nest(data, "the settings") if isinstance(data, Mapping) else data

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        return init_settings, _EnvSource(settings_cls), _TomlSource(settings_cls)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Settings:
        """A copy with ``update`` applied, keyed as the constructor is (flat names or groups) and validated: a
        misspelt key raises instead of being kept as an attribute nothing reads."""
        new = super().model_copy(deep=deep)
        for key, value in nest(update or {}, "model_copy(update=...)").items():
            current = getattr(self, key)
            if isinstance(value, Mapping) and isinstance(current, BaseModel):
                value = type(current).model_validate({**current.__dict__, **value})
            self.__pydantic_validator__.validate_assignment(new, key, value)
        return new

    def flat(self) -> dict[str, Any]:
        """Every setting under its flat name (``top_k``, ``llm``), JSON-ready; the composer's weights nested."""
        dumped = self.model_dump(mode="json")
        out = {k: v for k, v in dumped.items() if k not in GROUPS}
        out.update({flat: dumped[group][field] for flat, (group, field) in FLAT.items()})
        out["composer"] = dumped["composer"]
        return out

    def answer_snapshot(self) -> dict[str, Any]:
        """The settings that shape an answer, JSON-ready (no paths, no secrets, nothing user-private): what a
        feedback record and an eval report store, so two runs or two ratings can be compared."""
        flat = self.flat()
        return {k: flat[k] for k in ANSWER_SETTINGS}

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
        return self.ui.feedback_db or (self.data_dir / "feedback.sqlite")

    @property
    def audit_path(self) -> Path:
        return self.server.audit_db or (self.data_dir / "audit.sqlite")


def get_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
