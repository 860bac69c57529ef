"""Shared test helpers: builders for test inputs (PDFs, chunks, passages) and processes (free ports, the CLI, a
real `chroma run`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def minimal_pdf(lines: list[str], size: float = 12, leading: float = 14) -> bytes:
    """A valid one-page PDF with the given text lines (Helvetica, ``size`` pt, ``leading`` pt apart), built by hand."""
    text_ops = f"BT /F1 {size:g} Tf 72 720 Td {leading:g} TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in lines) + " ET"
    return assemble_pdf([
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text_ops)} >>\nstream\n{text_ops}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def assemble_pdf(objects: list[str | bytes]) -> bytes:
    """A PDF file of these objects (numbered from 1, the first the catalog), with its cross-reference table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + (obj if isinstance(obj, bytes) else obj.encode("latin-1")) + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def bump_mtime(path: Path) -> None:
    """Set ``path``'s modification time a second ahead, so that a reader polling it sees a change at once."""
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))


def raw_http(port: int, data: bytes, wait: float = 60) -> bytes:
    """Send ``data`` to 127.0.0.1:``port`` as is and return all the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return out


def scanned_pdf_with_text_layer(visible: list[str], layer: list[str]) -> bytes:
    """A one-page PDF whose image shows ``visible`` (a scan) under an invisible text layer of ``layer`` (render mode
    3, as OCR software writes it): what pdfium extracts is ``layer``, what tesseract reads is ``visible``."""
    import io

    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(minimal_pdf(visible, size=14, leading=20))
    image = src[0].render(scale=200 / 72, grayscale=True).to_pil()
    src.close()
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    jpeg = buf.getvalue()
    text_ops = "q 612 0 0 792 0 0 cm /Im1 Do Q BT 3 Tr /F1 12 Tf 72 720 Td 14 TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in layer) + " ET"
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        f"<< /Length {len(text_ops)} >>\nstream\n{text_ops}\nendstream".encode("latin-1"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} /ColorSpace /DeviceGray "
        f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n".encode("latin-1") + jpeg +
        b"\nendstream",
    ])


# --- processes: free ports, the CLI as a subprocess, a real `chroma run` -----------------------------------------
ROOT = Path(__file__).resolve().parent.parent
CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    """Wait (bounded) until something listens on 127.0.0.1:``port``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any QA_BOT_ variable, with this checkout importable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"PYTHONPATH": str(ROOT), **extra})
    return env


