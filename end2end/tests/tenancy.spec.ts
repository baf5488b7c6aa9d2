import { Browser, Page } from '@playwright/test';
import { test, expect, unique, hydrated, registerViaForm, checkA11y, passesThrough, PASSWORD } from './fixtures';

async function openOrg(page: Page, name: string) {
  await page.goto('/organizations');
  await hydrated(page, 'organization cards');
  await page.getByTestId('org-card').filter({ hasText: name }).click();
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await hydrated(page);
}

async function acceptInvitation(browser: Browser, link: string, name: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(new URL(link).pathname);
  await hydrated(page);
  await expect(page.getByTestId('invite-summary')).toBeVisible();
  await checkA11y(page, 'invitation summary and join form');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Join organization' }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  await checkA11y(page, 'joined through an invitation');
  return { context, page };
}

test('an admin invites a user, who joins; the admin removes them and their session dies', async ({ page, browser }) => {
  const slug = unique('team');
  const org = `Team ${slug}`;
  await registerViaForm(page, { name: 'Olga Owner', email: `olga@${slug}.test`, organization: org });
  await expect(page).toHaveURL(/\/organizations$/);

  // Invite someone from another domain: invitations ignore the domain rule.
  await openOrg(page, org);
  await checkA11y(page, 'overview tab, as org admin');
  await page.getByRole('tab', { name: 'Invitations' }).click();
  await expect(page.getByLabel('Email to invite')).toBeVisible();
  await checkA11y(page, 'invitations tab: none pending');
  const invitee = `ivan@elsewhere-${slug}.test`;
  await page.getByLabel('Email to invite').fill(invitee);
  await page.getByRole('button', { name: 'Invite' }).click();
  const link = await page.getByLabel('Invitation link').inputValue();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await expect(page.getByTestId('invitation-row').filter({ hasText: invitee })).toHaveCount(1);
  await checkA11y(page, 'invitations tab: link shown, one pending');

  // The invitee accepts and lands in the console of that organization.
  const ivan = await acceptInvitation(browser, link, 'Ivan Invitee');
  const ivanCard = ivan.page.getByTestId('org-card').filter({ hasText: org });
  await expect(ivanCard.getByTestId('users-count')).toHaveText('2 Users');

  // The admin sees them among the members, and the count on the card.
  await openOrg(page, org);
  await page.getByRole('tab', { name: 'Members' }).click();
  await expect(page.locator(`[data-testid=member-row][data-email="${invitee}"]`)).toHaveCount(1);
  await checkA11y(page, 'members tab: two members');
  await page.goto('/organizations');
  await expect(page.getByTestId('org-card').filter({ hasText: org }).getByTestId('users-count')).toHaveText('2 Users');

  // Removal, confirmed in a dialog, ends the invitee's access at once.
  await openOrg(page, org);
  await page.getByRole('tab', { name: 'Members' }).click();
  page.once('dialog', (d) => d.accept());
  await page.locator(`[data-testid=member-row][data-email="${invitee}"]`).getByRole('button', { name: 'Remove' }).click();
  await expect(page.locator(`[data-testid=member-row][data-email="${invitee}"]`)).toHaveCount(0);
  await expect(page.getByTestId('toast').filter({ hasText: 'Member removed.' })).toBeVisible();
  await checkA11y(page, 'members tab: member removed, toast shown');

  passesThrough('/account', 'the removed member is sent on to /login at once');
  await ivan.page.getByRole('link', { name: 'Account' }).click();
  await expect(ivan.page).toHaveURL(/\/login$/);
  await checkA11y(ivan.page, 'removed member sent to sign-in');
  await ivan.context.close();

  await page.goto('/organizations');
  await expect(page.getByTestId('org-card').filter({ hasText: org }).getByTestId('users-count')).toHaveText('1 Users');
});

test('an org admin edits the settings; platform-only fields are read-only to them', async ({ page }) => {
  const slug = unique('set');
  const org = `Settings ${slug}`;
  await registerViaForm(page, { name: 'Sam', email: `sam@${slug}.test`, organization: org });
  await expect(page).toHaveURL(/\/organizations$/);
  await openOrg(page, org);
  await page.getByRole('tab', { name: 'Settings' }).click();
  await expect(page.getByText('set by the platform admins')).toBeVisible();
  await checkA11y(page, 'settings tab, as org admin');
  await page.getByLabel('Name').fill(`${org} Renamed`);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Settings saved.' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`${org} Renamed`);
  await checkA11y(page, 'settings saved: toast shown');
});
