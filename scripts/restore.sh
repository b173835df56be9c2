#!/usr/bin/env bash
# Restore a `make backup` file into DATABASE_URL (replacing what is there), then erase
# again every account erased since the backup, from the erasure ledger file
# (ERASURE_LEDGER_PATH, kept outside the database). Run it before the portal serves.
#
# The public schema is dropped and the backup replayed through psql in ONE
# transaction, committed only if pg_restore read the whole file: a restore that fails
# leaves the database as it was. (pg_restore
# --clean cannot drop the primary keys of the session partitions, which they inherit
# from the partitioned table, so it is not used.)
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to restore into}"
file="${1:?usage: scripts/restore.sh BACKUP_FILE}"
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$here/.venv/bin/python}"
pg_restore --list "$file" >/dev/null # a readable backup, before anything is dropped
{
    echo "BEGIN; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
    pg_restore --no-owner --no-privileges --file=- "$file" && echo "COMMIT;"
} | psql --quiet --no-psqlrc --set=ON_ERROR_STOP=1 --output=/dev/null "$DATABASE_URL"
"$python" "$here/manage.py" migrate --noinput -v0
"$python" "$here/manage.py" erasure_ledger_apply
