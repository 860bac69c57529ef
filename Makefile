# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export ANONYMIZED_TELEMETRY ?= False

.PHONY: install run ingest test test-fast eval-quick eval bench chromium tesseract clean llm-smoke e2e-openwebui

# the lock is installed by uv (about 20 s instead of pip's 200 s; pip if uv fails): scripts/install.sh
$(STAMP): pyproject.toml requirements.lock scripts/install.sh
	bash scripts/install.sh $(PYTHON) $(VENV)
	touch $(STAMP)

install: $(STAMP)

# Builds the index of the bundled corpus if missing (lexical search first, vectors from the shipped cache),
# then serves the chat.
run: install
	$(BIN)/qa-bot ingest --if-missing
	@set -- $$($(BIN)/python -c 'from qa_bot.settings import Settings as S; s=S(); print(s.ui.server_address, s.ui.server_port)'); \
	echo "qa_bot chat on http://$$1:$$2"; \
	$(BIN)/streamlit run ui/app.py --server.headless true --server.address $$1 --server.port $$2 \
		--browser.gatherUsageStats false

ingest: install
	$(BIN)/qa-bot ingest

chromium:
	@command -v /usr/bin/chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed"; \
		else echo "chromium missing and not root: browser tests will skip"; fi; }

# optional OCR of PDF pages without a text layer (scanned pages); without it such pages are skipped with a notice
tesseract:
	@command -v tesseract >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null) || echo "tesseract-ocr could not be installed"; \
		else echo "tesseract missing and not root: the OCR test will skip"; fi; }

# the quick eval gate sees the whole bundled corpus (indexed into data/ on first use, from the shipped vectors);
# the suite runs on PYTEST_WORKERS processes (pytest-xdist; a test file stays on one worker, so its fixtures are built once).
# Indexing, the gate and then the few tests that read the bundled index (marked `bundled`) use about one core: they
# run beside the rest of the suite, and their output is printed when both are done.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile
test: install chromium tesseract
	@mkdir -p eval-out; rm -f eval-out/quick.rc; echo "quick eval gate, then the bundled tests: beside the suite (log: eval-out/quick.log)"
	@( { $(MAKE) --no-print-directory eval-quick && $(BIN)/python -m pytest -q -p no:xdist -m bundled tests; } \
		> eval-out/quick.log 2>&1; echo $$? > eval-out/quick.rc ) & \
	$(PYTEST) -m "not bundled" tests; suite=$$?; wait; \
	echo "--- quick eval gate and bundled tests (eval-out/quick.log) ---"; tail -n 32 eval-out/quick.log; \
	gate=$$(cat eval-out/quick.rc 2>/dev/null || echo 1); \
	if [ "$$suite" != 0 ] || [ "$$gate" != 0 ]; then echo "make test: suite exit $$suite, gate and bundled tests exit $$gate"; exit 1; fi

test-fast: install
	$(PYTEST) -m "not slow" tests

eval-quick: install
	$(BIN)/qa-bot ingest --if-missing
	$(BIN)/qa-bot eval evals/datasets/quick.jsonl --out eval-out/quick --check evals/thresholds.toml

eval: install
	$(BIN)/qa-bot ingest --if-missing
	$(BIN)/qa-bot eval evals/datasets/liveqa2017.jsonl evals/datasets/mediqa2019.jsonl evals/datasets/mediqa2021.jsonl \
		evals/datasets/followup.jsonl evals/datasets/unanswerable.jsonl evals/datasets/clinician.jsonl evals/datasets/kqa.jsonl \
		--baselines --out eval-out/full

bench: install
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/query.py

# optional, not in CI: serves a small GGUF model with llama.cpp and runs the seed question through the LLM path
llm-smoke: install
	$(BIN)/qa-bot ingest --if-missing
	BIN=$(BIN) PYTHON=$(PYTHON) bash benchmarks/llm_smoke.sh

# optional, not in CI: Open WebUI (PyPI, its own venv: ~2.5 GB with torch) against `qa-bot serve`, driven in Chromium
# (title, follow-up suggestions, a source opening with its quoted passage, a readable abstention)
OPENWEBUI_VERSION ?= 0.12.4
OWUI_VENV ?= .venv-openwebui
$(OWUI_VENV)/.installed:
	$(PYTHON) -m venv $(OWUI_VENV)
	$(OWUI_VENV)/bin/pip install -q --disable-pip-version-check open-webui==$(OPENWEBUI_VERSION)
	touch $@

e2e-openwebui: install chromium $(OWUI_VENV)/.installed
	OPENWEBUI_BIN=$(OWUI_VENV)/bin/open-webui $(BIN)/python benchmarks/e2e_openwebui.py

clean:
	rm -rf $(VENV) data eval-out
