#!/usr/bin/env bash
# Sets up everything posterocr and its tests need, idempotently:
# system packages (Tesseract, Pandoc, fonts for the test-photo generator) and a .venv.
# --tests adds what only the tests need: Chromium, for the page checks in a real browser.
set -euo pipefail
for_tests=0
[ "${1:-}" = "--tests" ] && for_tests=1
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need=()
command -v tesseract >/dev/null || need+=(tesseract-ocr)
command -v pandoc >/dev/null || need+=(pandoc)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || need+=(fonts-dejavu-core)
[ -e /usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf ] || need+=(fonts-liberation2)
if [ $for_tests = 1 ]; then
  command -v chromium >/dev/null || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (apt-get)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
echo "setup: ready ($(.venv/bin/posterocr --version), $(tesseract --version 2>&1 | head -1))" >&2
