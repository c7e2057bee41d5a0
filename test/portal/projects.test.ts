// A project's page in a real browser (Debian's chromium through playwright-core) against a real
// server and local worker: the deployment process edited, reordered and saved, a refused save
// shown by the step it names with every edit kept; variables, a sensitive one never shown; a
// release made and deployed to a chosen environment, its task's log showing the script's output.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Lab } from '../support/lab.js';
import { chromiumMissing, launchChromium, seriousViolations, signIn } from '../support/portalBrowser.js';

let lab: Lab;
let browser: Browser;

/** A name that must be encoded in the address: a space, an ampersand, an accent. */
const SHOP = 'Web shop & café';
const SECRET = 'hunter2-s3cret-value';

/**
 * A signed-in page at desktop width on the project's page, noting console errors but the 400s of
 * the saves a test has the server refuse (chromium logs every refused request).
 */
async function projectPage(name: string): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 400 \(Bad Request\)/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await signIn(page, lab.url, lab.apiKey);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
  await page.goto(`${lab.url}/projects/${encodeURIComponent(name)}`);
  await page.getByRole('heading', { name, level: 1 }).waitFor({ timeout: 15_000 });
  await page.getByRole('heading', { name: 'Deployment process' }).waitFor();
  return { page, consoleErrors };
}

const api = (path: string) => lab.api('GET', path).then((r) => r.body);

