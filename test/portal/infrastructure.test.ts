// The portal's infrastructure page in a real browser against a real server, two local workers and
// a hand-driven Kubernetes worker: environments with their targets, targets without their secrets,
// pools with the queue and capacity the server counts, workers with health reasons, version,
// running operations (linked to their task) and pending pods, the last check's log; a list longer
// than a page pages; no console errors and no serious accessibility violations at desktop and
// phone widths.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { registerFakeAgent, waitFor } from '../support/agentClient.js';
import { Lab } from '../support/lab.js';
import { chromiumMissing, launchChromium, seriousViolations, signIn } from '../support/portalBrowser.js';

const TOKEN = 'sekrit-cluster-token-4242';
/** Production, Region 01–30 and Staging: 32, so a second page holds 26–32. */
const REGIONS = Array.from({ length: 30 }, (_, i) => `Region ${String(i + 1).padStart(2, '0')}`);
const PENDING = '2 pending: script-op-1 (40 s): Waiting for a node: 0/3 nodes are available: 3 Insufficient cpu';

let lab: Lab;
let browser: Browser;
let longTask: string;

const text = async (locator: Locator) => (await locator.textContent()) ?? '';
const worker = async (name: string) => (await lab.api('GET', `/api/workers/${name}`)).body;
const poolStats = async (pool: string) =>
  (await lab.api('GET', '/api/pool-statistics')).body.items.find((p: { pool: string }) => p.pool === pool);

async function checkHealth(name: string): Promise<void> {
  const started = await lab.api('POST', `/api/workers/${name}/health-checks`);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  await lab.waitForTask(started.body.taskId, ['succeeded']);
}

/** A section of the page by its heading (its table's scroll region has the same name, inside it). */
const section = (page: Page, heading: string) => page.getByRole('region', { name: heading, exact: true }).first();

async function openInfrastructure(page: Page): Promise<void> {
  await signIn(page, lab.url, lab.apiKey);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Infrastructure' }).click();
  await page.getByRole('heading', { name: 'Environments' }).waitFor({ timeout: 15_000 });
}

