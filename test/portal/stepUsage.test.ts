// Right-sizing in the portal, in Debian's chromium against a real server and a hand-driven
// Kubernetes worker that reports what each script pod used: the project's page shows each step's
// runs, peaks and OOM kills beside its requests and the server's recommendation, with a chart of
// the runs whose accessible name says its figures; the step editor sets a step's requests to `auto`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { registerFakeAgent, type FakeAgent } from '../support/agentClient.js';
import {
  chromiumMissing,
  launchChromium,
  saveScreenshot,
  seriousViolations,
  signIn,
} from '../support/portalBrowser.js';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { MiB, measuredRun, usageReport } from '../support/measuredRuns.js';

let h: Harness;
let agent: FakeAgent;
let browser: Browser;

const run = (reported: object, outcome = 'succeeded') =>
  measuredRun(h, agent, { project: 'Compile', environment: 'Build' }, reported, outcome);

const stepUsage = async () => (await h.api('GET', '/api/projects/Compile/steps/usage')).body.items[0];

/** A signed-in page at desktop width on the project's page, noting console errors. */
async function projectPage(name: string): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await signIn(page, h.url, h.apiKey);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
  await page.goto(`${h.url}/projects/${encodeURIComponent(name)}`);
  await page.getByRole('heading', { name: 'Resource usage' }).waitFor({ timeout: 15_000 });
  return { page, consoleErrors };
}

describe("a project's resource usage in a browser", { skip: chromiumMissing() }, () => {
  before(async () => {
    h = await startHarness();
    const applied = await h.api('POST', '/api/apply', {
      environments: [{ name: 'Build' }],
      projects: [
        { name: 'Compile', process: { steps: [{ name: 'Make', script: { body: 'make' } }] } },
        { name: 'Quiet', process: { steps: [{ name: 'Wait', script: { body: 'sleep 1' } }] } },
      ],
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    agent = await registerFakeAgent(h, 'measured', undefined, { executor: 'kubernetes' });
    await run(usageReport(400, 180));
    await run(usageReport(600, 200));
    await run(usageReport(500, 190));
    await run(usageReport(800, 512, { oomKilled: true, limits: { memoryBytes: 512 * MiB } }), 'failed');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('a project without measured runs says where usage comes from', async () => {
    const { page, consoleErrors } = await projectPage('Quiet');
    const section = page.getByRole('region', { name: 'Resource usage' }).first();
    await section
      .getByText('No measured runs yet: usage is measured on Kubernetes workers while script pods run.')
      .waitFor({ timeout: 10_000 });
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test("each step's runs, peaks and OOM kills beside its requests and the recommendation, with a chart that says its figures", async () => {
    const { recommendation, runs } = await stepUsage();
    assert.equal(runs.length, 4);
    assert.equal(recommendation.state, 'ready');
    const cpu = `${recommendation.cpuMillis}m`;
    const memory = `${Math.round(recommendation.memoryBytes / MiB)}Mi`;
    const limit = `${Math.round(recommendation.memoryLimitBytes / MiB)}Mi`;
    assert.equal(memory, '768Mi', 'one and a half times the limit the killed run hit');

    const { page, consoleErrors } = await projectPage('Compile');
    const section = page.getByRole('region', { name: 'Resource usage' }).first();
    const row = section.getByRole('row', { name: /^Make/ }).first();
    await row.waitFor({ timeout: 10_000 });
    assert.deepEqual(await row.locator('th, td').allTextContents(), [
      'Make',
      '4',
      'pool default',
      '800m',
      '512Mi',
      '1',
      '—',
      `${cpu} CPU, ${memory} memory, limit ${limit}`,
    ]);

    const chart = section.getByRole('img');
    const summary = (await chart.getAttribute('aria-label')) ?? '';
    assert.equal(await chart.evaluate((e) => e.tagName), 'svg');
    assert.match(summary, /^Make, the last 4 measured runs\./);
    assert.ok(
      summary.includes(`Peak CPU from 400m to 800m, against a request of 1000m and a recommendation of ${cpu}.`),
      summary,
    );
    assert.ok(
      summary.includes(
        `Peak memory from 180Mi to 512Mi, against a request of 256Mi and a recommendation of ${memory}.`,
      ),
      summary,
    );
    assert.match(summary, /1 OOM-killed\.$/);
    assert.equal(await chart.locator('rect.usage-bar').count(), 8, 'a bar per run, for CPU and for memory');
    assert.equal(await chart.locator('rect.usage-bar-killed').count(), 2);

    await section.getByText('The runs in figures, oldest first').click();
    const runRows = section.getByRole('region', { name: 'Make: the last 4 runs' }).locator('tbody tr');
    assert.equal(await runRows.count(), 4);
    assert.match((await runRows.nth(3).textContent()) ?? '', /800m.*512Mi.*1000m, 256Mi.*OOM-killed/);
    await section.getByText('How the recommendation is made').click();
    assert.match((await section.locator('.usage-method').textContent()) ?? '', /percentile/);
    assert.deepEqual(await seriousViolations(page), []);
    await saveScreenshot(page, 'step-usage');

    await page.setViewportSize({ width: 390, height: 844 });
    assert.deepEqual(await seriousViolations(page), [], 'at phone width');
    await saveScreenshot(page, 'step-usage-phone');
    assert.ok(
      await page.locator('html').evaluate((html) => html.scrollWidth <= html.clientWidth),
      'nothing wider than a phone',
    );
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test("the step editor learns a step's requests (auto): saved as such, shown on when loaded, and said in the usage", async () => {
    const { page, consoleErrors } = await projectPage('Compile');
    await page.getByLabel('Step 1 CPU request').fill('250m');
    const auto = page.getByLabel('Step 1 CPU and memory requests: Learn them (auto)');
    assert.equal(await auto.isChecked(), false);
    await auto.check();
    assert.ok(await page.getByLabel('Step 1 CPU request').isDisabled());
    assert.ok(await page.getByLabel('Step 1 memory request').isDisabled());
    await page.getByRole('button', { name: 'Save the process' }).click();
    await page.getByText('Saved: the next release takes this process.').waitFor({ timeout: 10_000 });

    const process = (await h.api('GET', '/api/projects/Compile')).body.process;
    assert.equal(process.steps[0].resources, 'auto');
    const section = page.getByRole('region', { name: 'Resource usage' }).first();
    // The section reads the usage again once the process is saved.
    await section.getByRole('row', { name: /^Make 4 auto/ }).waitFor({ timeout: 10_000 });
    const { recommendation } = await stepUsage();
    assert.match(
      (await section.getByRole('img').getAttribute('aria-label')) ?? '',
      new RegExp(`a request of ${recommendation.cpuMillis}m and a recommendation of ${recommendation.cpuMillis}m`),
      'a ready recommendation is what a step set to auto requests',
    );

    await page.reload();
    await page.getByRole('heading', { name: 'Resource usage' }).waitFor({ timeout: 15_000 });
    const loaded = page.getByLabel('Step 1 CPU and memory requests: Learn them (auto)');
    assert.equal(await loaded.isChecked(), true);
    assert.ok(await page.getByLabel('Step 1 CPU request').isDisabled());
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
});
