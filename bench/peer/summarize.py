#!/usr/bin/env python3
"""The peer benchmark's summary (Markdown) from bench.sh's output.

usage: python3 summarize.py OUT_DIR
reads results.jsonl (timed runs), sqlcount.jsonl (statement counts), rss.jsonl, load.jsonl, meta.json
"""
import json
import os
import statistics as st
import sys
from collections import defaultdict

out = sys.argv[1]


def jl(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []


meta = json.load(open(os.path.join(out, "meta.json"))) if os.path.exists(os.path.join(out, "meta.json")) else {}
rows = jl("results.jsonl")
cell = defaultdict(list)  # (group, conns, variant) -> rows (one per round)
for r in rows:
    cell[(r["group"], r["conns"], r["variant"])].append(r)
conns = sorted({r["conns"] for r in rows})
order = ["q1", "q2", "q3", "q4a", "q4b", "rest_bsai", "rest_tv"]
groups = [g for g in order if any(k[0] == g for k in cell)]
OPS = {"q1": "Q1 first 20 + totalCount + products + addresses", "q2": "Q2 one customer by id + products",
       "q3": "Q3 20 after the cursor + products + addresses", "q4a": "Q4a label filter + totalCount",
       "q4b": "Q4b status filter + totalCount", "rest_bsai": "bankingservice.ai first page",
       "rest_tv": "Tradevest first page"}
NAMES = {"custgraph": "custgraph (admin)", "custgraph-partner": "custgraph (partner)",
         "custgraph-where": "custgraph `customers(where:{id})`", "pgl": "PostGraphile", "floor": "floor",
         "rest": "REST", "graphql": "GraphQL", "admin": "admin", "partner": "partner"}
sq = {(s["group"], s["variant"]): s for s in jl("sqlcount.jsonl")}


def m(rs, k):
    return st.mean(r[k] for r in rs)


def per_req(rs, k):
    vals = [1000 * r[k] / r["requests"] for r in rs if r["requests"]]
    return st.mean(vals) if vals else float("nan")


def rss(rs):
    return max(r["vmhwm_kb"] for r in rs) / 1024


def f(x, nd=0):
    return f"{x:,.{nd}f}"


def sql(g, v):
    s = sq.get((g, v))
    return "–" if not s or s.get("sql_per_req") is None else f"{s['sql_per_req']:g}"


def three(fmt, *vals):
    return " / ".join(fmt(v) for v in vals)


def variants_of(g):
    seen = []
    for (gg, c, v) in cell:
        if gg == g and v not in seen:
            seen.append(v)
    pref = ["custgraph", "custgraph-partner", "custgraph-where", "pgl", "floor", "rest", "graphql"]
    return sorted(seen, key=pref.index)


if meta:
    print(f"## custgraph vs PostGraphile 5.1.5 vs a pgx floor\n")
    print(f"custgraph `{meta['commit']}`, {meta['customers']:,} demo customers (loaded in {meta['load_s']} s), "
          f"{meta['rounds']} round(s) of {meta['duration']} per measurement at [{meta['conns']}] connections, "
          f"pool {meta['pool']} connections each, {meta['date']}, whole run {meta['total_s'] // 60} min.\n")

# ---- side by side ----
print("### Side by side (custgraph with the administrator's token; mean of the rounds; ratios > 1: custgraph is faster)\n")
print("| op | conns | rps custgraph / PostGraphile / floor | custgraph ÷ PostGraphile | custgraph ÷ floor "
      "| p50 ms | p99 ms | server CPU ms/req | SQL/req | peak RSS MiB |")
print("|---|---:|---|---:|---:|---|---|---|---|---|")
for g in groups:
    if g.startswith("rest"):
        continue
    for c in conns:
        cg, p, fl = cell.get((g, c, "custgraph")), cell.get((g, c, "pgl")), cell.get((g, c, "floor"))
        if not (cg and p and fl):
            continue
        a, b, d = m(cg, "rps"), m(p, "rps"), m(fl, "rps")
        print(f"| {g.upper()} | {c} | {three(f, a, b, d)} | **{a / b:.2f}** | **{a / d:.2f}** | "
              f"{three(lambda x: f'{x:.2f}', m(cg, 'p50_ms'), m(p, 'p50_ms'), m(fl, 'p50_ms'))} | "
              f"{three(lambda x: f'{x:.1f}', m(cg, 'p99_ms'), m(p, 'p99_ms'), m(fl, 'p99_ms'))} | "
              f"{three(lambda x: f'{x:.2f}', per_req(cg, 'server_cpu_s'), per_req(p, 'server_cpu_s'), per_req(fl, 'server_cpu_s'))} | "
              f"{sql(g, 'custgraph')} / {sql(g, 'pgl')} / {sql(g, 'floor')} | "
              f"{three(lambda x: f'{x:.0f}', rss(cg), rss(p), rss(fl))} |")
print("\nEach cell lists custgraph / PostGraphile / floor. Server CPU: the server process's user+system time "
      "over the run ÷ requests (PostgreSQL's own CPU is in the detail tables). SQL/req: statements PostgreSQL "
      "executed per request (pg_stat_statements, sequential requests, untimed). Peak RSS: VmHWM during the run.")

# ---- REST vs GraphQL ----
rest = [g for g in groups if g.startswith("rest")]
if rest:
    print("\n### REST first pages vs the same GraphQL query (custgraph, bank-bound partner's token)\n")
    print("| page | conns | rps REST / GraphQL | REST ÷ GraphQL | p50 ms | p99 ms | server CPU ms/req | SQL/req | peak RSS MiB |")
    print("|---|---:|---|---:|---|---|---|---|---|")
    for g in rest:
        for c in conns:
            a, b = cell.get((g, c, "rest")), cell.get((g, c, "graphql"))
            if not (a and b):
                continue
            print(f"| {OPS[g]} | {c} | {f(m(a, 'rps'))} / {f(m(b, 'rps'))} | **{m(a, 'rps') / m(b, 'rps'):.2f}** | "
                  f"{m(a, 'p50_ms'):.2f} / {m(b, 'p50_ms'):.2f} | {m(a, 'p99_ms'):.1f} / {m(b, 'p99_ms'):.1f} | "
                  f"{per_req(a, 'server_cpu_s'):.2f} / {per_req(b, 'server_cpu_s'):.2f} | "
                  f"{sql(g, 'rest')} / {sql(g, 'graphql')} | {rss(a):.0f} / {rss(b):.0f} |")

# ---- the targets of issue 9 ----
print("\n### Against the targets of issue 9\n")
print("| target | measured | met |")
print("|---|---|---|")


def target(name, vals, ok):
    if vals:
        print(f"| {name} | {', '.join(vals)} | {'yes' if ok else '**no**'} |")


for g, want_pgl, want_floor in (("q2", 2, 0.5), ("q3", 2, 0.5), ("q1", 1.5, None), ("q4a", 1.5, None), ("q4b", 1.5, None)):
    vals, ok = [], True
    for c in (16, 64):
        cg, p, fl = cell.get((g, c, "custgraph")), cell.get((g, c, "pgl")), cell.get((g, c, "floor"))
        if not (cg and p and fl):
            continue
        r1, r2 = m(cg, "rps") / m(p, "rps"), m(cg, "rps") / m(fl, "rps")
        vals.append(f"{c} conns: {r1:.2f}× PGL" + (f", {r2:.2f}× floor" if want_floor else ""))
        ok = ok and r1 >= want_pgl and (want_floor is None or r2 >= want_floor)
    target(f"{g.upper()} ≥ {want_pgl}× PostGraphile" + (f" and ≥ {want_floor}× floor" if want_floor else "")
           + " (16, 64 conns)", vals, ok)
auth = [(v, sq[("auth", v)]) for v in ("admin", "partner") if ("auth", v) in sq]
if auth:
    # The rate limiter's sync (internal/ratelimit/synced.go) runs on a clock (every --rate-limit-sync,
    # 250 ms, while requests arrive), not per request: ~8 statements a second whatever the request rate,
    # so per request it is 8 ÷ the rate of this sequential probe; so does the listener's beat
    # (internal/store/notify.go: a pg_notify to itself every 2 s). Both are shown apart from authentication.
    def clocked(x):
        return "rate_limit_counters" in x["query"] or x["query"].startswith("SELECT pg_notify($1, '')")
    def auth_sql(s):
        return round(sum(x["calls_per_req"] for x in (s["statements"] or []) if not clocked(x)), 2)
    def sync_sql(s):
        return round(sum(x["calls_per_req"] for x in (s["statements"] or []) if clocked(x)), 2)
    target("authentication: 0 SQL statements per request",
           [f"{v} {auth_sql(s):g} (+ {sync_sql(s):g} of the clocked rate-limiter sync and listener beat)" for v, s in auth],
           all(auth_sql(s) == 0 for _, s in auth))
c64 = [r for (g, c, v), rs in cell.items() if c == 64 and v in ("custgraph", "custgraph-partner", "custgraph-where", "rest", "graphql") for r in rs]
if c64:
    peak = max(r["vmhwm_kb"] for r in c64) / 1024
    target("custgraph peak RSS ≤ 60 MiB at 64 conns", [f"{peak:.0f} MiB"], peak <= 60)
for g in rest:
    vals, ok = [], True
    for c in conns:
        a, b = cell.get((g, c, "rest")), cell.get((g, c, "graphql"))
        if a and b:
            x = m(b, "rps") / m(a, "rps")
            vals.append(f"{c}: {x:.2f}")
            ok = ok and x <= 1.1
    target(f"{OPS[g]}: GraphQL rps ÷ REST rps ≤ 1.1", vals, ok)
print("\n(A nested page at ≤ 1 statement per level and totalCount without scanning: see the SQL statements below.)")

# ---- per-op detail ----
print("\n### Detail per operation\n")
for g in groups:
    print(f"\n#### {g.upper()}: {OPS[g]}\n")
    print("| conns | server | rps [per round] | p50 ms | p99 ms | peak RSS MiB | server CPU ms/req | PostgreSQL CPU ms/req "
          "| SQL/req (custgraph /metrics) | new PG sessions | other CPU-s on the machine |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in conns:
        for v in variants_of(g):
            rs = cell.get((g, c, v))
            if not rs:
                continue
            rr = " / ".join(f(r["rps"]) for r in sorted(rs, key=lambda r: r["round"]))
            vals = [r["cg_sql"] / r["cg_http"] for r in rs if r.get("cg_http")]
            cgsql = f"{st.mean(vals):.2f}" if vals else "–"
            print(f"| {c} | {NAMES.get(v, v)} | {f(m(rs, 'rps'))} [{rr}] | {m(rs, 'p50_ms'):.2f} | {m(rs, 'p99_ms'):.1f} | "
                  f"{rss(rs):.0f} | {per_req(rs, 'server_cpu_s'):.3f} | {per_req(rs, 'pg_cpu_s'):.3f} | "
                  f"{cgsql} | {m(rs, 'pg_new_sessions'):.0f} | {m(rs, 'foreign_cpu_s'):.1f} |")

# ---- RSS outside runs ----
rs_ = defaultdict(dict)
for d in jl("rss.jsonl"):
    rs_[(d["round"], d["server"])].update(d)
if rs_:
    print("\n### Process RSS outside the load runs\n")
    print("| round | server | RSS at start MiB | after warm-up MiB | VmHWM over the round MiB |")
    print("|---:|---|---:|---:|---:|")
    for (rd, s), d in sorted(rs_.items()):
        print(f"| {rd} | {s} | {d.get('rss_start_kb', 0) / 1024:.0f} | {d.get('rss_after_warmup_kb', 0) / 1024:.0f} | "
              f"{d.get('vmhwm_lifetime_kb', 0) / 1024:.0f} |")

# ---- load ----
ld = jl("load.jsonl")
if ld:
    print("\n### Machine load around the timed rounds\n")
    for d in ld:
        print(f"- round {d['round']} {d['event']} {d['time']}: `{d['uptime'].strip()}`")
    fo = [r["foreign_cpu_s"] for r in rows]
    if fo:
        print(f"- other load per run (machine busy CPU − server − PostgreSQL − wrk): median {st.median(fo):.2f} CPU-s, "
              f"max {max(fo):.2f}; runs above 1 CPU-s: {sum(1 for x in fo if x > 1)} of {len(fo)}")
errs = [r for r in rows if r["non2xx"] or r["errors"]]
print(f"\nruns with non-2xx answers or socket errors: {len(errs)}")
for r in errs:
    print(f"- {r['variant']} {r['group']} c={r['conns']} round {r['round']}: non2xx={r['non2xx']} errors={r['errors']}")

# ---- SQL statements ----
if sq:
    print("\n### SQL statements per request (pg_stat_statements; custgraph's own count from /metrics in brackets)\n")
    print("| op | server | statements/req | PostgreSQL execution ms/req | statements (calls/req × mean ms: text) |")
    print("|---|---|---:|---:|---|")
    for (g, v), s in sq.items():
        parts = []
        for x in s["statements"] or []:
            q = x["query"]
            q = q if len(q) <= 110 else q[:107] + "…"
            parts.append(f"{x['calls_per_req']:g}× {x['mean_ms']:.3f} ms: `{q}`")
        n = "–" if s["sql_per_req"] is None else f"{s['sql_per_req']:g}"
        if s.get("server") == "cg":
            n += f" [{float(s['cg_sql_per_req']):g}]"
        ms = 0 if s["pg_exec_ms_per_req"] is None else s["pg_exec_ms_per_req"]
        label = "{ __typename } with a token" if g == "auth" else g
        print(f"| {label} | {NAMES.get(v, v)} | {n} | {ms:.3f} | {'<br>'.join(parts)} |")