describe('the infrastructure page in a browser', { skip: chromiumMissing() }, () => {
  before(async () => {
    lab = new Lab();
    await lab.startServer();
    const applied = await lab.apply(`
environments:
  - { name: Staging, description: Where changes are tried first }
  - { name: Production }
${REGIONS.map((r) => `  - { name: ${r} }`).join('\n')}
workerPools: [ { name: builders }, { name: cluster } ]
targets:
  - { name: web-1, type: generic, environments: [Staging], tags: [web] }
  - { name: web-2, type: generic, environments: [Staging, Production], tags: [web, edge] }
  - name: prod-cluster
    type: kubernetes-cluster
    environments: [Production]
    tags: [k8s]
    kubernetes: { apiUrl: 'https://prod.example:6443', namespace: apps, token: ${TOKEN} }
projects:
  - name: Long
    process:
      steps:
        - name: Wait
          runOn: { pool: builders }
          script: { body: 'echo "waiting"; sleep 300' }
  - name: Behind
    process:
      steps:
        - name: Queue
          runOn: { pool: builders }
          script: { body: 'echo "my turn"' }
`);
    assert.equal(applied.code, 0, applied.output);
    await lab.startWorker('infra-a', { capacity: 2 });
    await lab.startWorker('infra-b', { pools: ['builders'], capacity: 1 });
    await checkHealth('infra-a');
    await checkHealth('infra-b');

    // A Kubernetes worker driven by hand: its check reports script pods that wait for a node.
    const version = (await lab.api('GET', '/api/server')).body.version as string;
    const cluster = await registerFakeAgent(lab, 'cluster-worker', ['cluster'], { executor: 'kubernetes', version });
    const { checkId } = (await lab.api('POST', '/api/workers/cluster-worker/health-checks')).body;
    await waitFor(
      'the check to reach the worker',
      async () => (await cluster.poll([], 10, 1_000)).healthChecks?.length,
    );
    const reported = await cluster.call('POST', `/api/agent/health-checks/${checkId}`, {
      checks: [
        { name: 'Kubernetes API server', ok: true, detail: 'reachable, version v1.32.3' },
        { name: 'pending script pods', ok: false, detail: PENDING },
      ],
      facts: { version, pendingScriptPods: '2' },
    });
    assert.equal(reported.status, 204, JSON.stringify(reported.body));

    // infra-b (capacity 1) runs Long; Behind waits in the builders queue behind it.
    longTask = (await lab.api('POST', '/api/deployments', { project: 'Long', environment: 'Staging' })).body.taskId;
    await waitFor('infra-b to run Long', async () => (await worker('infra-b')).runningOperations.length === 1);
    await lab.api('POST', '/api/deployments', { project: 'Behind', environment: 'Staging' });
    await waitFor('Behind to queue', async () => (await poolStats('builders')).queueDepth === 1);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await lab?.close();
  });

  test('environments with their targets, targets without secrets, pools with queue and capacity, workers in depth; axe passes at 1280 and 390 px; no console errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await openInfrastructure(page);

    const environments = section(page, 'Environments');
    assert.match(await text(environments.getByRole('row', { name: /^Production/ })), /prod-cluster, web-2/);

    const targets = section(page, 'Targets');
    const prod = await text(targets.getByRole('row', { name: /^prod-cluster/ }));
    assert.match(prod, /kubernetes-cluster/);
    assert.match(prod, /Production/);
    assert.match(prod, /k8s/);
    assert.match(prod, /https:\/\/prod\.example:6443, namespace apps/);
    assert.match(await text(targets.getByRole('row', { name: /^web-2/ })), /Staging, Production.*web, edge/);
    assert.ok(!(await page.content()).includes(TOKEN), "the cluster's token is nowhere in the page");

    // The pools as the server counts them.
    const pools = section(page, 'Worker pools');
    const builders = await poolStats('builders');
    assert.deepEqual(
      [builders.queueDepth, builders.freeCapacity, builders.capacity, builders.workersByHealth.healthy],
      [1, 0, 1, 1],
    );
    const buildersRow = pools.getByRole('row', { name: /^builders/ });
    await buildersRow.getByText('0 free of 1').waitFor({ timeout: 15_000 });
    assert.match(await text(buildersRow), /^buildersno1\d+ s0 free of 11: 1 healthy$/);
    const defaultStats = await poolStats('default');
    assert.match(
      await text(pools.getByRole('row', { name: /^default/ })),
      new RegExp(`^defaultyes0—${defaultStats.freeCapacity} free of ${defaultStats.capacity}1: 1 healthy$`),
    );
    assert.match(await text(pools.getByRole('row', { name: /^cluster/ })), /none: no usable worker1: 1 unhealthy$/);

    // Workers: health with reasons, version, running operations, pending pods.
    const workers = section(page, 'Workers');
    const clusterRow = workers.getByRole('row', { name: /^cluster-worker/ });
    const clusterText = await text(clusterRow);
    assert.ok(clusterText.includes(`unhealthy: pending script pods: ${PENDING}`), clusterText);
    assert.match(clusterText, /2 pending/);
    const a = await worker('infra-a');
    const aRow = workers.getByRole('row', { name: /^infra-a/ });
    assert.match(await text(aRow), new RegExp(`healthy.*${a.version.replace(/\./g, '\\.')}0/2—`));
    assert.match(await text(workers.getByRole('row', { name: /^infra-b/ })), /1\/1Deploy Long .*: Wait/);

    assert.deepEqual(await seriousViolations(page), []);
    await page.setViewportSize({ width: 390, height: 844 });
    assert.deepEqual(await seriousViolations(page), [], 'at phone width');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test("a worker's running operation links to its task's page", async () => {
    const page = await browser.newPage();
    await openInfrastructure(page);
    const row = section(page, 'Workers').getByRole('row', { name: /^infra-b/ });
    await row.getByRole('link', { name: /^Deploy Long/ }).click();
    await page.waitForURL(`${lab.url}/tasks/${longTask}`, { timeout: 10_000 });
    await page
      .getByRole('region', { name: 'Task log' })
      .getByText('waiting', { exact: true })
      .waitFor({ timeout: 15_000 });
    await page.close();
  });

  test("the last check's log link opens the check's task, with what it found", async () => {
    const page = await browser.newPage();
    await openInfrastructure(page);
    const workers = section(page, 'Workers');
    await workers
      .getByRole('row', { name: /^cluster-worker/ })
      .getByRole('link', { name: 'check log' })
      .click();
    const clusterCheck = (await worker('cluster-worker')).lastHealthCheckTaskId;
    await page.waitForURL(`${lab.url}/tasks/${clusterCheck}`, { timeout: 10_000 });
    await page.getByText(`FAILED pending script pods: ${PENDING}`).waitFor({ timeout: 15_000 });

    await page.goBack();
    await workers
      .getByRole('row', { name: /^infra-a/ })
      .getByRole('link', { name: 'check log' })
      .click();
    await page.waitForURL(`${lab.url}/tasks/${(await worker('infra-a')).lastHealthCheckTaskId}`, { timeout: 10_000 });
    await page.getByText('The worker is healthy').first().waitFor({ timeout: 15_000 });
    await page.close();
  });

  test('a list longer than a page pages, by mouse and by keyboard, and counts its rows', async () => {
    const page = await browser.newPage({ bypassCSP: true });
    await openInfrastructure(page);
    const table = section(page, 'Environments');
    const pager = page.getByRole('group', { name: /^Environments/ });
    assert.equal((await lab.api('GET', '/api/environments')).body.items.length, 32);
    assert.equal(await text(pager.getByText(/^Rows/)), 'Rows 1–25 of 32');
    assert.equal(await table.locator('tbody tr').count(), 25);
    assert.equal(await table.getByRole('row', { name: /^Staging/ }).count(), 0, 'Staging is on the second page');
    assert.equal(await pager.getByRole('button', { name: 'Previous' }).getAttribute('aria-disabled'), 'true');

    await pager.getByRole('button', { name: 'Next' }).click();
    await pager.getByText('Rows 26–32 of 32').waitFor();
    assert.equal(await table.locator('tbody tr').count(), 7);
    const shown = await table.locator('tbody th').allTextContents();
    assert.deepEqual(shown, [...REGIONS.slice(24), 'Staging']);
    assert.match(await text(table.getByRole('row', { name: /^Staging/ })), /Where changes are tried firstweb-1, web-2/);
    assert.equal(await pager.getByRole('button', { name: 'Next' }).getAttribute('aria-disabled'), 'true');

    // The keyboard: the buttons take focus (an end one too) and Enter pages back.
    const previous = pager.getByRole('button', { name: 'Previous' });
    await previous.focus();
    await page.keyboard.press('Enter');
    await pager.getByText('Rows 1–25 of 32').waitFor();
    assert.equal(await text(page.locator(':focus')), 'Previous', 'focus stays on the button');

    // The page's data is read again every few seconds: the page stays where the reader put it.
    await pager.getByRole('button', { name: 'Next' }).click();
    await page.waitForTimeout(6_000);
    assert.equal(await text(pager.getByText(/^Rows/)), 'Rows 26–32 of 32');

    assert.equal(await page.getByRole('group', { name: /^Targets/ }).count(), 0, 'a list that fits has no pager');
    assert.deepEqual(await seriousViolations(page), []);
    await page.close();
  });
});
