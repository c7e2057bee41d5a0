import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startHarness, type Harness } from '../support/serverHarness.js';

let h: Harness;
let routes: { method: string; path: string }[];
const PUBLIC = new Set([
  '/livez',
  '/readyz',
  '/api/agent/register',
  '/api/sessions',
  '/api/sessions/methods',
  '/api/sessions/oidc/start',
  '/api/sessions/oidc/callback',
]);

before(async () => {
  h = await startHarness({ maxPollWaitMs: 100, leaseMs: 5000 });
  const doc = (await h.api('GET', '/api/openapi.json')).body;
  routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x') })),
  );
  await h.api('POST', '/api/environments', { name: 'Fuzz' });
  await h.api('POST', '/api/projects', { name: 'Fuzz', process: { steps: [{ name: 's', script: { body: 'true' } }] } });
});
after(() => h.close());

test('the OpenAPI document lists the resources', () => {
  const paths = new Set(routes.map((r) => r.path));
  for (const p of [
    '/api/projects',
    '/api/environments',
    '/api/worker-pools',
    '/api/targets',
    '/api/deployments',
    '/api/tasks',
    '/api/packages',
    '/api/workers',
    '/api/apply',
  ]) {
    assert.ok(paths.has(p), p);
  }
  assert.ok(routes.length > 30, `only ${routes.length} routes`);
});

test('every route but the probes, registration and signing in answers 401 without a key', async () => {
  for (const { method, path } of [...routes, { method: 'GET', path: '/api/openapi.json' }]) {
    if (PUBLIC.has(path)) continue;
    for (const headers of [{}, { authorization: 'Bearer nope' }, { 'x-longshore-api-key': 'nope' }] as Record<
      string,
      string
    >[]) {
      const res = await fetch(h.url + path, { method, headers });
      assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
      assert.equal(((await res.json()) as { code: string }).code, 'UNAUTHENTICATED');
    }
  }
  for (const path of ['/livez', '/readyz']) assert.equal((await fetch(h.url + path)).status, 200);
});

test('an API key does not open agent routes, nor a worker credential the API', async () => {
  const res = await h.api('POST', '/api/agent/poll', { free: 1, running: [], waitMs: 0 });
  assert.equal(res.status, 401);
});

test('the X-Longshore-Api-Key header is accepted', async () => {
  const res = await fetch(h.url + '/api/projects', { headers: { 'x-longshore-api-key': h.apiKey } });
  assert.equal(res.status, 200);
});

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(
        fc.string(),
        fc.constantFrom(
          'name',
          'steps',
          'process',
          'script',
          'body',
          'pools',
          'lines',
          'seq',
          'environment',
          'project',
          'version',
          'type',
          'kubernetes',
          'token',
        ),
      ),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
})).value;

test('random payloads at every route never get a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(),
      json,
      fc.oneof(
        fc.constant('x'),
        fc.string({ maxLength: 20 }).map(encodeURIComponent),
        fc.constantFrom('Fuzz', 'default', '..', '%00'),
      ),
      fc.boolean(),
      async (i, body, param, raw) => {
        const route = routes[i % routes.length]!;
        const path = route.path.replaceAll('/x', `/${param || 'x'}`);
        const init: RequestInit = {
          method: route.method,
          headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
          // A redirect (single sign-on's routes send the browser on) is the route's answer, not a page to load.
          redirect: 'manual',
        };
        if (route.method !== 'GET' && route.method !== 'DELETE')
          init.body = raw ? JSON.stringify(body).slice(0, -1) : JSON.stringify(body);
        const res = await fetch(h.url + path, init);
        const text = await res.text();
        assert.ok(res.status < 500, `${route.method} ${path} ${init.body ?? ''} -> ${res.status} ${text}`);
        if (res.status >= 400) assert.match(text, /"message"/);
      },
    ),
    { numRuns: 400 },
  );
});

test('bad input gets a 4xx that names the problem', async () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    [
      'POST',
      '/api/projects',
      {
        name: 'A',
        process: { steps: [{ name: 's', script: { body: 'x' }, resources: { requests: { cpu: 'lots' } } }] },
      },
      400,
      /cpu/,
    ],
    [
      'POST',
      '/api/projects',
      {
        name: 'B',
        process: {
          steps: [
            { name: 's', script: { body: 'x' } },
            { name: 'S', script: { body: 'y' } },
          ],
        },
      },
      400,
      /already named/,
    ],
    [
      'POST',
      '/api/projects',
      { name: 'C', process: { steps: [{ name: 's', script: { body: 'x' }, runOn: { pool: 'nope' } }] } },
      400,
      /worker pool 'nope' does not exist/,
    ],
    ['POST', '/api/projects', { name: 'Fuzz' }, 409, /already exists/],
    ['POST', '/api/projects', { nme: 'typo' }, 400, /name is required/],
    ['GET', '/api/projects/does-not-exist', undefined, 404, /Project 'does-not-exist' does not exist/],
    ['POST', '/api/deployments', { project: 'Fuzz', environment: 'Nowhere' }, 404, /Environment 'Nowhere'/],
    [
      'POST',
      '/api/targets',
      { name: 't', type: 'kubernetes-cluster', environments: ['Fuzz'] },
      400,
      /kubernetes.apiUrl/,
    ],
    [
      'POST',
      '/api/targets',
      { name: 't', type: 'generic', environments: ['Missing'] },
      400,
      /environment 'Missing' does not exist/,
    ],
    ['POST', '/api/projects/Fuzz/releases', { version: 'latest' }, 400, /not a semantic version/],
    ['POST', '/api/registration-tokens', { pools: ['ghost'] }, 404, /Worker pool 'ghost'/],
    ['DELETE', '/api/worker-pools/default', undefined, 409, /default worker pool/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const res = await h.api(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.message, message, `${method} ${path}`);
  }
});

test('an oversized body is refused with 413 and nothing is written', async () => {
  const res = await h.api('POST', '/api/projects', { name: 'Huge', description: 'x'.repeat(9 * 1024 * 1024) });
  assert.equal(res.status, 413);
  assert.equal((await h.api('GET', '/api/projects/Huge')).status, 404);
});

test('an apply with one bad part writes nothing', async () => {
  const res = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Half' }],
    projects: [
      { name: 'HalfProject', process: { steps: [{ name: 's', script: { body: 'x' }, runOn: { pool: 'missing' } }] } },
    ],
  });
  assert.equal(res.status, 400);
  assert.equal((await h.api('GET', '/api/environments/Half')).status, 404);
});

test('API keys: created, listed with their last use, revoked', async () => {
  const created = await h.api('POST', '/api/api-keys', { name: 'ci' });
  assert.equal(created.status, 201);
  const key = created.body.key as string;
  assert.equal((await fetch(h.url + '/api/projects', { headers: { authorization: `Bearer ${key}` } })).status, 200);
  const listed = (await h.api('GET', '/api/api-keys')).body.items.find((k: any) => k.id === created.body.id);
  assert.equal(listed.name, 'ci');
  assert.ok(listed.lastUsedAt, 'the use was recorded');
  assert.ok(!JSON.stringify(listed).includes(key), 'a key is shown once, at creation');
  assert.equal((await h.api('DELETE', `/api/api-keys/${created.body.id}`)).status, 204);
  assert.equal((await fetch(h.url + '/api/projects', { headers: { authorization: `Bearer ${key}` } })).status, 401);
});
