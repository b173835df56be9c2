#!/bin/sh
# make backup: a pg_dump (custom format) of DATABASE_URL into backups/ (or the file given).
# Restore with scripts/restore.sh FILE, which also re-applies the erasure ledger.
set -eu
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
out="${1:-backups/cloudportal-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$out")"
pg_dump --format=custom --no-owner --no-privileges --file="$out" "$DATABASE_URL"
echo "$out"
