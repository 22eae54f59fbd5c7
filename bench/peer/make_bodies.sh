#!/usr/bin/env bash
# Writes the POST bodies into $BODY_DIR/{custgraph,pgl,floor}/<op>.json and the fixture
# (ids, cursor source) into $BODY_DIR/fixture.env.
# Needs jq, psql, DATABASE_URL (custgraph's database), custgraph at $CG_URL (+ $CG_TOKEN, any
# token that sees every bank) and PostGraphile at $PGL_URL, to ask each for its own Q3 cursor.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${DATABASE_URL:?}" "${BODY_DIR:?}" "${CG_URL:?}" "${CG_TOKEN:?}" "${PGL_URL:?}"
LABEL=${LABEL:-vip}; STATUS=${STATUS:-REJECTED}; BANK=${BANK:-gh.29.uk}
mkdir -p "$BODY_DIR/custgraph" "$BODY_DIR/pgl" "$BODY_DIR/floor"

# Q2 target: the first customer of bank $BANK (so the bank-bound partner sees it too) at or after
# position 12,345 (or half way, in a smaller bank) of that bank's (created_at, id) order that holds
# exactly 2 products.
Q2_ID=$(psql "$DATABASE_URL" -Atc "
  with c as (select c.id, c.created_at, row_number() over (order by c.created_at, c.id) n
             from customers c join banks b on b.id = c.bank_id where b.code = '$BANK')
  select c.id from c where c.n >= least(12345, (select count(*) from c) / 2)
    and (select count(*) from products p where p.customer_id = c.id) = 2
  order by c.n limit 1")
[ -n "$Q2_ID" ] || { echo "no customer of $BANK with 2 products for Q2" >&2; exit 1; }
# Q3 cursor row: the 50,000th customer in (created_at, id) order (all banks), or the middle one
# when there are fewer than 100,000.
C50K_N=$(psql "$DATABASE_URL" -Atc "select least(50000, count(*) / 2) from customers")
read -r C50K_TS C50K_ID < <(psql "$DATABASE_URL" -Atc \
  "select to_char(created_at at time zone 'UTC','YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), id from customers order by created_at, id offset $((C50K_N - 1)) limit 1" | tr '|' ' ')
FLOOR_CURSOR=$(printf '["%s","%s"]' "$C50K_TS" "$C50K_ID" | base64 -w0)
PGL_CURSOR=$(jq -nc '{query:"{ customers(first:1, offset:'$((C50K_N - 1))', orderBy:[CREATED_AT_ASC, ROW_ID_ASC]) { edges { cursor node { rowId } } } }"}' \
  | curl -sf -H 'Content-Type: application/json' --data-binary @- "$PGL_URL" | jq -r '.data.customers.edges[0] | select(.node.rowId == "'"$C50K_ID"'") | .cursor')
# custgraph: the cursor of that customer in the default order (what bench.CursorOf does).
CG_CURSOR=$(jq -nc --arg id "$C50K_ID" '{query:"query($id: ID!) { customers(first: 1, where: {id: $id}) { edges { cursor } } }", variables:{id:$id}}' \
  | curl -sf -H 'Content-Type: application/json' -H "Authorization: Bearer $CG_TOKEN" --data-binary @- "$CG_URL" | jq -r '.data.customers.edges[0].cursor')
for v in PGL_CURSOR CG_CURSOR; do [ -n "${!v}" ] && [ "${!v}" != null ] || { echo "could not get $v" >&2; exit 1; }; done

body() { # $1 query file, $2 operationName, $3 variables JSON
  jq -nc --arg q "$(cat "$1")" --arg op "$2" --argjson v "$3" '{query:$q, operationName:$op, variables:$v}'; }
for q in q1 q2 q3 q4a q4b; do
  op="Q${q#q}"
  case $q in
    q1)  vc='{}'; vp='{}'; vf='{}' ;;
    q2)  vc="{\"id\":\"$Q2_ID\"}"; vp=$vc; vf=$vc ;;
    q3)  vc="{\"after\":\"$CG_CURSOR\"}"; vp="{\"after\":\"$PGL_CURSOR\"}"; vf="{\"after\":\"$FLOOR_CURSOR\"}" ;;
    q4a) vc="{\"label\":\"$LABEL\"}"; vp="{\"labels\":[\"$LABEL\"]}"; vf=$vc ;;
    q4b) vc="{\"status\":\"$STATUS\"}"; vp=$vc; vf=$vc ;;
  esac
  body "$here/queries/custgraph/$q.graphql" "$op" "$vc" > "$BODY_DIR/custgraph/$q.json"
  body "$here/queries/custgraph/$q.graphql" "$op" "$vf" > "$BODY_DIR/floor/$q.json"   # the floor gets custgraph's text
  body "$here/queries/pgl/$q.graphql" "$op" "$vp" > "$BODY_DIR/pgl/$q.json"
done
body "$here/queries/custgraph/q2w.graphql" Q2w "{\"id\":\"$Q2_ID\"}" > "$BODY_DIR/custgraph/q2w.json"
body "$here/queries/custgraph/g_bsai.graphql" GBsai "{\"bank\":\"$BANK\"}" > "$BODY_DIR/custgraph/g_bsai.json"
body "$here/queries/custgraph/g_tv.graphql" GTv '{}' > "$BODY_DIR/custgraph/g_tv.json"
echo '{"query":"{ __typename }"}' > "$BODY_DIR/custgraph/typename.json"   # what authentication alone costs
cat > "$BODY_DIR/fixture.env" <<ENV
Q2_ID=$Q2_ID
C50K_N=$C50K_N
C50K_ID=$C50K_ID
C50K_TS=$C50K_TS
LABEL=$LABEL
STATUS=$STATUS
BANK=$BANK
ENV
echo "bodies in $BODY_DIR (Q2 id $Q2_ID; Q3 after customer no. $C50K_N, $C50K_ID @ $C50K_TS; label $LABEL; status $STATUS)"
