// The portal in a real browser (Debian's chromium through playwright-core) against a real server
// and local worker: sign-in refuses a wrong key with where to find the right one, the dashboard
// shows what was deployed, the pool and the worker, the key stays out of the URL, the page has no
// console errors and no serious accessibility violations (axe-core), at desktop and phone widths.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Lab } from '../support/lab.js';
import {
  chromiumMissing,
  launchChromium,
  saveScreenshot,
  seriousViolations,
  signIn as signInAt,
} from '../support/portalBrowser.js';

let lab: Lab;
let browser: Browser;

const signIn = (page: Page, apiKey: string) => signInAt(page, lab.url, apiKey);

describe('the portal in a browser', { skip: chromiumMissing() }, () => {
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
  - name: Counting
    process:
      steps:
        - name: Count
          script: { body: 'i=1; while [ $i -le 12 ]; do echo "count $i"; i=$((i+1)); sleep 0.25; done' }
        - name: Done
          script: { body: 'echo "all counted"' }
  - name: Flood
    process:
      steps:
        - name: Lines
          script: { body: 'seq 1 100000' }
  - name: Long
    process:
      steps:
        - name: Wait
          script: { body: 'echo "waiting"; sleep 120' }
`);
    await lab.startWorker('portal-worker');
    const deployed = await lab.cli(['deploy', 'Shop', '--to', 'Staging', '--follow']);
    assert.equal(deployed.code, 0, deployed.output);
    browser = await launchChromium();
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
    await saveScreenshot(page, 'dashboard');
    assert.deepEqual(await seriousViolations(page), []);

    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.deepEqual(await seriousViolations(page), [], 'at phone width');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('User name').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test("a task's page streams its log grouped by step while it runs, and shows how it ended", async () => {
    const page = await browser.newPage({ bypassCSP: true });
    await signIn(page, lab.apiKey);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
    const deployment = await lab.api('POST', '/api/deployments', { project: 'Counting', environment: 'Staging' });
    assert.equal(deployment.status, 201, JSON.stringify(deployment.body));
    await page.goto(`${lab.url}/tasks/${deployment.body.taskId}`);
    const log = page.getByRole('region', { name: 'Task log' });
    await log.getByText('count 1', { exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(await log.getByText('count 12', { exact: true }).count(), 0, 'the page shows lines as they come');
    await page.locator('summary', { hasText: 'Done' }).waitFor({ timeout: 20_000 });
    await page.getByText('succeeded', { exact: true }).first().waitFor({ timeout: 20_000 });
    const counted = await page
      .locator('details', { has: page.locator('summary', { hasText: /^Count/ }) })
      .textContent();
    for (let i = 1; i <= 12; i++) assert.match(counted ?? '', new RegExp(`count ${i}(?!\\d)`));
    assert.match(
      (await page.locator('summary', { hasText: /^Count/ }).textContent()) ?? '',
      /succeeded, [\d.]+ s on portal-worker/,
    );
    assert.match(
      (await page.locator('details', { has: page.locator('summary', { hasText: /^Done/ }) }).textContent()) ?? '',
      /all counted/,
    );
    assert.deepEqual(await seriousViolations(page), []);
    await page.close();
  });

  test('a running task is cancelled from its page', async () => {
    const page = await browser.newPage();
    await signIn(page, lab.apiKey);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
    const deployment = await lab.api('POST', '/api/deployments', { project: 'Long', environment: 'Staging' });
    // From the dashboard's running tasks, as a person would.
    await page.getByRole('link', { name: /Deploy Long/ }).click({ timeout: 15_000 });
    await page.getByText('waiting', { exact: true }).waitFor({ timeout: 15_000 });
    assert.ok(page.url().endsWith(`/tasks/${deployment.body.taskId}`), page.url());
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('cancelled', { exact: true }).first().waitFor({ timeout: 20_000 });
    assert.equal((await lab.api('GET', `/api/tasks/${deployment.body.taskId}`)).body.state, 'cancelled');
    await page.close();
  });

  test("a project with two steps is created in the portal, a bad one is refused with the server's message by its step, and deploying it opens its task", async () => {
    const page = await browser.newPage({ bypassCSP: true });
    await signIn(page, lab.apiKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('heading', { name: 'New project' }).waitFor({ timeout: 15_000 });

    await page.getByLabel('Name', { exact: true }).fill('Made in the portal');
    await page.getByLabel('Step 1 name').fill('Build');
    await page.getByLabel('Step 1 script').fill('echo "built in the portal"');
    await page.getByRole('button', { name: 'Add a step' }).click();
    await page.getByLabel('Step 2 name').fill('Build');
    await page.getByLabel('Step 2 script').fill('echo "shipped from the portal"');
    await page.getByRole('button', { name: 'Create project' }).click();
    const refused = page.getByRole('alert');
    await refused.waitFor({ timeout: 10_000 });
    assert.match((await refused.textContent()) ?? '', /Build/, 'the server says which name is twice');
    assert.equal((await page.locator('fieldset[aria-invalid="true"]').count()) > 0, true, 'the step is marked');

    await page.getByLabel('Step 2 name').fill('Ship');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Made in the portal' }).waitFor({ timeout: 10_000 });
    const made = (await lab.api('GET', '/api/projects/Made%20in%20the%20portal')).body;
    assert.deepEqual(
      made.process.steps.map((s: { name: string }) => s.name),
      ['Build', 'Ship'],
    );
    assert.deepEqual(await seriousViolations(page), []);

    // Made, the project's page opens, where it is deployed: a new release of its process, then its task.
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/tasks\/task-/, { timeout: 15_000 });
    const log = page.getByRole('region', { name: 'Task log' });
    await log.getByText('shipped from the portal', { exact: true }).waitFor({ timeout: 20_000 });
    assert.match((await log.textContent()) ?? '', /built in the portal[\s\S]*shipped from the portal/);
    await page.close();
  });

  test('a log of 100,000 lines draws only the rows in view, follows its end, and scrolls back to its start', async () => {
    const page = await browser.newPage();
    await signIn(page, lab.apiKey);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
    const deployment = await lab.api('POST', '/api/deployments', { project: 'Flood', environment: 'Staging' });
    assert.equal(deployment.status, 201, JSON.stringify(deployment.body));
    await page.goto(`${lab.url}/tasks/${deployment.body.taskId}`);
    const log = page.getByRole('log', { name: 'Lines log' });
    await log.getByText('100000', { exact: true }).waitFor({ timeout: 120_000 });
    const rows = await log.locator('.line').count();
    assert.ok(rows < 200, `${rows} rows in the page for 100,000 lines`);
    await log.evaluate((el) => (el.scrollTop = 0));
    await log.getByText('1', { exact: true }).waitFor({ timeout: 5_000 });
    await page.close();
  });

  test('a worker is checked from the infrastructure page, whose task says it is healthy', async () => {
    const page = await browser.newPage({ bypassCSP: true });
    await signIn(page, lab.apiKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Infrastructure' }).click();
    await page.getByRole('button', { name: 'Check portal-worker' }).click();
    await page.waitForURL(/\/tasks\/task-/, { timeout: 15_000 });
    await page.getByText('The worker is healthy').waitFor({ timeout: 30_000 });
    await page.goto(`${lab.url}/infrastructure`);
    const row = page.getByRole('row', { name: /portal-worker/ });
    await row.getByText(/^healthy/).waitFor({ timeout: 15_000 });
    assert.equal(
      await row.getByRole('button', { name: /Upgrade/ }).count(),
      0,
      "a worker at the server's version has no upgrade",
    );
    assert.deepEqual(await seriousViolations(page), []);
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
    const pagePath = await fetch(lab.url + '/tasks/task-abc');
    assert.equal(
      pagePath.headers.get('content-type'),
      'text/html; charset=utf-8',
      "a page's own address loads the app",
    );
    const projectPage = await fetch(lab.url + '/projects/Made%20in%20the%20portal%20%26%20more');
    assert.equal(projectPage.headers.get('content-type'), 'text/html; charset=utf-8', "a project page's address too");
    assert.equal((await fetch(lab.url + '/projects/a/b')).status, 404, 'a project is one path segment');
    const api = await fetch(lab.url + '/api/nothing', { headers: { authorization: `Bearer ${lab.apiKey}` } });
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { code: string }).code, 'NOT_FOUND');
  });
});
