// The portal's "Add a Kubernetes worker" wizard in a real browser, against a real server and the
// sandbox cluster: its command, run with the real helm as a person pastes it, installs a worker
// that the same page then shows registering and turning healthy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { freePort } from '../support/cliProcess.js';
import { startHelmLab, type HelmLab } from '../support/helmLab.js';
import { clientsMissing } from '../sandbox/support.js';
import { chromiumMissing, launchChromium, saveScreenshot, signIn } from '../support/portalBrowser.js';

const NAMESPACE = 'wizard';
const WORKER = 'from-the-wizard';

let helm: HelmLab;
let browser: Browser;

const skip = chromiumMissing() || clientsMissing();

describe('the worker wizard in a browser', { skip }, () => {
  before(async () => {
    helm = await startHelmLab('environments: [ { name: Cluster } ]\n');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await helm?.close(`longshore-worker-${WORKER}`, NAMESPACE);
  });

  test('the wizard gives the helm command; run as given, the worker appears on the page registered and then healthy', async () => {
    const { lab, shell } = helm;
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: lab.url });
    const page = await context.newPage();
    await signIn(page, lab.url, lab.apiKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Infrastructure' }).click();

    await page.getByLabel('Worker name').fill(WORKER);
    await page.getByLabel('Namespace').fill(NAMESPACE);
    await page.getByLabel('Script pod CPU request').fill('100m');
    await page.getByRole('button', { name: 'Get the install command' }).click();
    const shown = page.getByLabel('Install command');
    await shown.waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Copy the command' }).click();
    const command = await page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    );
    assert.equal(command, (await shown.textContent()) ?? '', 'the copied command is the one shown');
    assert.match(command, /^helm upgrade --install longshore-worker-from-the-wizard /);
    assert.match(command, /scriptPods\.resources\.requests\.cpu=100m/);
    await page.getByText(`Waiting for ${WORKER} to register`).waitFor();

    // Pods share the host's network in the sandbox: the worker's health port must be free there.
    const installed = await shell(`${command} --set worker.healthPort=${await freePort()}`);
    assert.equal(installed.code, 0, installed.output);
    await page.getByText(`${WORKER} is registered and healthy`).waitFor({ timeout: 120_000 });
    // The page's worker list reads again every 5 s: the new worker appears there as well.
    await page
      .getByRole('row', { name: new RegExp(WORKER) })
      .getByText('healthy')
      .waitFor({ timeout: 15_000 });
    await saveScreenshot(page, 'worker-wizard');
    await context.close();
  });
});
