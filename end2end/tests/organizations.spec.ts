import { test, expect, unique, hydrated, registerViaForm, registerViaApi, submitRegistration, checkA11y } from './fixtures';
import { adminEmail, adminPassword } from '../playwright.config';

test('a new user with a new organization sees its card, hydrated and searchable', async ({ page }) => {
  const slug = unique('acme');
  const org = `Acme ${slug}`;
  const domain = `${slug}.test`;
  await registerViaForm(page, { name: 'Ada Admin', email: `ada@${domain}`, organization: org });

  await expect(page).toHaveURL(/\/organizations$/);
  await expect(page.getByRole('heading', { name: 'Organizations', level: 1 })).toBeVisible();
  const card = page.getByTestId('org-card').filter({ hasText: org });
  await expect(card).toHaveCount(1);
  await expect(card.getByRole('heading', { name: org })).toBeVisible();
  await expect(card).toContainText(domain);
  await expect(card.getByTestId('users-count')).toHaveText('1 Users');
  await expect(card.getByTestId('workspaces-count')).toHaveText('0 Workspaces');
  await checkA11y(page, 'after registration: one card');

  const newOrg = page.getByRole('button', { name: 'New Organization' });
  await expect(newOrg).toBeDisabled();
  await expect(page.getByRole('tooltip')).toHaveText(/created automatically at registration and SSO sign-in/);

  // Filtering happens in the browser, so it only works once hydrated.
  await hydrated(page);
  const search = page.getByRole('searchbox', { name: 'Search organizations' });
  await search.fill('no-such-organization');
  await expect(page.getByTestId('org-card')).toHaveCount(0);
  await expect(page.getByTestId('empty-state')).toContainText('No matches');
  await checkA11y(page, 'search without matches: empty state');
  await search.fill(slug.toUpperCase());
  await expect(page.getByTestId('org-card')).toHaveCount(1);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/organizations');
  await expect(page).toHaveURL(/\/login$/);
  await checkA11y(page, 'signed out: sent to sign-in');
});

test('the platform admin sees every organization and search narrows the grid', async ({ page, request }) => {
  const a = unique('alpha');
  const b = unique('beta');
  for (const [name, slug] of [[`Alpha ${a}`, a], [`Beta ${b}`, b]]) {
    await registerViaApi(request, { email: `owner@${slug}.test`, name: 'Owner', organization: name });
  }

  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(adminEmail);
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  await expect(page.getByTestId('org-card').filter({ hasText: `Alpha ${a}` })).toHaveCount(1);
  await expect(page.getByTestId('org-card').filter({ hasText: `Beta ${b}` })).toHaveCount(1);
  await expect(page.getByTestId('org-card').filter({ hasText: 'Default Organization' })).toHaveCount(1);
  await checkA11y(page, 'platform admin: every organization');

  await hydrated(page);
  await page.getByRole('searchbox', { name: 'Search organizations' }).fill(b);
  await expect(page.getByTestId('org-card')).toHaveCount(1);
  await expect(page.getByTestId('org-card')).toContainText(`Beta ${b}`);
  await checkA11y(page, 'platform admin: search narrowed to one');
});

test('a refused registration explains itself and keeps what was typed', async ({ page, allowHttpStatus }) => {
  allowHttpStatus(400);
  const slug = unique('keep');
  await submitRegistration(page, { name: 'Kim', email: `kim@${slug}.test`, organization: `Keep ${slug}`, password: 'short' });
  await expect(page.getByText('Password must be at least 12 characters.')).toBeVisible();
  await expect(page).toHaveURL(/\/register$/);
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Kim');
  await expect(page.getByLabel('Work email')).toHaveValue(`kim@${slug}.test`);
  await expect(page.getByLabel('Organization (optional)')).toHaveValue(`Keep ${slug}`);
  await checkA11y(page, 'refused registration: password error shown');
});

test('a wrong password is refused without saying which part was wrong', async ({ page, allowHttpStatus }) => {
  allowHttpStatus(401);
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(adminEmail);
  await page.getByLabel('Password').fill('definitely-not-the-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await expect(page).toHaveURL(/\/login$/);
  await checkA11y(page, 'wrong password: error shown');
});
