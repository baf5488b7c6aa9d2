import { test, expect, unique, hydrated, checkA11y, submitRegistration, mailsTo, verificationLink, registerViaForm, verifyDomainViaApi, PASSWORD } from './fixtures';

// Issue 10, section 1: registration proves the mailbox. The mail goes over
// SMTP to the sink `make e2e` started (smtp/sink.mjs); nothing here is
// read from the server's database or log.

test('register → the mail arrives at the SMTP server → the link lands on /organizations in the right organization', async ({
  page,
  baseURL,
  allowHttpStatus,
}) => {
  allowHttpStatus(404); // the used link, opened again on purpose
  const slug = unique('mail');
  const org = `Mail ${slug}`;
  const email = `mia@${slug}.test`;

  await submitRegistration(page, { name: 'Mia Mail', email, organization: org });
  await expect(page).toHaveURL(/\/verify-email\?email=/);
  await expect(page.getByRole('heading', { name: 'Check your inbox' })).toBeVisible();
  await expect(page.getByTestId('check-inbox')).toContainText(`We sent a confirmation link to ${email}.`);
  await hydrated(page, 'check your inbox');
  await page.getByText('No mail? Send the link again').click();
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await checkA11y(page, 'check your inbox: resend form open');

  // Exactly one mail, from the configured sender, to the address, with
  // the link in both parts, pointing at NeoSC's public URL.
  const mails = await mailsTo(email);
  expect(mails).toHaveLength(1);
  const [mail] = mails;
  expect(mail.to).toEqual([email]);
  expect(mail.from).toBe('no-reply@neosc.test');
  expect(mail.subject).toBe('Confirm your email address for NeoSC');
  expect(mail.text).toContain('Hello Mia Mail');
  const link = verificationLink(mail);
  expect(link.startsWith(`${baseURL}/verify-email/`), link).toBe(true);

  // Until the link is used there is no account: signing in shows only
  // "check your inbox".
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/verify-email\?email=/);
  await expect(page.getByRole('heading', { name: 'Check your inbox' })).toBeVisible();
  await checkA11y(page, 'signed in before confirming: check your inbox');

  // Opening the link does nothing by itself (mail scanners fetch links);
  // the button creates the account and signs in.
  await page.goto(new URL(link).pathname);
  await hydrated(page, 'confirm your email');
  await expect(page.getByRole('heading', { name: 'Confirm your email' })).toBeVisible();
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  const cards = page.getByTestId('org-card');
  await expect(cards).toHaveCount(1);
  await expect(cards.getByRole('heading', { name: org })).toBeVisible();
  await expect(cards).toContainText(`${slug}.test`);
  await expect(cards.getByTestId('users-count')).toHaveText('1 Users');
  await checkA11y(page, 'confirmed: signed in, own organization');

  // The link works once.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(new URL(link).pathname);
  await hydrated(page, 'confirm your email, link already used');
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page).toHaveURL(/\/verify-email\//);
  await checkA11y(page, 'used link: error shown');
});

test('a registrant without an organization is placed, when confirming, in the organization of their verified email domain', async ({
  page,
  browser,
}) => {
  const slug = unique('place');
  const org = `Place ${slug}`;
  await registerViaForm(page, { name: 'Paula Owner', email: `paula@${slug}.test`, organization: org });
  // Only a verified domain places people: the founder proves it (through
  // the API here; domains.spec.ts does it on the page).
  await verifyDomainViaApi(page.request, `${slug}.test`);

  const other = await browser.newContext();
  const second = await other.newPage();
  await registerViaForm(second, { name: 'Quinn', email: `quinn@${slug}.test` });
  const card = second.getByTestId('org-card');
  await expect(card).toHaveCount(1);
  await expect(card.getByRole('heading', { name: org })).toBeVisible();
  await expect(card.getByTestId('users-count')).toHaveText('2 Users');
  await checkA11y(second, 'confirmed: placed by email domain');
  await other.close();
});
