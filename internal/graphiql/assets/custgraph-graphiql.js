// custgraph's GraphiQL: GraphiQL 4.1.2 with a sign-in panel and the explorer
// (query builder) plugin. Written for this page, not vendored; it runs after
// React, ReactDOM, GraphiQL and the explorer plugin (all served from
// /graphiql/assets/, no internet needed) and reads its settings from the
// JSON in #custgraph-config.
//
// Signing in asks custgraph for a token, with an API client's id and secret
// (OAuth2 client credentials, POST /oauth/token) or a user's name and
// password (OBP DirectLogin through a consumer key, POST /my/logins/direct),
// and from then on every request GraphiQL makes carries it in the
// Authorization header, set here (an Authorization header typed into the
// Headers tab is replaced while signed in). The token and the credentials
// that renew it live in this script's memory only: never in localStorage,
// sessionStorage, cookies or the headers editor (whose contents GraphiQL is
// told not to persist), so a reload or "Sign out" forgets them. The token is
// renewed a minute before it expires (or at four fifths of its life, if that
// is shorter); who is signed in comes from the `viewer` query.
(function () {
  'use strict';

  const cfg = JSON.parse(document.getElementById('custgraph-config').textContent);
  const endpoint = new URL(cfg.endpoint, location.href).toString();
  const h = React.createElement;

  // --- the session, in memory only --------------------------------------

  // session: null, or {kind: 'client'|'user', name, authorization,
  // expiresAt (ms), viewer: the `viewer` answer or null, renew: () =>
  // Promise<{authorization, expiresIn}>}
  let session = null;
  let notice = ''; // why the last session ended, shown in the panel
  let renewTimer = null;
  const listeners = new Set();

  function publish() {
    for (const f of listeners) f();
  }

  function useSession() {
    const [, tick] = React.useState(0);
    React.useEffect(() => {
      const f = () => tick((n) => n + 1);
      listeners.add(f);
      return () => listeners.delete(f);
    }, []);
    return session;
  }

  function signOut(why) {
    clearTimeout(renewTimer);
    renewTimer = null;
    session = null;
    notice = why || '';
    publish();
  }

  // scheduleRenewal renews the token before it expires: a minute early, or
  // at four fifths of its life when that is shorter than five minutes.
  function scheduleRenewal(expiresIn) {
    clearTimeout(renewTimer);
    const lead = Math.min(60, expiresIn / 5);
    renewTimer = setTimeout(renew, Math.max(1, expiresIn - lead) * 1000);
  }

  async function renew() {
    const s = session;
    if (!s) return;
    try {
      const t = await s.renew();
      if (session !== s) return; // signed out meanwhile
      s.authorization = t.authorization;
      s.expiresAt = Date.now() + t.expiresIn * 1000;
      s.renewals = (s.renewals || 0) + 1;
      scheduleRenewal(t.expiresIn);
      publish();
    } catch (e) {
      if (session === s) signOut('Renewing the token failed (' + e.message + '): sign in again.');
    }
  }

  async function start(kind, name, login) {
    const t = await login();
    const s = { kind, name, authorization: t.authorization, expiresAt: Date.now() + t.expiresIn * 1000, viewer: null, renew: login };
    s.viewer = await whoAmI(s.authorization);
    clearTimeout(renewTimer);
    session = s;
    notice = '';
    scheduleRenewal(t.expiresIn);
    publish();
  }

  // --- custgraph's token endpoints --------------------------------------

  async function readJSON(res) {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return { message: text.slice(0, 200) || res.statusText };
    }
  }

  // clientCredentials: OAuth2 client credentials grant (RFC 6749 §4.4),
  // the client authenticated by form fields.
  function clientCredentials(clientID, secret) {
    return async () => {
      const res = await fetch(cfg.tokenPath, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientID, client_secret: secret }),
        credentials: 'omit',
        cache: 'no-store',
      });
      const body = await readJSON(res);
      if (!res.ok || !body.access_token) {
        throw new Error(body.error_description || body.error || body.message || 'HTTP ' + res.status);
      }
      return { authorization: 'Bearer ' + body.access_token, expiresIn: Number(body.expires_in) || 900 };
    };
  }

  // directLogin: OBP DirectLogin, the parameters quoted in the DirectLogin
  // header. The token is a JWT: its exp tells when it expires.
  function directLogin(username, password, consumerKey) {
    const quote = (v) => '"' + v.replace(/[\\"]/g, '\\$&') + '"';
    return async () => {
      let res;
      try {
        res = await fetch(cfg.directLoginPath, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            DirectLogin: `username=${quote(username)}, password=${quote(password)}, consumer_key=${quote(consumerKey)}`,
          },
          credentials: 'omit',
          cache: 'no-store',
        });
      } catch (e) {
        if (e instanceof TypeError && /[^\u0000-\u00ff]/.test(username + password + consumerKey)) {
          throw new Error('DirectLogin sends its parameters in a header, which cannot carry characters beyond Latin-1');
        }
        throw e;
      }
      const body = await readJSON(res);
      if (!res.ok || !body.token) {
        throw new Error(body.message || 'HTTP ' + res.status);
      }
      return { authorization: 'DirectLogin token="' + body.token + '"', expiresIn: jwtLifetime(body.token) };
    };
  }

  function jwtLifetime(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const exp = JSON.parse(atob(part)).exp;
      const left = exp - Date.now() / 1000;
      if (left > 0) return left;
    } catch {}
    return 900;
  }

  // whoAmI asks the API who the token belongs to.
  async function whoAmI(authorization) {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json;q=0.9', Authorization: authorization },
      body: JSON.stringify({ query: '{ viewer { kind id name bankID entitlements { roleName bankID } } }' }),
      credentials: 'omit',
    });
    const body = await readJSON(res);
    if (!res.ok || !body.data) {
      const e = (body.errors && body.errors[0]) || {};
      throw new Error(e.message || 'HTTP ' + res.status);
    }
    const viewer = body.data.viewer;
    if (viewer && viewer.bankID) {
      // The code people know the bank by; the viewer may not be allowed to
      // read the bank, then the id stays.
      try {
        const r = await fetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: authorization },
          body: JSON.stringify({ query: 'query($id: ID!) { node(id: $id) { ... on Bank { code } } }', variables: { id: viewer.bankID } }),
          credentials: 'omit',
        });
        const b = await readJSON(r);
        viewer.bankCode = b.data && b.data.node && b.data.node.code;
      } catch {}
    }
    return viewer;
  }

  // --- what GraphiQL sends ----------------------------------------------

  // fetchWithSession adds the session's Authorization header to GraphiQL's
  // requests, and ends the session if the server refuses its token.
  async function fetchWithSession(input, init) {
    init = init || {};
    const s = session;
    const headers = new Headers(init.headers);
    if (s) headers.set('Authorization', s.authorization);
    const res = await fetch(input, { ...init, headers, credentials: 'omit' });
    if (res.status === 401 && s && session === s) {
      signOut('The server refused the token (401): sign in again.');
    }
    return res;
  }

  // Subscriptions run over WebSocket (graphql-transport-ws) through wsClient,
  // a small client written here in the shape of graphql-ws's Client (no
  // library, nothing fetched): GraphiQL's fetcher hands it the subscriptions
  // and sends everything else over HTTP. Each subscription opens its own
  // connection, whose connection_init carries the session's Authorization.
  const wsClient = {
    subscribe(payload, sink) {
      const url = location.origin.replace(/^http/, 'ws') + new URL(endpoint, location.href).pathname;
      const ws = new WebSocket(url, 'graphql-transport-ws');
      let done = false;
      const finish = (err) => {
        if (done) return;
        done = true;
        if (err) sink.error(err);
        else sink.complete();
        try {
          ws.close();
        } catch {}
      };
      const send = (m) => ws.send(JSON.stringify(m));
      ws.onopen = () => send({ type: 'connection_init', payload: session ? { Authorization: session.authorization } : {} });
      ws.onmessage = (ev) => {
        const m = JSON.parse(ev.data);
        if (m.type === 'connection_ack') {
          send({ id: '1', type: 'subscribe', payload });
        } else if (m.type === 'ping') {
          send({ type: 'pong' });
        } else if (m.type === 'next') {
          sink.next(m.payload);
        } else if (m.type === 'error') {
          finish(m.payload);
        } else if (m.type === 'complete') {
          finish();
        }
      };
      ws.onclose = (ev) =>
        finish([{ message: 'the server closed the connection' + (ev.reason ? ' (' + ev.reason + ')' : '') + (session ? '' : ': sign in first') }]);
      return () => {
        if (done) return;
        try {
          send({ id: '1', type: 'complete' });
        } catch {}
        finish();
      };
    },
  };

  const httpFetcher = GraphiQL.createFetcher({ url: endpoint, fetch: fetchWithSession });

  // fetcher sends subscriptions to wsClient, the rest over HTTP. It tells
  // them apart from the query text itself: the parsed document GraphiQL
  // passes along may still be the previous one's when the text was just
  // replaced.
  function fetcher(params, opts) {
    if (!isSubscription(params)) {
      return httpFetcher(params, { ...opts, documentAST: undefined });
    }
    const queue = [];
    let wake = null;
    let ended = false;
    const put = (item) => {
      queue.push(item);
      if (wake) {
        wake();
        wake = null;
      }
    };
    const dispose = wsClient.subscribe(
      { query: params.query, variables: params.variables, operationName: params.operationName },
      {
        next: (value) => put({ value, done: false }),
        error: (errors) => {
          put({ value: { errors: Array.isArray(errors) ? errors : [{ message: String(errors) }] }, done: false });
          ended = true;
          put(null);
        },
        complete: () => {
          ended = true;
          put(null);
        },
      },
    );
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        while (!queue.length) await new Promise((resolve) => (wake = resolve));
        const item = queue.shift();
        return item || { value: undefined, done: true };
      },
      async return() {
        if (!ended) dispose();
        return { value: undefined, done: true };
      },
    };
  }

  // isSubscription tells whether the operation GraphiQL runs is a
  // subscription (comments and strings aside).
  function isSubscription(params) {
    const q = (params.query || '').replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*/g, ' ');
    const ops = [...q.matchAll(/(^|[}\s])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
    const op = params.operationName ? ops.find((m) => m[3] === params.operationName) : ops[0];
    return !!op && op[2] === 'subscription';
  }

  // --- the sign-in panel ------------------------------------------------

  function KeyIcon() {
    return h(
      'svg',
      { viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 1.5, 'aria-hidden': 'true' },
      h('circle', { cx: 8, cy: 15, r: 4 }),
      h('path', { d: 'M10.85 12.15 19 4M16 7l3 3M14 9l2 2' }),
    );
  }

  function Field(props) {
    return h(
      'label',
      { className: 'custgraph-field' },
      h('span', null, props.label),
      h('input', {
        name: props.name,
        type: props.type || 'text',
        value: props.value,
        autoComplete: props.autoComplete || 'off',
        spellCheck: false,
        required: true,
        onChange: (e) => props.onChange(e.target.value),
      }),
    );
  }

  function SignInForm() {
    const [mode, setMode] = React.useState('client');
    const [clientID, setClientID] = React.useState('');
    const [secret, setSecret] = React.useState('');
    const [username, setUsername] = React.useState('');
    const [password, setPassword] = React.useState('');
    const [consumerKey, setConsumerKey] = React.useState('');
    const [busy, setBusy] = React.useState(false);
    const [error, setError] = React.useState('');

    async function submit(e) {
      e.preventDefault();
      setBusy(true);
      setError('');
      try {
        if (mode === 'client') {
          await start('client', clientID, clientCredentials(clientID, secret));
        } else {
          await start('user', username, directLogin(username, password, consumerKey));
        }
      } catch (err) {
        setError(err.message);
        setBusy(false);
      }
    }

    const tab = (id, label) =>
      h('button', { type: 'button', role: 'tab', 'aria-selected': mode === id, className: 'custgraph-tab' + (mode === id ? ' active' : ''), 'data-mode': id, onClick: () => setMode(id) }, label);

    return h(
      'form',
      { className: 'custgraph-signin-form', onSubmit: submit },
      h('div', { className: 'custgraph-tabs', role: 'tablist' }, tab('client', 'API client'), tab('user', 'User (DirectLogin)')),
      mode === 'client'
        ? [
            h(Field, { key: 'id', label: 'Client id', name: 'client_id', value: clientID, onChange: setClientID, autoComplete: 'username' }),
            h(Field, { key: 'secret', label: 'Client secret', name: 'client_secret', type: 'password', value: secret, onChange: setSecret, autoComplete: 'current-password' }),
          ]
        : [
            h(Field, { key: 'user', label: 'Username', name: 'username', value: username, onChange: setUsername, autoComplete: 'username' }),
            h(Field, { key: 'password', label: 'Password', name: 'password', type: 'password', value: password, onChange: setPassword, autoComplete: 'current-password' }),
            h(Field, { key: 'ck', label: 'Consumer key (an API client id)', name: 'consumer_key', value: consumerKey, onChange: setConsumerKey }),
          ],
      h('button', { type: 'submit', className: 'graphiql-button custgraph-submit', disabled: busy }, busy ? 'Signing in…' : 'Sign in'),
      error ? h('p', { className: 'custgraph-error', role: 'alert' }, error) : null,
    );
  }

  function SignedIn(props) {
    const s = props.session;
    const v = s.viewer || {};
    const [, tick] = React.useState(0);
    React.useEffect(() => {
      const t = setInterval(() => tick((n) => n + 1), 15000);
      return () => clearInterval(t);
    }, []);
    const minutes = Math.round((s.expiresAt - Date.now()) / 60000);
    const expiry = minutes < 1 ? 'in less than a minute' : minutes === 1 ? 'in about a minute' : 'in about ' + minutes + ' minutes';
    const roles = v.entitlements || [];
    return h(
      'div',
      { className: 'custgraph-signed-in' },
      h('p', { className: 'custgraph-who' }, 'Signed in as ', h('strong', null, v.name || s.name), ' (', v.kind || s.kind, ')'),
      v.bankID ? h('p', { className: 'custgraph-bank' }, 'Confined to the bank ', h('code', null, v.bankCode || v.bankID)) : null,
      h('p', { className: 'custgraph-expiry' }, 'The token is renewed before it expires (this one ' + expiry + ').'),
      h(
        'details',
        null,
        h('summary', null, roles.length + (roles.length === 1 ? ' role' : ' roles')),
        h('ul', { className: 'custgraph-roles' }, roles.map((r, i) => h('li', { key: i }, r.roleName, r.bankID ? h('span', null, ' at ', h('code', null, r.bankID)) : h('span', null, ' (every bank)')))),
      ),
      h('button', { type: 'button', className: 'graphiql-button custgraph-signout', onClick: () => signOut('Signed out.') }, 'Sign out'),
    );
  }

  function SignInPanel() {
    const s = useSession();
    return h(
      'div',
      { className: 'custgraph-signin' },
      h('div', { className: 'graphiql-doc-explorer-title' }, s ? 'Signed in' : 'Sign in'),
      s ? h(SignedIn, { session: s }) : h(SignInForm),
      !s && notice ? h('p', { className: 'custgraph-notice' }, notice) : null,
      h(
        'p',
        { className: 'custgraph-hint' },
        'The token is kept in this page’s memory only and sent as the Authorization header of every request; reloading the page forgets it. Introspection (docs, search, autocomplete) needs no sign-in.',
      ),
    );
  }

  const signInPlugin = { title: 'Sign in', icon: KeyIcon, content: SignInPanel };

  // The badge in GraphiQL's logo corner says who is signed in and opens the
  // panel.
  function Badge() {
    const s = useSession();
    const store = GraphiQL.React.usePluginStore();
    const label = s ? (s.viewer && s.viewer.name) || s.name : 'Not signed in';
    return h(
      'button',
      {
        type: 'button',
        className: 'custgraph-badge' + (s ? ' signed-in' : ''),
        title: s ? 'Signed in: open the sign-in panel' : 'Sign in',
        onClick: () => store.setVisiblePlugin(signInPlugin),
      },
      h('span', { className: 'custgraph-dot', 'aria-hidden': 'true' }),
      label,
    );
  }

  const defaultQuery = `# Sign in with the key icon on the left (the README
# lists the demo callers), then run this: Ctrl-Enter.
# Docs, search and autocomplete (Ctrl-Space) need no
# sign-in; the folder icon opens the query builder.
{
  viewer { kind name }
  customers(first: 2) {
    totalCount
    edges { node { id customerNumber legalName email } }
  }
}
`;

  const plugins = [signInPlugin];
  if (window.GraphiQLPluginExplorer) plugins.push(GraphiQLPluginExplorer.explorerPlugin());

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    h(
      GraphiQL,
      {
        fetcher,
        plugins,
        visiblePlugin: signInPlugin,
        defaultQuery,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
      },
      h(GraphiQL.Logo, null, h(Badge)),
    ),
  );
})();
