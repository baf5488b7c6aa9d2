import { APIRequestContext, Page } from '@playwright/test';
import { test, expect, unique, hydrated, checkA11y, PASSWORD, registerViaApi, verifyDomainViaApi } from './fixtures';
import { adminEmail, adminPassword } from '../playwright.config';

// Workspaces are real containers on the Docker Engine the server is started
// with (NEOSC_WORKSPACE_ENGINE=docker, see playwright.config.ts): "Running"
// below is what the reconciler read back from the engine.

const RUNNING_TIMEOUT = 90_000;

/** Registers through the API, confirming with the mailed link. */
async function register(request: APIRequestContext, data: { email: string; name: string; organization?: string }) {
  const signedIn = await registerViaApi(request, data);
  return signedIn as unknown as { token: string; user: { id: string; organization_id: string } };
}

async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  await checkA11y(page, 'signed in');
}

async function openWorkspaces(page: Page) {
  await page.getByRole('link', { name: 'Workspaces', exact: true }).click();
  await expect(page).toHaveURL(/\/workspaces$/);
  await expect(page.getByRole('heading', { name: 'Workspaces', level: 1 })).toBeVisible();
  await checkA11y(page, 'workspace list');
}

test('an org admin allocates a workspace to a member; it runs, counts against the quota, and stays in its organization', async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(240_000);
  const slug = unique('ws');
  const domain = `${slug}.test`;
  const adminMail = `wanda@${domain}`;
  const memberMail = `milo@${domain}`;
  const admin = await register(request, { email: adminMail, name: 'Wanda Admin', organization: `Workspaces ${slug}` });
  // Only a verified domain places people: the admin proves it, then the member registers.
  await verifyDomainViaApi(request, adminMail.split('@')[1], admin.token);
  await register(request, { email: memberMail, name: 'Milo Member' });
  const orgId = admin.user.organization_id;

  // The platform admin's part, through the REST API: a template on the
  // local busybox image, and quotas with room for one running workspace.
  const login = await request.post('/api/auth/login', { data: { email: adminEmail, password: adminPassword } });
  expect(login.status(), await login.text()).toBe(200);
  const platform = { Authorization: `Bearer ${(await login.json()).token}` };
  const templateName = `Busybox ${slug}`;
  const template = await request.post('/api/workspace-templates', {
    headers: platform,
    data: {
      name: templateName,
      description: 'A shell in a busybox container.',
      image: 'neosc/workspace-busybox:dev',
      command: ['sleep', 'infinity'],
      default_vcpu: 250,
      default_memory_mib: 64,
      default_storage_gib: 1,
      max_vcpu: 1000,
      max_memory_mib: 256,
      max_storage_gib: 2,
    },
  });
  expect(template.status(), await template.text()).toBe(201);
  const quotas = await request.patch(`/api/organizations/${orgId}/quotas`, {
    headers: platform,
    data: {
      max_workspaces: 5,
      max_running: 1,
      max_vcpu: 2000,
      max_memory_mib: 1024,
      max_storage_gib: 10,
      max_workspaces_per_user: null,
    },
  });
  expect(quotas.status(), await quotas.text()).toBe(200);

  // The org admin creates a workspace for the member.
  await signIn(page, adminMail);
  await openWorkspaces(page);
  const running = page.getByTestId('usage-running');
  const runningBar = page.getByRole('progressbar', { name: 'Running workspaces', exact: true });
  await expect(running).toHaveText('0 of 1 running');
  await expect(runningBar).toHaveAttribute('value', '0');
  // Set on this document: still there at the end means no reload happened.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  await page.getByRole('button', { name: 'New workspace' }).click();
  const dialog = page.getByRole('dialog', { name: 'New workspace' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Name')).toBeFocused();
  const name = `dev-${slug}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Template').selectOption({ label: templateName });
  await expect(dialog.getByLabel('vCPU')).toHaveValue('0.25');
  await expect(dialog.getByLabel('Memory (MiB)')).toHaveValue('64');
  await expect(dialog.getByLabel('Disk (GiB)')).toHaveValue('1');
  await dialog.getByLabel('Owner').selectOption({ label: `Milo Member (${memberMail})` });
  await expect(dialog.getByLabel('Start it now')).toBeChecked();
  await expect(dialog.getByTestId('would-usage-running')).toHaveText('0 → 1 of 1');
  await expect(dialog.getByTestId('would-usage-vcpu')).toHaveText('0 → 0.25 of 2');
  await checkA11y(page, 'create dialog filled in');
  await dialog.getByRole('button', { name: 'Create workspace' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Workspace ${name} created.` })).toBeVisible();

  // It reaches Running by itself, and the quota bar moved.
  const row = page.locator(`[data-testid=workspace-row][data-name="${name}"]`);
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Milo Member');
  await expect(row).toContainText(templateName);
  await expect(row).toHaveAttribute('data-status', 'running', { timeout: RUNNING_TIMEOUT });
  await expect(row.getByTestId('status-label')).toHaveText('Running');
  await expect(running).toHaveText('1 of 1 running');
  await expect(runningBar).toHaveAttribute('value', '100');
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await checkA11y(page, 'workspace running, quota used');

  // A second running workspace would pass max_running: refused in the
  // dialog, with the reason, and nothing is sent.
  let creates = 0;
  page.on('request', (r) => {
    if (r.url().includes('/api/fn/create_workspace')) creates += 1;
  });
  await page.getByRole('button', { name: 'New workspace' }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Name').fill(`second-${slug}`);
  await dialog.getByLabel('Template').selectOption({ label: templateName });
  const refusal = dialog.getByTestId('create-refusal');
  await expect(refusal).toHaveText('Quota exceeded: the organization allows 1 running workspaces; 1 in use, this needs 1 more.');
  await expect(dialog.getByRole('button', { name: 'Create workspace' })).toHaveAttribute('aria-disabled', 'true');
  // Submitting anyway (Enter in a field) sends nothing.
  await dialog.getByLabel('Name').press('Enter');
  await expect(dialog).toBeVisible();
  await expect(refusal).toContainText('Quota exceeded');
  await checkA11y(page, 'create dialog: over quota');
  expect(creates).toBe(0);
  // Stopped, it fits (it reserves no vCPU, memory or running slot).
  await dialog.getByLabel('Start it now').uncheck();
  await expect(refusal).toHaveText('');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('button', { name: 'New workspace' })).toBeFocused();

  // The member sees it among their workspaces and stops it.
  const memberContext = await browser.newContext();
  const memberPage = await memberContext.newPage();
  await signIn(memberPage, memberMail);
  await openWorkspaces(memberPage);
  const memberRow = memberPage.locator(`[data-testid=workspace-row][data-name="${name}"]`);
  await expect(memberRow).toHaveAttribute('data-status', 'running');
  await memberRow.getByRole('button', { name: `Stop ${name}` }).click();
  await expect(memberRow).toHaveAttribute('data-status', 'stopped', { timeout: RUNNING_TIMEOUT });
  await expect(memberRow.getByTestId('status-label')).toHaveText('Stopped');
  await checkA11y(memberPage, 'member: workspace stopped');

  // Its page tells the story: who did what, and the system's part.
  await memberRow.getByRole('link', { name }).click();
  await expect(memberPage).toHaveURL(/\/workspaces\/ws-/);
  await hydrated(memberPage);
  await expect(memberPage.getByTestId('workspace-name')).toContainText(name);
  await expect(memberPage.getByTestId('workspace-status')).toHaveAttribute('data-status', 'stopped');
  const timeline = memberPage.getByTestId('timeline-row');
  await expect(timeline.filter({ hasText: memberMail })).not.toHaveCount(0);
  await expect(timeline.filter({ hasText: 'system' })).not.toHaveCount(0);
  await checkA11y(memberPage, 'member: workspace detail with timeline');
  const detailPath = new URL(memberPage.url()).pathname;
  await memberContext.close();

  // The admin's list followed without a reload; the running slot is free.
  await expect(row).toHaveAttribute('data-status', 'stopped', { timeout: RUNNING_TIMEOUT });
  await expect(running).toHaveText('0 of 1 running');
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);

  // The organization's page has the same bars and list in its Workspaces tab.
  await page.getByRole('link', { name: 'Organizations' }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  await checkA11y(page, 'organization cards');
  await page.getByTestId('org-card').filter({ hasText: `Workspaces ${slug}` }).click();
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await hydrated(page);
  await page.getByRole('tab', { name: 'Workspaces' }).click();
  await expect(page.getByTestId('usage-workspaces')).toHaveText('1 of 5 workspaces');
  await expect(page.getByTestId('usage-running')).toHaveText('0 of 1 running');
  await expect(page.locator(`[data-testid=workspace-row][data-name="${name}"]`)).toHaveAttribute('data-status', 'stopped');
  await checkA11y(page, 'organization Workspaces tab');

  // A member of another organization neither sees nor reaches it.
  const otherSlug = unique('other');
  await register(request, { email: `oscar@${otherSlug}.test`, name: 'Oscar Other', organization: `Other ${otherSlug}` });
  const otherContext = await browser.newContext();
  const otherPage = await otherContext.newPage();
  await signIn(otherPage, `oscar@${otherSlug}.test`);
  await openWorkspaces(otherPage);
  await expect(otherPage.getByTestId('empty-state')).toBeVisible();
  await expect(otherPage.locator(`[data-testid=workspace-row][data-name="${name}"]`)).toHaveCount(0);
  const reached = await otherPage.goto(detailPath);
  expect(reached?.status()).toBe(404);
  await hydrated(otherPage, 'another organization: not found');
  await expect(otherPage.getByRole('alert').filter({ hasText: /no such workspace|not found/i })).toBeVisible();
  await expect(otherPage.getByText(name)).toHaveCount(0);
  await otherContext.close();
});

