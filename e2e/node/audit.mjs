// Runs the graphql-http audit (GraphQL-over-HTTP conformance) against a
// running custgraph: node audit.mjs URL. The token in CUSTGRAPH_TOKEN, if
// set, is sent as "Authorization: Bearer …" on every request, so that the
// audit's queries are judged on their GraphQL, not refused as anonymous.
// Prints one line per audit; exits 1 if any MUST or SHOULD fails (a failed
// MAY is reported, not fatal), 2 on a usage error.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: CUSTGRAPH_TOKEN=… node audit.mjs http://127.0.0.1:8080/query');
  process.exit(2);
}
const token = process.env.CUSTGRAPH_TOKEN;

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
let failed = 0;
for (const r of results) {
  const level = r.name.split(' ')[0];
  const fatal = r.status !== 'ok' && (level === 'MUST' || level === 'SHOULD');
  if (fatal) failed++;
  let line = `${r.status.toUpperCase().padEnd(6)} ${r.id} ${r.name}`;
  if (r.status !== 'ok') {
    let body = '';
    try {
      body = await r.response.text();
    } catch {}
    line += `\n       ${r.reason}\n       HTTP ${r.response.status} ${r.response.headers.get('content-type')} ${body.slice(0, 300)}`;
  }
  console.log(line);
}
const count = (s) => results.filter((r) => r.status === s).length;
console.log(`audit: ${results.length} audits, ${count('ok')} ok, ${count('error')} failed MUST, ${count('warn')} failed SHOULD, ${count('notice')} failed MAY`);
process.exit(failed > 0 ? 1 : 0);
