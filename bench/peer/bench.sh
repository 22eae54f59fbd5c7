#!/usr/bin/env bash
# The measurements of the peer benchmark; run.sh calls it three times (see there for the env).
#   PHASE=prepare   bodies (make_bodies.sh) and the equivalence checks
#   (default)       the timed rounds: one JSON line per (round, op, variant, connections) in
#                   $OUT_DIR/results.jsonl, RSS lines in rss.jsonl
#   PHASE=count     SQL statements per request with pg_stat_statements (untimed) -> sqlcount.jsonl
#
# The three servers run for the whole round (fresh processes each round; an idle server uses no
# CPU). For every (op, connections) cell the op's variants are measured back to back, in the
# listed order in odd rounds and reversed in even rounds, so background load hits all alike.
# Ops (variants):
#   q1   custgraph (admin token), custgraph-partner (bank-bound token), pgl, floor
#   q2   custgraph (node(id:)), custgraph-partner, custgraph-where (customers(where:{id:})), pgl, floor
#   q3 q4a q4b   custgraph, pgl, floor
#   rest_bsai    rest (GET /v1/profiles/$BANK/customers?page=0&size=20), graphql (g_bsai)   partner token
#   rest_tv      rest (GET /roles/customers?limit=20), graphql (g_tv)                          partner token
#
# Required env: DATABASE_URL (custgraph's database), CG_BIN, PGL_DIR (node_modules +
#   graphile.config.mjs), FLOOR_BIN, OUT_DIR
# Optional: NODE (>= 22; default node) ROUNDS (1) DURATION (10s) WARMUP (3s) CONNS ("1 16 64")
#   OPS ("q1 q2 q3 q4a q4b rest_bsai rest_tv") PG_POOL_MAX (10, all three servers) WRK_THREADS (1)
#   CG_PORT (5680) PGL_PORT (5678) FLOOR_PORT (5679) BANK (gh.29.uk) SQLCOUNT_N (50)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${DATABASE_URL:?}" "${CG_BIN:?}" "${PGL_DIR:?}" "${FLOOR_BIN:?}" "${OUT_DIR:?}"
NODE=${NODE:-node}; ROUNDS=${ROUNDS:-1}; DURATION=${DURATION:-10s}; WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-"1 16 64"}; GROUPS_=${OPS:-"q1 q2 q3 q4a q4b rest_bsai rest_tv"}
export PG_POOL_MAX=${PG_POOL_MAX:-10}; WRK_THREADS=${WRK_THREADS:-1}
CG_PORT=${CG_PORT:-5680}; PGL_PORT=${PGL_PORT:-5678}; FLOOR_PORT=${FLOOR_PORT:-5679}; BANK=${BANK:-gh.29.uk}
B=$OUT_DIR/bodies
mkdir -p "$OUT_DIR/logs" "$OUT_DIR/resp"
RES="$OUT_DIR/results.jsonl"
declare -A PID=() TOK=()
sep='?'; [[ $DATABASE_URL == *\?* ]] && sep='&'
CG_DSN="${DATABASE_URL}${sep}pool_max_conns=$PG_POOL_MAX"

base_url() { case $1 in cg) echo "http://127.0.0.1:$CG_PORT";; pgl) echo "http://127.0.0.1:$PGL_PORT";; floor) echo "http://127.0.0.1:$FLOOR_PORT";; esac; }

# variants GROUP -> lines "variant proc method path body tokenkind"
variants() {
  case $1 in
    q1) cat <<V
custgraph cg POST /query $B/custgraph/q1.json admin
custgraph-partner cg POST /query $B/custgraph/q1.json partner
pgl pgl POST /graphql $B/pgl/q1.json -
floor floor POST /query $B/floor/q1.json -
V
    ;;
    q2) cat <<V
custgraph cg POST /query $B/custgraph/q2.json admin
custgraph-partner cg POST /query $B/custgraph/q2.json partner
custgraph-where cg POST /query $B/custgraph/q2w.json admin
pgl pgl POST /graphql $B/pgl/q2.json -
floor floor POST /query $B/floor/q2.json -
V
    ;;
    q3|q4a|q4b) cat <<V
custgraph cg POST /query $B/custgraph/$1.json admin
pgl pgl POST /graphql $B/pgl/$1.json -
floor floor POST /query $B/floor/$1.json -
V
    ;;
    rest_bsai) cat <<V