def run_cli(args: list, env: dict[str, str] | None = None, *, data_dir: Path | None = None,
            input: str | bytes | None = None, text: bool = True, timeout: float = 300,
            cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``qa-bot ARGS`` as a separate process (``python -m qa_bot.cli``), its output captured; ``env`` (and
    ``QA_BOT_DATA_DIR`` when ``data_dir`` is given) is added to a clean environment (no QA_BOT_ variable of the
    caller's). ``text=False``: bytes in and out (see ``output_of``)."""
    extra = {**({"QA_BOT_DATA_DIR": str(data_dir)} if data_dir is not None else {}), **(env or {})}
    return subprocess.run([sys.executable, "-m", "qa_bot.cli", *args], capture_output=True, text=text,
                          env=clean_env(**extra), input=input, timeout=timeout, cwd=cwd)


def output_of(r: subprocess.CompletedProcess) -> str:
    """What a process printed (stdout then stderr), as text whatever ``text=`` it ran with."""
    out = r.stdout + r.stderr
    return out.decode("utf-8", "replace") if isinstance(out, bytes) else out


GOOD_DOCS = {
    "gout.md": "---\ntitle: Gout\n---\n# Gout\n\nGout is a form of inflammatory arthritis caused by uric acid crystals "
               "in the joints. Colchicine and NSAIDs treat acute gout flares.\n",
    "asthma.md": "---\ntitle: Asthma\n---\n# Asthma\n\nAsthma is a chronic disease of the airways. Inhaled "
                 "corticosteroids are the mainstay of long-term asthma control.\n",
    "sepsis.md": "---\ntitle: Sepsis\ndoc_type: guideline\n---\n# Sepsis\n\nGive broad-spectrum antibiotics within one "
                 "hour of recognising sepsis. Measure lactate and give fluids for hypotension.\n",
}


def write_good_docs(folder: Path) -> None:
    """Three small valid documents (gout, asthma, sepsis) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in GOOD_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")


class ChromaServer:
    """A real ``chroma run`` on a free loopback port, storing under ``path``, in its own process group."""

    def __init__(self, path):
        self.path, self.port, self.proc = path, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ChromaServer":
        if not CHROMA.exists():
            pytest.fail("the chroma CLI is missing from the environment")
        self.proc = subprocess.Popen([str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def __enter__(self) -> "ChromaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- chunks and passages -----------------------------------------------------------------------------------------
def chunk(text: str, doc: str = "d1", *, sid: str = "s", chunk_id: str | None = None, section_id: str | None = None,
          title: str | None = None, heading_path: list[str] | None = None, doc_type: str = "expert_answer",
          collection: str = "c", n_tokens: int | None = None, content_hash: str | None = None, **fields):
    """A Chunk of ``text`` (the whole of its section ``{doc}#{sid}``) in document ``doc``; any other Chunk field by
    keyword."""
    from qa_bot.types import Chunk

    return Chunk(chunk_id=chunk_id or f"{doc}#{sid}", doc_id=doc, section_id=section_id or f"{doc}#{sid}", text=text,
                 title=title, heading_path=heading_path or [], doc_type=doc_type, collection=collection, start=0,
                 end=len(text), n_tokens=len(text.split()) if n_tokens is None else n_tokens,
                 content_hash=content_hash or doc + sid, **fields)


def passage(text: str, doc: str = "d1", *, score: float = 1.0, dense_score: float | None = None, **kw):
    """A Passage of ``chunk(text, doc, **kw)`` retrieved with ``score``."""
    from qa_bot.types import Passage

    return Passage(chunk=chunk(text, doc, **kw), score=score, dense_score=dense_score)


# --- the support checker's vectors of the labelled pair sets -------------------------------------------------------
SUPPORT_VECTORS = Path(__file__).resolve().parent / "fixtures" / "support_vectors.npz"


def cached_support_checker(path: Path = SUPPORT_VECTORS):
    """A ``SupportChecker`` whose text vectors come first from ``path`` (the model's own vectors of the texts the
    labelled pair sets make it encode, keyed by model and the text's SHA-1; written by
    ``python tests/fixtures/build_support_vectors.py``): the pair-set tests check every pair with the real rules
    without re-encoding 4,000 sentences (80 s of CPU). A text not in the file (another model, a changed rule that
    cuts passages differently) is encoded as usual."""
    import numpy as np

    from qa_bot.embed import model_key
    from qa_bot.verify import SupportChecker

    class Cached(SupportChecker):
        def __init__(self) -> None:
            super().__init__()
            self.model = model_key(self.settings.embedding_model)
            self.known: dict[str, np.ndarray] = {}
            if path.is_file():
                with np.load(path, allow_pickle=False) as z:
                    if str(z["model"]) == self.model:
                        self.known = dict(zip(z["hashes"].tolist(), z["vectors"]))
            self.encoded: list[str] = []  # what was not in the file

        def _encode(self, texts):
            if not texts:
                return super()._encode(texts)
            keys = [self._key(t) for t in texts]  # the checker's own text key (SHA-1)
            missing = {k: t for k, t in zip(keys, texts) if k not in self.known}
            if missing:
                self.encoded.extend(missing.values())
                self.known.update(zip(missing, super()._encode(list(missing.values()))))
            return np.stack([self.known[k] for k in keys]).astype(np.float32)

    return Cached()
