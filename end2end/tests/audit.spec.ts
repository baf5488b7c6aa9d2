import { readFile } from 'node:fs/promises';
import { test, expect, unique, hydrated, checkA11y, registerViaForm, registerViaApi, verifyDomainViaApi } from './fixtures';

// Issue 13: the audit log as an org admin reads it. Everything is real: the
// removal is a real change, the search goes through the query bar and the
// URL, the export is the streamed CSV the API serves.

test('an org admin removes a member, finds the event by searching, opens it, exports CSV and sees the chain status', async ({
  page,
  request,
}) => {
  const slug = unique('audit');
  const domain = `${slug}.test`;
  const org = `Audit ${slug}`;
  await registerViaForm(page, { name: 'Ada Admin', email: `ada@${domain}`, organization: org });
  await verifyDomainViaApi(page.request, domain);
  await registerViaApi(request, { name: 'Bob Member', email: `bob@${domain}` });

  await page.goto('/organizations');
  await hydrated(page, 'organization cards');
  await page.getByTestId('org-card').filter({ hasText: org }).click();
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await hydrated(page);
  await page.getByRole('tab', { name: 'Members', exact: true }).click();
  const bob = page.locator(`[data-testid=member-row][data-email="bob@${domain}"]`);
  page.once('dialog', (d) => d.accept());
  await bob.getByRole('button', { name: 'Remove' }).click();
  await expect(bob).toHaveCount(0);

  // The audit tab: the chain replays intact; the newest event is the removal.
  await page.getByRole('tab', { name: 'Audit log', exact: true }).click();
  await expect(page.getByTestId('chain-status')).toContainText(/Chain intact\s*verified up to #\d+/);
  await expect(page.getByTestId('audit-row').first()).toContainText(`ada@${domain} removed Bob Member from the organization`);
  await checkA11y(page, 'audit tab: newest events');

  // A search with a qualifier: the URL carries it, one event is found.
  await page.getByLabel('Search events').fill('action:remove_user_from_org');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\/organizations\/org-[^/]+\/audit\?q=action%3Aremove_user_from_org/);
  const rows = page.getByTestId('audit-row');
  await expect(rows).toHaveCount(1);
  const row = rows.first();
  await expect(row).toContainText(`ada@${domain} removed Bob Member from the organization`);
  await row.locator('summary').click();
  const details = row.getByTestId('audit-details');
  await expect(details).toContainText(`bob@${domain}`);
  const hash = (await row.getByTestId('audit-hash').textContent())!.trim();
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  await checkA11y(page, 'audit tab: one event found and opened');

  // A mistake in the query is explained, not a blank page.
  await page.getByLabel('Search events').fill('outcome:maybe');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'success, denied or failure' })).toBeVisible();

  // Export what the first search found, as CSV: the same event, same hash.
  await page.getByLabel('Search events').fill('action:remove_user_from_org');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(rows).toHaveCount(1);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = await readFile((await download.path())!, 'utf8');
  const lines = csv.trim().split(/\r?\n/).filter((l) => !l.startsWith('#'));
  expect(lines[0]).toMatch(/^seq,occurred_at,action,/);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('remove_user_from_org');
  expect(lines[1]).toContain(hash);
});
