// The portal in a real browser (Debian's chromium through playwright-core) against a real server
// and local worker: sign-in refuses a wrong key with where to find the right one, the dashboard
// shows what was deployed, the pool and the worker, the key stays out of the URL, the page has no
// console errors and no serious accessibility violations (axe-core), at desktop and phone widths.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Lab } from '../support/lab.js';

const CHROMIUM = process.env.LONGSHORE_CHROMIUM || '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let lab: Lab;
let browser: Browser;

async function signIn(page: Page, apiKey: string): Promise<void> {
  await page.goto(lab.url);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Violations axe-core rates serious or critical, by rule and the elements they are on. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (
      globalThis as unknown as {
        axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe.run();
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe(
  'the portal in a browser',
  { skip: existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium)` },
  () => {
    before(async () => {
      lab = new Lab();
      await lab.startServer();
      await lab.apply(`
environments: [ { name: Staging }, { name: Production } ]
projects:
  - name: Shop
    process:
      steps:
        - name: Say
          script: { body: 'echo "shipped"' }
`);
      await lab.startWorker('portal-worker');
      const deployed = await lab.cli(['deploy', 'Shop', '--to', 'Staging', '--follow']);
      assert.equal(deployed.code, 0, deployed.output);
      // As root (CI) chromium needs --no-sandbox; the page is our own.
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    after(async () => {
      await browser?.close();
      await lab?.close();
    });

    test('a wrong API key is refused, saying where the right one is', async () => {
      const page = await browser.newPage();
      await signIn(page, 'lsk_not-a-key');
      await assert.doesNotReject(
        page
          .getByRole('alert')
          .filter({ hasText: /does not know this API key.*admin-api-key/ })
          .waitFor({ timeout: 10_000 }),
      );
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');
      await page.close();
    });

    test('signed in: the dashboard shows the deployment, the pool and the worker; the key stays out of the URL; no console errors; axe passes', async () => {
      // bypassCSP: the portal's policy allows no inline script, and axe-core is injected as one.
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      await signIn(page, lab.apiKey);
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
      const shopRow = page.getByRole('row', { name: /Shop/ });
      await assert.doesNotReject(shopRow.getByText(/· succeeded/).waitFor({ timeout: 15_000 }));
      assert.match((await shopRow.textContent()) ?? '', /not deployed/, 'Production has no deployment yet');
      assert.match(
        (await page
          .getByRole('row', { name: /^default/ })
          .first()
          .textContent()) ?? '',
        /1 (healthy|unknown)/,
      );
      assert.match((await page.getByRole('row', { name: /portal-worker/ }).textContent()) ?? '', /online/);
      assert.ok(!page.url().includes(lab.apiKey), 'the key is never in the URL');
      assert.deepEqual(await seriousViolations(page), []);

      await page.reload();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
      await page.setViewportSize({ width: 390, height: 844 });
      assert.deepEqual(await seriousViolations(page), [], 'at phone width');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      assert.deepEqual(consoleErrors, []);
      await page.close();
    });

    test('the server serves the build with caching: index.html revalidated, hashed assets immutable and gzipped; anything else, the API included, keeps its 404', async () => {
      const index = await fetch(lab.url + '/');
      assert.equal(index.headers.get('cache-control'), 'no-cache');
      assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await index.text())?.[1];
      assert.ok(asset);
      const js = await fetch(lab.url + asset, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(js.headers.get('content-encoding'), 'gzip');
      const again = await fetch(lab.url + asset, { headers: { 'if-none-match': js.headers.get('etag')! } });
      assert.equal(again.status, 304);
      assert.equal((await fetch(lab.url + '/assets/missing.js')).status, 404);
      const api = await fetch(lab.url + '/api/nothing', { headers: { authorization: `Bearer ${lab.apiKey}` } });
      assert.equal(api.status, 404);
      assert.equal(((await api.json()) as { code: string }).code, 'NOT_FOUND');
    });
  },
);
