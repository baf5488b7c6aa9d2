import { defineConfig } from '@playwright/test';
import * as path from 'node:path';
import * as os from 'node:os';

// `make e2e` picks a free port and a fresh database file; these defaults
// only serve a hand-run `npx playwright test`.
const port = Number(process.env.NEOSC_E2E_PORT ?? 3199);
// The local OpenID Provider (oidc/provider.mjs) NeoSC's SSO signs in with.
const oidcPort = Number(process.env.NEOSC_E2E_OIDC_PORT ?? 3299);
export const oidcIssuer = `http://127.0.0.1:${oidcPort}`;
// The SMTP sink (smtp/sink.mjs) NeoSC mails to, and where tests read the mail.
const smtpPort = Number(process.env.NEOSC_E2E_SMTP_PORT ?? 3325);
const smtpHttpPort = Number(process.env.NEOSC_E2E_SMTP_HTTP_PORT ?? 3326);
export const mailboxUrl = `http://127.0.0.1:${smtpHttpPort}`;
// The DNS server (dns/server.mjs) NeoSC asks for TXT records, and where
// tests publish them.
const dnsPort = Number(process.env.NEOSC_E2E_DNS_PORT ?? 3353);
const dnsHttpPort = Number(process.env.NEOSC_E2E_DNS_HTTP_PORT ?? 3354);
export const dnsControlUrl = `http://127.0.0.1:${dnsHttpPort}`;
const db = process.env.NEOSC_E2E_DB ?? path.join(os.tmpdir(), `neosc-e2e-${Date.now()}.db`);
export const adminEmail = 'e2e-admin@neosc.test';
export const adminPassword = 'e2e-platform-admin-password';

export default defineConfig({
  testDir: './tests',
  // Generous: every state a test reaches is also checked with axe-core.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  // Started in this order: NeoSC reads the provider's discovery document.
  webServer: [
    {
      command: 'node smtp/sink.mjs',
      cwd: '.',
      url: `${mailboxUrl}/healthz`,
      reuseExistingServer: false,
      timeout: 20_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        SMTP_PORT: String(smtpPort),
        SMTP_HTTP_PORT: String(smtpHttpPort),
      },
    },
    {
      command: 'node dns/server.mjs',
      cwd: '.',
      url: `${dnsControlUrl}/healthz`,
      reuseExistingServer: false,
      timeout: 20_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        DNS_PORT: String(dnsPort),
        DNS_HTTP_PORT: String(dnsHttpPort),
      },
    },
    {
      command: 'node oidc/provider.mjs',
      cwd: '.',
      url: `${oidcIssuer}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 20_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        OIDC_PORT: String(oidcPort),
        APP_URL: `http://127.0.0.1:${port}`,
      },
    },
    {
      command: './target/release/neosc serve',
      cwd: '..',
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        DATABASE_URL: `sqlite://${db}`,
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: 'target/site',
        LEPTOS_ENV: 'PROD',
        NEOSC_ADMIN_EMAIL: adminEmail,
        NEOSC_ADMIN_PASSWORD: adminPassword,
        RUST_LOG: 'info,sqlx=warn',
        NEOSC_OIDC_ISSUER: oidcIssuer,
        NEOSC_OIDC_CLIENT_ID: 'neosc-e2e',
        NEOSC_OIDC_CLIENT_SECRET: 'neosc-e2e-secret',
        NEOSC_PUBLIC_URL: `http://127.0.0.1:${port}`,
        // Workspaces run on the local Docker Engine (make engine starts it).
        NEOSC_WORKSPACE_ENGINE: 'docker',
        // Real mail over SMTP to the sink; registrations are confirmed
        // through the link it received.
        NEOSC_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        NEOSC_MAIL_FROM: 'NeoSC <no-reply@neosc.test>',
        // Domains are proven against the DNS server above, and the tests'
        // domains are reserved names (*.test) that only this allows.
        NEOSC_DNS_SERVER: `127.0.0.1:${dnsPort}`,
        NEOSC_ALLOW_RESERVED_DOMAINS: '1',
        // Every spec registers its people from 127.0.0.1; the per-address
        // signup budget has Rust tests of its own (tests/api/throttle.rs).
        NEOSC_SIGNUPS_PER_HOUR: '100000',
      },
    },
  ],
});
