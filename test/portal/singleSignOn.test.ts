// Single sign-on in a real browser (Debian's chromium) against a real OpenID Connect provider
// (oidc-provider, in this process): the sign-in page's button goes to the provider and back, the
// portal keeps the session and takes it out of the address, and a refusal shows on the sign-in
// page in words. The portal must be built (npm run build), as for the other browser tests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, seriousViolations } from '../support/portalBrowser.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidcProvider.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

describe('single sign-on in the portal', { skip: chromiumMissing() }, () => {
  let idp: TestOidcProvider;
  let h: Harness;
  let browser: Browser;

  before(async () => {
    idp = await startOidcProvider();
    h = await startHarness({
      oidcIssuer: idp.issuer,
      oidcClientId: idp.clientId,
      oidcClientSecret: idp.clientSecret,
      oidcProviderName: 'Example SSO',
    });
    idp.allowClient(`${h.url}/api/sessions/oidc/callback`);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await idp?.close();
  });

  test('the button signs in through the provider and lands on the page it started from, the session out of the address', async () => {
    idp.signInAs({ sub: 'dana-subject', preferred_username: 'dana', name: 'Dana Scully' });
    const page = await browser.newPage({ bypassCSP: true });
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${h.url}/projects`);
    const button = page.getByRole('button', { name: 'Sign in with Example SSO' });
    await button.waitFor({ timeout: 10_000 });
    assert.deepEqual(await seriousViolations(page), []);
    await button.click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 15_000 });
    const url = new URL(page.url());
    assert.equal(url.pathname, '/projects');
    assert.equal(url.hash, '', 'the session is taken out of the address');
    const kept = await page.evaluate(() => Object.values({ ...sessionStorage }));
    assert.match(kept.join(), /^lss_/);
    const me = await h.api('GET', '/api/me', undefined, { authorization: `Bearer ${kept[0]}` });
    assert.equal(me.body.displayName, 'Dana Scully');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  test('a refusal shows on the sign-in page, and nothing is kept', async () => {
    idp.signInAs('refuse');
    const page = await browser.newPage();
    await page.goto(h.url);
    await page.getByRole('button', { name: 'Sign in with Example SSO' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /did not sign you in: The test provider turned you away/ })
      .waitFor({ timeout: 15_000 });
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.getByLabel('User name').waitFor();
    await page.close();
  });
});
