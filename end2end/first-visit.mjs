#!/usr/bin/env node
// What a first visit to a page costs over the wire, as Chromium counts it:
// a fresh profile (empty cache) opens the page, waits until it has
// hydrated (body[data-hydrated]) and the network is idle, and sums
// encodedDataLength (bytes received for each response: headers and the
// body as sent, compressed or not) over every response. Used by
// scripts/bench-assets.sh (`make bench`); Debian's Chromium as in
// playwright.config.ts.
//
// Usage: node end2end/first-visit.mjs URL
// Prints one line per response (bytes, encoding, status, URL), then
// `total <bytes> <responses>`.
import { chromium } from '@playwright/test';

const url = process.argv[2];
if (!url) {
  console.error('usage: node end2end/first-visit.mjs URL');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const responses = new Map();
  const errors = [];
  cdp.on('Network.responseReceived', (e) => {
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    responses.set(e.requestId, { url: e.response.url, status: e.response.status, encoding: h['content-encoding'] ?? 'identity', bytes: 0 });
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = responses.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
  });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: 'networkidle' });
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  let total = 0;
  for (const r of responses.values()) {
    total += r.bytes;
    console.log(`${String(r.bytes).padStart(9)} B  ${r.encoding.padEnd(8)} ${r.status}  ${r.url}`);
  }
  for (const e of errors) console.log(`console error: ${e}`);
  console.log(`total ${total} ${responses.size}`);
  if (errors.length) process.exitCode = 1;
} finally {
  await browser.close();
}
