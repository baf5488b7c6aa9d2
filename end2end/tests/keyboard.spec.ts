import { Locator, Page } from '@playwright/test';
import { test, expect, unique, hydrated, checkA11y, PASSWORD } from './fixtures';

// The main flows by keyboard alone: no click, no fill, no selectOption; only
// page.keyboard (Tab, Shift+Tab, Enter, Space, arrow keys, Home/End, Escape).
// Every stop Tab makes must show where focus is (a visible focus ring), and
// focus must land where a keyboard user expects it:
//
// - Tabs follow the ARIA tabs pattern: one Tab stop for the tab list (the
//   selected tab), arrow keys move between tabs (wrapping), Home/End jump to
//   the first/last, the tab panel is labelled by its tab.
// - Dialogs are modal: focus moves into the dialog when it opens, Tab and
//   Shift+Tab stay inside it, Escape closes it and focus returns to the
//   control that opened it.
// - After an action the page re-renders, focus stays on the control that
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
  return target.evaluate((el) => el === document.activeElement).catch(() => false);
}

/** Presses Tab (or Shift+Tab) until `target` has focus, at most `max`
 *  times; every stop on the way must show visible focus. */
async function tabTo(page: Page, target: Locator, opts: { max?: number; back?: boolean } = {}) {
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

test('keyboard only: sign in, open an organization, switch tabs, invite a member, change a role, close a dialog', async ({
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
  for (const data of [
    { email: admin, password: PASSWORD, name: 'Kate Keys', organization: org },
    { email: member, password: PASSWORD, name: 'Milo Member' },
  ]) {
    const res = await request.post('/api/auth/register', { data });
    expect(res.status(), await res.text()).toBe(201);
  }

  // 1. Sign in. From the top of the page Tab reaches the email field; Tab
  //    goes on to the password and the button, Shift+Tab comes back, Enter
  //    in a field submits the form.
  await page.goto('/login');
  await hydrated(page);
  const email = page.getByLabel('Email');
  const password = page.getByLabel('Password');
  const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
  await tabTo(page, email, { max: 6 });
  await page.keyboard.type(admin);
  await page.keyboard.press('Tab');
  await expectFocus(page, password);
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Tab');
  await expectFocus(page, signIn);
  await page.keyboard.press('Shift+Tab');
  await expectFocus(page, password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/organizations$/);
  await hydrated(page, 'signed in by keyboard');

  // 2. Open the organization: its card is a link; Enter follows it.
  const card = page.getByRole('link', { name: org });
  await tabTo(page, card, { max: 15 });
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(org);
  await checkA11y(page, 'overview, opened by keyboard');

  // 3. The tabs: one Tab stop, arrows between tabs (wrapping), Home/End.
  const tab = (name: string) => page.getByRole('tab', { name, exact: true });
  const panel = (name: string) => page.getByRole('tabpanel', { name, exact: true });
  await expect(page.getByRole('tablist')).toBeVisible();
  await tabTo(page, tab('Overview'), { max: 12 });
  await expect(tab('Overview')).toHaveAttribute('aria-selected', 'true');
  for (const other of ['Members', 'Invitations', 'Settings']) {
    // Roving tabindex: only the selected tab is in the Tab sequence.
    await expect(tab(other)).toHaveAttribute('tabindex', '-1');
  }
  await expect(panel('Overview')).toBeVisible();
  await page.keyboard.press('ArrowLeft');
  await expectFocus(page, tab('Settings'));
  await page.keyboard.press('Home');
  await expectFocus(page, tab('Overview'));
  await page.keyboard.press('End');
  await expectFocus(page, tab('Settings'));
  await page.keyboard.press('ArrowRight');
  await expectFocus(page, tab('Overview'));
  await page.keyboard.press('ArrowRight');
  await expectFocus(page, tab('Members'));
  // Enter activates the focused tab (with automatic activation it is
  // already selected; Enter must then keep it so).
  await page.keyboard.press('Enter');
  await expect(tab('Members')).toHaveAttribute('aria-selected', 'true');
  await expect(tab('Members')).toHaveAttribute('tabindex', '0');
  await expect(tab('Overview')).toHaveAttribute('aria-selected', 'false');
  await expect(tab('Overview')).toHaveAttribute('tabindex', '-1');
  await expect(panel('Members')).toBeVisible();
  const memberRow = page.locator(`[data-testid=member-row][data-email="${member}"]`);
  await expect(memberRow).toHaveCount(1);
  await expectFocus(page, tab('Members'));
  await checkA11y(page, 'members tab, by keyboard');

  // 4. Change the member's role: Tab into the panel to the role select;
  //    ArrowDown on a closed select picks the next option (User ->
  //    Organization admin) and the change is saved.
  const role = page.getByRole('combobox', { name: `Role of ${member}` });
  await tabTo(page, role, { max: 8 });
  await expect(role).toHaveValue('user');
  await page.keyboard.press('ArrowDown');
  await expect(role).toHaveValue('org_admin');
  await expect(page.getByRole('status').filter({ hasText: 'Role changed.' })).toBeVisible();
  // The list reloads after the change; focus stays on the same select.
  await expectFocus(page, role);
  await checkA11y(page, 'members tab: role changed, toast shown');

  // 5. A dialog: Space on "Remove" opens the confirmation, focus moves in,
  //    Tab and Shift+Tab stay inside, Escape closes it without removing,
  //    and focus returns to "Remove".
  const remove = memberRow.getByRole('button', { name: /^Remove/ });
  await tabTo(page, remove, { max: 4 });
  await page.keyboard.press('Space');
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAccessibleName(/remove/i);
  await expectFocusWithin(page, dialog);
  await expectVisibleFocus(page);
  await checkA11y(page, 'members tab: remove dialog open');
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Tab');
    await expectFocusWithin(page, dialog);
    await expectVisibleFocus(page);
  }
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Shift+Tab');
    await expectFocusWithin(page, dialog);
    await expectVisibleFocus(page);
  }
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expectFocus(page, remove);
  await expect(memberRow).toHaveCount(1);

  // 6. Invite a member: Shift+Tab back to the tab list, ArrowRight to
  //    Invitations, Tab into the form. A wrong email is refused with the
  //    message tied to the field; the right one makes a link.
  await tabTo(page, tab('Members'), { back: true, max: 12 });
  await page.keyboard.press('ArrowRight');
  await expectFocus(page, tab('Invitations'));
  await page.keyboard.press('Enter');
  await expect(tab('Invitations')).toHaveAttribute('aria-selected', 'true');
  await expect(panel('Invitations')).toBeVisible();
  const inviteEmail = page.getByLabel('Email to invite');
  await tabTo(page, inviteEmail, { max: 3 });
  await page.keyboard.type('not-an-email');
  await page.keyboard.press('Enter');
  await expect(inviteEmail).toHaveAttribute('aria-invalid', 'true');
  await expect(inviteEmail).toHaveAccessibleDescription(/Email must look like name@example\.com\./);
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
  await page.keyboard.press('Tab');
  const invite = page.getByRole('button', { name: 'Invite', exact: true });
  await expectFocus(page, invite);
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Invitation link')).toHaveValue(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await expect(page.getByTestId('invitation-row').filter({ hasText: invitee })).toContainText('Organization admin');
  await expect(inviteEmail).toHaveAttribute('aria-invalid', 'false');
  // Focus is not dropped to <body> while the form was busy.
  expect(await describeFocus(page), 'focus after inviting').not.toBe('<body>');
  await checkA11y(page, 'invitations tab: link shown');
  // The link's Copy button is the next stop after the link itself.
  await tabTo(page, page.getByRole('button', { name: 'Copy' }), { max: 6 });
});
