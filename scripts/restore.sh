#!/bin/sh
# Restore a `make backup` file into DATABASE_URL (replacing what is there), then erase
# again every account erased since the backup, from the erasure ledger file
# (ERASURE_LEDGER_PATH, kept outside the database). Run it before the portal serves.
set -eu
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to restore into}"
file="${1:?usage: scripts/restore.sh BACKUP_FILE}"
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$here/.venv/bin/python}"
pg_restore --clean --if-exists --no-owner --no-privileges --dbname="$DATABASE_URL" "$file"
"$python" "$here/manage.py" migrate --noinput -v0
"$python" "$here/manage.py" erasure_ledger_apply
