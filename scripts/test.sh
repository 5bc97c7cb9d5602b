#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: node tests, the guard rails
# (tests/test_contracts.py: layer contracts, ruff, phone-app import cycles; the docs' stage
# table), then pytest (server + sync on SQLite and PostgreSQL, phone app in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Chromium for the Playwright tests (Debian's package; Playwright's own download is not used).
if ! command -v chromium >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# pdftotext reads back the report that Chromium prints to PDF (tests/e2e/test_office.py).
if ! command -v pdftotext >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
fi
# nginx in front of the server, openssl for deploy/local-ca.sh and certutil to make Chromium
# trust that CA (tests/deploy/test_https_nginx.py; the test runs its own nginx on free ports).
if ! { command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 \
    || ! command -v certutil >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnss3-tools \
    openssl >/dev/null
fi

# pg_dump / pg_restore for `pakkedes backup|restore` (tests/server/test_backup.py,
# tests/e2e/test_restore.py); Debian's postgresql package brings them, this is in case it did not.
if ! command -v pg_dump >/dev/null 2>&1 || ! command -v pg_restore >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
fi

# Node for the phone app's unit tests and madge (tests/test_contracts.py).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# PostgreSQL: start the local cluster if it is installed but not answering.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e ".[test]"
# madge, pinned in package-lock.json (node_modules/ is not committed).
npm ci --no-audit --no-fund --loglevel=error

node --test tests/js/
# The guard rails first: a broken layout stops the run before the long suite.
GUARDS=(tests/test_contracts.py tests/test_docs_transitions.py)
.venv/bin/python -m pytest -q "${GUARDS[@]}"
.venv/bin/python -m pytest "${GUARDS[@]/#/--ignore=}" "$@"
