"""Re-run the hostile cases of the boundaries check on a small corpus and print each bar's outcome (rerunnable).

    .venv/bin/python benchmarks/boundaries.py

A temporary corpus of two collections (the fixture seeds and the USPSTF guidelines) gets a link to /etc/passwd, a
77 KB-class PDF of 1,200 overlapping 1-pt lines and an empty file whose name holds a newline and a forged
"done in" line; `qa-bot ingest` and `qa-bot serve` run as separate processes, with a keys file holding an admin key
and a key scoped to the seeds. Prints one line per bar (PASS/FAIL and what was seen); exits 1 when one fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import minimal_pdf, raw_http  # noqa: E402

from qa_bot.api import hash_key  # noqa: E402

ADMIN, SCOPED = "bars-admin-0123456789abcdef", "bars-scoped-0123456789abcdef"
FORGED = "x\ndone in 0.1s: 999 documents"
results: list[tuple[str, bool, str]] = []


def bar(name: str, ok: bool, seen: str) -> None:
    results.append((name, ok, seen))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {seen}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    import httpx

    tmp = Path(tempfile.mkdtemp(prefix="qa-bot-bars-"))
    corpus = tmp / "corpus"
    for sub in ("seeds", "guidelines"):
        shutil.copytree(ROOT / "tests" / "fixtures" / "corpus" / sub, corpus / sub)
    (corpus / "seeds" / "passwd.txt").symlink_to("/etc/passwd")
    line = "Recommendation text about gout 12 " * 13 + "end"
    (corpus / "guidelines" / "hostile.pdf").write_bytes(
        minimal_pdf([f"{line} {i}x" for i in range(1200)], size=1, leading=0.01))
    (corpus / "seeds" / f"{FORGED}.txt").write_bytes(b"")
    keys = tmp / "keys.txt"
    keys.write_text(f"{hash_key(ADMIN)}\n{hash_key(SCOPED)} seeds\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "QA_BOT_DATA_DIR": str(tmp / "data"),
                "QA_BOT_CORPUS": str(corpus), "QA_BOT_API_KEYS_FILE": str(keys)})

    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest"], capture_output=True, text=True, env=env,
                       timeout=900)
    seconds = time.perf_counter() - t
    out = r.stdout + r.stderr
    flat = " ".join(out.split())
    from qa_bot.store import get_store
    from qa_bot.settings import Settings

    store = get_store(Settings(data_dir=tmp / "data"))
    known = store.known_documents()
    texts = " ".join(c.text for d in known for c in store.doc_chunks(d))
    bar("/etc/passwd not indexed", "passwd" not in known and "root:x:0:0" not in texts and "passwd.txt" in out,
        f"{len(known)} documents indexed; passwd among them: {'passwd' in known}; the link named in the output: "
        f"{'passwd.txt' in out}")
    bar("the hostile PDF within its budget, the others indexed", "hostile" in known and len(known) >= 4
        and "budget" in flat and seconds < 120,
        f"ingest {seconds:.1f} s (budget 120 s a file), hostile.pdf indexed: {'hostile' in known}, "
        f"note: {'budget' in flat}")
    lines = out.splitlines()
    bar("a newline file name prints escaped", not any(ln.lstrip().startswith("done in 0.1s") for ln in lines)
        and "x\\ndone in 0.1s" in out,
        next((ln.strip() for ln in lines if "999 documents" in ln), "(not printed)"))

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(900):
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        ready = httpx.get(f"{base}/readyz", timeout=10).json()
        head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
        big = raw_http(port, head + b'{"messages": [{"role": "user", "content": "gout"}], "pad": "' + b"x" * 1_000_000)
        bar("a 50 MB body gets 413", big.startswith(b"HTTP/1.1 413"), big.split(b"\r\n", 1)[0].decode())

        def ask(q: str, key: str) -> dict:
            return httpx.post(f"{base}/v1/answer", json={"question": q}, timeout=120,
                              headers={"Authorization": f"Bearer {key}"}).json()

        outside = ("uspstf", "office blood pressure", "USPSTF_")
        admin = ask("How is OBPM done?", ADMIN)
        scoped = [ask(q, SCOPED) for q in ("How is OBPM done?", "What are the treatments for Stroke?",
                                           "Should adults be screened for high blood pressure?")]
        stats = httpx.get(f"{base}/v1/index/stats", headers={"Authorization": f"Bearer {SCOPED}"}, timeout=30).json()
        seen = json.dumps(scoped + [stats])
        leaks = [w for w in outside if w.lower() in seen.lower()]
        bar("a scoped key's answers, notices, expansions and statistics name nothing outside its collections",
            not leaks and set(stats["by_collection"]) == {"seeds"} and "OBPM" in admin.get("expansions", {}),
            f"admin expansions {admin.get('expansions')}; scoped: expansions {scoped[0].get('expansions')}, "
            f"notice {scoped[0].get('notice')!r}, stats by_collection {stats['by_collection']}, store "
            f"{stats['store']!r}; outside names found: {leaks or 'none'}; /readyz {ready}")
        assert httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200
        keys.unlink()
        status = httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {ADMIN}"}).status_code
        bar("a deleted keys file gives 401", status == 401, f"GET /v1/models with the admin key: {status}")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{sum(ok for _, ok, _ in results)}/{len(results)} bars hold")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