rest cg GET /v1/profiles/$BANK/customers?page=0&size=20 - partner
graphql cg POST /query $B/custgraph/g_bsai.json partner
V
    ;;
    rest_tv) cat <<V
rest cg GET /roles/customers?limit=20 - partner
graphql cg POST /query $B/custgraph/g_tv.json partner
V
    ;;
    auth) cat <<V
admin cg POST /query $B/custgraph/typename.json admin
partner cg POST /query $B/custgraph/typename.json partner
V
    ;;
  esac
}

start_server() { # $1 = cg|pgl|floor
  local log; log="$OUT_DIR/logs/$1.$(date +%s).log"
  case $1 in
    cg) ( CUSTGRAPH_MAX_CONCURRENT_PER_CALLER=0 exec "$CG_BIN" --database-url "$CG_DSN" --addr "127.0.0.1:$CG_PORT" --rate-limit 1000000000 --token-ttl 2h --log-level warn ) >"$log" 2>&1 & ;;
    pgl) ( cd "$PGL_DIR" && NODE_ENV=production GRAPHILE_ENV=production PORT=$PGL_PORT \
             exec "$NODE" node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs ) >"$log" 2>&1 & ;;
    floor) ( ADDR=127.0.0.1:$FLOOR_PORT exec "$FLOOR_BIN" ) >"$log" 2>&1 & ;;
  esac
  PID[$1]=$!
  local u; u=$(base_url "$1")
  for _ in $(seq 1 120); do
    if [ "$1" = cg ]; then curl -sf -o /dev/null "$u/readyz" && return 0
    else [ "$(curl -s -o /dev/null -w '%{http_code}' "$u/${1/pgl/graphql}")" != 000 ] && return 0; fi
    sleep 0.5
  done
  echo "server $1 did not come up; see $log" >&2; exit 1
}
stop_server() { local p=${PID[$1]:-}; if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi; PID[$1]=""; }
stop_all() { stop_server cg; stop_server pgl; stop_server floor; }
trap stop_all EXIT

get_tokens() {
  TOK[admin]=$(curl -sf -u demo-admin:demo-admin-secret-not-for-production -d grant_type=client_credentials \
    "$(base_url cg)/oauth/token" | jq -r .access_token)
  TOK[partner]=$(curl -sf -u demo-partner-gh:demo-partner-gh-secret-not-for-production -d grant_type=client_credentials \
    "$(base_url cg)/oauth/token" | jq -r .access_token)
  TOK[-]=""
}

