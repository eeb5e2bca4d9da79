#!/usr/bin/env bash
# Runs the whole test suite (slow end-to-end tests included) against real Tesseract, OpenCV and Pandoc.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
exec .venv/bin/python -m pytest -n 2 "$@"
