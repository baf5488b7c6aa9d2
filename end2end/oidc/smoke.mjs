// Walks the test provider the way NeoSC and a browser will, without either:
// discovery, authorization with PKCE, the login form, the code exchange,
// the ID token, userinfo, and RP-initiated logout. For checking the provider
// by hand; the Playwright specs do not use it.
//
//   OIDC_PORT=4411 APP_URL=http://127.0.0.1:3199 node oidc/provider.mjs &
//   OIDC_ISSUER=http://127.0.0.1:4411 APP_URL=http://127.0.0.1:3199 node oidc/smoke.mjs [alice|bob]

import * as crypto from 'node:crypto';
import assert from 'node:assert/strict';

const issuer = process.env.OIDC_ISSUER ?? 'http://127.0.0.1:3299';
const appUrl = process.env.APP_URL ?? 'http://127.0.0.1:3199';
const login = process.argv[2] ?? 'alice';
const redirectUri = `${appUrl}/auth/callback`;
const basic = `Basic ${Buffer.from('neosc-e2e:neosc-e2e-secret').toString('base64')}`;

// A tiny cookie jar: the provider's cookies are host-only, path-scoped.
const jar = new Map();
function remember(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
    const expired = /max-age=0|expires=thu, 01 jan 1970/i.test(line) || pair.slice(eq + 1) === '';
    if (expired) jar.delete(`${path} ${name}`);
    else jar.set(`${path} ${name}`, { path, value: pair });
  }
}
function cookieFor(url) {
  const { pathname } = new URL(url);
  return [...jar.values()].filter((c) => pathname.startsWith(c.path)).map((c) => c.value).join('; ');
}
async function go(url, init = {}) {
  const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: cookieFor(url) } });
  remember(res);
  const location = res.headers.get('location');
  console.log(`${init.method ?? 'GET'} ${url}\n  -> ${res.status}${location ? ` ${location}` : ''}`);
  return { res, location: location && new URL(location, url).href, text: await res.text() };
}
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const decode = (jwt) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));

const disco = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
assert.equal(disco.issuer, issuer);
assert.ok(disco.end_session_endpoint);
assert.ok(disco.code_challenge_methods_supported.includes('S256'));
for (const s of ['urn:zitadel:iam:user:resourceowner', 'urn:zitadel:iam:org:project:roles']) assert.ok(disco.scopes_supported.includes(s));

const verifier = b64url(crypto.randomBytes(32));
const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
const state = b64url(crypto.randomBytes(16));
const nonce = b64url(crypto.randomBytes(16));
const auth = new URL(disco.authorization_endpoint);
auth.search = new URLSearchParams({
  response_type: 'code',
  client_id: 'neosc-e2e',
  redirect_uri: redirectUri,
  scope: 'openid profile email urn:zitadel:iam:user:resourceowner urn:zitadel:iam:org:project:roles',
  state,
  nonce,
  code_challenge: challenge,
  code_challenge_method: 'S256',
}).toString();

let step = await go(auth.href);
assert.equal(step.res.status, 303);
const interactionUrl = step.location;
assert.match(interactionUrl, /\/interaction\/[^/]+$/);
step = await go(interactionUrl);
assert.equal(step.res.status, 200);
assert.match(step.text, /<input name="login"/);

// An unknown username shows the form again with an error.
step = await go(interactionUrl, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ login: 'mallory', password: 'x' }).toString(),
});
assert.equal(step.res.status, 200);
assert.match(step.text, /Unknown username/);

step = await go(interactionUrl, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ login, password: 'anything' }).toString(),
});
assert.equal(step.res.status, 303);
step = await go(step.location); // resume at the authorization endpoint
assert.equal(step.res.status, 303);
const callback = new URL(step.location);
assert.equal(`${callback.origin}${callback.pathname}`, redirectUri, 'straight back to the app, no consent page');
console.log('callback parameters:', Object.fromEntries(callback.searchParams));
assert.equal(callback.searchParams.get('state'), state);
assert.equal(callback.searchParams.get('iss'), issuer);
const code = callback.searchParams.get('code');
assert.ok(code);

// Without the verifier the code is refused; with it, tokens.
const exchange = (extra) => fetch(disco.token_endpoint, {
  method: 'POST',
  headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...extra }).toString(),
});
const bad = await exchange({ code_verifier: b64url(crypto.randomBytes(32)) });
console.log('token with a wrong code_verifier ->', bad.status, await bad.text());
assert.equal(bad.status, 400);
const good = await exchange({ code_verifier: verifier });
const tokens = await good.json();
console.log('token ->', good.status, Object.keys(tokens));
assert.equal(good.status, 200, JSON.stringify(tokens));
const [header, payload] = decode(tokens.id_token);
console.log('ID token header:', JSON.stringify(header));
console.log('ID token payload:', JSON.stringify(payload, null, 2));
assert.equal(payload.iss, issuer);
assert.equal(payload.nonce, nonce);
for (const claim of ['sub', 'email', 'email_verified', 'name', 'amr', 'urn:zitadel:iam:user:resourceowner:id',
  'urn:zitadel:iam:user:resourceowner:name', 'urn:zitadel:iam:user:resourceowner:primary_domain',
  'urn:zitadel:iam:org:project:roles']) {
  assert.ok(payload[claim] !== undefined, `ID token has ${claim}`);
}
const jwks = await (await fetch(disco.jwks_uri)).json();
assert.ok(jwks.keys.some((k) => k.kid === header.kid && k.kty === 'RSA' && !k.d), 'the public key is published, the private part is not');

const userinfo = await fetch(disco.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
console.log('userinfo ->', userinfo.status, await userinfo.text());

// The same browser signs in again without the form (the provider session).
step = await go(auth.href);
console.log('second authorization, provider session alive ->', step.location);
assert.ok(step.location.startsWith(redirectUri));

// RP-initiated logout: a confirmation page, then back to the app's /login.
const end = new URL(disco.end_session_endpoint);
end.search = new URLSearchParams({
  id_token_hint: tokens.id_token,
  client_id: 'neosc-e2e',
  post_logout_redirect_uri: `${appUrl}/login`,
}).toString();
step = await go(end.href);
assert.equal(step.res.status, 200);
assert.match(step.text, /Yes, sign me out/);
const action = /<form id="op.logoutForm" method="post" action="([^"]+)">/.exec(step.text)[1];
const xsrf = /name="xsrf" value="([^"]+)"/.exec(step.text)[1];
step = await go(new URL(action, end).href, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
});
assert.equal(step.res.status, 303);
assert.equal(step.location, `${appUrl}/login`);

// After logout the provider asks for the login again.
step = await go(auth.href);
assert.match(step.location, /\/interaction\//);
step = await go(step.location);
assert.match(step.text, /<input name="login"/);
console.log(`\nOK: ${login} signed in, tokens checked, signed out`);