describe("a project's page in a browser", { skip: chromiumMissing() }, () => {
  before(async () => {
    lab = new Lab();
    await lab.startServer();
    await lab.apply(`
environments: [ { name: Staging }, { name: Production } ]
targets:
  - { name: web-1, type: generic, environments: [ Staging ], tags: [ web ] }
projects:
  - name: '${SHOP}'
    process:
      steps:
        - name: Build
          script: { body: 'echo "building"' }
        - name: Ship
          script: { body: 'echo "shipping"' }
  - name: Greeter
    process:
      steps:
        - name: Say
          script: { body: 'echo "hello from the release"' }
`);
    await lab.startWorker('projects-worker');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await lab?.close();
  });

  test('the projects list links to a project page, whose own address loads it; an unknown one says so', async () => {
    const page = await browser.newPage({ bypassCSP: true });
    await signIn(page, lab.url, lab.apiKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: SHOP }).click();
    await page.getByRole('heading', { name: SHOP, level: 1 }).waitFor({ timeout: 15_000 });
    assert.equal(new URL(page.url()).pathname, `/projects/${encodeURIComponent(SHOP)}`);
    await page.reload();
    await page.getByRole('heading', { name: SHOP, level: 1 }).waitFor({ timeout: 15_000 });
    assert.deepEqual(await seriousViolations(page), []);

    await page.goto(`${lab.url}/projects/No%20such%20project`);
    await page.getByRole('heading', { name: 'No project named No such project' }).waitFor({ timeout: 15_000 });
    await page.close();
  });

  test('the process is edited, a step added and moved up, and saved in that order; a refused save shows the server by the step and keeps the edits', async () => {
    const { page, consoleErrors } = await projectPage(SHOP);
    await page.getByLabel('Step 1 script').fill('# build it\necho "building for $TARGET"\nif true; then make; fi');
    const build = page.getByRole('group', { name: 'Step 1: Build' });
    assert.equal(await build.locator('.sh-comment').textContent(), '# build it');
    assert.equal(await build.locator('.sh-variable').textContent(), '$TARGET');
    assert.deepEqual(await build.locator('.sh-keyword').allTextContents(), ['if', 'then', 'fi']);

    await page.getByRole('button', { name: 'Add a step' }).click();
    await page.getByLabel('Step 3 name').fill('Package');
    await page.getByLabel('Step 3 script').fill('echo packaging');
    await page.getByLabel('Step 3 container image').fill('alpine:3.20');
    await page.getByLabel('Step 3 CPU request').fill('250m');
    await page.getByLabel('Step 3 memory request').fill('128Mi');
    await page.getByLabel('Step 3 timeout (seconds)').fill('120');
    await page.getByLabel('Step 3 runs').selectOption('always');
    await page.getByRole('button', { name: 'Move step 3 up' }).click();
    assert.equal(await page.locator(':focus').textContent(), 'Move step 2 up', 'the focus stays on the moved step');
    assert.equal(await page.getByLabel('Step 2 name').inputValue(), 'Package');
    await page.getByRole('button', { name: 'Save the process' }).click();
    await page.getByText('Saved: the next release takes this process.').waitFor({ timeout: 10_000 });

    const saved = (await api(`/api/projects/${encodeURIComponent(SHOP)}`)).process.steps;
    assert.deepEqual(
      saved.map((s: { name: string }) => s.name),
      ['Build', 'Package', 'Ship'],
    );
    assert.equal(saved[0].script.body, '# build it\necho "building for $TARGET"\nif true; then make; fi');
    assert.deepEqual(saved[1].container, { image: 'alpine:3.20' });
    assert.deepEqual(saved[1].resources, { requests: { cpu: '250m', memory: '128Mi' } });
    assert.equal(saved[1].timeoutSeconds, 120);
    assert.equal(saved[1].condition, 'always');

    // The schema's problems name the step by its JSON path; the server's own checks with brackets.
    await page.getByLabel('Step 1 script').fill('echo "an edit that must survive"');
    await page.getByLabel('Step 2 CPU request').fill('lots');
    await page.getByRole('button', { name: 'Save the process' }).click();
    const refused = page.getByRole('region', { name: 'Deployment process' }).getByRole('alert');
    await refused.getByText(/steps\.1\.resources\.requests\.cpu/).waitFor({ timeout: 10_000 });
    const cpu = page.getByLabel('Step 2 CPU request');
    assert.equal(await cpu.getAttribute('aria-invalid'), 'true');
    assert.match(
      (await page.locator(`#${await cpu.getAttribute('aria-describedby')}`).textContent()) ?? '',
      /^is not a Kubernetes quantity/i,
    );
    assert.equal(await page.getByLabel('Step 2 memory request').getAttribute('aria-invalid'), null);

    await cpu.fill('500m');
    await page.getByLabel('Step 3 name').fill('Build');
    await page.getByRole('button', { name: 'Save the process' }).click();
    await refused.getByText(/another step/).waitFor({ timeout: 10_000 });
    assert.equal(await cpu.getAttribute('aria-invalid'), null, "the last save's problems only");
    assert.match((await refused.textContent()) ?? '', /steps\[2\]\.name: another step is already named 'Build'/);
    const name = page.getByLabel('Step 3 name');
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    const problem = page.locator(`#${await name.getAttribute('aria-describedby')}`);
    assert.equal(await problem.textContent(), "another step is already named 'Build'", 'by the field it names');
    assert.equal(await page.getByRole('group', { name: 'Step 3: Build' }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Step 1 script').inputValue(), 'echo "an edit that must survive"');
    assert.equal(await name.inputValue(), 'Build');
    assert.equal((await api(`/api/projects/${encodeURIComponent(SHOP)}`)).process.steps[2].name, 'Ship');
    assert.deepEqual(await seriousViolations(page), [], 'with the problems shown');

    await page.getByRole('button', { name: 'Discard changes' }).click();
    assert.equal(await page.getByLabel('Step 3 name').inputValue(), 'Ship');
    await page.setViewportSize({ width: 390, height: 844 });
    assert.deepEqual(await seriousViolations(page), [], 'at phone width');
    assert.ok(
      await page.locator('html').evaluate((html) => html.scrollWidth <= html.clientWidth),
      'nothing wider than a phone',
    );
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test('variables: a sensitive one shows only as set, never its value; a scoped one keeps its scope; a refused one shows why', async () => {
    const { page, consoleErrors } = await projectPage(SHOP);
    const variables = page.getByRole('region', { name: 'Variables' });
    await variables.getByText(/No variables yet/).waitFor({ timeout: 10_000 });

    await page.getByLabel('Variable name').fill('DbPassword');
    await page.getByLabel('Sensitive: stored encrypted, never shown again').check();
    await page.getByLabel('Value', { exact: true }).fill(SECRET);
    await page.getByRole('button', { name: 'Add the variable' }).click();
    const secretRow = variables.getByRole('row', { name: /DbPassword/ });
    await secretRow.waitFor({ timeout: 10_000 });
    assert.match((await secretRow.textContent()) ?? '', /set \(sensitive\)/);

    await page.getByLabel('Variable name').fill('Greeting');
    await page.getByLabel('Value', { exact: true }).fill('hello staging');
    await page.getByRole('checkbox', { name: 'Staging' }).check();
    await page.getByLabel('Target tags').fill('web, api');
    await page.getByRole('button', { name: 'Add the variable' }).click();
    const greeting = variables.getByRole('row', { name: /Greeting/ });
    await greeting.waitFor({ timeout: 10_000 });
    assert.match((await greeting.textContent()) ?? '', /environments Staging; target tags web, api/);

    const stored = await api(`/api/projects/${encodeURIComponent(SHOP)}/variables`);
    assert.deepEqual(
      stored.items.map((v: object) => ({ ...v, id: undefined })),
      [
        { id: undefined, name: 'DbPassword', value: null, sensitive: true, scope: {} },
        {
          id: undefined,
          name: 'Greeting',
          value: 'hello staging',
          sensitive: false,
          scope: { environments: ['Staging'], targetTags: ['web', 'api'] },
        },
      ],
    );
    assert.ok(!(await page.content()).includes(SECRET), "the page's HTML never holds the secret");

    await page.getByRole('button', { name: 'Edit DbPassword (everywhere)' }).click();
    await page.getByText('Value set: leave empty to keep it.').waitFor();
    assert.equal(await page.getByLabel('Value', { exact: true }).inputValue(), '');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.getByLabel('Variable name').fill('Bad{name}');
    await page.getByLabel('Value', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Add the variable' }).click();
    const refused = page.locator('form.variable-form').getByRole('alert');
    await refused.waitFor({ timeout: 10_000 });
    assert.match((await refused.textContent()) ?? '', /is not a variable name: no #, \{ or \}/);
    assert.equal(await page.getByLabel('Variable name').inputValue(), 'Bad{name}', 'what was typed stays');

    await page.getByRole('button', { name: /^Remove Greeting/ }).click();
    await greeting.waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual(
      (await api(`/api/projects/${encodeURIComponent(SHOP)}/variables`)).items.map((v: { name: string }) => v.name),
      ['DbPassword'],
    );
    assert.ok(!(await page.content()).includes(SECRET));
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test('releases are created newest first, and the one chosen is deployed to the environment chosen; its task shows the output', async () => {
    const { page, consoleErrors } = await projectPage('Greeter');
    const releases = page.getByRole('region', { name: 'Releases' });
    await releases.getByText(/No releases yet/).waitFor({ timeout: 10_000 });
    await page.getByLabel('Version', { exact: true }).fill('1.4.0');
    await page.getByLabel('Notes', { exact: true }).fill('The first cut');
    await page.getByRole('button', { name: 'Create release' }).click();
    await releases.getByRole('row', { name: /1\.4\.0/ }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Create release' }).click();
    await releases.getByRole('row', { name: /1\.4\.1/ }).waitFor({ timeout: 10_000 });
    assert.deepEqual(
      (await releases.locator('tbody th').allTextContents()).slice(0, 2),
      ['1.4.1', '1.4.0'],
      'newest first',
    );
    assert.match((await releases.getByRole('row', { name: /1\.4\.0/ }).textContent()) ?? '', /The first cut/);

    await page.getByLabel('Version', { exact: true }).fill('not a version');
    await page.getByRole('button', { name: 'Create release' }).click();
    const refused = releases.getByRole('alert');
    await refused.waitFor({ timeout: 10_000 });
    assert.match((await refused.textContent()) ?? '', /semantic version/);

    assert.equal(await page.getByLabel('Release', { exact: true }).inputValue(), '1.4.1', 'the newest is the default');
    await page.getByLabel('Release', { exact: true }).selectOption('1.4.0');
    await page.getByLabel('Environment', { exact: true }).selectOption('Production');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/tasks\/task-/, { timeout: 15_000 });
    const log = page.getByRole('region', { name: 'Task log' });
    await log.getByText('hello from the release', { exact: true }).waitFor({ timeout: 30_000 });

    const [deployment] = (await api('/api/deployments?project=Greeter')).items;
    assert.equal(deployment.releaseVersion, '1.4.0');
    const production = (await api('/api/environments/Production')).id;
    assert.equal(deployment.environmentId, production);
    assert.ok(page.url().endsWith(`/tasks/${deployment.taskId}`));
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
});
