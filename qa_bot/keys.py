"""API keys (``QA_BOT_API_KEYS`` plain, or ``QA_BOT_API_KEYS_FILE`` hashed, optionally scoped to collections):
parsing, hashing and look-up, shared by every caller that checks a key (HTTP API, MCP server, web chat)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInputError, QABotError
from .settings import Settings

log = logging.getLogger("qa_bot.api")


def hash_key(key: str) -> str:
    """``sha256:<hex>`` of a key (keys are long random strings: a fast hash is enough)."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    digest: bytes  # sha256 of the key
    collections: frozenset[str] | None  # None: every collection
    admin: bool = False  # may read the audit trail (`admin` on its line in the keys file)

    @property
    def id(self) -> str:
        """What logs may show of a key: the first 8 hex digits of its hash."""
        return self.digest.hex()[:8]


def parse_keys_file(text: str, where: str = "keys file") -> list[ApiKey]:
    """Lines ``sha256:<64 hex> [collection,collection] [admin]``; ``#`` starts a comment; blank lines are skipped.
    The word ``admin`` marks a key that may read the audit trail."""
    keys = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        admin = "admin" in parts[1:]
        parts = [parts[0]] + [p for p in parts[1:] if p != "admin"]
        algo, _, hexd = parts[0].partition(":")
        if algo != "sha256" or len(hexd) != 64 or any(c not in "0123456789abcdef" for c in hexd.lower()):
            raise BadInputError(f"{where}, line {n}: expected `sha256:<64 hex digits> [collection,...]`")
        if len(parts) > 2:
            raise BadInputError(f"{where}, line {n}: collections are one comma-separated field (no spaces)")
        cols = frozenset(c.strip() for c in parts[1].split(",") if c.strip()) if len(parts) == 2 else None
        keys.append(ApiKey(bytes.fromhex(hexd), cols or None, admin))
    return keys


class KeyRing:
    """The accepted keys: plain ones from the settings and hashed ones from the keys file (re-read when it
    changes). ``enabled`` is False when neither is configured (then only loopback clients are served)."""

    def __init__(self, settings: Settings):
        self._plain = [ApiKey(hashlib.sha256(k.get_secret_value().encode("utf-8")).digest(), None)
                       for k in settings.server.api_keys or []]
        self._file: Path | None = settings.server.api_keys_file
        self._file_keys: list[ApiKey] = []
        self._stamp: tuple | None = None
        self._lock = threading.Lock()
        if self._file is not None:
            self._load()

    @property
    def enabled(self) -> bool:
        return bool(self._plain) or self._file is not None

    def _load(self) -> None:
        assert self._file is not None
        try:
            st = self._file.stat()
        except OSError as e:
            raise BadInputError(f"QA_BOT_API_KEYS_FILE {self._file}: cannot read it ({e.strerror})") from None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            if stamp != self._stamp:
                self._file_keys = parse_keys_file(self._file.read_text(encoding="utf-8"), str(self._file))
                self._stamp = stamp

    def keys(self) -> list[ApiKey]:
        """The keys accepted now. A keys file that is gone, unreadable or has a bad line fails closed: no key at
        all is accepted (the old set would keep revoked keys working) until it is fixed, with an error logged."""
        if self._file is not None:
            try:
                self._load()
            except BadInputError as e:
                with self._lock:
                    self._file_keys, self._stamp = [], None
                    told, self._broken = getattr(self, "_broken", None), str(e)
                if told != str(e):
                    log.error("NO API KEY IS ACCEPTED until the keys file is fixed: %s", e)
                return []
            self._broken = None
        return self._plain + self._file_keys

    def find(self, presented: str) -> ApiKey | None:
        return self.current(hashlib.sha256(presented.encode("utf-8", "surrogateescape")).digest())

    def current(self, digest: bytes) -> ApiKey | None:
        """The key with this SHA-256 digest if it is accepted now (a web session re-checks its key with it)."""
        found = None
        for k in self.keys():  # every key compared, in constant time: no early exit
            if hmac.compare_digest(digest, k.digest) and found is None:
                found = k
        return found


class KeyRefused(QABotError):
    """A caller without a valid key (``status`` 401) or asking for collections outside its key's scope (403)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def find_bearer(keyring: KeyRing, authorization: str | None) -> ApiKey:
    """The key of an ``Authorization: Bearer <key>`` header; KeyRefused (401) when it is missing or unknown."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise KeyRefused("missing API key: send `Authorization: Bearer <key>`", 401)
    key = keyring.find(token.strip())
    if key is None:
        raise KeyRefused("invalid API key", 401)
    return key


def scoped_collections(key: ApiKey | None, requested: list[str] | None) -> list[str]:
    """The collections a request searches: those it names (all of them inside the key's scope, else KeyRefused
    403), or, when it names none, the key's own (nothing: every collection)."""
    cols = [c for c in (requested or []) if c]
    if key is not None and key.collections is not None:
        outside = sorted(set(cols) - key.collections)
        if outside:
            raise KeyRefused(f"this API key has no access to collection(s): {', '.join(outside)}", 403)
        cols = cols or sorted(key.collections)
    return cols
