// Every registered route, called under every spelling of its path that a router or a proxy might
// read as the same route (percent-encoded, double-encoded, mixed case, trailing slash, dot
// segments, doubled slashes), with no credential and with the wrong kind of credential: none
// reaches a handler. The audit found `GET /%61pi/api-keys` answering without a key.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { registerFakeAgent, type FakeAgent } from '../support/agentClient.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

/** A request with the path sent byte for byte (fetch would resolve dot segments first). */
function raw(base: string, method: string, path: string, token?: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, method, path, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** The spellings of one concrete path. */
function pathVariants(path: string): string[] {
  const segments = path.split('/').slice(1);
  const at = (i: number, s: string) => '/' + segments.map((x, j) => (j === i ? s : x)).join('/');
  const variants = new Set<string>([
    path,
    `${path}/`,
    `/${path}`,
    path.toUpperCase(),
    path.replace(/^\/./, (m) => m.toUpperCase()),
    `${path}?x=1`,
    `${path}#x`,
  ]);
  segments.forEach((segment, i) => {
    if (!segment) return;
    const first = segment[0]!;
    variants.add(at(i, hex(first) + segment.slice(1)));
    variants.add(at(i, hex(first).toLowerCase() + segment.slice(1)));
    variants.add(at(i, '%25' + hex(first).slice(1) + segment.slice(1)));
    variants.add(at(i, [...segment].map(hex).join('')));
    variants.add(at(i, `./${segment}`));
    variants.add(at(i, `%2e/${segment}`));
    variants.add(at(i, `x/../${segment}`));
    variants.add(at(i, `x/%2e%2e/${segment}`));
    variants.add(at(i, `x%2f..%2f${segment}`));
    variants.add(at(i, segment.toUpperCase()));
  });
  variants.add(path.replaceAll('/', '//'));
  variants.add(path.replace(/\//g, (m, offset: number) => (offset === 0 ? m : '%2f')));
  return [...variants];
}

describe('the route guard', () => {
  let h: Harness;
  let agent: FakeAgent;

  before(async () => {
    h = await startHarness();
    agent = await registerFakeAgent(h, 'guard-agent');
  });
  after(async () => {
    await h?.close();
  });

  test('exactly the probes, the metrics, registration and signing in (by password or single sign-on) are public', () => {
    const open = h.server.routes
      .filter((r) => r.access === 'public')
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    assert.deepEqual(open, [
      'GET /api/sessions/methods',
      'GET /api/sessions/oidc/callback',
      'GET /api/sessions/oidc/start',
      'GET /livez',
      'GET /metrics',
      'GET /readyz',
      'HEAD /api/sessions/methods',
      'HEAD /api/sessions/oidc/callback',
      'HEAD /api/sessions/oidc/start',
      'HEAD /livez',
      'HEAD /metrics',
      'HEAD /readyz',
      'POST /api/agent/register',
      'POST /api/sessions',
    ]);
  });

  test('no spelling of any route reaches it without its credential', async () => {
    const guarded = h.server.routes.filter((r) => r.access !== 'public');
    assert.ok(guarded.length > 40, `${guarded.length} routes`);
    let calls = 0;
    const reached: string[] = [];
    for (const route of guarded) {
      const concrete = route.url.replace(/:[A-Za-z]+/g, 'x').replace(/\*/g, 'x');
      const wrong = route.access === 'user' ? agent.credential : h.apiKey;
      for (const path of pathVariants(concrete)) {
        for (const token of [undefined, wrong, 'lsk_not-a-key', 'lsp_forged.token']) {
          const status = await raw(h.url, route.method, path, token);
          calls++;
          if (status !== 401 && status !== 404 && status !== 400)
            reached.push(
              `${route.method} ${path} (${route.access}, ${token === undefined ? 'no credential' : token === wrong ? 'the wrong kind of credential' : 'a bad credential'}): ${status}`,
            );
        }
      }
    }
    assert.deepEqual(reached, [], `${reached.length} of ${calls} calls answered other than 400/401/404`);
  });

  test('the right credential opens its routes under their own spelling', async () => {
    for (const route of h.server.routes.filter((r) => r.method === 'GET' && !r.url.includes(':'))) {
      const token = route.access === 'user' ? h.apiKey : route.access === 'public' ? undefined : agent.credential;
      const status = await raw(h.url, 'GET', route.url, token);
      assert.ok(status !== 401 && status !== 403, `GET ${route.url} with its credential: ${status}`);
    }
    assert.equal(
      await raw(h.url, 'GET', '/%61pi/api-keys', h.apiKey),
      200,
      'an encoded spelling of a route is that route, with its guard',
    );
  });
});
