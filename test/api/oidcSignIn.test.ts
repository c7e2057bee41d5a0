// Single sign-on against a real OpenID Connect provider (oidc-provider, in this process): a browser
// goes from the server to the provider and back, and lands on the portal with a session in the
// address's fragment; every way of it going wrong lands it on the sign-in page with a message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser } from '../support/cookieBrowser.js';
import { startOidcProvider, type TestAccount, type TestOidcProvider } from '../support/oidcProvider.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

const START = '/api/sessions/oidc/start';
const CALLBACK = '/api/sessions/oidc/callback';

/** The fragment of where the server sent the browser at the end: `session` or `signin-error`. */
function landing(location: string): { path: string; query: string; fragment: URLSearchParams } {
  const url = new URL(location);
  return { path: url.pathname, query: url.search, fragment: new URLSearchParams(url.hash.slice(1)) };
}

describe('single sign-on through OpenID Connect', () => {
  let idp: TestOidcProvider;
  let h: Harness;
  const alice: TestAccount = {
    sub: 'alice-subject',
    preferred_username: 'alice',
    name: 'Alice Liddell',
    email: 'alice@example.com',
  };

  before(async () => {
    idp = await startOidcProvider();
    h = await startHarness({
      oidcIssuer: idp.issuer,
      oidcClientId: idp.clientId,
      oidcClientSecret: idp.clientSecret,
      oidcProviderName: 'Example SSO',
      oidcDefaultTeams: ['sso-people', 'no-such-team'],
    });
    idp.allowClient(`${h.url}${CALLBACK}`);
    assert.equal((await h.api('POST', '/api/teams', { name: 'sso-people' })).status, 201);
  });
  after(async () => {
    await h?.close();
    await idp?.close();
  });

  /** Start → provider → back to the callback (not yet followed): what a browser does up to the last hop. */
  async function throughProvider(browser: CookieBrowser, returnTo = '/'): Promise<string> {
    return browser.followUntil(`${h.url}${START}?returnTo=${encodeURIComponent(returnTo)}`, (next) =>
      next.startsWith(`${h.url}${CALLBACK}`),
    );
  }

  async function signIn(account: TestAccount | 'refuse', returnTo = '/') {
    idp.signInAs(account);
    const browser = new CookieBrowser();
    const callback = await throughProvider(browser, returnTo);
    const { status, location } = await browser.get(callback);
    assert.equal(status, 302);
    return landing(location!);
  }

  test('the portal learns the button to show', async () => {
    const res = await fetch(`${h.url}/api/sessions/methods`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { singleSignOn: { label: 'Sign in with Example SSO', startUrl: START } });
  });

  test('a first sign-in makes the user from the claims; the session in the fragment works; the next finds them', async () => {
    const first = await signIn(alice, '/projects');
    assert.equal(first.path, '/projects');
    assert.equal(first.query, '', 'nothing in the query string, which servers and proxies log');
    const token = first.fragment.get('session');
    assert.match(token ?? '', /^lss_/);

    const me = await h.api('GET', '/api/me', undefined, { authorization: `Bearer ${token}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.name, 'alice');
    assert.equal(me.body.via, 'session');
    const user = await h.api('GET', '/api/users/alice');
    assert.deepEqual(
      [user.body.displayName, user.body.email, user.body.hasPassword, user.body.singleSignOn, user.body.teams],
      ['Alice Liddell', 'alice@example.com', false, true, ['sso-people']],
    );

    const second = await signIn(alice);
    assert.equal(second.path, '/');
    assert.notEqual(second.fragment.get('session'), token);
    const again = await h.api('GET', '/api/me', undefined, {
      authorization: `Bearer ${second.fragment.get('session')}`,
    });
    assert.equal(again.body.id, me.body.id);
    const users = (await h.api('GET', '/api/users')).body.items.map((u: { name: string }) => u.name);
    assert.equal(users.filter((n: string) => n.startsWith('alice')).length, 1);

    const audit = await h.api('GET', '/api/audit?actor=alice');
    const signIns = audit.body.items.filter((e: { action: string }) => e.action === 'sign-in');
    assert.equal(signIns.length, 2);
    assert.ok(signIns.every((e: { via: string }) => e.via === 'single sign-on'));
    assert.ok(!JSON.stringify(audit.body).includes(token!), 'the session token stays out of the audit log');
  });

  test('a name someone already has gets a number; the account is found by its subject, not its name', async () => {
    assert.equal((await h.api('POST', '/api/users', { name: 'bob', password: 'bob-has-a-password' })).status, 201);
    const other = await signIn({ sub: 'another-bob', preferred_username: 'bob' });
    const me = await h.api('GET', '/api/me', undefined, { authorization: `Bearer ${other.fragment.get('session')}` });
    assert.equal(me.body.name, 'bob-2');
    assert.equal(me.body.displayName, 'bob-2');
  });

  test('a disabled user is turned away with a message, and the refusal is audited', async () => {
    await signIn({ sub: 'carol-subject', preferred_username: 'carol' });
    assert.equal((await h.api('PUT', '/api/users/carol', { disabled: true })).status, 200);
    const refused = await signIn({ sub: 'carol-subject', preferred_username: 'carol' });
    assert.equal(refused.path, '/');
    assert.equal(refused.fragment.get('session'), null);
    assert.match(refused.fragment.get('signin-error') ?? '', /User 'carol' is disabled/);
    const audit = await h.api('GET', '/api/audit?actor=carol');
    assert.ok(
      audit.body.items.some((e: { action: string; outcome: string }) => e.action === 'failed sign-in'),
      JSON.stringify(audit.body),
    );
  });

  test('the provider turning someone away reaches the sign-in page in words', async () => {
    const refused = await signIn('refuse');
    assert.match(refused.fragment.get('signin-error') ?? '', /did not sign you in: The test provider turned you away/);
  });

  test('a tampered state, a replayed callback and a callback in another browser are refused', async () => {
    idp.signInAs(alice);
    const browser = new CookieBrowser();
    const callback = await throughProvider(browser);
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    const forged = landing((await browser.get(tampered.href)).location!);
    assert.match(forged.fragment.get('signin-error') ?? '', /not started in this browser/);
    assert.equal(forged.fragment.get('session'), null);

    // A sign-in the attacker started, handed to someone else's browser (login CSRF): it has no cookie.
    const attacker = new CookieBrowser();
    const handed = await throughProvider(attacker);
    const victim = landing((await new CookieBrowser().get(handed)).location!);
    assert.match(victim.fragment.get('signin-error') ?? '', /not started in this browser/);

    const fresh = new CookieBrowser();
    const once = await throughProvider(fresh);
    const cookie = fresh.cookie(new URL(h.url).host, 'longshore_sign_in');
    assert.ok(landing((await fresh.get(once)).location!).fragment.get('session'));
    // The callback cleared the cookie; a replay with it put back finds the sign-in finished.
    const replay = await fetch(once, { redirect: 'manual', headers: { cookie: `longshore_sign_in=${cookie}` } });
    assert.match(landing(replay.headers.get('location')!).fragment.get('signin-error') ?? '', /finished already/);
  });

  test('returnTo must be a path of this server', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'evil.example']) {
      const res = await fetch(`${h.url}${START}?returnTo=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, returnTo);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'VALIDATION_FAILED');
      assert.match(body.message, /querystring\.returnTo is not a path of this server/);
      assert.equal(res.headers.getSetCookie().length, 0);
    }
  });
});

describe('single sign-on when it cannot be used', () => {
  test('a server without it says so to the portal, and its start lands on the sign-in page', async () => {
    const h = await startHarness();
    try {
      assert.deepEqual(await (await fetch(`${h.url}/api/sessions/methods`)).json(), { singleSignOn: null });
      const res = await fetch(`${h.url}${START}`, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.match(landing(res.headers.get('location')!).fragment.get('signin-error')!, /not configured/);
    } finally {
      await h.close();
    }
  });

  test('a provider that cannot be reached fails the sign-in with a message, not the server', async () => {
    const gone = await startOidcProvider();
    await gone.close();
    const h = await startHarness({ oidcIssuer: gone.issuer, oidcClientId: 'longshore', oidcClientSecret: 'secret' });
    try {
      const res = await fetch(`${h.url}${START}`, { redirect: 'manual' });
      assert.equal(res.status, 302);
      const error = landing(res.headers.get('location')!).fragment.get('signin-error')!;
      assert.match(error, new RegExp(`The sign-in provider ${gone.issuer}/ could not be discovered`));
      assert.equal((await h.api('GET', '/api/me')).status, 200, 'API keys still work');
    } finally {
      await h.close();
    }
  });
});
