import { Locator, Page } from '@playwright/test';
import { test, expect, unique, hydrated, checkA11y, registerViaApi, registerFounderViaApi, PASSWORD } from './fixtures';
import { adminEmail, adminPassword } from '../playwright.config';

// The main flows by keyboard alone: no click, no fill, no selectOption; only
// page.keyboard (Tab, Shift+Tab, Enter, Space, arrow keys, Home/End, Escape).
// Every stop Tab makes must show where focus is (a visible focus ring), and
// focus must land where a keyboard user expects it:
//
// - Tabs follow the ARIA tabs pattern with automatic activation: one Tab
//   stop for the tab list (the selected tab), Left/Right move to and select
//   the previous/next tab (wrapping), Home/End the first/last; the tab panel
//   is labelled by its tab and Tab goes on into it.
// - Dialogs (the native <dialog> of src/components/dialog.rs) are modal:
//   focus moves to the first control when one opens, Tab and Shift+Tab wrap
//   inside it, Escape closes it and focus returns to the control that
//   opened it. Removing a member asks with the browser's own confirm(),
//   which the browser makes keyboard-operable; the test answers it and
//   checks where focus is afterwards.
// - After an action the list re-renders; focus stays on the control that
//   acted (it is not dropped to <body>).

/** What has focus now, in words, for failure messages. */
async function describeFocus(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return '<body>';
    const name = el.getAttribute('aria-label') ?? el.textContent?.trim().replace(/\s+/g, ' ').slice(0, 50) ?? '';
    const role = el.getAttribute('role');
    return `<${el.tagName.toLowerCase()}${role ? ` role=${role}` : ''}${el.id ? ` id=${el.id}` : ''}> "${name}"`;
  });
}

/** Focus is on a visible element that matches :focus-visible and draws an
 *  indicator (an outline of at least 1px, or a ring drawn as box-shadow). */
async function expectVisibleFocus(page: Page) {
  const state = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { ok: false, why: 'focus is on <body>' };
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
    const ring = style.boxShadow !== 'none' && style.boxShadow !== '';
    if (box.width === 0 || box.height === 0) return { ok: false, why: 'the focused element has no size' };
    if (!el.matches(':focus-visible')) return { ok: false, why: 'the focused element does not match :focus-visible' };
    if (!outline && !ring) return { ok: false, why: `no focus indicator (outline: ${style.outline}; box-shadow: ${style.boxShadow})` };
    return { ok: true, why: '' };
  });
  expect(state.ok, `visible focus on ${await describeFocus(page)}: ${state.why}`).toBe(true);
}

async function isFocused(target: Locator): Promise<boolean> {
  // No waiting: a target that is not on the page is simply not focused.
  return target.evaluateAll((els) => els.some((el) => el === document.activeElement));
}

/** Presses Tab (or Shift+Tab) until `target` has focus (if it has not
 *  already), at most `max` times; every stop on the way must show visible
 *  focus. */
async function tabTo(page: Page, target: Locator, opts: { max?: number; back?: boolean } = {}) {
  if (await isFocused(target)) return;
  const stops: string[] = [];
  for (let i = 0; i < (opts.max ?? 12); i++) {
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
    stops.push(await describeFocus(page));
    await expectVisibleFocus(page);
    if (await isFocused(target)) return;
  }
  throw new Error(`${opts.back ? 'Shift+Tab' : 'Tab'} never reached ${target}; stops: ${stops.join(' → ')}`);
}

/** `target` has focus, visibly. */
async function expectFocus(page: Page, target: Locator) {
  await expect(target, `focus should be here, is on ${await describeFocus(page)}`).toBeFocused();
  await expectVisibleFocus(page);
}

/** Focus is inside `container`. */
async function expectFocusWithin(page: Page, container: Locator) {
  const inside = await container.evaluate((c) => c.contains(document.activeElement) && c !== document.activeElement);
  expect(inside, `focus should be inside the dialog, is on ${await describeFocus(page)}`).toBe(true);
}

/** Signs in on /login with the keyboard: Tab to the email field, Tab to
 *  the password and the button, Shift+Tab back, Enter in the field. */
async function signInByKeyboard(page: Page, email: string, password: string) {
  await page.goto('/login');
  await hydrated(page);
  const emailField = page.getByLabel('Email');
  const passwordField = page.getByLabel('Password');
  const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
  await tabTo(page, emailField, { max: 6 });
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await expectFocus(page, passwordField);
  await page.keyboard.type(password);
  await page.keyboard.press('Tab');
  await expectFocus(page, signIn);
  await page.keyboard.press('Shift+Tab');
  await expectFocus(page, passwordField);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/organizations$/);
  await hydrated(page, 'signed in by keyboard');
}

/** From /organizations: narrows the grid with the search box (typing
 *  filters at once), then Tab to the organization's card and Enter. */
