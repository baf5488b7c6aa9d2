import { test as base, expect, APIRequestContext, Browser, BrowserContext, Page, ConsoleMessage, TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import type { Result as AxeViolation } from 'axe-core';
import { mailboxUrl, dnsControlUrl } from '../playwright.config';

// ---------------------------------------------------------------------------
// Accessibility: axe-core on every view a test visits, in every state it
// reaches.
//
// - `checkA11y(page, 'members tab')` runs axe now (after the page has
//   hydrated and its requests have settled) and records every violation.
//   Specs call it after each change of state: a tab switched, a dialog
//   open, an error shown.
// - `hydrated(page)`, which specs call after every navigation, checks the
//   freshly loaded view the same way.
// - At the end of every test, every page still open on NeoSC is checked
//   in its final state, and every NeoSC view the test navigated to but never
//   checked fails the test: a new page cannot slip past the gate.
//
// Violations are soft failures (the test goes on, so one run lists every
// state's problems) naming the view, the state, and per violation its rule
// id, impact, help text and target selectors; the raw axe results are
// attached to the test report.
//
// axe is injected the way @axe-core/playwright does it: its source is
// evaluated through the DevTools protocol (page.evaluate), which the page's
// CSP (script-src 'self' 'nonce-…', no 'unsafe-eval') does not govern, so
// the CSP is never relaxed (no bypassCSP). Pages of other origins (the test
// OpenID Provider's login form) are not ours and are not checked.
// ---------------------------------------------------------------------------

/** WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/** A view: the path with ids and tokens replaced, e.g. /organizations/:id. */
export function viewOf(url: string): string {
  const path = new URL(url).pathname;
  return (
    path
      .split('/')
      .map((seg) => (/^(org|usr)-/.test(seg) || /^[0-9a-f-]{32,}$/i.test(seg) || seg.length >= 32 ? ':id' : seg))
      .join('/') || '/'
  );
}

interface A11yRun {
  origin: string;
  info: TestInfo;
  /** Pages watched: the test's own, and those of contexts it makes. */
  pages: Set<Page>;
  /** NeoSC views navigated to, and those checked (on any page). */
  visited: Set<string>;
  checked: Set<string>;
  /** Requests in flight, per page (to wait for the page to settle). */
  inflight: Map<Page, number>;
  /** Checks that found violations (soft failures), to tell them from the test's own errors. */
  violations: number;
}

let run: A11yRun | null = null;

function track(page: Page) {
  const r = run;
  if (!r || r.pages.has(page)) return;
  r.pages.add(page);
  r.inflight.set(page, 0);
  const ours = (url: string) => url.startsWith(r.origin + '/') || url === r.origin;
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame() || !ours(frame.url())) return;
    r.visited.add(viewOf(frame.url()));
  });
  const add = (n: number) => () => r.inflight.set(page, Math.max(0, (r.inflight.get(page) ?? 0) + n));
  page.on('request', add(1));
  page.on('requestfinished', add(-1));
  page.on('requestfailed', add(-1));
}

function trackContext(context: BrowserContext) {
  context.pages().forEach(track);
  context.on('page', track);
}

/** Waits until the page has hydrated and no request has been in flight for 150 ms. */
async function settle(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  const deadline = Date.now() + 5_000;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    if ((run?.inflight.get(page) ?? 0) > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= 150) return;
    await page.waitForTimeout(50);
  }
}

function describe(v: AxeViolation): string {
  const targets = v.nodes.map((n) => n.target.map(String).join(' >>> ')).join(' | ');
  return `[${v.impact ?? 'unknown'}] ${v.id}: ${v.help} (${v.helpUrl}) -> ${targets}`;
}

/**
 * Runs axe-core on the page as it is now and records every violation as a
 * (soft) failure of the test. `state` says what the page shows, e.g.
 * 'members tab' or 'invite dialog open'.
 */
export async function checkA11y(page: Page, state: string): Promise<AxeViolation[]> {
  const r = run;
  if (!r) throw new Error('checkA11y runs inside a test that uses ./fixtures');
  track(page);
  if (!page.url().startsWith(r.origin + '/')) return [];
  await settle(page);
  const url = page.url();
  const view = viewOf(url);
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  r.checked.add(view);
  const label = `axe: ${view} · ${state}`;
  await r.info.attach(`${label}`.replace(/[^\w:·/ -]/g, '_'), {
    body: JSON.stringify({ url, state, violations: results.violations }, null, 2),
    contentType: 'application/json',
  });
  if (results.violations.length > 0) r.violations += 1;
  expect.soft(results.violations.map(describe), `${label} (${url}): accessibility violations`).toEqual([]);
  return results.violations;
}

/**
 * Declares that the test only passes through `view` (the app moves on by
 * itself, e.g. a signed-out page redirecting to /login), so there is no
 * state of it to check. Recorded as an annotation of the test.
 */
