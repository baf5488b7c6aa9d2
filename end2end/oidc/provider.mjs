// A local OpenID Provider for the browser tests, shaped like Zitadel: its
// endpoints sit at Zitadel's paths, its scopes and claims are Zitadel's
// (resource owner = the user's Zitadel organization, project roles keyed by
// role then by organization id), and `amr` tells how the user signed in.
//
//   OIDC_PORT=3299 APP_URL=http://127.0.0.1:3199 node oidc/provider.mjs
//
// Issuer: http://127.0.0.1:$OIDC_PORT (no trailing slash). One confidential
// client, `neosc-e2e`, redirecting to $APP_URL/auth/callback. The login page
// at /interaction/:uid takes a known username and any password, then grants
// consent in the same step, so the browser goes straight back to the app.
// Everything lives in memory; a restart forgets every session and grant.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.OIDC_PORT ?? 3299);
const appUrl = (process.env.APP_URL ?? 'http://127.0.0.1:3199').replace(/\/+$/, '');
const issuer = `http://127.0.0.1:${port}`;

const CLIENT_ID = 'neosc-e2e';
const CLIENT_SECRET = 'neosc-e2e-secret';

const SCOPE_RESOURCE_OWNER = 'urn:zitadel:iam:user:resourceowner';
const SCOPE_ROLES = 'urn:zitadel:iam:org:project:roles';

/** The users, keyed by the username typed on the login page. */
const ACCOUNTS = {
  alice: {
    sub: 'zitadel-alice',
    email: 'alice@acme-zitadel.test',
    given_name: 'Alice',
    family_name: 'Acme',
    org: { id: '100000000000000001', name: 'Acme Zitadel', domain: 'acme-zitadel.test' },
    roles: ['admin'],
    amr: ['pwd', 'otp'],
  },
  bob: {
    sub: 'zitadel-bob',
    email: 'bob@beta-zitadel.test',
    given_name: 'Bob',
    family_name: 'Beta',
    org: { id: '200000000000000002', name: 'Beta Zitadel', domain: 'beta-zitadel.test' },
    roles: ['viewer'],
    amr: ['pwd'],
  },
};

const bySub = new Map(Object.entries(ACCOUNTS).map(([login, a]) => [a.sub, { login, ...a }]));

/** Every claim of the account, in Zitadel's shapes; the provider keeps the
 *  ones the granted scopes ask for. */
function claimsOf(a) {
  return {
    sub: a.sub,
    name: `${a.given_name} ${a.family_name}`,
    given_name: a.given_name,
    family_name: a.family_name,
    preferred_username: a.email,
    email: a.email,
    email_verified: true,
    'urn:zitadel:iam:user:resourceowner:id': a.org.id,
    'urn:zitadel:iam:user:resourceowner:name': a.org.name,
    'urn:zitadel:iam:user:resourceowner:primary_domain': a.org.domain,
    // { "<roleKey>": { "<orgId>": "<orgPrimaryDomain>" } }
    'urn:zitadel:iam:org:project:roles': Object.fromEntries(a.roles.map((r) => [r, { [a.org.id]: a.org.domain }])),
  };
}

// The signing key is made afresh at every start; the RP reads it from jwks_uri.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `e2e-${crypto.randomUUID()}`, alg: 'RS256', use: 'sig' };

