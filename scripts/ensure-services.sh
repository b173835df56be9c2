#!/usr/bin/env bash
# Makes sure what the test suite runs against is there and running:
# PostgreSQL, Redis, Chromium and PgBouncer (from the system's packages when missing).
set -euo pipefail

pg_host=${PGHOST:-127.0.0.1}
if ! pg_isready -q -h "$pg_host" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h "$pg_host" && break; sleep 1; done
  fi
  pg_isready -h "$pg_host" || { echo "PostgreSQL is not reachable at $pg_host" >&2; exit 1; }
fi

# The read replica tests copy the cluster with pg_basebackup (cloudportal/testing/standby.py):
# the local cluster must accept replication connections from 127.0.0.1 as postgres. If it
# does not, add that line to its pg_hba.conf, with the method its other 127.0.0.1 line
# uses, and reload (no restart: nobody's connection is touched).
if ! psql "host=$pg_host user=postgres dbname=postgres replication=true" -c "IDENTIFY_SYSTEM" >/dev/null 2>&1; then
  hba=$(psql -h "$pg_host" -U postgres -Atc "SHOW hba_file" 2>/dev/null || true)
  if [ -n "$hba" ] && [ -w "$hba" ]; then
    method=$(awk '$1 == "host" && $2 == "all" && $4 == "127.0.0.1/32" { print $5; exit }' "$hba")
    echo "Allowing replication connections from 127.0.0.1 in $hba"
    printf 'host replication postgres 127.0.0.1/32 %s\n' "${method:-scram-sha-256}" >>"$hba"
    psql -h "$pg_host" -U postgres -Atc "SELECT pg_reload_conf()" >/dev/null
  else
    echo "PostgreSQL refuses replication connections from 127.0.0.1: the read replica tests need them" >&2
  fi
fi

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  redis-cli -h 127.0.0.1 ping >/dev/null || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
fi

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "Installing Chromium from the system's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

# Info-ZIP's unzip checks the exports' archives in the tests.
if ! command -v unzip >/dev/null 2>&1; then
  echo "Installing unzip from the system's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq unzip >/dev/null
fi

# PgBouncer: the tests start their own in front of the test database
# (cloudportal/testing/pgbouncer.py); the package's own service is not needed.
if [ ! -x "${PGBOUNCER_PATH:-/usr/sbin/pgbouncer}" ]; then
  echo "Installing PgBouncer from the system's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq pgbouncer >/dev/null
fi

# wrk: the benchmarks that load the web process over HTTP (bench/web.py).
if ! command -v wrk >/dev/null 2>&1; then
  echo "Installing wrk from the system's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
