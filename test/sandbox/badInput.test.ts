// Bad input never crashes the sandbox and never leaves a half-created object: each answer is
// the Status kube-apiserver gives (404, 405, 400, 415, 422, 410, 401).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { apiRequest, watch } from '../control-plane/differential/cluster.js';

describe('bad input', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox();
  });
  after(async () => {
    await sb?.stop();
  });
  const call = (method: string, path: string, body?: unknown, contentType?: string) =>
    apiRequest(sb, { method, path, ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
  const reason = (r: { body: unknown }): unknown => (r.body as { reason?: unknown }).reason;

  test('unknown resources and paths are 404, wrong verbs 405', async () => {
    assert.equal((await call('GET', '/api/v1/namespaces/default/widgets')).status, 404);
    assert.equal((await call('GET', '/apis/nope.example.com/v1/things')).status, 404);
    assert.equal((await call('GET', '/nothing-here')).status, 404);
    const r = await call('POST', '/api/v1/namespaces/default/configmaps/named', { metadata: { name: 'named' } });
    assert.equal(r.status, 405);
    assert.equal(reason(r), 'MethodNotAllowed');
    assert.equal((await call('DELETE', '/api/v1/namespaces')).status, 405);
    assert.equal((await call('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')).status, 405);
  });

  test('malformed bodies and patches are 400, unknown patch types 415, and nothing is stored', async () => {
    const cms = '/api/v1/namespaces/default/configmaps';
    for (const body of ['{"metadata":', '[]', '"text"', 'null-ish']) {
      const r = await call('POST', cms, body);
      assert.equal(r.status, 400, `body ${body}: ${JSON.stringify(r.body)}`);
    }
    await call('POST', cms, { metadata: { name: 'target' } });
    assert.equal((await call('PATCH', `${cms}/target`, '{"data":', 'application/merge-patch+json')).status, 400);
    assert.equal((await call('PATCH', `${cms}/target`, { op: 'add' }, 'application/json-patch+json')).status, 400);
    assert.equal(
      (await call('PATCH', `${cms}/target`, [{ op: 'remove', path: '/data/none' }], 'application/json-patch+json'))
        .status,
      422,
    );
    assert.equal((await call('PATCH', `${cms}/target`, 'data: {}', 'text/plain')).status, 415);
    const invalid = await call('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'half' },
      spec: { containers: [{ name: 'Bad Name' }] },
    });
    assert.equal(invalid.status, 422);
    assert.deepEqual(
      (invalid.body as { details: { causes: { field: string }[] } }).details.causes.map((c) => c.field).sort(),
      ['spec.containers[0].image', 'spec.containers[0].name'],
    );
    assert.equal(
      (await call('GET', '/api/v1/namespaces/default/pods/half')).status,
      404,
      'an invalid object is not stored',
    );
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20(')).status, 400);
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps?limit=x')).status, 400);
  });

  test('a stale watch gets 410 Expired, a wrong token 401', async () => {
    const first = await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'old' } });
    const rv = (first.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/old',
      { data: { a: '1' } },
      'application/merge-patch+json',
    );
    await sb.compactHistory();
    const w = await watch(sb, {
      path: `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`,
      until: (e) => e.length >= 1,
      timeLimitMs: 2_000,
    });
    assert.equal(w.events[0]?.type, 'ERROR');
    assert.equal(w.events[0]?.object.code, 410);
    const unauth = await apiRequest(sb, { path: '/api/v1/namespaces', token: 'wrong' });
    assert.equal(unauth.status, 401);
    assert.equal((await call('GET', '/healthz')).status, 200, 'still serving');
  });
});
