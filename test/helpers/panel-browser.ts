/**
 * What every browser test of the control panel needs: Postline's api role in process serving the
 * built panel (dist/web, built by `pretest`), users made with the real CLI, Debian's Chromium
 * driven by playwright-core, screenshots to test-results/panel/, and axe-core's accessibility check.
 *
 * Without /usr/bin/chromium the browser tests are skipped with a message, unless
 * POSTLINE_TEST_BROWSER_REQUIRED=1 (CI), where that is a failure: call `requireBrowser()` at the
 * top of each file and use `describe.runIf(HAVE_BROWSER)`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestAppOptions } from './app.js';
import { BIN } from './process.js';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_BROWSER = existsSync(CHROMIUM);
const BROWSER_REQUIRED = process.env.POSTLINE_TEST_BROWSER_REQUIRED === '1';
export const SHOTS = join(import.meta.dirname, '../../test-results/panel');

/** Says why a file's browser tests are skipped, and fails the run instead when CI requires the browser. */
export function requireBrowser(file: string): void {
  if (HAVE_BROWSER) return;
  console.warn(
    `${file}: ${CHROMIUM} is missing, so the control panel's browser test is ${BROWSER_REQUIRED ? 'FAILING (POSTLINE_TEST_BROWSER_REQUIRED=1)' : 'skipped'}; install it with \`apt-get install -y chromium\``,
  );
  describe.runIf(BROWSER_REQUIRED)('control panel in a browser (required, missing)', () => {
    it('has a browser to run in', () => {
      expect.fail(`${CHROMIUM} is missing and POSTLINE_TEST_BROWSER_REQUIRED=1: apt-get install -y chromium`);
    });
  });
}

/** `postline users create ... --password-stdin` against the test app's database: the real CLI, as an operator runs it. */
export function createUser(t: TestApp, email: string, role: string, password: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'users', 'create', '--email', email, '--role', role, '--password-stdin'], {
      env: {
        ...process.env,
        POSTLINE_DATA_DIR: t.db.dataDir,
        ...(t.db.databaseUrl ? { POSTLINE_DATABASE_URL: t.db.databaseUrl } : {}),
        POSTLINE_LOG_LEVEL: 'silent',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(`${password}\n`);
  });
}

export interface PanelSession {
  t: TestApp;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** What the browser reported as a problem: CSP refusals, script errors, failed loads. Assert it stays empty. */
  problems: string[];
  /** Signs `email` in through the sign-in form and waits for the navigation. */
  signIn(email: string, password: string, on?: Page): Promise<void>;
  /** A full-page screenshot, test-results/panel/<name>.png. */
  shot(name: string, on?: Page): Promise<void>;
  /** axe-core on the page as it is now: the serious and critical violations, as "rule: target" lines (expect it to equal []). */
  axe(on?: Page): Promise<string[]>;
  close(): Promise<void>;
}

export const PANEL_PASSWORD = 'correct horse battery staple 42';

/**
 * Starts the app, makes the users (all with PANEL_PASSWORD), opens Chromium at 1280x800.
 * Console errors matching `allowConsole` (e.g. an expected 401 or 403) are not problems.
 */
export async function startPanel(
  opts: { users?: { email: string; role: 'admin' | 'member' | 'viewer' }[]; app?: TestAppOptions; allowConsole?: RegExp } = {},
): Promise<PanelSession> {
  mkdirSync(SHOTS, { recursive: true });
  const t = await startTestApp(opts.app);
  for (const u of opts.users ?? [{ email: 'admin@panel.test', role: 'admin' as const }]) {
    const made = await createUser(t, u.email, u.role, PANEL_PASSWORD);
    if (made.status !== 0) throw new Error(`users create ${u.email}: ${made.stderr}`);
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !(opts.allowConsole?.test(m.text()) ?? false)) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return {
    t,
    browser,
    context,
    page,
    problems,
    async signIn(email, password, on = page) {
      if (!/\/login/.test(on.url())) await on.goto(`${t.url}/login`);
      await on.getByLabel('Email').fill(email);
      await on.getByLabel('Password').fill(password);
      await on.getByRole('button', { name: 'Sign in' }).click();
      await on.getByRole('navigation', { name: 'Main' }).waitFor();
    },
    async shot(name, on = page) {
      await on.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    },
    async axe(on = page) {
      return runAxe(on);
    },
    async close() {
      await browser.close();
      await t.close();
    },
  };
}

let axeSource: string | null = null;

/**
 * axe-core's WCAG 2 A/AA rules on the page. The script is evaluated through the DevTools
 * protocol, which the panel's CSP does not apply to, so the page under test keeps its real CSP.
 */
export async function runAxe(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> };
      }
    ).axe;
    const r = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').flatMap((v) => v.targets.map((t) => `${v.id}: ${t}`));
}
