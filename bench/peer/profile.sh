#!/usr/bin/env bash
# CPU profiles of custgraph under load (run.sh with PROFILE=1): a build of the same code with
# `-tags pprof` (../../pprof.go; the ordinary build has no profiler) serves one operation at a time
# to wrk (16 connections, admin token) while /debug/pprof/profile samples it on its own loopback
# listener. Writes, per op, into $OUT_DIR/profiles/: <op>.pprof, <op>.top.txt (flat), <op>.cum.txt
# (cumulative) and <op>.buckets.txt (cumulative share of the samples under a few entry points;
# they overlap). Look further with `go tool pprof -http :8081 <binary> <op>.pprof`.
# env: DATABASE_URL, CG_PPROF_BIN, OUT_DIR (with bodies/), GO (go), PROFILE_OPS ("q2 q3 q1 q4b"),
#      PROFILE_SECONDS (15), PG_POOL_MAX (10), CG_PROF_PORT (5690), PPROF_PORT (6060)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${DATABASE_URL:?}" "${CG_PPROF_BIN:?}" "${OUT_DIR:?}"
GO=${GO:-go}; OPS=${PROFILE_OPS:-"q2 q3 q1 q4b"}; SECS=${PROFILE_SECONDS:-15}
PORT=${CG_PROF_PORT:-5690}; PP=127.0.0.1:${PPROF_PORT:-6060}
sep='?'; [[ $DATABASE_URL == *\?* ]] && sep='&'
P=$OUT_DIR/profiles; mkdir -p "$P"
CUSTGRAPH_MAX_CONCURRENT_PER_CALLER=0 CUSTGRAPH_PPROF_ADDR=$PP "$CG_PPROF_BIN" --database-url "${DATABASE_URL}${sep}pool_max_conns=${PG_POOL_MAX:-10}" \
  --addr "127.0.0.1:$PORT" --rate-limit 1000000000 --token-ttl 2h --log-level warn > "$P/custgraph.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.5; done
TOKEN=$(curl -sf -u demo-admin:demo-admin-secret-not-for-production -d grant_type=client_credentials \
  "http://127.0.0.1:$PORT/oauth/token" | jq -r .access_token)
for op in $OPS; do
  BODY_FILE=$OUT_DIR/bodies/custgraph/$op.json TOKEN=$TOKEN wrk -t1 -c16 -d5s -s "$here/wrk/req.lua" "http://127.0.0.1:$PORT/query" >/dev/null  # warm-up
  BODY_FILE=$OUT_DIR/bodies/custgraph/$op.json TOKEN=$TOKEN wrk -t1 -c16 -d$((SECS + 5))s -s "$here/wrk/req.lua" \
    "http://127.0.0.1:$PORT/query" > "$P/$op.wrk.txt" &
  w=$!
  sleep 2
  curl -sf -o "$P/$op.pprof" "http://$PP/debug/pprof/profile?seconds=$SECS"
  wait $w
  "$GO" tool pprof -top -nodecount=45 "$CG_PPROF_BIN" "$P/$op.pprof" > "$P/$op.top.txt" 2>/dev/null
  "$GO" tool pprof -top -cum -nodecount=2000 "$CG_PPROF_BIN" "$P/$op.pprof" > "$P/$op.cum.txt" 2>/dev/null
  python3 - "$P/$op.cum.txt" "$(grep -o '"rps":[0-9.]*' "$P/$op.wrk.txt" | cut -d: -f2)" > "$P/$op.buckets.txt" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
total = next((l for l in lines if "Total samples" in l or "of " in l and "total" in l), "")
rows = []
for l in lines:
    m = re.match(r"\s*([\d.]+\w*)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+\w*)\s+([\d.]+)%\s+(.*)$", l)
    if m:
        rows.append((float(m.group(5)), m.group(6)))
buckets = [  # (name, regex over function names, "max": the outermost match, "sum": several disjoint ones)
    ("authentication: JWT check + caller and entitlements SQL (authn.Authenticate)", r"^custgraph/internal/authn\.\(\*Service\)\.Authenticate$", "max"),
    ("  of which the ES256 signature check (crypto/ecdsa.VerifyASN1)", r"^crypto/ecdsa\.VerifyASN1$", "max"),
    ("GraphQL parse + validate (gqlgen CreateOperationContext, gqlparser)", r"executor\.\(\*Executor\)\.CreateOperationContext$|^github\.com/vektah/gqlparser/v2/(parser|validator)\.", "max"),
    ("root resolver: ent query build, SQL, scan, nested eager loads (queryResolver.*)", r"^custgraph/graph\.\(\*queryResolver\)\.(Customers|Node|Nodes)$", "max"),
    ("  of which eager-loading products + addresses (CustomerQuery.loadProducts/loadAddresses)", r"^custgraph/ent\.\(\*CustomerQuery\)\.load(Products|Addresses)$", "sum"),
    ("  of which totalCount (CustomerQuery.Count)", r"^custgraph/ent\.\(\*CustomerQuery\)\.Count$", "max"),
    ("SQL through database/sql + pgx, all statements incl. auth (store.countingDriver.Query)", r"^custgraph/internal/store\.\(\*countingDriver\)\.Query$", "max"),
    ("result marshalling: gqlgen field marshal goroutines + JSON write", r"^github\.com/99designs/gqlgen/graphql\.MarshalSliceConcurrently\.func2$|^github\.com/99designs/gqlgen/graphql/handler/transport\.writeJson$", "sum"),
    ("GC background marking (runtime.gcBgMarkWorker)", r"^runtime\.gcBgMarkWorker$", "max"),
    ("allocation (runtime.mallocgc; inside the items above)", r"^runtime\.mallocgc$", "max"),
    ("socket syscalls (read/write)", r"^syscall\.(Syscall|Syscall6|RawSyscall6)$|^internal/runtime/syscall/linux\.Syscall6$", "max"),
]
print(f"# {sys.argv[1]}  (wrk rps during the profile: {sys.argv[2]})")
for l in lines[:6]:
    if l.startswith(("Duration", "Showing", "Type")):
        print("# " + l)
for name, rx, mode in buckets:
    hits = [(c, f) for c, f in rows if re.search(rx, f)]
    if mode == "sum":
        c, fn = sum(h[0] for h in hits), " + ".join(h[1] for h in hits) or "-"
    else:
        c, fn = max(hits) if hits else (0.0, "-")
    print(f"{c:6.1f}%  {name}")
PY
  echo "profile $op: $(head -c 300 "$P/$op.buckets.txt" | head -3 | tail -1)"
done
