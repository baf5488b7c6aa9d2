import { Page } from '@playwright/test';
import { test, expect, unique, hydrated, checkA11y, registerViaForm, publishTxt, withdrawTxt } from './fixtures';

// Issue 10, section 2: an organization proves its domain with a DNS TXT
// record, and only then do people who register at that domain join it.
// Everything goes through real servers `make e2e` started: the mail over
// SMTP (smtp/sink.mjs), the lookup over DNS (dns/server.mjs), where these
// tests publish the record the page shows.

/** Opens the organization `name` from the list, then its Domains tab. */
async function openDomains(page: Page, name: string) {
  await page.goto('/organizations');
  await hydrated(page, 'organization cards');
  await page.getByTestId('org-card').filter({ hasText: name }).click();
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await hydrated(page);
  await page.getByRole('tab', { name: 'Domains', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Domains', level: 2 })).toBeVisible();
}

/** The row of `domain` in the Domains tab. */
const row = (page: Page, domain: string) => page.locator(`[data-testid=domain-row][data-domain="${domain}"]`);

/** The TXT name and value the row shows, checked for their shape. */
async function txtRecord(page: Page, domain: string): Promise<{ name: string; value: string }> {
  const r = row(page, domain);
  const name = await r.getByLabel('TXT name').inputValue();
  const value = await r.getByLabel('TXT value').inputValue();
  expect(name).toBe(`_neosc-challenge.${domain}`);
  expect(value).toMatch(/^neosc-verify=[A-Za-z0-9_-]{20,}$/);
  return { name, value };
}

test('register → mail → link lands in the new organization; its admin proves the domain through DNS, and a colleague who registers at it joins automatically', async ({
  page,
  context,
  browser,
}) => {
  const slug = unique('dns');
  const domain = `${slug}.test`;
  const org = `Dns ${slug}`;

  // The founder: the form, the mail at the SMTP sink, its link, signed in
  // on /organizations in the organization they founded.
  await registerViaForm(page, { name: 'Dora Domain', email: `dora@${domain}`, organization: org });
  const card = page.getByTestId('org-card');
  await expect(card).toHaveCount(1);
  await expect(card.getByRole('heading', { name: org })).toBeVisible();
  await expect(card.getByTestId('users-count')).toHaveText('1 Users');

  // The Domains tab: the founder's domain, primary, not yet verified, with
  // the record to publish.
  await openDomains(page, org);
  await expect(page.getByText('Publish this TXT record at your DNS provider, then Verify.')).toBeVisible();
  const r = row(page, domain);
  await expect(r.getByTestId('domain-status')).toHaveText('Unverified');
  await expect(r.getByText('Primary', { exact: true })).toBeVisible();
  await expect(r.getByRole('button', { name: `Remove ${domain}` })).toHaveCount(0);
  const txt = await txtRecord(page, domain);
  await checkA11y(page, 'domains tab: unverified domain with its TXT record');

  // Copy puts the value on the clipboard.
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await r.getByRole('button', { name: `Copy TXT value of ${domain}` }).click();
  await expect(r.getByRole('button', { name: `Copied TXT value of ${domain}` })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(txt.value);
  await expect(r.getByText('TXT value copied to the clipboard.')).toBeVisible();

  // Published at the DNS server, then Verify: verified through DNS.
  await publishTxt(txt.name, txt.value);
  await r.getByRole('button', { name: `Verify ${domain}` }).click();
  await expect(r.getByTestId('domain-status')).toHaveText('Verified via DNS TXT record');
  await expect(page.getByTestId('toast').filter({ hasText: `${domain} is verified.` })).toBeVisible();
  await expect(r.getByLabel('TXT value')).toHaveCount(0);
  await expect(r.getByRole('button', { name: `Verify ${domain}` })).toHaveCount(0);
  // Focus stays in the row (on its name), not on the page.
  await expect(r.getByRole('heading', { name: domain })).toBeFocused();
  await checkA11y(page, 'domains tab: domain verified');
  // Verified is kept: the record may go.
  await withdrawTxt(txt.name);

  // A colleague registers at the domain without naming an organization:
  // the mail, the link, and they land in the founder's organization.
  const other = await browser.newContext();
  const second = await other.newPage();
  await registerViaForm(second, { name: 'Vic Colleague', email: `vic@${domain}` });
  const theirs = second.getByTestId('org-card');
  await expect(theirs).toHaveCount(1);
  await expect(theirs.getByRole('heading', { name: org })).toBeVisible();
  await expect(theirs.getByTestId('users-count')).toHaveText('2 Users');
  await checkA11y(second, 'confirmed: joined by the verified domain');
  await other.close();
});

test('Verify with nothing published says what DNS returned; a wrong value too; then the right one verifies. Domains are added and removed', async ({
  page,
  allowHttpStatus,
}) => {
  allowHttpStatus(422); // the failed checks, on purpose
  allowHttpStatus(400); // the invalid domain, on purpose
  const slug = unique('nx');
  const domain = `${slug}.test`;
  const org = `Nx ${slug}`;
  await registerViaForm(page, { name: 'Nils Nx', email: `nils@${domain}`, organization: org });
  await openDomains(page, org);
  const r = row(page, domain);
  const txt = await txtRecord(page, domain);

  // Nothing published: NXDOMAIN, in words, in an alert of the row; focus
  // stays on Verify, to try again.
  const verify = r.getByRole('button', { name: `Verify ${domain}` });
  await verify.click();
  const alert = r.getByRole('alert');
  await expect(alert).toContainText(`${txt.name} does not exist in DNS (NXDOMAIN)`);
  await expect(alert).toContainText(`Publish TXT "${txt.value}" there`);
  await expect(r.getByTestId('domain-status')).toHaveText('Unverified');
  await expect(verify).toBeFocused();
  await expect(verify).toHaveText(new RegExp(`^Verify`));
  await checkA11y(page, 'domains tab: verification failed, DNS message shown');

  // Someone else's value: the page says which value it found.
  await publishTxt(txt.name, 'neosc-verify=not-this-organizations-token');
  await verify.click();
  await expect(alert).toContainText(`The TXT record at ${txt.name} has the wrong value: found "neosc-verify=not-this-organizations-token"`);

  // The right value, by keyboard: verified, the alert gone.
  await publishTxt(txt.name, 'v=spf1 -all', txt.value);
  await verify.focus();
  await page.keyboard.press('Enter');
  await expect(r.getByTestId('domain-status')).toHaveText('Verified via DNS TXT record');
  await expect(r.getByRole('alert')).toHaveCount(0);

  // Adding: an invalid name is refused inline; a valid one is listed,
  // unverified, with its own record, and can be removed.
  const field = page.getByLabel('Domain to add');
  await field.fill('not a domain');
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#field-domain-error')).toBeVisible();
  await checkA11y(page, 'domains tab: add form with an error');
  const extra = `mail.${domain}`;
  await field.fill(extra);
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(row(page, extra).getByTestId('domain-status')).toHaveText('Unverified');
  await expect(field).toHaveValue('');
  await expect(field).toHaveAttribute('aria-invalid', 'false');
  await txtRecord(page, extra);
  await checkA11y(page, 'domains tab: a second, unverified domain');
  page.once('dialog', (dialog) => dialog.accept());
  await row(page, extra).getByRole('button', { name: `Remove ${extra}` }).click();
  await expect(row(page, extra)).toHaveCount(0);
  await expect(page.getByTestId('toast').filter({ hasText: 'Domain removed.' })).toBeVisible();
});