HZ=$(getconf CLK_TCK)
secs() { awk -v a="$1" -v b="$2" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}'; }
proc_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status"; }
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sys_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
PG_MASTER=$(ps -o ppid= -p "$(psql "$DATABASE_URL" -Atc "select pid from pg_stat_activity where backend_type='checkpointer'")" | tr -d ' ')
# PostgreSQL CPU = every child of the postmaster, including backends that exit during the run (a
# server that closes pool connections when clients go away makes them exit): their CPU reaches the
# postmaster's cutime+cstime when it reaps them. Snapshot lines: "<pid> <ticks>" per live child,
# "reaped <cutime+cstime>", "self <utime+stime>". Delta: live at both -> difference; new -> all;
# gone -> minus its ticks at the start (its whole life is now in "reaped").
pg_snapshot() {
  local p t
  for p in $(pgrep -P "$PG_MASTER"); do t=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null) && [ -n "$t" ] && echo "$p $t"; done
  awk '{print "reaped", $16+$17; print "self", $14+$15}' "/proc/$PG_MASTER/stat"
}
pg_delta() { awk 'NR==FNR{a[$1]=$2; next} {seen[$1]=1; d += ($1 in a) ? $2-a[$1] : $2}
                  END{for (k in a) if (!(k in seen)) d -= a[k]; print d+0}' "$1" "$2"; }
DBNAME=$(basename "${DATABASE_URL%%\?*}"); ADMIN_URL="${DATABASE_URL%/*}/postgres"  # pg_stat_statements lives there
# sessions opened on the benchmark database (pg_stat_database; flushed by backends about once a
# second, so a cell's count is approximate): a server that keeps its pool shows ~0 per cell.
pg_sessions() { psql "$ADMIN_URL" -Atc "select sessions from pg_stat_database where datname = '$DBNAME'"; }
# custgraph's own counters (Prometheus): SQL statements, and HTTP requests other than /metrics.
cg_counters() {
  curl -sf "$(base_url cg)/metrics" | awk '
    /^custgraph_sql_statements_total /{s=$2}
    /^custgraph_http_request_duration_seconds_count/ && !/route="\/metrics"/{h+=$2}
    END{printf "%d %d\n", s, h}'
}

run_wrk() { # $1 variant-line fields: proc method path body tok ; $2 conns ; $3 duration -> RESULT json
  local proc=$1 method=$2 path=$3 body=$4 tk=$5 c=$6 d=$7 TIMEFORMAT='%U %S'
  [ "$body" = - ] && body=""
  { time METHOD=$method BODY_FILE=$body TOKEN=${TOK[$tk]} wrk -t"$WRK_THREADS" -c"$c" -d"$d" --timeout 10s \
      -s "$here/wrk/req.lua" "$(base_url "$proc")$path" > "$OUT_DIR/wrk.out"; } 2> "$OUT_DIR/wrk.time"
  awk '{printf "%.2f", $1+$2}' "$OUT_DIR/wrk.time" > "$OUT_DIR/wrk.cpu"
  awk '/^RESULT /{sub(/^RESULT /,""); print}' "$OUT_DIR/wrk.out"
}

measure() { # $1 round $2 group $3 conns, then the variant line
  local round=$1 group=$2 c=$3 variant=$4 proc=$5 method=$6 path=$7 body=$8 tk=$9
  local p=${PID[$proc]} r s0 s1 m0 m1 hwm load cg0="0 0" cg1="0 0"
  local ses0 ses1
  load=$(cut -d' ' -f1 /proc/loadavg)
  [ "$proc" = cg ] && cg0=$(cg_counters)
  ses0=$(pg_sessions)
  echo 5 > "/proc/$p/clear_refs"                      # reset VmHWM (peak RSS) to the current RSS
  pg_snapshot > "$OUT_DIR/pg0"; s0=$(proc_ticks "$p"); m0=$(sys_ticks)
  r=$(run_wrk "$proc" "$method" "$path" "$body" "$tk" "$c" "$DURATION")
  s1=$(proc_ticks "$p"); m1=$(sys_ticks); pg_snapshot > "$OUT_DIR/pg1"
  hwm=$(proc_kb "$p" VmHWM)
  [ "$proc" = cg ] && cg1=$(cg_counters)
  ses1=$(pg_sessions)
  jq -c -n --argjson r "$r" --arg v "$variant" --arg g "$group" --argjson c "$c" --argjson round "$round" \
    --argjson hwm "$hwm" --argjson rss "$(proc_kb "$p" VmRSS)" --argjson load "$load" \
    --argjson scpu "$(secs "$s0" "$s1")" --argjson mcpu "$(secs "$m0" "$m1")" --argjson wcpu "$(cat "$OUT_DIR/wrk.cpu")" \
    --argjson pcpu "$(secs 0 "$(pg_delta "$OUT_DIR/pg0" "$OUT_DIR/pg1")")" \
    --argjson sql "$(( ${cg1% *} - ${cg0% *} ))" --argjson http "$(( ${cg1#* } - ${cg0#* } ))" \
    --argjson ses "$(( ses1 - ses0 ))" \
    '$r + {round:$round, group:$g, variant:$v, conns:$c, vmhwm_kb:$hwm, rss_end_kb:$rss, loadavg1_before:$load,
           server_cpu_s:$scpu, pg_cpu_s:$pcpu, wrk_cpu_s:$wcpu, machine_cpu_s:$mcpu,
           foreign_cpu_s:((($mcpu-$scpu-$wcpu-$pcpu)*100|round)/100),
           cg_sql:$sql, cg_http:$http, pg_new_sessions:$ses}' | tee -a "$RES"
}

# one request of every variant; any non-200 or GraphQL error stops the run
smoke() { # $1 tag
  local g line variant proc method path body tk code
  for g in $GROUPS_; do
    while read -r variant proc method path body tk; do
      local args=(-s -o "$OUT_DIR/resp/$1.$g.$variant.json" -w '%{http_code}' -X "$method")
      [ "$body" != - ] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
      [ -n "${TOK[$tk]}" ] && args+=(-H "Authorization: Bearer ${TOK[$tk]}")
      code=$(curl "${args[@]}" "$(base_url "$proc")$path")
      if [ "$code" != 200 ] || grep -q '"errors"' "$OUT_DIR/resp/$1.$g.$variant.json"; then
        echo "smoke $1: $g/$variant answered $code: $(head -c 300 "$OUT_DIR/resp/$1.$g.$variant.json")" >&2; exit 1; fi
    done < <(variants "$g")
  done
  echo "smoke $1: every variant answered 200 without errors"
}

