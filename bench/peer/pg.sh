#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the peer benchmark:
#   PG_SCRATCH=/tmp/x PGPORT=55440 bash pg.sh up      # initdb (once) + start on 127.0.0.1:$PGPORT
#   PG_SCRATCH=/tmp/x bash pg.sh down [--rm]          # stop it (and delete its files)
# Durability is off (fsync, synchronous_commit, full_page_writes): it holds nothing worth keeping.
# pg_stat_statements is preloaded with tracking off; run.sh turns it on only for the untimed count.
set -euo pipefail
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}; PGPORT=${PGPORT:-55440}
: "${PG_SCRATCH:?set PG_SCRATCH to a scratch folder}"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case ${1:-} in
up)
  mkdir -p "$PG_SCRATCH/pgdata" "$PG_SCRATCH/pgsock" "$PG_SCRATCH/pglog"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_SCRATCH/pgdata" "$PG_SCRATCH/pgsock" "$PG_SCRATCH/pglog"; chmod 700 "$PG_SCRATCH/pgdata"
  fi
  if [ ! -f "$PG_SCRATCH/pgdata/PG_VERSION" ]; then
    as_pg "'$PG_BIN/initdb' -D '$PG_SCRATCH/pgdata' -U postgres -A trust --no-sync" >/dev/null
    cat >> "$PG_SCRATCH/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PG_SCRATCH/pgsock'
shared_buffers = 1GB
work_mem = 16MB
maintenance_work_mem = 512MB
effective_cache_size = 4GB
max_connections = 200
random_page_cost = 1.1
jit = off
fsync = off
synchronous_commit = off
full_page_writes = off
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = none
CONF
  fi
  as_pg "'$PG_BIN/pg_ctl' -D '$PG_SCRATCH/pgdata' -l '$PG_SCRATCH/pglog/pg.log' -w start" >/dev/null
  ;;
down)
  if [ -f "$PG_SCRATCH/pgdata/postmaster.pid" ]; then
    as_pg "'$PG_BIN/pg_ctl' -D '$PG_SCRATCH/pgdata' -m fast -w stop" >/dev/null
  fi
  if [ "${2:-}" = --rm ]; then rm -rf "$PG_SCRATCH/pgdata" "$PG_SCRATCH/pgsock" "$PG_SCRATCH/pglog"; fi
  ;;
*) echo "usage: pg.sh up|down [--rm]" >&2; exit 2 ;;
esac