test('the platform admin sets quotas on the Workspaces tab (empty is unlimited); auto-stop and self-service are settings', async ({
  page,
  request,
}) => {
  const slug = unique('quota');
  const org = `Quotas ${slug}`;
  const owner = await register(request, { email: `quinn@${slug}.test`, name: 'Quinn', organization: org });
  const orgId = owner.user.organization_id;

  await signIn(page, adminEmail, adminPassword);
  await page.getByTestId('org-card').filter({ hasText: org }).click();
  await expect(page).toHaveURL(/\/organizations\/org-/);
  await hydrated(page);
  await page.getByRole('tab', { name: 'Workspaces' }).click();
  await expect(page.getByTestId('usage-running')).toHaveText('0 of unlimited running');
  await checkA11y(page, 'Workspaces tab as platform admin: quota form');
  await page.getByLabel('Max. running').fill('2');
  await page.getByLabel('Max. vCPU (e.g. 0.5, 8)').fill('1.5');
  await page.getByRole('button', { name: 'Save quotas' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Quotas saved.' })).toBeVisible();
  await expect(page.getByTestId('usage-running')).toHaveText('0 of 2 running');
  await expect(page.getByTestId('usage-vcpu')).toHaveText('0 of 1.5 vCPU');
  await expect(page.getByTestId('usage-workspaces')).toHaveText('0 of unlimited workspaces');
  await checkA11y(page, 'quotas saved');

  const login = await request.post('/api/auth/login', { data: { email: adminEmail, password: adminPassword } });
  const platform = { Authorization: `Bearer ${(await login.json()).token}` };
  const quotas = await request.get(`/api/organizations/${orgId}/quotas`, { headers: platform });
  expect(quotas.status()).toBe(200);
  expect(await quotas.json()).toMatchObject({ max_running: 2, max_vcpu: 1500, max_workspaces: null, max_memory_mib: null });

  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByLabel('Auto-stop workspaces after (hours; empty: never)').fill('8');
  await page.getByLabel('Members may create their own workspaces (within the per-member quota)').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Settings saved.' })).toBeVisible();
  await checkA11y(page, 'settings with auto-stop and self-service saved');
  const detail = await request.get(`/api/organizations/${orgId}`, { headers: platform });
  expect(await detail.json()).toMatchObject({ autostop_after_hours: 8, self_service_workspaces: true });
});