# PHASE=prepare: bodies (make_bodies.sh) and the equivalence checks: the three servers return the
# same data for q1..q4b (check_same.py), the q2 variants the same customer, the partner's q1 the
# first page of its bank, each REST page the same customers as its GraphQL twin.
if [ "${PHASE:-timed}" = prepare ]; then
  for s in cg pgl floor; do start_server "$s"; done
  get_tokens
  BODY_DIR=$B CG_URL="$(base_url cg)/query" CG_TOKEN=${TOK[admin]} PGL_URL="$(base_url pgl)/graphql" "$here/make_bodies.sh"
  smoke prepare
  R=$OUT_DIR/resp
  has() { [[ " $GROUPS_ " == *" $1 "* ]]; }
  for q in q1 q2 q3 q4a q4b; do
    has "$q" || continue
    printf '%s: ' "$q"; python3 "$here/check_same.py" "$R/prepare.$q.custgraph.json" "$R/prepare.$q.pgl.json" "$R/prepare.$q.floor.json"
    echo "  response bytes: custgraph $(wc -c < "$R/prepare.$q.custgraph.json"), pgl $(wc -c < "$R/prepare.$q.pgl.json"), floor $(wc -c < "$R/prepare.$q.floor.json")"
  done
  if has q2; then
    printf 'q2 variants: '; python3 "$here/check_same.py" "$R/prepare.q2.custgraph.json" "$R/prepare.q2.custgraph-partner.json" "$R/prepare.q2.custgraph-where.json"
  fi
  if has q1; then
    want=$(psql "$DATABASE_URL" -Atc "select count(*) || ' ' || (select string_agg(id::text, ',' order by created_at, id) from
        (select c.id, c.created_at from customers c join banks b on b.id = c.bank_id where b.code = '$BANK' order by c.created_at, c.id limit 20) x)
        from customers c join banks b on b.id = c.bank_id where b.code = '$BANK'")
    got=$(jq -r '.data.customers | "\(.totalCount) \([.edges[].node.id] | join(","))"' "$R/prepare.q1.custgraph-partner.json")
    [ "$want" = "$got" ] || { echo "partner q1 is not the first page of $BANK" >&2; exit 1; }
    echo "q1 partner: the first 20 of bank $BANK, totalCount ${got%% *}"
  fi
  if has rest_bsai; then
    diff <(jq -S -f "$here/jq/bsai_rest.jq" "$R/prepare.rest_bsai.rest.json") \
         <(jq -S -f "$here/jq/bsai_graphql.jq" "$R/prepare.rest_bsai.graphql.json") >&2 \
      || { echo "bankingservice.ai page differs from its GraphQL twin" >&2; exit 1; }
    echo "rest_bsai: the bankingservice.ai page = its GraphQL twin (count, 20 customers in order, every field, primary address)"
  fi
  if has rest_tv; then
    diff <(jq -S -f "$here/jq/tv_rest.jq" "$R/prepare.rest_tv.rest.json") \
         <(jq -S -f "$here/jq/tv_graphql.jq" "$R/prepare.rest_tv.graphql.json") >&2 \
      || { echo "Tradevest page differs from its GraphQL twin" >&2; exit 1; }
    echo "rest_tv: the Tradevest page = its GraphQL twin (20 customers newest first, every field)"
  fi
  for f in "$R"/prepare.*.json; do n=${f#"$R"/prepare.}; printf '%s %s\n' "${n%.json}" "$(wc -c < "$f")"; done > "$OUT_DIR/response_bytes.txt"
  stop_all
  exit 0
fi

# PHASE=count: one untimed pass with pg_stat_statements switched on: N (SQLCOUNT_N, 50) sequential
# requests per variant; statements, calls and PostgreSQL execution time per request -> sqlcount.jsonl
if [ "${PHASE:-timed}" = count ]; then
  N=${SQLCOUNT_N:-50}
  for s in cg pgl floor; do start_server "$s"; done
  get_tokens
  smoke count
  pgss() { psql "$ADMIN_URL" -qAtc "$1"; }
  pgss "alter system set pg_stat_statements.track = 'top'"; pgss "select pg_reload_conf()" >/dev/null; sleep 1
  for g in $GROUPS_ auth; do   # auth: { __typename } with a token, i.e. what authentication costs
    while read -r variant proc method path body tk; do
      args=(-s -o /dev/null -X "$method")
      [ "$body" != - ] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
      [ -n "${TOK[$tk]}" ] && args+=(-H "Authorization: Bearer ${TOK[$tk]}")
      for _ in 1 2 3; do curl "${args[@]}" "$(base_url "$proc")$path"; done    # warm the caches and plans
      pgss "select pg_stat_statements_reset()" >/dev/null
      c0="0 0"; c1="0 0"; [ "$proc" = cg ] && c0=$(cg_counters)
      for _ in $(seq 1 "$N"); do curl "${args[@]}" "$(base_url "$proc")$path"; done
      [ "$proc" = cg ] && c1=$(cg_counters)
      pgss "select json_build_object('group','$g','variant','$variant','server','$proc','n',$N,
               'cg_sql_per_req', $(( ${c1% *} - ${c0% *} )) / $N::numeric,
               'sql_per_req', round(sum(calls)::numeric/$N, 2),
               'pg_exec_ms_per_req', round(sum(total_exec_time)::numeric/$N, 3),
               'statements', json_agg(json_build_object('calls_per_req', round(calls::numeric/$N, 2),
                   'mean_ms', round(mean_exec_time::numeric, 3), 'rows_per_call', round(rows::numeric/calls, 1),
                   'query', regexp_replace(query, '\s+', ' ', 'g')) order by total_exec_time desc))
             from pg_stat_statements s join pg_database d on d.oid = s.dbid
             where d.datname = '$DBNAME'" | tee -a "$OUT_DIR/sqlcount.jsonl" | jq -c '{group,variant,sql_per_req,pg_exec_ms_per_req}'
    done < <(variants "$g")
  done
  pgss "alter system set pg_stat_statements.track = 'none'"; pgss "select pg_reload_conf()" >/dev/null
  stop_all
  exit 0
