#!/usr/bin/env bash
# Lint, type-check and run the test suite (offline, a few minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check idverify tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
