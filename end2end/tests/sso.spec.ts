import { Page } from '@playwright/test';
import { test, expect, hydrated, checkA11y } from './fixtures';
import { oidcIssuer } from '../playwright.config';

// Single sign-on through an OpenID Provider shaped like Zitadel. Playwright
// starts it (oidc/provider.mjs) next to NeoSC; NeoSC is its client
// `neosc-e2e`. Its users, and what the ID token says about them:
//
//   alice  Zitadel org "Acme Zitadel" (acme-zitadel.test), role admin  -> NeoSC organization admin
//   bob    Zitadel org "Beta Zitadel" (beta-zitadel.test), role viewer -> plain member
//
// The provider's login form takes a known username and any password, and
// grants consent on the same click, so the browser goes straight back to
// NeoSC. The provider keeps its own session cookie; every test gets a fresh
// browser context (Playwright's default for `page`), so no test starts
// signed in at the provider. Serial: the second test relies on the first
// having created Acme Zitadel, to show bob does not see it.

test.describe.configure({ mode: 'serial' });

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The provider's own pages: its login form lives at /interaction/<uid>. */
const providerLogin = new RegExp(`^${escapeRegExp(oidcIssuer)}/interaction/[^/?]+$`);

/** From NeoSC's /login to the provider's login form. */
async function startSso(page: Page) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign in with Zitadel' }).click();
  await expect(page).toHaveURL(providerLogin);
  await expect(page.getByLabel('Username')).toBeVisible();
}

/** Sign in at the provider; the browser ends on NeoSC's organizations page. */
async function signInAtProvider(page: Page, username: string) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('any password will do');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  await hydrated(page);
}

test('/login offers single sign-on with Zitadel', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  // A plain form POST, so it works before (and without) the WASM.
  const form = page.locator('form[action$="/auth/sso/start"]');
  await expect(form).toHaveAttribute('method', /^post$/i);
  await expect(form.getByRole('button', { name: 'Sign in with Zitadel' })).toBeVisible();
});

test('alice signs in through Zitadel and lands in her organization as its admin', async ({ page }) => {
  await startSso(page);
  await signInAtProvider(page, 'alice');

  const user = page.getByTestId('current-user');
  await expect(user).toContainText('alice@acme-zitadel.test');
  // Zitadel role `admin` on her own org -> NeoSC organization admin.
  await expect(user).toContainText('Organization admin');

  // Her Zitadel organization became a NeoSC organization on first sign-in.
  const card = page.getByTestId('org-card').filter({ hasText: 'Acme Zitadel' });
  await expect(card).toHaveCount(1);
  await expect(card.getByRole('heading', { name: 'Acme Zitadel' })).toBeVisible();

  // As its admin she sees how members sign in: through SSO, with the
  // second factor Zitadel reported (amr otp).
  await card.click();
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await hydrated(page);
  await page.getByRole('tab', { name: 'Members' }).click();
  const row = page.locator('[data-testid=member-row][data-email="alice@acme-zitadel.test"]');
  await expect(row.getByTestId('member-sign-in')).toHaveText('SSO · 2FA');
  await checkA11y(page, 'members tab: SSO member');
});

test('bob from a second Zitadel organization gets his own NeoSC organization, as a plain member', async ({ page }) => {
  await startSso(page);
  await signInAtProvider(page, 'bob');

  const user = page.getByTestId('current-user');
  await expect(user).toContainText('bob@beta-zitadel.test');
  // Zitadel role `viewer` grants no admin rights.
  await expect(user).not.toContainText('Organization admin');

  const card = page.getByTestId('org-card').filter({ hasText: 'Beta Zitadel' });
  await expect(card).toHaveCount(1);
  await expect(card.getByRole('heading', { name: 'Beta Zitadel' })).toBeVisible();
  // Tenancy: alice's organization (created by the previous test) stays hidden.
  await expect(page.getByTestId('org-card').filter({ hasText: 'Acme Zitadel' })).toHaveCount(0);
  await expect(page.getByText('Acme Zitadel')).toHaveCount(0);
});

test('signing out of an SSO session signs out at the provider too', async ({ page, baseURL }) => {
  await startSso(page);
  await signInAtProvider(page, 'alice');
  await expect(page.getByTestId('current-user')).toContainText('alice@acme-zitadel.test');

  // NeoSC ends its session and sends the browser to the provider's
  // end_session_endpoint (RP-initiated logout) with the ID token as hint.
  await page.getByRole('button', { name: 'Sign out' }).click();
  const confirm = page.getByRole('button', { name: 'Yes, sign me out' });
  await expect(confirm).toBeVisible();
  const endSession = new URL(page.url());
  expect(endSession.origin).toBe(oidcIssuer);
  expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
  expect(endSession.searchParams.get('client_id')).toBe('neosc-e2e');
  expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${baseURL}/login`);

  // Confirming there brings the browser back to NeoSC's /login (with
  // `state` appended if NeoSC sent one).
  await confirm.click();
  await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(`${baseURL}/login`)}(\\?.*)?$`));
  await hydrated(page);
  await expect(page.getByTestId('current-user')).toHaveCount(0);

  // The NeoSC session is gone...
  await page.goto('/organizations');
  await expect(page).toHaveURL(/\/login$/);

  // ...and so is the provider's: signing in again asks for the password.
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign in with Zitadel' }).click();
  await expect(page).toHaveURL(providerLogin);
  await expect(page.getByLabel('Username')).toBeVisible();
  await expect(page.getByLabel('Password')).toBeVisible();
});

test('a refused sign-in comes back to /login with our own words, never text from the link', async ({ page }) => {
  await page.goto('/login?sso_error=mfa_required');
  await hydrated(page);
  await expect(page.getByTestId('sso-error')).toContainText('requires two-factor authentication');
  await checkA11y(page, 'SSO refusal shown: MFA required');
  await page.goto('/login?sso_error=' + encodeURIComponent('Call +1 555 0100 and tell us your password'));
  await hydrated(page);
  await expect(page.getByTestId('sso-error')).toContainText('Single sign-on failed');
  await expect(page.getByText('555 0100')).toHaveCount(0);
});
