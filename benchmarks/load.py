"""Load test of the HTTP API: N concurrent clients for a fixed time against a `qa-bot serve` this script starts.

    .venv/bin/python benchmarks/load.py [--clients 4] [--seconds 30] [--workers 1,2] [--ingest FOLDER]

For each worker count it starts `qa-bot serve --host 127.0.0.1 --workers W` on a free loopback port over the
configured data dir (QA_BOT_DATA_DIR; embedded Chroma unless QA_BOT_CHROMA_URL is set) with a random key, waits
until /readyz answers and every worker has answered once (warm-up, not counted), then runs N client threads that
POST non-streaming /v1/chat/completions (questions of the development sets, follow-ups included) until the time is
up, and prints throughput, p50/p95/p99 latency and the error count (anything but a 200 with the disclaimer in the
content). With ``--ingest FOLDER`` a `qa-bot ingest FOLDER` runs against the same data dir while the clients run
(started 2 s in); its outcome is printed. Bounded: loopback only, stops by itself, the server is always stopped.
Point QA_BOT_DATA_DIR at a copy of the index: --ingest writes into it (and its documents must be new or changed
to make the ingest write anything: run it with one worker count).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.settings import Settings  # noqa: E402

HOST = "127.0.0.1"  # loopback only


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def questions() -> list[list[dict]]:
    """Message lists: single questions and follow-ups from the development sets."""
    out: list[list[dict]] = []
    for name in ("quick.jsonl", "followup.jsonl"):
        path = ROOT / "evals" / "datasets" / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            hist = [{"role": t["role"], "content": t["content"]} for t in item.get("history") or []]
            out.append(hist + [{"role": "user", "content": item["question"]}])
    return out or [[{"role": "user", "content": "What is hypertension?"}]]


def memory_mb(pid: int) -> float:
    """RSS of a process and its children (the uvicorn workers), MiB."""
    total = 0
    pids = [pid]
    try:
        for child in Path(f"/proc/{pid}/task").glob("*/children"):
            pids += [int(p) for p in child.read_text().split()]
        for p in pids:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total / 1024


def consistency_delay(base: str, headers: dict, workers: int, timeout: float = 120) -> float | None:
    """Server mode: seconds from the end of the ingest until every worker serves the version it published
    (``/v1/index/stats`` of 4 x workers consecutive requests all showing the version the ingest published: its
    number, not its chunk count, which an ingest of changed documents may leave as it was)."""
    from qa_bot.store import get_store

    t0 = time.perf_counter()
    published = int(get_store(Settings()).version_record()["version"])
    ok = 0
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        while time.perf_counter() - t0 < timeout:
            n = c.get("/v1/index/stats").json().get("version")
            ok = ok + 1 if n == published else 0
            if ok >= 4 * workers:
                return time.perf_counter() - t0
            time.sleep(0.05)
    return None


def run_one(workers: int, clients: int, seconds: float, ingest: Path | None, env: dict, key: str) -> dict:
    port = free_port()
    base = f"http://{HOST}:{port}"
    server = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "serve", "--host", HOST, "--port", str(port),
                               "--workers", str(workers)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    log_lines: list[str] = []
    threading.Thread(target=lambda: log_lines.extend(server.stdout), daemon=True).start()
    headers = {"Authorization": f"Bearer {key}"}
    msgs = questions()
    try:
        t_start = time.perf_counter()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit("server exited:\n" + "".join(log_lines[-30:]))
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("server not ready after 300 s")
        # warm-up (not counted): enough requests in parallel that every worker has answered a few
        warm = [threading.Thread(target=lambda i=i: [httpx.post(base + "/v1/chat/completions", headers=headers,
                                                                json={"model": "qa-bot", "messages": msgs[(i + j) % len(msgs)]},
                                                                timeout=120) for j in range(3)])
                for i in range(max(clients, 2 * workers))]
        [t.start() for t in warm]
        [t.join() for t in warm]
        ready_s = time.perf_counter() - t_start

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def client(i: int) -> None:
            n = i
            with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
                while time.monotonic() < stop_at:
                    body = {"model": "qa-bot", "messages": msgs[n % len(msgs)]}
                    n += clients
                    t = time.perf_counter()
                    try:
                        r = c.post("/v1/chat/completions", json=body)
                        ok = r.status_code == 200 and "Disclaimer" in r.json()["choices"][0]["message"]["content"].title()
                        problem = None if ok else f"HTTP {r.status_code}: {r.text[:200]}"
                    except Exception as e:  # noqa: BLE001 - counted as an error
                        problem = f"{type(e).__name__}: {e}"
                    ms = (time.perf_counter() - t) * 1000
                    with lock:
                        (errors.append(problem) if problem else latencies.append(ms))

        ingest_proc = None
        ingest_out: list[str] = []
        if ingest is not None:
            def start_ingest() -> None:
                nonlocal ingest_proc
                time.sleep(2)
                t = time.perf_counter()
                ingest_proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "ingest", str(ingest)],
                                               env={**env, "COLUMNS": "400"},
                                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                out, _ = ingest_proc.communicate(timeout=seconds + 600)
                ingest_out.append(f"rc={ingest_proc.returncode} in {time.perf_counter() - t:.1f}s: "
                                  + " ".join(out[max(out.rfind("done in"), out.rfind("error:"), 0):].split())[:400])
            ing = threading.Thread(target=start_ingest, daemon=True)
            ing.start()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        [t.start() for t in threads]
        rss = 0.0
        while any(t.is_alive() for t in threads):
            rss = max(rss, memory_mb(server.pid))
            time.sleep(1)
        wall = time.perf_counter() - t0
        switch = None
        if ingest is not None:
            ing.join(timeout=600)
            switch = consistency_delay(base, headers, workers) if os.environ.get("QA_BOT_CHROMA_URL") else None
        return {"workers": workers, "clients": clients, "seconds": wall, "requests": len(latencies),
                "rps": len(latencies) / wall, "p50": pct(latencies, 0.5), "p95": pct(latencies, 0.95),
                "p99": pct(latencies, 0.99), "mean": statistics.fmean(latencies) if latencies else float("nan"),
                "errors": len(errors), "error_samples": errors[:3], "ready_s": ready_s, "rss_mb": rss,
                "ingest": ingest_out[0] if ingest_out else None, "switch_s": switch,
                "server_errors": [line.strip() for line in log_lines if "unhandled" in line][:5]}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    ap.add_argument("--ingest", type=Path, help="a folder to ingest into the same data dir during the run")
    args = ap.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 600:
        raise SystemExit("--clients 1..64, --seconds 1..600")
    settings = Settings()
    key = "load-" + secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_API_KEYS")}
    env.update({"QA_BOT_API_KEYS": key, "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
                "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    print(f"data dir {settings.data_dir}, store {settings.chroma_url or 'embedded'}, {os.cpu_count()} CPUs; "
          f"{args.clients} clients x {args.seconds:.0f}s" + (f"; ingest {args.ingest} during the run" if args.ingest else ""))
    print("| workers | clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors | server RSS MiB | ready s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for w in [int(x) for x in args.workers.split(",") if x.strip()]:
        r = run_one(w, args.clients, args.seconds, args.ingest, env, key)
        print(f"| {r['workers']} | {r['clients']} | {r['requests']} | {r['rps']:.2f} | {r['p50']:.0f} | {r['p95']:.0f} "
              f"| {r['p99']:.0f} | {r['errors']} | {r['rss_mb']:.0f} | {r['ready_s']:.0f} |", flush=True)
        for e in r["error_samples"]:
            print(f"  error: {e}")
        for line in r.get("server_errors") or []:
            print(f"  server: {line}")
        if r["ingest"]:
            print(f"  ingest: {r['ingest']}" + (f"; every worker on the new version {r['switch_s']:.1f}s after it ended" if r.get("switch_s") is not None else ""))


if __name__ == "__main__":
    main()
