#!/usr/bin/env bash
# Fresh machine to finished page: set up, then run posterocr on the bundled sample photos in img/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The sample list holds the samples' (made-up) titles among 300 others, as a conference's accepted-paper list would.
.venv/bin/posterocr extract img/ -o posters.yaml --papers tests/data/sample_papers.csv
.venv/bin/posterocr render posters.yaml -o output
echo "demo: open output/index.html (or output/index.md with pandoc); the draft is posters.yaml" >&2
