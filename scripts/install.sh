#!/usr/bin/env bash
# Installs the pinned environment (requirements.lock) into a virtual environment, then qa_bot itself (editable).
#   scripts/install.sh PYTHON VENV
# The lock is installed by uv (pinned below), which downloads and unpacks in parallel: on 2 cores a fresh install
# takes about 20 s instead of pip's 200 s. uv does not read pip's configuration, so the package sources pip is
# configured with (find-links, index-url, extra-index-url, constraint: `pip config list`, including PIP_* variables)
# are passed on to it. If uv cannot be installed or fails, pip installs the same lock.
set -euo pipefail
PYTHON=${1:?python}
VENV=${2:?venv}
UV_VERSION=0.13.9
BIN=$VENV/bin

"$PYTHON" -m venv "$VENV"
pip_quiet=(-q --disable-pip-version-check)

uv_install() {
	"$BIN/pip" install "${pip_quiet[@]}" "uv==$UV_VERSION" || return 1
	# --compile-bytecode: uv does not compile by default (pip does); where PYTHONDONTWRITEBYTECODE is set, every process
	# would compile torch, transformers and the rest from source on each import (16 s of CPU a process that loads the
	# model: the test suite starts dozens)
	local args=(--python "$BIN/python" --index-strategy unsafe-best-match --compile-bytecode)
	local key value item
	while IFS='=' read -r key value; do
		value=${value#\'}
		value=${value%\'}
		case "${key##*.}" in
		find-links) for item in $value; do args+=(--find-links "$item"); done ;;
		index-url) args+=(--index-url "$value") ;;
		extra-index-url) for item in $value; do args+=(--extra-index-url "$item"); done ;;
		constraint) for item in $value; do [ -f "$item" ] && args+=(--constraint "$item"); done ;;
		esac
	done < <("$BIN/pip" config list 2>/dev/null || true)
	"$BIN/uv" pip install -q "${args[@]}" -r requirements.lock
}

if ! uv_install; then
	echo "uv could not install the lock; installing it with pip (slower)" >&2
	"$BIN/pip" install "${pip_quiet[@]}" -r requirements.lock
fi
"$BIN/pip" install "${pip_quiet[@]}" --no-deps -e .
