// A deployment on a Kubernetes worker, made and watched in the portal (Debian's chromium through
// playwright-core) against a real server and the sandbox cluster: a project of two steps created
// in the portal and deployed from its page; its first step's requests fit on no node, so it
// waits while the sandbox's autoscaler adds one; the page says why as it happens, and the
// timeline shows that wait as the step's pending segment, apart from its queue and its run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { AUTOSCALED_FROM_ZERO } from '../support/autoscalingScenario.js';
import {
  chromiumMissing,
  launchChromium,
  saveScreenshot,
  seriousViolations,
  signIn,
} from '../support/portalBrowser.js';

let lab: Lab;
let sandbox: Sandbox;
let browser: Browser;

describe('a Kubernetes deployment in the portal', { skip: chromiumMissing() }, () => {
  before(async () => {
    const [group] = AUTOSCALED_FROM_ZERO.nodeGroups;
    // A node takes 4 s to come: long enough to be seen waiting for it.
    sandbox = await startSandbox({
      cluster: { ...AUTOSCALED_FROM_ZERO, nodeGroups: [{ ...group!, provisioningDelayMs: 4_000 }] },
    });
    lab = new Lab();
    await lab.startServer();
    await lab.startKubernetesWorker('cluster-worker', {
      kubeconfig: sandbox.kubeconfigPath,
      scriptPods: 'pendingTimeoutMs: 2000\nscaleUpTimeoutMs: 60000\n',
    });
    await lab.apply(`
environments: [ { name: Cluster } ]
projects:
  - name: Endless
    process:
      steps:
        - name: Wait
          script: { body: 'echo "waiting in the pod"; sleep 300' }
`);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await lab?.close();
    await sandbox?.stop();
  });

  test('a step waits for the node the autoscaler adds: the page says so as it happens, and the timeline shows the wait as pending', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await signIn(page, lab.url, lab.apiKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('heading', { name: 'New project' }).waitFor({ timeout: 15_000 });
    await page.getByLabel('Name', { exact: true }).fill('Grow');
    await page.getByLabel('Step 1 name').fill('Big');
    await page.getByLabel('Step 1 script').fill('echo "on the new node"; sleep 2; echo "big done"');
    await page.getByLabel('Step 1 CPU request').fill('1500m');
    await page.getByRole('button', { name: 'Add a step' }).click();
    await page.getByLabel('Step 2 name').fill('Report');
    await page.getByLabel('Step 2 script').fill('echo "reported"');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Grow' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/tasks\/task-/, { timeout: 15_000 });

    const timeline = page.getByRole('region', { name: 'Timeline' });
    const big = timeline.locator('.timeline-row', { hasText: 'Big' });
    await big
      .locator('.timeline-waiting', { hasText: /autoscaler is adding a node/ })
      .waitFor({ timeout: 30_000 })
      .catch(async (err: Error) => {
        throw new Error(`${err.message}\nThe timeline said: ${await timeline.textContent()}`);
      });
    assert.ok((await big.locator('.segment-pending').count()) === 1, 'the wait is drawn as it goes');
    await page.getByText('on the new node', { exact: true }).waitFor({ timeout: 30_000 });
    await saveScreenshot(page, 'task-timeline');

    await page.getByText('succeeded', { exact: true }).first().waitFor({ timeout: 60_000 });
    const log = page.getByRole('region', { name: 'Task log' });
    assert.match((await log.textContent()) ?? '', /The cluster autoscaler is adding a node[\s\S]*on the new node/);
    const figures = (await big.locator('.timeline-figures').textContent()) ?? '';
    const pending = Number(/pending ([\d.]+) s/.exec(figures)?.[1]);
    const running = Number(/running ([\d.]+) s/.exec(figures)?.[1]);
    assert.ok(pending >= 3, `the step waited for the 4 s node: ${figures}`);
    assert.ok(running >= 1.5 && running < pending + 10, `and then ran its 2 s script: ${figures}`);
    const reported = (await timeline.locator('.timeline-row', { hasText: 'Report' }).textContent()) ?? '';
    assert.match(reported, /queued [\d.]+ s · pending [\d.]+ s · running [\d.]+ s · succeeded/);
    const summary = (await page.locator('summary', { hasText: /^Big/ }).textContent()) ?? '';
    assert.match(summary, /succeeded, [\d.]+ s on cluster-worker in pod longshore-[0-9a-f-]+$/);
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test('a task running in a script pod is cancelled from its page', async () => {
    const page = await browser.newPage();
    await signIn(page, lab.url, lab.apiKey);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
    const deployment = await lab.api('POST', '/api/deployments', { project: 'Endless', environment: 'Cluster' });
    await page.goto(`${lab.url}/tasks/${deployment.body.taskId}`);
    await page.getByText('waiting in the pod', { exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('cancelled', { exact: true }).first().waitFor({ timeout: 30_000 });
    assert.equal((await lab.api('GET', `/api/tasks/${deployment.body.taskId}`)).body.state, 'cancelled');
    await page.close();
  });
});
