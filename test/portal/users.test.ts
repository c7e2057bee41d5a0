// Users in the portal, in a real browser (Debian's chromium through playwright-core) against a
// real server and local worker: admin signs in with the password the server wrote, makes user
// dana and a team that lets her deploy project A to Staging only (and see A everywhere), and signs
// out. Dana sees and does only that: the deploy form offers Staging alone and deploys, project B,
// Users, Audit and the worker wizard are not there, Cancel shows on her task only. The audit page
// shows her deployment and a refusal; a wrong password shows the server's message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Lab } from '../support/lab.js';
import {
  chromiumMissing,
  launchChromium,
  saveScreenshot,
  seriousViolations,
  signInAs,
} from '../support/portalBrowser.js';

let lab: Lab;
let browser: Browser;

const DANA = { name: 'dana', displayName: 'Dana Scully', password: 'dana-deploys-staging' };
const TEAM = 'Deployers of A';

/** A page at desktop width that notes console errors: a control the user may not use would log its 403. */
async function newPage(): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  return { page, consoleErrors };
}

/** Signed in with a password, the dashboard showing. */
async function signedIn(page: Page, name: string, password: string): Promise<void> {
  await signInAs(page, lab.url, name, password);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 15_000 });
}

const mainNav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
const sessionToken = (page: Page) => page.evaluate(() => sessionStorage.getItem('longshore.apiKey'));

/** Waits for the audit table to show this many rows (a new page of entries has arrived). */
const auditRows = (page: Page, count: number) =>
  page.waitForFunction(`document.querySelectorAll('table.audit tbody tr').length === ${count}`);

