#!/usr/bin/env bash
# Create .venv with nemogym (editable) and the test tools; install bubblewrap for the sandbox.
# Idempotent: a second run only checks. Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing bubblewrap (sandbox isolation)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
      || echo "warning: could not install bubblewrap; sandboxed code tests will report it" >&2
  else
    echo "warning: bubblewrap (bwrap) is missing: install it for sandboxed code execution" >&2
  fi
fi

PY=${PYTHON:-python3}
# Resolve a pyenv shim to the real interpreter (shims are slow and confuse sandboxes).
REAL_PY=$("$PY" -c 'import sys; print(sys.executable)')
if [ ! -x .venv/bin/python ]; then
  "$REAL_PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
echo "setup done: $(.venv/bin/python --version), $(.venv/bin/nemogym --help >/dev/null && echo 'nemogym CLI ok')"
