"""One writer at a time: the embedded index's lock file (``data_dir/ingest.lock``, an flock) and the Chroma
server's lock record (``server_writer_lock``); ``writer_lock`` takes the one of the configured store."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import IndexBusyError, IndexMissingError
from ..settings import Settings
from .registry import get_store
from .server import _ONE, ServerStore

log = logging.getLogger(__name__)

LOCK_FILE = "ingest.lock"


def _lock_holder(text: str) -> str:
    parts = text.split(None, 1)
    if not parts:
        return "another process"
    return f"PID {parts[0]}" + (f" ({parts[1].strip()})" if len(parts) > 1 and parts[1].strip() else "")


def writer_running(settings: Settings) -> bool:
    """Whether another live process holds the embedded index's writer lock now (read from the PID the lock file
    holds while a writer writes; the lock itself is not touched, so a starting ingest is never refused for it)."""
    try:
        pid = int((settings.data_dir / LOCK_FILE).read_text(encoding="utf-8", errors="replace").split()[0])
    except (OSError, ValueError, IndexError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False  # a killed writer's PID: the next ingest repairs
    except PermissionError:
        return True
    return True


@contextmanager
def writer_lock(settings: Settings, what: str = "ingest", wait: bool = False) -> Iterator[bool]:
    """Hold the index's single-writer lock (``data_dir/ingest.lock``, an flock the kernel releases when its process
    dies, so a killed writer's lock is never stale). The file holds the writer's PID while it writes and is emptied
    on a clean exit: yields True when the previous writer was killed (its PID is still there), so the caller
    repairs the index. Raises ``IndexBusyError`` naming the running writer, unless ``wait``."""
    if settings.chroma_url:  # a lock record in the server's metadata (holder, expiry), not a local file
        with server_writer_lock(settings, what, wait=wait) as previous_killed:
            yield previous_killed
        return
    import fcntl

    path = settings.data_dir / LOCK_FILE
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise IndexMissingError(f"cannot write to the index in {settings.data_dir}: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(os.pread(fd, 200, 0).decode("utf-8", "replace"))
            if not wait:
                raise IndexBusyError(f"another writer ({holder}) is updating the index in {settings.data_dir}; "
                                     "wait until it finishes (or use --wait)") from None
            fcntl.flock(fd, fcntl.LOCK_EX)
        previous = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} qa-bot {what}\n".encode(), 0)
        os.fsync(fd)
        clean = False
        try:
            yield bool(previous)
            clean = True
        finally:
            if clean:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def server_writer_lock(settings: Settings, what: str = "ingest", wait: bool = False) -> Iterator[bool]:
    """The single-writer lock of a Chroma server: a ``lock`` record in ``<collection>__meta`` with a random token,
    the holder (PID, host, command) and an expiry that a thread of the holder renews every ``lock_ttl / 4`` seconds.
    ``add`` never overwrites an existing record, so of two writers the first wins; the other is refused with a
    message naming the holder (or waits, with ``wait``). A lock whose holder died expires after ``lock_ttl`` and is
    taken over (a conditional delete on the dead holder's token); yields True then, so the caller repairs."""
    store = get_store(settings)
    assert isinstance(store, ServerStore)
    meta = store.meta_col
    ttl = float(settings.server.lock_ttl)
    token = uuid.uuid4().hex
    holder = f"PID {os.getpid()} on {socket.gethostname()} (qa-bot {what})"
    taken_over = False
    told = False
    while True:
        now = time.time()
        meta.add(ids=["lock"], embeddings=[_ONE], documents=[holder],
                 metadatas=[{"kind": "lock", "token": token, "holder": holder, "expires": now + ttl, "since": now}])
        got = meta.get(ids=["lock"], include=["metadatas"])
        if got["ids"] and got["metadatas"][0].get("token") == token:
            break
        if not got["ids"]:
            continue  # released meanwhile
        m = got["metadatas"][0]
        if float(m.get("expires", 0)) < now:  # its holder died without releasing it
            meta.delete(ids=["lock"], where={"token": m.get("token")})
            taken_over = True
            log.warning("took over the expired ingest lock of %s", m.get("holder"))
            continue
        if not wait:
            raise IndexBusyError(f"another writer ({m.get('holder')}) is updating the index on the Chroma server "
                                 f"{settings.chroma_url}; wait until it finishes (or use --wait)")
        if not told:
            log.info("waiting for the ingest lock held by %s", m.get("holder"))
            told = True
        time.sleep(min(2.0, ttl / 4))

    stop = threading.Event()
    lost = threading.Event()
    store._lock_lost = lost  # the store stops writing once set

    def renew() -> None:
        while not stop.wait(ttl / 4):
            try:
                cur = meta.get(ids=["lock"], include=["metadatas"])
                if not cur["ids"] or cur["metadatas"][0].get("token") != token:
                    log.error("the ingest lock was lost (expired and taken over): this ingest stops")
                    lost.set()
                    return
                meta.update(ids=["lock"], metadatas=[{"expires": time.time() + ttl}])
            except Exception as e:  # noqa: BLE001 - the server away for a moment: retry at the next beat
                log.warning("cannot renew the ingest lock: %s", type(e).__name__)

    beat = threading.Thread(target=renew, name="qa-bot-lock-renew", daemon=True)
    beat.start()
    try:
        yield taken_over
    finally:
        stop.set()
        store._lock_lost = None
        try:
            meta.delete(ids=["lock"], where={"token": token})
        except Exception as e:  # noqa: BLE001 - the lock then expires by itself
            log.warning("cannot release the ingest lock (it expires in %.0fs): %s", ttl, type(e).__name__)