/** No serious accessibility violations at desktop and phone widths, and nothing wider than a phone. */
async function axeAtBothWidths(page: Page, what: string): Promise<void> {
  assert.deepEqual(await seriousViolations(page), [], `${what} at 1280 px`);
  await page.setViewportSize({ width: 390, height: 844 });
  assert.deepEqual(await seriousViolations(page), [], `${what} at 390 px`);
  assert.ok(
    await page.locator('html').evaluate((html) => html.scrollWidth <= html.clientWidth),
    `${what}: nothing wider than a phone`,
  );
  await saveScreenshot(page, `${what.replace(/\W+/g, '-')}-phone`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe('users in the portal', { skip: chromiumMissing() }, () => {
  before(async () => {
    lab = new Lab();
    await lab.startServer();
    const applied = await lab.apply(`
environments: [ { name: Staging }, { name: Production } ]
projects:
  - name: A
    process:
      steps:
        - name: Roll out
          script: { body: 'echo "rolling out A"; sleep 30' }
  - name: B
    process:
      steps:
        - name: Say
          script: { body: 'echo "B"' }
`);
    assert.equal(applied.code, 0, applied.output);
    await lab.startWorker('users-worker');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await lab?.close();
  });

  test("a wrong password is refused with the server's message, and nothing is kept", async () => {
    const page = await browser.newPage();
    await signInAs(page, lab.url, 'admin', 'not-the-password');
    await page
      .getByRole('alert')
      .filter({ hasText: 'The user name or the password is wrong' })
      .waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.close();
  });

  test('admin signs in with the password from the data directory, makes dana and her team, and signs out, ending the session', async () => {
    const { page, consoleErrors } = await newPage();
    await signedIn(page, 'admin', lab.adminPassword);
    const header = page.getByRole('banner');
    assert.match((await header.textContent()) ?? '', /Signed in as Administrator/);
    assert.ok(!page.url().includes((await sessionToken(page))!), 'the session token is never in the URL');

    await mainNav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'New user' }).waitFor({ timeout: 15_000 });
    await page.getByLabel('User name').fill(DANA.name);
    await page.getByLabel('Display name').fill(DANA.displayName);
    await page.getByLabel('Password').fill(DANA.password);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByText(`User ${DANA.name} created.`).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'the typed password does not stay');

    const form = page.getByRole('region', { name: 'New team' });
    await form.getByLabel('Team name').fill(TEAM);
    await form.getByRole('group', { name: 'Members' }).getByRole('checkbox', { name: DANA.name }).check();
    await form.getByRole('button', { name: 'Add a role' }).click();
    await form.getByRole('combobox', { name: 'Role 1' }).selectOption('Deployer');
    await form
      .getByRole('group', { name: 'Role 1 projects' })
      .getByRole('checkbox', { name: 'A', exact: true })
      .check();
    await form.getByRole('group', { name: 'Role 1 environments' }).getByRole('checkbox', { name: 'Staging' }).check();
    // Seeing A everywhere, not deploying it: a task she may see but not cancel.
    await form.getByRole('button', { name: 'Add a role' }).click();
    await form.getByRole('combobox', { name: 'Role 2' }).selectOption('Viewer');
    await form
      .getByRole('group', { name: 'Role 2 projects' })
      .getByRole('checkbox', { name: 'A', exact: true })
      .check();
    await form.getByRole('button', { name: 'Create team' }).click();
    const teamRow = page.getByRole('row', { name: new RegExp(`^${TEAM}`) });
    await teamRow.waitFor({ timeout: 10_000 });
    const teamText = (await teamRow.textContent()) ?? '';
    assert.match(teamText, /Deployer in projects A, environments Staging/);
    assert.match(teamText, /Viewer in projects A, every environment/);
    // Opened for editing, its roles are as saved, and saved again unchanged.
    await teamRow.getByRole('button', { name: `Edit ${TEAM}` }).click();
    const edit = page.getByRole('region', { name: `Edit team ${TEAM}` });
    assert.equal(await edit.getByLabel('Team name').inputValue(), TEAM);
    assert.equal(
      await edit
        .getByRole('group', { name: /^Role \d environments/ })
        .getByRole('checkbox', { checked: true })
        .count(),
      1,
    );
    await edit.getByRole('button', { name: 'Save team' }).click();
    await page.getByRole('heading', { name: 'New team' }).waitFor({ timeout: 10_000 });
    const team = (await lab.api('GET', `/api/teams/${encodeURIComponent(TEAM)}`)).body;
    assert.deepEqual(team.members, [DANA.name]);
    assert.deepEqual(
      [...team.roles].sort((a: { role: string }, b: { role: string }) => a.role.localeCompare(b.role)),
      [
        { role: 'Deployer', projects: ['A'], environments: ['Staging'] },
        { role: 'Viewer', projects: ['A'], environments: null },
      ],
    );
    assert.match((await page.getByRole('row', { name: /^dana/ }).textContent()) ?? '', /Dana Scully.*Deployers of A/);
    await saveScreenshot(page, 'users');
    await axeAtBothWidths(page, 'the users page');

    const token = await sessionToken(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The users page has a 'User name' field of its own: wait for the sign-in form's button instead.
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    const ended = await fetch(`${lab.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ended.status, 401, 'signing out ends the session on the server');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test('dana sees and does only what her roles allow: Staging alone to deploy A to, no B, no Users or Audit, no worker wizard, Cancel only on her task', async () => {
    const { page, consoleErrors } = await newPage();
    await signedIn(page, DANA.name, DANA.password);
    assert.match((await page.getByRole('banner').textContent()) ?? '', /Signed in as Dana Scully/);
    const links = await mainNav(page).getByRole('link').allTextContents();
    assert.deepEqual(links, ['Dashboard', 'Projects', 'Infrastructure']);
    assert.equal(await page.getByRole('heading', { name: 'Workers' }).count(), 0, 'no worker:view');

    await mainNav(page).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: 'A', exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(await page.getByRole('link', { name: 'B', exact: true }).count(), 0, 'project B is not hers');
    assert.equal(await page.getByRole('heading', { name: 'New project' }).count(), 0, 'no project:edit');

    await page.getByRole('link', { name: 'A', exact: true }).click();
    await page.getByRole('heading', { name: 'Deploy', exact: true }).waitFor({ timeout: 15_000 });
    const environments = await page.getByLabel('Environment', { exact: true }).locator('option').allTextContents();
    assert.deepEqual(environments, ['Staging'], 'Production is visible to her, but not hers to deploy to');
    assert.equal(await page.getByRole('button', { name: 'Save the process' }).count(), 0, 'the process is read-only');
    await page.getByRole('region', { name: 'Roll out script' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Add a variable' }).count(), 0, 'no variable:edit');
    await page.getByRole('button', { name: 'Create release' }).waitFor();
    await saveScreenshot(page, 'deployer-project');
    await axeAtBothWidths(page, "a deployer's project page");

    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/tasks\/task-/, { timeout: 15_000 });
    const ownTask = new URL(page.url()).pathname.split('/').at(-1)!;
    await page.getByRole('region', { name: 'Task log' }).getByText('rolling out A').waitFor({ timeout: 20_000 });
    const deployed = (await lab.api('GET', `/api/tasks/${ownTask}`)).body;
    assert.deepEqual([deployed.project, deployed.environment], ['A', 'Staging']);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('cancelled', { exact: true }).first().waitFor({ timeout: 20_000 });

    // Someone else's deployment of A to Production: hers to watch, not to cancel.
    const other = await lab.api('POST', '/api/deployments', { project: 'A', environment: 'Production' });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    await page.goto(`${lab.url}/tasks/${other.body.taskId}`);
    await page.getByRole('region', { name: 'Task log' }).getByText('rolling out A').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
    assert.equal((await lab.api('POST', `/api/tasks/${other.body.taskId}/cancel`)).status, 202);

    await mainNav(page).getByRole('link', { name: 'Infrastructure' }).click();
    await page.getByRole('heading', { name: 'Environments' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.getByRole('heading', { name: 'Add a Kubernetes worker' }).count(), 0);
    assert.equal(await page.getByRole('heading', { name: 'Workers' }).count(), 0);

    await page.goto(`${lab.url}/users`);
    await page.getByText('This page needs permission user:manage').waitFor({ timeout: 15_000 });

    // What the portal does not offer, the server refuses: her session, straight at the API.
    const refused = await fetch(`${lab.url}/api/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sessionToken(page)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'B', environment: 'Staging' }),
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(consoleErrors, [], 'the portal asked for nothing she may not see');
    await page.close();
  });

  test("the audit page shows dana's deployment and her refused one, with changes and the reason; older entries page back", async () => {
    // More failed sign-ins of one name than a page holds.
    for (let i = 0; i < 55; i += 5)
      await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`${lab.url}/api/sessions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'nobody', password: 'guessing-away' }),
          }),
        ),
      );
    const { page, consoleErrors } = await newPage();
    await signedIn(page, 'admin', lab.adminPassword);
    await mainNav(page).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor({ timeout: 15_000 });
    await page.getByLabel('Actor').fill(DANA.name);
    await page.getByRole('button', { name: 'Filter' }).click();

    const denied = page.locator('tr.audit-denied', { hasText: 'POST /api/deployments' });
    await denied.waitFor({ timeout: 15_000 });
    assert.match((await denied.textContent()) ?? '', /dana.*denied \(403\)/);
    await denied.getByRole('button', { name: /Show/ }).click();
    await page.getByText("This needs permission 'deployment:create' for project 'B'", { exact: false }).waitFor();

    const deployment = page.locator('tr.audit-ok', { hasText: 'POST /api/deployments' });
    await deployment.getByRole('button', { name: /Show/ }).click();
    const changes = page.locator('.audit-changes').last();
    assert.match((await changes.textContent()) ?? '', /releaseVersion: \(none\) → "\d+\.\d+\.\d+"/);
    await saveScreenshot(page, 'audit');
    await axeAtBothWidths(page, 'the audit page');

    await page.getByLabel('Actor').fill('nobody');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('table.audit tbody tr');
    await auditRows(page, 50);
    assert.equal(await page.locator('tr.audit-failed').count(), 50);
    await page.getByRole('button', { name: 'Older' }).click();
    await auditRows(page, 5);
    assert.match((await rows.first().textContent()) ?? '', /failed sign-in/);
    assert.equal(await page.getByRole('button', { name: 'Older' }).getAttribute('aria-disabled'), 'true');
    await page.getByRole('button', { name: 'Newer' }).click();
    await auditRows(page, 50);
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test('on her account page dana makes an API key, shown once, that works, and revokes it', async () => {
    const { page, consoleErrors } = await newPage();
    await signedIn(page, DANA.name, DANA.password);
    await page.getByRole('banner').getByRole('link', { name: DANA.displayName }).click();
    await page.getByRole('heading', { name: 'My API keys' }).waitFor({ timeout: 15_000 });
    assert.match((await page.getByRole('row', { name: /^Deployer/ }).textContent()) ?? '', /A.*Staging/);
    await page.getByLabel('Key name').fill('laptop');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.locator('.new-key-value').textContent({ timeout: 10_000 }))!;
    assert.match(key, /^lsk_/);
    const asKey = { headers: { authorization: `Bearer ${key}` } };
    assert.equal((await fetch(`${lab.url}/api/projects/A`, asKey)).status, 200);
    await page.getByRole('button', { name: 'Revoke laptop' }).click();
    await page
      .getByRole('row', { name: /laptop/ })
      .getByText('revoked')
      .waitFor({ timeout: 10_000 });
    assert.equal((await fetch(`${lab.url}/api/projects/A`, asKey)).status, 401);
    await saveScreenshot(page, 'account');
    await axeAtBothWidths(page, 'the account page');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
});
