#!/usr/bin/env bash
# Install CAH into .venv and run it with demo data on SQLite at http://localhost:8000
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e .
exec .venv/bin/pakkedes demo --port "${PORT:-8000}"
