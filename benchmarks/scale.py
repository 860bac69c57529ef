"""Scale of server mode: indexes of N chunks in a `chroma run` server, and what an app process pays over them.

    .venv/bin/python benchmarks/scale.py --source http://127.0.0.1:18765 [--sizes 50000,250000,1000000]
        [--collection qa_bot] [--workdir /tmp/qa_bot-scale] [--questions 60]

The source is a Chroma server holding the bundled corpus in server mode (`QA_BOT_CHROMA_URL=… qa-bot ingest`): its
chunks (text, metadata, vectors, the ones the shipped cache gave) are read once and replicated into a fresh
`chroma run` (started by this script on a temporary path, one per size) until N chunks: copy r of a chunk gets the
ids `<id>~r<r>`, its text with ~10 % of its words dropped at random (varied text: the lexical index really grows)
and its vector plus Gaussian noise (cosine ≈ 0.95 to the original, renormalised: a realistic HNSW graph, nothing
re-encoded). Writes go in batches of 500 chunks with the metadata shape of `ServerStore` (the ingest rate is that of
the server). The side tables of the version (acronyms, boilerplate) are those of the source version (replicas share
them). Then, for each size, a fresh app process (`--measure-app`, only its settings) loads the index (cold start: the
lexical index rebuilt from the chunk texts in Chroma + the embedding model + the first answer) and answers the quick
eval and clinician questions (distinct); reported: ingest rate, Chroma server RSS, app RSS, disk, cold start, answer() p50/p95 and where the
time goes (the engine's own stage timings), and the size of the host's caches (`data_dir/server-cache`: the lexical
index of each fully built version; `data_dir/server-texts`: the chunk texts, so a question reads only vectors).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
BATCH = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def client(url: str):
    import chromadb
    from chromadb.config import Settings as CS

    host, port = url.rsplit("//", 1)[-1].split(":")
    return chromadb.HttpClient(host=host, port=int(port), settings=CS(anonymized_telemetry=False))


def read_source(url: str, name: str) -> dict:
    """Every chunk (ids, texts, metadatas, vectors), document record and the version tables of the source."""
    c = client(url)
    col, docs, meta = c.get_collection(name), c.get_collection(f"{name}__docs"), c.get_collection(f"{name}__meta")
    out = {"ids": [], "texts": [], "metas": [], "vecs": []}
    offset = 0
    while True:
        got = col.get(include=["documents", "metadatas", "embeddings"], limit=5000, offset=offset)
        out["ids"] += got["ids"]
        out["texts"] += got["documents"]
        out["metas"] += got["metadatas"]
        out["vecs"].append(np.asarray(got["embeddings"], dtype=np.float32))
        if len(got["ids"]) < 5000:
            break
        offset += len(got["ids"])
    out["vecs"] = np.concatenate(out["vecs"])
    d = docs.get(include=["metadatas"])
    out["docs"] = dict(zip(d["ids"], d["metadatas"]))
    version = json.loads(meta.get(ids=["version"], include=["documents"])["documents"][0])
    tables = meta.get(ids=[f"acronyms:{version['version']}", f"boilerplate:{version['version']}"],
                      include=["documents"])
    out["tables"] = dict(zip([i.split(":")[0] for i in tables["ids"]], tables["documents"]))
    return out


def vary(text: str, rng: np.random.Generator) -> str:
    words = text.split(" ")
    keep = rng.random(len(words)) > 0.1
    return " ".join(w for w, k in zip(words, keep) if k) or text


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}"


def build(src: dict, url: str, name: str, n: int, seed: int = 0) -> dict:
    """Write ``n`` chunks (replicas of the source) and publish one version; returns the ingest figures."""
    from qa_bot.store.server import ServerStore
    from qa_bot.settings import Settings

    settings = Settings(chroma_url=url, collection_name=name, poll_interval=0)
    store = ServerStore(settings)
    col = store.chunks_col  # created like an ingest creates it (cosine, the model named)
    rng = np.random.default_rng(seed)
    base = len(src["ids"])
    sigma = 0.32 / np.sqrt(src["vecs"].shape[1])  # noise of norm ~0.32: cosine ~0.95 to the original
    t0 = time.perf_counter()
    written = 0
    doc_ids: dict[str, dict] = {}
    doc_n: dict[str, int] = {}
    r = 0
    while written < n:
        for i in range(0, base, BATCH):
            take = min(BATCH, base - i, n - written)
            if take <= 0:
                break
            sl = slice(i, i + take)
            vecs = src["vecs"][sl]
            metas = []
            for m in src["metas"][sl]:
                m = dict(m)
                if r:
                    m["doc_id"] = f"{m['doc_id']}~r{r}"
                    body = json.loads(m["chunk"])
                    body["doc_id"], body["chunk_id"] = m["doc_id"], f"{body['chunk_id']}~r{r}"
                    m["chunk"] = json.dumps(body)
                metas.append(m)
                doc_ids[m["doc_id"]] = m
                doc_n[m["doc_id"]] = doc_n.get(m["doc_id"], 0) + 1
            if r:
                vecs = vecs + rng.normal(0, sigma, vecs.shape).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                texts = [vary(t, rng) for t in src["texts"][sl]]
                ids = [f"{c}~r{r}" for c in src["ids"][sl]]
            else:
                texts, ids = src["texts"][sl], src["ids"][sl]
            col.upsert(ids=ids, embeddings=vecs, documents=texts, metadatas=metas)
            written += take
        r += 1
    chunks_s = time.perf_counter() - t0
    # the document records (the incremental-ingest state) and the published version
    dids = list(doc_ids)
    for i in range(0, len(dids), BATCH):
        part = dids[i:i + BATCH]
        store.docs_col.upsert(ids=part, embeddings=[[1.0]] * len(part), documents=part,
                              metadatas=[{"content_hash": "scale", "path": "", "n_chunks": doc_n[d],
                                          "collection": doc_ids[d].get("collection", ""),
                                          "doc_type": doc_ids[d].get("doc_type", "")} for d in part])
    store.meta_set("acronyms:1", src["tables"].get("acronyms", "{}"), {"kind": "acronyms", "version": 1})
    store.meta_set("boilerplate:1", src["tables"].get("boilerplate", "[]"), {"kind": "boilerplate", "version": 1})
    store.meta_set("version", json.dumps({"version": 1, "chunks": n, "documents": len(dids), "time": time.time()}),
                   {"kind": "version", "version": 1})
    total_s = time.perf_counter() - t0
    return {"chunks": n, "replicas": r, "chunks_seconds": round(chunks_s, 1), "total_seconds": round(total_s, 1),
            "ingest_rate": round(n / chunks_s)}


def measure_app(url: str, name: str, n_questions: int) -> dict:
    """In a fresh process: cold start (snapshot + model + first answer), then answer() over the quick questions."""
    t0 = time.perf_counter()
    from qa_bot.engine import answer
    from qa_bot.store import get_store
    from qa_bot.settings import Settings

    settings = Settings(chroma_url=url, collection_name=name, poll_interval=0)
    store = get_store(settings)
    snap = store.current()
    snapshot_s = snap.build_seconds
    rss_snapshot = rss_mb(os.getpid())
    qs: list[str] = []  # distinct questions (a repeated one would find the process's caches warm)
    for name_ in ("quick.jsonl", "clinician.jsonl"):
        for line in (ROOT / "evals" / "datasets" / name_).read_text().splitlines():
            if line.strip() and json.loads(line)["question"] not in qs:
                qs.append(json.loads(line)["question"])
    answer("What is hypertension?", [], settings)
    cold = time.perf_counter() - t0
    lat: list[float] = []
    stages: dict[str, list[float]] = {}
    for q in qs[:n_questions]:
        t = time.perf_counter()
        a = answer(q, [], settings)
        lat.append((time.perf_counter() - t) * 1000)
        for k, v in a.timings_ms.items():
            stages.setdefault(k, []).append(v)
    lat.sort()
    med = {k: round(statistics.median(v), 1) for k, v in stages.items()}
    return {"cold_start_s": round(cold, 1), "snapshot_build_s": round(snapshot_s, 1),
            "app_rss_mb_after_snapshot": round(rss_snapshot), "app_rss_mb": round(rss_mb(os.getpid())),
            "answers": len(lat), "p50_ms": round(lat[len(lat) // 2]), "p95_ms": round(lat[int(0.95 * (len(lat) - 1))]),
            "stage_median_ms": med}


def watch(url: str, name: str, data_dir: str) -> None:
    """An app process for the pick-up measurement: loads the published version, says so, then reports each
    version switch (as JSON lines) while its poller follows the server every second."""
    from qa_bot.store.server import ServerStore
    from qa_bot.settings import Settings

    store = ServerStore(Settings(chroma_url=url, collection_name=name, poll_interval=1.0, data_dir=Path(data_dir)))
    t = time.perf_counter()
    snap = store.current()
    print(json.dumps({"ready": snap.version, "how": snap.how, "seconds": round(time.perf_counter() - t, 1),
                      "rss_mb": round(rss_mb(os.getpid()))}), flush=True)
    seen = snap.version
    while True:
        sw = dict(store.last_switch)
        if sw.get("version", seen) != seen:
            seen = sw["version"]
            print(json.dumps({**sw, "chunks": len(store.current().ids), "rss_mb": round(rss_mb(os.getpid()))}),
                  flush=True)
        time.sleep(0.05)


def pickup(url: str, name: str, docs: Path, workdir: Path, app_data: Path) -> list[dict]:
    """Ingest ``docs`` (then the same documents changed) into the index while an app process watches; for each
    ingest: its duration and the delay from its end to the app serving the new version (the 30 s bound)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_BOT_CHROMA_URL": url, "QA_BOT_COLLECTION_NAME": name,
           "QA_BOT_DATA_DIR": str(workdir / "ingest-data")}
    app = subprocess.Popen([sys.executable, __file__, "--watch", url, name, str(app_data)], env=env,
                           stdout=subprocess.PIPE, text=True, start_new_session=True)
    out = []
    try:
        ready = json.loads(app.stdout.readline())
        print(f"pick-up: app process ready on version {ready['ready']} ({ready['how']}, {ready['seconds']} s)",
              flush=True)
        folder = workdir / "pickup-docs"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(docs, folder)
        for step in ("added", "changed"):
            if step == "changed":
                for f in sorted(folder.rglob("*.md")):
                    f.write_text(f.read_text() + "\n\nReviewed again for the pick-up measurement.\n")
            t = time.time()
            run = subprocess.run([str(Path(sys.executable).with_name("qa-bot")), "ingest", str(folder)], env=env,
                                 capture_output=True, text=True, timeout=7200)
            end = time.time()
            if run.returncode != 0:
                raise SystemExit(run.stdout[-2000:] + run.stderr[-2000:])
            line = json.loads(app.stdout.readline())  # the app's next switch
            out.append({"step": step, "documents": len(list(folder.rglob("*.md"))), "ingest_s": round(end - t, 1),
                        "pickup_s": round(line["time"] - end, 1), "how": line.get("how"),
                        "after_publish_s": round(line["time"] - line["published"], 1),
                        "switch_build_s": round(line["build_seconds"], 1), "chunks": line["chunks"],
                        "app_rss_mb": line["rss_mb"]})
            print(json.dumps(out[-1]), flush=True)
    finally:
        os.killpg(app.pid, 15)
        app.wait(60)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", help="Chroma server holding the bundled corpus in server mode")
    ap.add_argument("--collection", default="qa_bot")
    ap.add_argument("--sizes", default="50000,250000")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/qa_bot-scale"))
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--keep", action="store_true", help="keep each size's Chroma data (default: deleted after)")
    ap.add_argument("--reuse", action="store_true", help="measure the index kept by an earlier --keep run (no build)")
    ap.add_argument("--pickup", type=Path, metavar="DIR",
                    help="also ingest DIR's Markdown documents, then the same changed, while an app process watches: "
                         "ingest time and pick-up delay (e.g. tests/fixtures/corpus)")
    ap.add_argument("--measure-app", nargs=2, metavar=("URL", "COLLECTION"), help=argparse.SUPPRESS)
    ap.add_argument("--watch", nargs=3, metavar=("URL", "COLLECTION", "DATA_DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure_app:
        print(json.dumps(measure_app(*args.measure_app, args.questions)))
        return
    if args.watch:
        watch(*args.watch)
        return
    if args.reuse:
        src = None
    elif not args.source:
        ap.error("--source URL is required")
    else:
        t = time.perf_counter()
        src = read_source(args.source, args.collection)
        print(f"source: {len(src['ids'])} chunks, {len(src['docs'])} documents, read in "
              f"{time.perf_counter() - t:.0f}s", flush=True)
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        path = args.workdir / f"chroma-{n}"
        if not args.reuse:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        elif not path.is_dir():
            raise SystemExit(f"--reuse: no kept index at {path}")
        proc, url = start_chroma(path)
        try:
            row = {"chunks": n, "ingest_rate": "kept"} if args.reuse else build(src, url, "scale", n)
            time.sleep(2)
            row["chroma_rss_mb_after_ingest"] = round(rss_mb(proc.pid))
            row["disk_mb"] = round(du_mb(path))
            env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_BOT_DATA_DIR": str(args.workdir / f"app-data-{n}")}
            # twice, each in a fresh app process: the first meets a Chroma server whose caches are cold (just
            # started or just written), the second one warm like a server that has been answering for a while
            for run in ("cold_server", "warm_server"):
                out = subprocess.run([sys.executable, __file__, "--measure-app", url, "scale", "--questions",
                                      str(args.questions)], env=env, capture_output=True, text=True, timeout=7200)
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-3000:])
                got = json.loads(out.stdout.strip().splitlines()[-1])
                if run == "cold_server":
                    row.update(first_cold_start_s=got["cold_start_s"], first_snapshot_build_s=got["snapshot_build_s"],
                               cold_server_p50_ms=got["p50_ms"], cold_server_p95_ms=got["p95_ms"])
            row.update(got)
            row["chroma_rss_mb_after_queries"] = round(rss_mb(proc.pid))
            app_data = args.workdir / f"app-data-{n}"  # the host's caches: lexical index, chunk texts
            row["host_cache_mb"] = round(du_mb(app_data)) if app_data.is_dir() else 0
            if args.pickup:
                row["pickup"] = pickup(url, "scale", args.pickup, args.workdir, args.workdir / f"app-data-{n}")
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(60)
            if not args.keep:
                shutil.rmtree(path, ignore_errors=True)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| chunks | ingest chunks/s | Chroma RSS MiB | app RSS MiB | disk MiB | app cold start s (lexical build s) "
          "| answer p50 ms | p95 ms | same, Chroma just started | slowest stages (median ms) | host cache MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for p in r.get("pickup", []):
            print(f"pick-up at {r['chunks']:,} chunks: {p['documents']} documents {p['step']}: ingest {p['ingest_s']} s, "
                  f"served by the app {p['pickup_s']} s after it ended, {p['after_publish_s']} s after it published "
                  f"({p['how']}, {p['switch_build_s']} s)")
    for r in rows:
        st = sorted(((k, v) for k, v in r["stage_median_ms"].items() if k not in ("total", "retrieve")),
                    key=lambda kv: -kv[1])[:3]
        print(f"| {r['chunks']:,} | {r['ingest_rate']} | {r['chroma_rss_mb_after_queries']:,} | {r['app_rss_mb']:,} "
              f"| {r['disk_mb']:,} | {r['first_cold_start_s']} ({r['first_snapshot_build_s']}) | {r['p50_ms']} "
              f"| {r['p95_ms']} | {r['cold_server_p50_ms']} / {r['cold_server_p95_ms']} | "
              + ", ".join(f"{k} {v}" for k, v in st) + f" | {r.get('host_cache_mb', 0):,} |")


if __name__ == "__main__":
    main()