fi

for round in $(seq 1 "$ROUNDS"); do
  procs="cg pgl floor"; [ $((round % 2)) = 0 ] && procs="floor pgl cg"
  for s in $procs; do start_server "$s"; done
  get_tokens
  declare -A RSS0=()
  for s in $procs; do RSS0[$s]=$(proc_kb "${PID[$s]}" VmRSS); done
  smoke "round$round-before"
  for g in $GROUPS_; do                                   # warm-up: every variant at 16 connections
    while read -r variant proc method path body tk; do
      run_wrk "$proc" "$method" "$path" "$body" "$tk" 16 "$WARMUP" >/dev/null
    done < <(variants "$g")
  done
  for s in $procs; do
    echo "{\"round\":$round,\"server\":\"$s\",\"rss_start_kb\":${RSS0[$s]},\"rss_after_warmup_kb\":$(proc_kb "${PID[$s]}" VmRSS)}" | tee -a "$OUT_DIR/rss.jsonl"
  done
  echo "{\"round\":$round,\"event\":\"start\",\"time\":\"$(date -u +%FT%TZ)\",\"uptime\":\"$(uptime)\"}" >> "$OUT_DIR/load.jsonl"
  for g in $GROUPS_; do
    for c in $CONNS; do
      if [ $((round % 2)) = 1 ]; then lines=$(variants "$g"); else lines=$(variants "$g" | tac); fi
      while read -r variant proc method path body tk; do
        measure "$round" "$g" "$c" "$variant" "$proc" "$method" "$path" "$body" "$tk"
      done <<< "$lines"
    done
  done
  echo "{\"round\":$round,\"event\":\"end\",\"time\":\"$(date -u +%FT%TZ)\",\"uptime\":\"$(uptime)\"}" >> "$OUT_DIR/load.jsonl"
  smoke "round$round-after"
  for s in $procs; do echo "{\"round\":$round,\"server\":\"$s\",\"vmhwm_lifetime_kb\":$(proc_kb "${PID[$s]}" VmHWM)}" >> "$OUT_DIR/rss.jsonl"; done
  grep -h -i 'level=ERROR\|level=WARN' "$OUT_DIR"/logs/cg.*.log | head -5 || true
  stop_all
done
echo "done: $RES"
