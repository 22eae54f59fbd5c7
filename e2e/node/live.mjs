// Follows custgraph's change stream with the clients dashboards use, against
// a running server: node live.mjs http://127.0.0.1:8080
//   - graphql-ws's createClient (the graphql-transport-ws subprotocol, as
//     Apollo's GraphQLWsLink and urql's subscriptionExchange use it), over
//     the ws package, with the token in connectionParams;
//   - graphql-sse's createClient (distinct connections mode: a POST that
//     accepts text/event-stream);
//   - graphql-ws with a token that is not one: the connection must be
//     refused with 4403, before any operation runs.
// Each subscribes to the changes of banks, then a bank is created over HTTP
// and its event must arrive, with the record's node. The token is in
// CUSTGRAPH_TOKEN (an administrator's). Prints one line per check; exits 1
// on the first failure, 2 on a usage error.
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

const base = process.argv[2];
const token = process.env.CUSTGRAPH_TOKEN;
if (!base || !token) {
  console.error('usage: CUSTGRAPH_TOKEN=… node live.mjs http://127.0.0.1:8080');
  process.exit(2);
}
const wsURL = base.replace(/^http/, 'ws') + '/query';
const auth = `Bearer ${token}`;

const fail = (what, err) => {
  console.error(`FAIL ${what}: ${err instanceof Error ? err.stack : JSON.stringify(err)}`);
  process.exit(1);
};
const within = (ms, what, p) => {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([p, late]).catch((err) => fail(what, err)).finally(() => clearTimeout(timer));
};

const subscription = `subscription($after: String) {
  changes(where: {entityTypes: ["Bank"]}, after: $after) {
    cursor op entityType entityID fields
    node { ... on Bank { code name } }
  }
}`;

// head is the cursor of the last change so far (the partner change feed's
// last page): a subscription after it gets every later change, however
// long the server takes to start listening.
async function head() {
  let cursor = '';
  for (let page = 0; page < 10000; page++) {
    const res = await fetch(`${base}/entities-changelog?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { headers: { Authorization: auth } });
    const body = await res.json();
    if (res.status !== 200) fail('GET /entities-changelog', body);
    cursor = body.pagination.cursor;
    if (body.data.length < 100) return cursor;
  }
  fail('GET /entities-changelog', 'no end after 10,000 pages');
}

let n = 0;
async function createBank() {
  const code = `e2e.${process.pid}.${++n}`;
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: auth },
    body: JSON.stringify({
      query: 'mutation($in: CreateBankInput!) { createBank(input: $in) { id code } }',
      variables: { in: { code, name: `Bank ${code}` } },
    }),
  });
  const body = await res.json();
  if (res.status !== 200 || body.errors) fail('createBank over HTTP', body);
  return body.data.createBank;
}

// follow subscribes with subscribe(sink) after the stream's head, creates a
// bank once started() says the connection is up, and resolves with the
// bank's event (which may arrive before the mutation's own answer).
function follow(subscribe, started) {
  return new Promise((resolve, reject) => {
    let bank, unsubscribe;
    const seen = [];
    const match = () => {
      const ev = bank && seen.find((e) => e?.entityID === bank.id);
      if (ev) {
        unsubscribe();
        resolve({ ev, bank });
      }
    };
    unsubscribe = subscribe({
      next: (msg) => {
        if (msg.errors) return reject(msg.errors);
        seen.push(msg.data?.changes);
        match();
      },
      error: reject,
      complete: () => reject(new Error('completed before the event')),
    });
    started().then(async () => { bank = await createBank(); match(); }, reject);
  });
}

function check(what, { ev, bank }) {
  const ok = ev.op === 'CREATE' && ev.entityType === 'Bank' && typeof ev.cursor === 'string' && ev.cursor !== '' &&
    ev.node?.code === bank.code && Array.isArray(ev.fields) && ev.fields.includes('code');
  if (!ok) fail(what, ev);
  console.log(`OK     ${what}: ${ev.op} ${ev.entityType} ${ev.node.code}`);
}

// graphql-ws: the bank is created once the connection is acknowledged.
{
  let acked;
  const connected = new Promise((resolve) => { acked = resolve; });
  const client = createWSClient({
    url: wsURL,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: auth },
    retryAttempts: 0,
    on: { connected: () => acked() },
  });
  const after = await head();
  const got = await within(20000, 'graphql-ws subscription',
    follow((sink) => client.subscribe({ query: subscription, variables: { after } }, sink), () => connected));
  check('graphql-ws (graphql-transport-ws) delivers the change', got);
  await client.dispose();
}

// graphql-sse, distinct connections mode.
{
  let opened;
  const open = new Promise((resolve) => { opened = resolve; });
  const client = createSSEClient({
    url: `${base}/query`,
    headers: { Authorization: auth },
    retryAttempts: 0,
    on: { connected: () => opened() },
    fetchFn: async (input, init) => {
      const res = await fetch(input, init);
      if (res.headers.get('content-type')?.startsWith('text/event-stream')) opened();
      return res;
    },
  });
  const after = await head();
  const got = await within(20000, 'graphql-sse subscription',
    follow((sink) => client.subscribe({ query: subscription, variables: { after } }, sink), () => open));
  check('graphql-sse delivers the change', got);
  client.dispose();
}

// graphql-ws with a bad token: refused at connection_init with 4403.
{
  const client = createWSClient({
    url: wsURL,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: 'Bearer not-a-token' },
    retryAttempts: 0,
  });
  const err = await within(20000, 'graphql-ws with a bad token', new Promise((resolve, reject) => {
    client.subscribe({ query: subscription, variables: { after: null } }, {
      next: (msg) => reject(new Error(`an event reached a refused connection: ${JSON.stringify(msg)}`)),
      error: resolve,
      complete: () => reject(new Error('completed instead of refused')),
    });
  }));
  if (err?.code !== 4403 || !String(err.reason).startsWith('UNAUTHENTICATED')) fail('graphql-ws with a bad token', { code: err?.code, reason: err?.reason });
  console.log(`OK     graphql-ws with a bad token is closed ${err.code} (${err.reason})`);
  await client.dispose();
}