async function openOrgByKeyboard(page: Page, org: string, search: string) {
  await tabTo(page, page.getByRole('searchbox', { name: 'Search organizations' }), { max: 12 });
  await page.keyboard.type(search);
  await expect(page.getByTestId('org-card')).toHaveCount(1);
  await tabTo(page, page.getByRole('listitem').filter({ hasText: org }).getByRole('link'), { max: 4 });
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(org);
  await checkA11y(page, 'overview, opened by keyboard');
}

const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true });
const panel = (page: Page, name: string) => page.getByRole('tabpanel', { name, exact: true });

/** `name` is the selected tab, the only one in the Tab order, and its panel shows. */
async function expectSelectedTab(page: Page, name: string, all: string[]) {
  for (const other of all) {
    await expect(tab(page, other)).toHaveAttribute('aria-selected', other === name ? 'true' : 'false');
    await expect(tab(page, other)).toHaveAttribute('tabindex', other === name ? '0' : '-1');
  }
  await expect(panel(page, name)).toBeVisible();
}

const TABS = ['Overview', 'Members', 'Invitations', 'Workspaces', 'Domains', 'Settings'];

test('keyboard only: sign in, open an organization, switch tabs, change a role, invite a member', async ({
  page,
  request,
  allowHttpStatus,
}) => {
  allowHttpStatus(400); // the invalid invitation email, on purpose
  // Set-up through the API (not what this test is about): an organization
  // with its admin, and a second member who joins by the email domain.
  const slug = unique('keys');
  const domain = `${slug}.test`;
  const org = `Keys ${slug}`;
  const admin = `kate@${domain}`;
  const member = `milo@${domain}`;
  // Only a verified domain places people: the admin proves it first.
  await registerFounderViaApi(request, { email: admin, password: PASSWORD, name: 'Kate Keys', organization: org });
  await registerViaApi(request, { email: member, password: PASSWORD, name: 'Milo Member' });

  // 1. Sign in, 2. open the organization.
  await signInByKeyboard(page, admin, PASSWORD);
  await openOrgByKeyboard(page, org, slug);

  // 3. The tabs: one Tab stop, arrows select (wrapping), Home/End.
  await expect(page.getByRole('tablist')).toBeVisible();
  await tabTo(page, tab(page, 'Overview'), { max: 12 });
  await expectSelectedTab(page, 'Overview', TABS);
  await page.keyboard.press('ArrowLeft');
  await expectFocus(page, tab(page, 'Settings'));
  await expectSelectedTab(page, 'Settings', TABS);
  await page.keyboard.press('Home');
  await expectFocus(page, tab(page, 'Overview'));
  await page.keyboard.press('End');
  await expectFocus(page, tab(page, 'Settings'));
  await page.keyboard.press('ArrowRight');
  await expectFocus(page, tab(page, 'Overview'));
  await page.keyboard.press('ArrowRight');
  await expectFocus(page, tab(page, 'Members'));
  await expectSelectedTab(page, 'Members', TABS);
  const memberRow = page.locator(`[data-testid=member-row][data-email="${member}"]`);
  await expect(memberRow).toHaveCount(1);
  await checkA11y(page, 'members tab, by keyboard');

  // 4. Change the member's role: Tab goes on into the panel, to the role
  //    select; ArrowDown on a closed select picks the next option (User ->
  //    Organization admin), which is saved.
  const role = page.getByRole('combobox', { name: `Role of ${member}` });
  await tabTo(page, role, { max: 8 });
  await expect(role).toHaveValue('user');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('status').filter({ hasText: 'Role changed.' })).toBeVisible();
  await expect(role).toHaveValue('org_admin');
  // The list reloads after the change; focus stays on the same select.
  await expectFocus(page, role);
  await checkA11y(page, 'members tab: role changed, toast shown');

  // Removing asks first (the browser's confirm()). Space on "Remove" asks;
  // the answer "no" removes nobody and leaves focus on "Remove".
  const remove = memberRow.getByRole('button', { name: 'Remove' });
  await tabTo(page, remove, { max: 4 });
  const asked = new Promise<string>((resolve) => page.once('dialog', (d) => { resolve(d.message()); void d.dismiss(); }));
  await page.keyboard.press('Space');
  expect(await asked).toBe(`Remove ${member}? Their access ends at once.`);
  await expectFocus(page, remove);
  await expect(memberRow).toHaveCount(1);

  // 5. Invite a member: Shift+Tab back to the tab list, ArrowRight to
  //    Invitations, Tab into the form. A wrong email is refused with the
  //    message tied to the field; the right one makes a link.
  await tabTo(page, tab(page, 'Members'), { back: true, max: 12 });
  await page.keyboard.press('ArrowRight');
  await expectFocus(page, tab(page, 'Invitations'));
  await expectSelectedTab(page, 'Invitations', TABS);
  const inviteEmail = page.getByLabel('Email to invite');
  await tabTo(page, inviteEmail, { max: 3 });
  await page.keyboard.type('not-an-email');
  await page.keyboard.press('Enter');
  await expect(inviteEmail).toHaveAttribute('aria-invalid', 'true');
  await expect(inviteEmail).toHaveAccessibleDescription('Email must look like name@example.com.');
  await expectFocus(page, inviteEmail);
  await checkA11y(page, 'invitations tab: email error shown');
  const invitee = `nina@elsewhere-${slug}.test`;
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(invitee);
  await page.keyboard.press('Tab');
  const inviteRole = page.getByRole('combobox', { name: 'Role', exact: true });
  await expectFocus(page, inviteRole);
  await page.keyboard.press('ArrowDown');
  await expect(inviteRole).toHaveValue('org_admin');
  // Then the switch for showing the link (ticked: the link is shown below).
  await page.keyboard.press('Tab');
  const showLink = page.getByRole('checkbox', { name: /^Also show me the link to copy/ });
  await expectFocus(page, showLink);
  await expect(showLink).toBeChecked();
  await page.keyboard.press('Tab');
  const invite = page.getByRole('button', { name: 'Invite', exact: true });
  await expectFocus(page, invite);
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Invitation link')).toHaveValue(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await expect(page.getByTestId('invitation-row').filter({ hasText: invitee })).toContainText('Organization admin');
  await expect(inviteEmail).toHaveAttribute('aria-invalid', 'false');
  // Focus stays on "Invite" (it is not dropped to <body> while the form is
  // busy). Soft, so the steps after it are still walked and reported.
  expect.soft(await describeFocus(page), 'focus after inviting stays on "Invite"').toBe('<button> "Invite"');
  await checkA11y(page, 'invitations tab: link shown');
  // The new link and its Copy button follow in the Tab order.
  await tabTo(page, page.getByLabel('Invitation link'), { max: 3 });
  await page.keyboard.press('Tab');
  await expectFocus(page, page.getByRole('button', { name: 'Copy' }));
});

