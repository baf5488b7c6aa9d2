import { Page } from '@playwright/test';
import { test, expect, unique, hydrated, registerViaForm, checkA11y, PASSWORD } from './fixtures';
import { totp } from './totp';

async function signIn(page: Page, email: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function secondFactor(page: Page, code: string) {
  await expect(page).toHaveURL(/\/login\/mfa$/);
  await hydrated(page);
  await page.getByLabel('Authentication code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/organizations$/);
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

test('enrol TOTP, sign in with a code and with a recovery code, end another session', async ({ page, browser }) => {
  const slug = unique('mfa');
  const email = `ada@${slug}.test`;
  await registerViaForm(page, { name: 'Ada', email, organization: `Mfa ${slug}` });
  await expect(page).toHaveURL(/\/organizations$/);
  await checkA11y(page, 'after registration');

  // Enrol: the test reads the key the page shows and computes codes from it.
  await page.getByRole('link', { name: 'Account' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await expect(page.getByLabel('QR code for your authenticator app').locator('svg')).toBeVisible();
  await checkA11y(page, 'authenticator setup: QR code and key');
  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  const codes = await page.getByTestId('recovery-code').allTextContents();
  expect(codes).toHaveLength(10);
  await checkA11y(page, 'MFA on: recovery codes shown');

  // Sign in again: password, then a code. The enrolment code's time step is
  // spent, so use the next step's code (accepted within the drift window).
  await signOut(page);
  await signIn(page, email);
  await secondFactor(page, totp(secret, Date.now() + 30_000));

  // And with a recovery code.
  await signOut(page);
  await signIn(page, email);
  await secondFactor(page, codes[0]);

  // A second browser signs in too; the first ends that session.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, email);
  await secondFactor(otherPage, codes[1]);

  await page.goto('/account');
  await hydrated(page);
  const rows = page.getByTestId('session-row');
  await expect(rows).toHaveCount(2);
  await expect(page.locator('[data-testid=session-row][data-current=true]')).toHaveCount(1);
  await checkA11y(page, 'two sessions listed');
  await page.locator('[data-testid=session-row][data-current=false]').getByRole('button', { name: 'End session' }).click();
  await expect(rows).toHaveCount(1);
  await checkA11y(page, 'other session ended');

  // The ended session is dead on its next click.
  await otherPage.getByRole('link', { name: 'Account' }).click();
  await otherPage.reload();
  await expect(otherPage).toHaveURL(/\/login$/);
  await checkA11y(otherPage, 'signed out: session ended elsewhere');
  await other.close();
});

test('a wrong enrolment code is refused and a right one turns MFA on', async ({ page, allowHttpStatus }) => {
  allowHttpStatus(400);
  const slug = unique('wrong');
  const email = `kim@${slug}.test`;
  await registerViaForm(page, { name: 'Kim', email, organization: `Wrong ${slug}` });
  await expect(page).toHaveURL(/\/organizations$/);
  await checkA11y(page, 'after registration');
  await page.goto('/account');
  await hydrated(page);
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  await page.getByLabel('Code from the app').fill('000000' === totp(secret) ? '111111' : '000000');
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByText('That code is not valid.', { exact: false })).toBeVisible();
  await checkA11y(page, 'wrong enrolment code: error shown');
  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByTestId('recovery-codes')).toBeVisible();
  await checkA11y(page, 'MFA on: recovery codes shown');
});

test('API tokens are shown once and can be revoked', async ({ page, request }) => {
  const slug = unique('tok');
  await registerViaForm(page, { name: 'Tok', email: `tok@${slug}.test`, organization: `Tok ${slug}` });
  await expect(page).toHaveURL(/\/organizations$/);
  await checkA11y(page, 'after registration');
  await page.goto('/account');
  await hydrated(page);
  await page.getByLabel('Token name').fill('deploy script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').locator('code').textContent())!.trim();
  expect(token).toMatch(/^nsc_pat_/);
  await checkA11y(page, 'new API token shown once');
  const me = await request.get('/api/auth/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  await expect(page.getByTestId('token-row')).toHaveCount(1);
  await page.getByTestId('token-row').getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByTestId('token-row')).toHaveCount(0);
  await checkA11y(page, 'token revoked: empty list');
  const after = await request.get('/api/auth/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status()).toBe(401);
});