export function passesThrough(view: string, why: string) {
  if (!run) throw new Error('passesThrough runs inside a test that uses ./fixtures');
  run.checked.add(view);
  run.info.annotations.push({ type: 'a11y: passes through', description: `${view}: ${why}` });
}

// ---------------------------------------------------------------------------

/** Every page a test opens is watched: console errors, page errors and
 *  hydration warnings fail the test at its end. A test that provokes a
 *  refusal on purpose declares the HTTP status it expects with
 *  `allowHttpStatus`; Chromium logs every such response as an error.
 *  The `a11y` fixture runs the accessibility checks described above. */
export const test = base.extend<{ allowHttpStatus: (status: number) => void; a11y: void }>({
  allowHttpStatus: [
    async ({ page }, use) => {
      const problems: string[] = [];
      const allowed = new Set<number>();
      page.on('console', (msg: ConsoleMessage) => {
        const text = msg.text();
        const refused = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
        if (refused && allowed.has(Number(refused[1]))) return;
        if (msg.type() === 'error' || /hydrat/i.test(text)) problems.push(`${msg.type()}: ${text}`);
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      await use((status) => allowed.add(status));
      expect(problems, 'console errors or hydration warnings').toEqual([]);
    },
    { auto: true },
  ],
  a11y: [
    async ({ page, context, browser, baseURL }, use, info) => {
      run = {
        origin: new URL(baseURL!).origin,
        info,
        pages: new Set(),
        visited: new Set(),
        checked: new Set(),
        inflight: new Map(),
        violations: 0,
      };
      trackContext(context);
      track(page);
      // Contexts a test makes itself (a second browser) are watched too.
      const newContext = browser.newContext;
      (browser as Browser).newContext = async function (this: Browser, ...args: Parameters<Browser['newContext']>) {
        const created = await newContext.apply(this, args);
        trackContext(created);
        return created;
      };
      try {
        await use();
        if (info.status === 'timedOut' || info.status === 'interrupted') return;
        // A test that failed on its own (not through axe) stopped half-way:
        // its unfinished pages say nothing more.
        const failedOnItsOwn = () => info.errors.length > run!.violations;
        if (failedOnItsOwn()) return;
        // The final state of every page still open on NeoSC.
        for (const p of [...run.pages]) {
          if (!p.isClosed() && p.url().startsWith(run.origin + '/')) await checkA11y(p, 'end of test');
        }
        // Every NeoSC view navigated to was checked at least once.
        const unchecked = [...run.visited].filter((view) => !run!.checked.has(view));
        expect.soft(unchecked, 'views visited but never checked with axe (call checkA11y there)').toEqual([]);
      } finally {
        browser.newContext = newContext;
        run = null;
      }
    },
    { auto: true },
  ],
});

export { expect };

/** Unique per run, so tests never collide with each other's data. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Resolves once the WASM has hydrated the page (the app marks <body>),
 *  then checks the loaded view with axe. */
export async function hydrated(page: Page, state = 'loaded'): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await checkA11y(page, state);
}

export const PASSWORD = 'correct horse battery staple';

/** Fills in /register and submits it; nothing more (the answer may be a refusal). */
export async function submitRegistration(page: Page, opts: { name: string; email: string; organization?: string; password?: string }) {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(opts.name);
  await page.getByLabel('Work email').fill(opts.email);
  await page.getByLabel('Password').fill(opts.password ?? PASSWORD);
  if (opts.organization) await page.getByLabel('Organization (optional)').fill(opts.organization);
  await page.getByRole('button', { name: 'Create account' }).click();
}

// ---------------------------------------------------------------------------
// Mail: NeoSC sends over SMTP to the sink `make e2e` starts
// (smtp/sink.mjs); tests read what really arrived there.
// ---------------------------------------------------------------------------

/** A message as the SMTP sink received it (`to`: the envelope recipients). */
export interface ReceivedMail {
  from: string | null;
  to: string[];
  header_from: string | null;
  subject: string;
  text: string;
  html: string;
}

/** Every mail the SMTP sink received for `to`, oldest first, once there are at least `count`. */
export async function mailsTo(to: string, count = 1): Promise<ReceivedMail[]> {
  let mails: ReceivedMail[] = [];
  await expect
    .poll(
      async () => {
        const res = await fetch(`${mailboxUrl}/messages?to=${encodeURIComponent(to)}`);
        mails = (await res.json()) as ReceivedMail[];
        return mails.length;
      },
      { message: `mail to ${to} at the SMTP sink`, timeout: 15_000 },
    )
    .toBeGreaterThanOrEqual(count);
  return mails;
}

/** The confirmation link in a registration mail (the plain-text part; the HTML part must carry the same). */
export function verificationLink(mail: ReceivedMail): string {
  const link = /https?:\/\/\S+\/verify-email\/[A-Za-z0-9_-]{43}/.exec(mail.text)?.[0];
  expect(link, `a confirmation link in the mail "${mail.subject}":\n${mail.text}`).toBeTruthy();
  expect(mail.html, 'the HTML part links to the same address').toContain(`href="${link}"`);
  return link!;
}

/** The newest confirmation link mailed to `email`. */
export async function mailedVerificationLink(email: string, count = 1): Promise<string> {
  const mails = await mailsTo(email, count);
  return verificationLink(mails[mails.length - 1]);
}

/** Opens the mailed link in `page`, confirms, and lands signed in on /organizations. */
export async function confirmEmail(page: Page, email: string) {
  const link = await mailedVerificationLink(email);
  await page.goto(new URL(link).pathname);
  await hydrated(page, 'confirm your email');
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await expect(page).toHaveURL(/\/organizations$/);
}

/**
 * Registers through the form the way a person does: "check your inbox",
 * the mail at the SMTP sink, its link, "Confirm and sign in". Ends signed
 * in on /organizations.
 */
export async function registerViaForm(page: Page, opts: { name: string; email: string; organization?: string; password?: string }) {
  await submitRegistration(page, opts);
  await expect(page).toHaveURL(/\/verify-email\?email=/);
  await hydrated(page, 'check your inbox');
  await confirmEmail(page, opts.email);
}

/**
 * Registers through the API and confirms with the token of the mailed link
 * (`POST /api/auth/verify-email`): the account exists afterwards. Answers
 * the sign-in (`{token, stage, user}`).
 */
export async function registerViaApi(
  request: APIRequestContext,
  data: { email: string; password?: string; name: string; organization?: string },
): Promise<{ token: string; stage: string }> {
  const res = await request.post('/api/auth/register', { data: { password: PASSWORD, ...data } });
  expect(res.status(), await res.text()).toBe(202);
  expect((await res.json()).mail_sent).toBe(true);
  const token = new URL(await mailedVerificationLink(data.email)).pathname.split('/').pop()!;
  const verified = await request.post('/api/auth/verify-email', { data: { token } });
  expect(verified.status(), await verified.text()).toBe(200);
  return verified.json();
}

// ---------------------------------------------------------------------------
// DNS: NeoSC proves domains by asking the DNS server `make e2e` started
// (dns/server.mjs) for TXT records; tests publish and withdraw them there.
// ---------------------------------------------------------------------------

/** Publishes TXT `values` at `name` (replacing what it had) at the test DNS server. */
export async function publishTxt(name: string, ...values: string[]) {
  const res = await fetch(`${dnsControlUrl}/txt/${encodeURIComponent(name)}`, { method: 'PUT', body: JSON.stringify(values) });
  expect(res.status, `publish TXT ${name}: ${await res.text()}`).toBe(200);
}

/** Withdraws every TXT record at `name`: it is NXDOMAIN again. */
export async function withdrawTxt(name: string) {
  const res = await fetch(`${dnsControlUrl}/txt/${encodeURIComponent(name)}`, { method: 'DELETE' });
  expect(res.status).toBe(200);
}

/**
 * Proves `domain` for the caller's organization through the API, as an
 * admin would: reads its TXT record, publishes it at the test DNS server,
 * verifies. `token` is the admin's session (`registerViaApi`'s answer);
 * without it, `request` must carry the session cookie (`page.request`).
 * For tests about what happens once a domain is verified, not about
 * verifying it (domains.spec.ts).
 */
export async function verifyDomainViaApi(request: APIRequestContext, domain: string, token?: string) {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const me = await request.get('/api/auth/me', { headers });
  expect(me.status(), await me.text()).toBe(200);
  const orgId = (await me.json()).organization_id as string;
  const list = await request.get(`/api/organizations/${orgId}/domains`, { headers });
  expect(list.status(), await list.text()).toBe(200);
  const record = ((await list.json()) as { domain: string; txt_name: string; txt_value: string }[]).find((d) => d.domain === domain);
  expect(record, `${domain} is one of the organization's domains`).toBeTruthy();
  await publishTxt(record!.txt_name, record!.txt_value);
  const verified = await request.post(`/api/organizations/${orgId}/domains/${domain}/verify`, { headers });
  expect(verified.status(), await verified.text()).toBe(200);
  expect((await verified.json()).status).toBe('verified');
}

/**
 * Registers the founder of a new organization through the API and proves
 * its email domain, so colleagues who register at that domain join it.
 */
export async function registerFounderViaApi(
  request: APIRequestContext,
  data: { email: string; password?: string; name: string; organization: string },
): Promise<{ token: string; stage: string }> {
  const signedIn = await registerViaApi(request, data);
  await verifyDomainViaApi(request, data.email.split('@')[1], signedIn.token);
  return signedIn;
}