test('keyboard only: a dialog takes focus, keeps it, closes on Escape and gives focus back', async ({ page, request }) => {
  const slug = unique('dlg');
  const org = `Dialog ${slug}`;
  await registerViaApi(request, { email: `dana@${slug}.test`, name: 'Dana', organization: org });

  // Suspending is the platform admin's; the organization is not the default one.
  await signInByKeyboard(page, adminEmail, adminPassword);

  // On a freshly loaded console page the first Tab stop is "Skip to
  // content", shown when focused; Enter moves focus to the main region, and
  // the next Tab stop is inside it.
  await page.goto('/organizations');
  await hydrated(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expectFocus(page, skip);
  const skipBox = await skip.boundingBox();
  expect(skipBox && skipBox.width > 20 && skipBox.height > 10, 'the focused skip link is visible').toBe(true);
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => !!document.activeElement?.closest('main')), `Tab after the skip link lands in <main>, not on ${await describeFocus(page)}`).toBe(true);
  await expectVisibleFocus(page);
  await openOrgByKeyboard(page, org, slug);
  await tabTo(page, tab(page, 'Overview'), { max: 12 });
  await page.keyboard.press('End');
  await expectFocus(page, tab(page, 'Settings'));
  await expectSelectedTab(page, 'Settings', TABS);
  await checkA11y(page, 'settings tab, as platform admin');

  const suspend = page.getByRole('button', { name: 'Suspend organization' });
  await tabTo(page, suspend, { max: 12 });
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAccessibleName(`Suspend ${org}?`);
  await expect(dialog).toHaveAccessibleDescription(/Every member is signed out at once/);
  const cancel = dialog.getByRole('button', { name: 'Cancel' });
  const confirm = dialog.getByRole('button', { name: 'Suspend', exact: true });
  // Focus moves to the dialog's first control; Tab and Shift+Tab wrap inside.
  await expectFocus(page, cancel);
  await checkA11y(page, 'settings tab: suspend dialog open');
  await page.keyboard.press('Tab');
  await expectFocus(page, confirm);
  await page.keyboard.press('Tab');
  await expectFocus(page, cancel);
  await page.keyboard.press('Shift+Tab');
  await expectFocus(page, confirm);
  await page.keyboard.press('Shift+Tab');
  await expectFocus(page, cancel);
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    await expectFocusWithin(page, dialog);
    await expectVisibleFocus(page);
  }
  // Escape closes it, nothing happens, focus is back on the opener.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expectFocus(page, suspend);
  await expect(page.getByText('Active.', { exact: true })).toBeVisible();

  // Space opens it again; Enter on Cancel closes it the same way.
  await page.keyboard.press('Space');
  await expect(dialog).toBeVisible();
  await expectFocus(page, cancel);
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expectFocus(page, suspend);
  await expect(page.getByText('Active.', { exact: true })).toBeVisible();
});
