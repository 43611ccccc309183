#!/usr/bin/env bash
# Regenerate alembic/versions/0001_initial.py from the models (nothing has shipped yet, so the
# chain is one revision). After the first production deploy, add new revisions instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f alembic/versions/0001_initial.py
DATABASE_URL="sqlite:///$tmp/gen.db" .venv/bin/alembic revision --autogenerate --rev-id 0001 -m initial >/dev/null
rm -rf "$tmp"
.venv/bin/ruff format -q alembic/versions/0001_initial.py || true
echo "regenerated alembic/versions/0001_initial.py"
