"""The Chroma client of both stores: an embedded ``PersistentClient`` in ``data_dir/chroma``, or an ``HttpClient``
to the server of ``QA_BOT_CHROMA_URL``; and how a lost connection to that server is recognised."""

from __future__ import annotations

from urllib.parse import urlparse

from ..errors import StoreUnavailableError
from ..settings import Settings


def chroma_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    cs = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        u = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                         ssl=u.scheme == "https", settings=cs)
            client.heartbeat()
        except Exception as e:
            raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url} "
                                        f"({type(e).__name__}); is `chroma run` up?") from None
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=cs)


def is_connection_error(e: BaseException) -> bool:
    """A lost connection to the Chroma server (down, restarting, unreachable)."""
    try:
        import httpx

        if isinstance(e, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(e, ConnectionError)