// Plain pages: no external fonts, no scripts, a blank favicon, so the browser
// logs nothing the test fixtures would count as a console error.
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto}label{display:block;margin:.75rem 0}input{display:block;width:100%}button{margin-top:1rem}.error{color:#b00020}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const configuration = {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      client_name: 'NeoSC (e2e)',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [`${appUrl}/auth/callback`],
      post_logout_redirect_uris: [`${appUrl}/login`],
      id_token_signed_response_alg: 'RS256',
    },
  ],
  jwks: { keys: [signingKey] },
  // Fixed keys: cookies stay valid across a restart of the test run. Plain
  // http works: oidc-provider only marks cookies Secure on https requests.
  // The names carry an `op_` prefix because cookies ignore the port: the
  // browser sends these to NeoSC on the same 127.0.0.1 too, and NeoSC's
  // cookies here.
  cookies: {
    keys: ['neosc-e2e-cookie-key-1', 'neosc-e2e-cookie-key-0'],
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
  },
  // Zitadel's endpoint paths; the RP finds them through discovery anyway.
  routes: {
    authorization: '/oauth/v2/authorize',
    token: '/oauth/v2/token',
    userinfo: '/oidc/v1/userinfo',
    jwks: '/oauth/v2/keys',
    end_session: '/oidc/v1/end_session',
    revocation: '/oauth/v2/revoke',
    introspection: '/oauth/v2/introspect',
  },
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', SCOPE_RESOURCE_OWNER, SCOPE_ROLES],
  claims: {
    // amr/acr/auth_time come from the login, not from findAccount; listing
    // them here is what lets them through to the ID token.
    openid: ['sub', 'amr', 'acr', 'auth_time'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
    [SCOPE_RESOURCE_OWNER]: [
      'urn:zitadel:iam:user:resourceowner:id',
      'urn:zitadel:iam:user:resourceowner:name',
      'urn:zitadel:iam:user:resourceowner:primary_domain',
    ],
    [SCOPE_ROLES]: [SCOPE_ROLES],
  },
  // Like Zitadel's "user info inside ID token": the scoped claims go into
  // the ID token too, not only to the userinfo endpoint.
  conformIdTokenClaims: false,
  acrValues: ['urn:neosc:e2e:password'],
  // Explicit lifetimes (seconds), long enough for any test run.
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 120,
    Grant: 86400,
    IdToken: 3600,
    Interaction: 3600,
    Session: 86400,
  },
  async findAccount(_ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return claimsOf(account);
      },
    };
  },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // `form` is an empty <form id="op.logoutForm"> carrying the xsrf
      // token; the buttons submit it. With `logout=yes` the whole provider
      // session ends, not only this client's part of it.
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = page(
          'Sign out',
          `<p>Do you want to sign out of the test provider?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
        );
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page(
      'Error',
      `<pre data-testid="oidc-error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</pre>`,
    );
  },
};

const provider = new Provider(issuer, configuration);
// Loopback only, no proxy in front: the request's own host and scheme are right.
provider.proxy = false;

provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'userinfo.error']) {
  provider.on(event, (_ctx, err) => console.error(`oidc-provider ${event}: ${err.message} ${err.error_description ?? ''}`));
}

function loginForm(uid, { error, login } = {}) {
  return page(
    'Sign in',
    `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}" autocomplete="off">
<label>Username <input name="login" value="${escapeHtml(login ?? '')}" autofocus required></label>
<label>Password <input type="password" name="password" required></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A grant covering everything the authorization request asked for: the
 *  client is first-party, so there is no consent page. */
async function grantFor(details, accountId) {
  const { params } = details;
  // The session's grant for this client, unless it belongs to someone else.
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (grant && grant.accountId !== accountId) grant = undefined;
  grant ??= new provider.Grant({ accountId, clientId: params.client_id });
  const requested = String(params.scope ?? 'openid').split(' ').filter((s) => configuration.scopes.includes(s));
  grant.addOIDCScope(requested.join(' '));
  const missing = details.prompt?.details ?? {};
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

/** GET shows the login form; POST checks the username and finishes the
 *  interaction with login and consent at once. A consent prompt (e.g. a
 *  later request asking for more scopes) is granted without a page. */
async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p>Interaction mismatch.</p>'));
  const { prompt } = details;

  if (prompt.name === 'consent') {
    const grantId = await grantFor(details, details.session.accountId);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (prompt.name !== 'login') {
    return send(res, 400, page('Error', `<p>Unsupported prompt ${escapeHtml(prompt.name)}.</p>`));
  }

  if (req.method === 'GET') return send(res, 200, loginForm(uid));
  if (req.method !== 'POST') return send(res, 405, page('Error', '<p>Method not allowed.</p>'));

  const form = await readForm(req);
  const login = (form.get('login') ?? '').trim().toLowerCase();
  const account = Object.hasOwn(ACCOUNTS, login) ? ACCOUNTS[login] : undefined;
  if (!account || !form.get('password')) {
    return send(res, 200, loginForm(uid, { error: 'Unknown username or password.', login }));
  }
  const grantId = await grantFor(details, account.sub);
  await provider.interactionFinished(
    req,
    res,
    {
      login: { accountId: account.sub, amr: account.amr, acr: 'urn:neosc:e2e:password', remember: true },
      consent: { grantId },
    },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url ?? '/', issuer);
  try {
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const m = /^\/interaction\/([^/]+)$/.exec(pathname);
    if (m) {
      await interaction(req, res, m[1]);
      return;
    }
    callback(req, res);
  } catch (err) {
    const expired = err instanceof errors.SessionNotFound;
    if (!expired) console.error('interaction error', err);
    if (!res.headersSent) {
      send(res, expired ? 400 : 500, page('Error', `<p>${escapeHtml(expired ? 'The sign-in request expired; start again.' : err.message)}</p>`));
    } else {
      res.end();
    }
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
