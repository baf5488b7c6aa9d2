import { test as base, expect, Page, ConsoleMessage } from '@playwright/test';

/** Every page a test opens is watched: console errors, page errors and
 *  hydration warnings fail the test at its end. A test that provokes a
 *  refusal on purpose declares the HTTP status it expects with
 *  `allowHttpStatus`; Chromium logs every such response as an error. */
export const test = base.extend<{ allowHttpStatus: (status: number) => void }>({
  allowHttpStatus: [
    async ({ page }, use) => {
      const problems: string[] = [];
      const allowed = new Set<number>();
      page.on('console', (msg: ConsoleMessage) => {
        const text = msg.text();
        const refused = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
        if (refused && allowed.has(Number(refused[1]))) return;
        if (msg.type() === 'error' || /hydrat/i.test(text)) problems.push(`${msg.type()}: ${text}`);
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      await use((status) => allowed.add(status));
      expect(problems, 'console errors or hydration warnings').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Unique per run, so tests never collide with each other's data. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Resolves once the WASM has hydrated the page (the app marks <body>). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

export const PASSWORD = 'correct horse battery staple';

export async function registerViaForm(page: Page, opts: { name: string; email: string; organization?: string; password?: string }) {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(opts.name);
  await page.getByLabel('Work email').fill(opts.email);
  await page.getByLabel('Password').fill(opts.password ?? PASSWORD);
  if (opts.organization) await page.getByLabel('Organization (optional)').fill(opts.organization);
  await page.getByRole('button', { name: 'Create account' }).click();
}
