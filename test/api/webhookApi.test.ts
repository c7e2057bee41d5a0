// The webhooks API itself: what it keeps, what it answers (never the secret), what it refuses, to whom.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { userWithRoles } from '../support/users.js';
import { startReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h?.close());

async function subscribe(receiver: WebhookReceiver, name: string, events: string[]) {
  const made = await h.api('POST', '/api/webhooks', { name, url: receiver.url, events });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  receiver.secret = made.body.secret;
  return made.body as { id: string; name: string; secret: string };
}

const deliveries = async (webhook: string, query = '') => {
  const res = await h.api('GET', `/api/webhooks/${encodeURIComponent(webhook)}/deliveries${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as any[];
};

describe('the webhooks API', () => {
  test('create, read, list, page the log, delete; the secret is never answered again', async () => {
    const receiver = await startReceiver();
    try {
      const made = await subscribe(receiver, 'Crud', ['deployment.started']);
      for (const res of [await h.api('GET', '/api/webhooks'), await h.api('GET', '/api/webhooks/crud')]) {
        assert.equal(res.status, 200);
        assert.ok(!JSON.stringify(res.body).includes(made.secret), 'no secret in a read');
        assert.ok(!JSON.stringify(res.body).includes('"secret"'));
      }
      const one = (await h.api('GET', `/api/webhooks/${made.id}`)).body;
      assert.deepEqual(
        [one.name, one.url, one.events, one.enabled],
        ['Crud', receiver.url, ['deployment.started'], true],
      );
      const audit = await h.api('GET', '/api/audit?objectKind=webhooks');
      assert.ok(audit.body.items.length > 0);
      assert.ok(!JSON.stringify(audit.body).includes(made.secret), 'no secret in the audit log');
      assert.equal(
        (await h.api('POST', '/api/webhooks', { name: 'CRUD', url: receiver.url, events: ['ping'] })).status,
        400,
      );
      const clash = await h.api('POST', '/api/webhooks', {
        name: 'CRUD',
        url: receiver.url,
        events: ['deployment.failed'],
      });
      assert.equal(clash.status, 409);

      for (let i = 0; i < 5; i++) assert.equal((await h.api('POST', '/api/webhooks/Crud/test')).status, 202);
      const all = await deliveries('Crud');
      const page1 = await deliveries('Crud', '?limit=2');
      const page2 = await deliveries('Crud', `?limit=2&before=${page1[1].id}`);
      assert.deepEqual(
        [...page1, ...page2].map((d) => d.id),
        all.slice(0, 4).map((d) => d.id),
      );
      const unknown = await h.api('GET', '/api/webhooks/Crud/deliveries?before=whd-nope');
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.message, /has no delivery 'whd-nope'/);
      assert.equal((await h.api('GET', '/api/webhooks/Crud/deliveries/whd-nope')).status, 404);

      assert.equal((await h.api('DELETE', '/api/webhooks/Crud')).status, 204);
      assert.equal((await h.api('GET', '/api/webhooks/Crud')).status, 404);
      const gone = await h.api('GET', '/api/webhooks/Crud/deliveries');
      assert.equal(gone.status, 404);
      assert.match(gone.body.message, /Webhook 'Crud' does not exist/);
    } finally {
      await receiver.stop();
    }
  });

  test('invalid input is a 400 that says what is wrong', async () => {
    const valid = { name: 'Bad', url: 'https://hooks.example.com/longshore', events: ['deployment.failed'] };
    for (const [body, message] of [
      [{ ...valid, url: 'ftp://hooks.example.com/' }, /body\.url is not an http:\/\/ or https:\/\/ URL/],
      [{ ...valid, url: 'not a url' }, /body\.url is not an http:\/\/ or https:\/\/ URL/],
      [{ ...valid, url: 'http://[nope/' }, /url 'http:\/\/\[nope\/' is not a valid URL/],
      [{ ...valid, url: 'https://user:pass@hooks.example.com/' }, /must not carry a user name or password/],
      [{ ...valid, events: ['deployment.exploded'] }, /body\.events\.0 must be one of: deployment\.started, /],
      [{ ...valid, events: [] }, /body\.events must NOT have fewer than 1 items/],
      [{ ...valid, secret: 'short' }, /body\.secret must NOT have fewer than 16 characters/],
      [{ ...valid, secret: 'sixteen chars with spaces' }, /body\.secret is not at least 16 printable characters/],
      [{ name: 'Bad', events: ['deployment.failed'] }, /body\.url is required/],
    ] as const) {
      const res = await h.api('POST', '/api/webhooks', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      assert.match(res.body.message, message);
    }
    assert.equal((await h.api('GET', '/api/webhooks/Bad')).status, 404, 'nothing was made');
  });

  test('only a user with webhook:manage may see or change webhooks', async () => {
    const receiver = await startReceiver();
    try {
      await subscribe(receiver, 'Guarded', ['deployment.failed']);
      const viewer = await userWithRoles(h, 'hook-viewer', [{ role: 'Viewer' }]);
      for (const [method, path, body] of [
        ['GET', '/api/webhooks'],
        ['GET', '/api/webhooks/Guarded'],
        ['POST', '/api/webhooks', { name: 'Mine', url: receiver.url, events: ['deployment.failed'] }],
        ['PUT', '/api/webhooks/Guarded', { name: 'Guarded', url: receiver.url, events: ['deployment.failed'] }],
        ['DELETE', '/api/webhooks/Guarded'],
        ['GET', '/api/webhooks/Guarded/deliveries'],
        ['POST', '/api/webhooks/Guarded/test'],
      ] as const) {
        const res = await viewer.api(method, path, body);
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.code, 'FORBIDDEN');
      }
      assert.equal((await h.api('GET', '/api/webhooks/Guarded')).status, 200, 'still there');
      assert.equal(receiver.received.length, 0);
    } finally {
      await receiver.stop();
    }
  });
});
