// Webhooks as a user sees them: a real HTTP receiver that checks signatures, deployments and health
// checks driven through the API with a hand-driven worker, a receiver that goes away and comes back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registerFakeAgent, waitFor, type FakeAgent } from '../support/agentClient.js';
import { refuseWrites } from '../support/faultTriggers.js';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { startReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

/** Retries in tenths of a second instead of seconds: 100, 300, 900 ms, then 1 s, five attempts in all. */
const FAST_RETRIES = {
  webhookRetryBaseMs: 100,
  webhookRetryMaxDelayMs: 1000,
  webhookMaxAttempts: 5,
  webhookTimeoutMs: 2000,
};

let h: Harness;
let agent: FakeAgent;
before(async () => {
  h = await startHarness(FAST_RETRIES);
  agent = await registerFakeAgent(h, 'hook-worker');
  assert.equal((await h.api('POST', '/api/environments', { name: 'Hooked' })).status, 201);
  const project = await h.api('POST', '/api/projects', {
    name: 'Hooked',
    process: { steps: [{ name: 'Only', script: { body: 'echo hi' } }] },
  });
  assert.equal(project.status, 201, JSON.stringify(project.body));
});
after(() => h?.close());

/** Subscribes the receiver; it learns the secret the server answers with (or the one given). */
async function subscribe(
  receiver: WebhookReceiver,
  name: string,
  events: string[],
  extra: Record<string, unknown> = {},
  on: Pick<Harness, 'api'> = h,
) {
  const made = await on.api('POST', '/api/webhooks', { name, url: receiver.url, events, ...extra });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  receiver.secret = made.body.secret;
  return made.body as { id: string; name: string; secret: string };
}

/** Deploys the one-step project and has the worker finish its step with this outcome; answers the task id. */
async function deploy(outcome: 'succeeded' | 'failed' = 'succeeded', on: Harness = h, worker = agent): Promise<string> {
  const deployed = await on.api('POST', '/api/deployments', { project: 'Hooked', environment: 'Hooked' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  const [op] = await waitFor('the step to reach the worker', async () => (await worker.poll()).operations);
  const done = await worker.complete(op.id, { outcome, exitCode: outcome === 'succeeded' ? 0 : 1 });
  assert.equal(done.status, 204, JSON.stringify(done.body));
  return deployed.body.taskId;
}

const deliveries = async (webhook: string, query = '') => {
  const res = await h.api('GET', `/api/webhooks/${encodeURIComponent(webhook)}/deliveries${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as any[];
};

describe('deliveries', () => {
  test("a receiver gets a deployment's start and success, signed, and the log shows both delivered", async () => {
    const receiver = await startReceiver();
    try {
      const webhook = await subscribe(receiver, 'Deploys', ['deployment.started', 'deployment.succeeded']);
      assert.match(webhook.secret, /^whsec_/);
      const taskId = await deploy();
      const started = await receiver.next('deployment.started', (r) => r.body.data.taskId === taskId);
      const succeeded = await receiver.next('deployment.succeeded', (r) => r.body.data.taskId === taskId);
      for (const r of [started, succeeded]) {
        assert.ok(r.signatureValid, `bad signature ${String(r.headers['x-longshore-signature'])}`);
        assert.match(String(r.headers['x-longshore-signature']), /^sha256=[0-9a-f]{64}$/);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['x-longshore-event'], r.body.event);
        assert.equal(r.headers['x-longshore-delivery'], r.body.id);
        assert.ok(!Number.isNaN(Date.parse(r.body.occurredAt)));
      }
      const data = succeeded.body.data;
      assert.deepEqual(
        [data.state, data.error, data.project.name, data.environment.name, data.release.version],
        ['succeeded', null, 'Hooked', 'Hooked', '0.0.1'],
      );
      assert.equal(data.url, `${h.url}/tasks/${taskId}`);
      assert.equal(started.body.data.state, 'running');

      const log = await waitFor('both delivered in the log', async () => {
        const items = await deliveries('Deploys');
        return items.length === 2 && items.every((d) => d.state === 'delivered') && items;
      });
      assert.deepEqual(
        log.map((d) => [d.event, d.attempts, d.lastStatus, d.lastError, d.nextAttemptAt]),
        [
          ['deployment.succeeded', 1, 200, null, null],
          ['deployment.started', 1, 200, null, null],
        ],
        'newest first',
      );
      assert.equal(log[0].id, succeeded.body.id);
      assert.deepEqual(log[0].payload, succeeded.body);
      // Not subscribed to failures: of a failed deployment only its start is queued (with the change itself).
      await deploy('failed');
      assert.deepEqual(
        (await deliveries('Deploys')).map((d) => d.event),
        ['deployment.started', 'deployment.succeeded', 'deployment.started'],
      );
    } finally {
      await receiver.stop();
    }
  });

  test('a receiver that was down gets the delivery once it is back; the log shows the attempts it took', async () => {
    const receiver = await startReceiver();
    await subscribe(receiver, 'Flaky', ['deployment.failed']);
    await receiver.stop();
    const taskId = await deploy('failed');
    const retrying = await waitFor('two refused attempts', async () => {
      const [d] = await deliveries('Flaky');
      return d && d.attempts >= 2 && d.lastError && d;
    });
    assert.equal(retrying.state, 'pending');
    assert.equal(retrying.lastStatus, null);
    assert.match(retrying.lastError, /ECONNREFUSED/);
    assert.ok(retrying.nextAttemptAt);
    const early = await h.api('POST', `/api/webhooks/Flaky/deliveries/${retrying.id}/redeliver`);
    assert.equal(early.status, 409);
    assert.match(early.body.message, /is still being delivered \(attempt \d\)/);
    await receiver.start();
    const got = await receiver.next('deployment.failed');
    assert.ok(got.signatureValid);
    assert.equal(got.body.data.taskId, taskId);
    assert.equal(got.body.data.state, 'failed');
    const [delivered] = await waitFor('the delivery recorded', async () => {
      const items = await deliveries('Flaky');
      return items[0]?.state === 'delivered' && items;
    });
    assert.ok(delivered.attempts > 1, `attempts: ${delivered.attempts}`);
    assert.equal(delivered.lastStatus, 200);
    assert.equal(receiver.received.length, 1, 'delivered once');
    await receiver.stop();
  });

  test('a receiver that keeps refusing is tried with growing waits, then the delivery is failed', async () => {
    const receiver = await startReceiver();
    receiver.status = 503;
    try {
      const webhook = await subscribe(receiver, 'Refusing', ['deployment.succeeded']);
      await deploy();
      const [failed] = await waitFor('the delivery to fail', async () => {
        const items = await deliveries(webhook.name);
        return items[0]?.state === 'failed' && items;
      });
      assert.equal(failed.attempts, 5);
      assert.equal(failed.lastStatus, 503);
      assert.equal(failed.lastError, 'the receiver answered 503 Service Unavailable: busy retry later');
      assert.equal(failed.nextAttemptAt, null);
      const times = receiver.received.map((r) => r.at);
      assert.equal(times.length, 5);
      const waits = times.slice(1).map((t, i) => t - times[i]!);
      // 100, 300, 900, 1000 ms, each a fifth either way, plus the time an attempt takes (so no upper bounds).
      assert.ok(waits[0]! >= 80 && waits[1]! >= 240 && waits[2]! >= 720 && waits[3]! >= 800, waits.join());
      assert.ok(new Set(receiver.received.map((r) => r.body.id)).size === 1, 'every attempt is the same delivery');
      assert.ok(receiver.received.every((r) => r.raw === receiver.received[0]!.raw && r.signatureValid));
      assert.deepEqual(await deliveries(webhook.name, '?state=pending'), []);
      assert.equal((await deliveries(webhook.name, '?state=failed')).length, 1);
    } finally {
      await receiver.stop();
    }
  });

  test('a worker found unhealthy, then healthy again, is told to subscribers', async () => {
    const receiver = await startReceiver();
    try {
      await subscribe(receiver, 'Workers', ['worker.unhealthy', 'worker.healthy']);
      const watched = await registerFakeAgent(h, 'watched');
      const check = async (ok: boolean) => {
        const { checkId } = (await h.api('POST', '/api/workers/watched/health-checks')).body;
        await waitFor('the check to reach the worker', async () => (await watched.poll()).healthChecks);
        const report = {
          checks: [{ name: 'free disk', ok, detail: ok ? '12 GB free' : '10 MB free' }],
          facts: {},
        };
        assert.equal((await watched.call('POST', `/api/agent/health-checks/${checkId}`, report)).status, 204);
      };
      await check(false);
      const unhealthy = await receiver.next('worker.unhealthy');
      assert.ok(unhealthy.signatureValid);
      assert.deepEqual(
        [unhealthy.body.data.worker.name, unhealthy.body.data.previousHealth, unhealthy.body.data.health],
        ['watched', 'unknown', 'unhealthy'],
      );
      assert.deepEqual(unhealthy.body.data.reasons, ['free disk: 10 MB free']);
      await check(false);
      await check(true);
      const healthy = await receiver.next('worker.healthy');
      assert.deepEqual([healthy.body.data.previousHealth, healthy.body.data.health], ['unhealthy', 'healthy']);
      await check(true);
      assert.deepEqual(
        receiver.received.map((r) => r.body.event),
        ['worker.unhealthy', 'worker.healthy'],
        'only changes across usable and not',
      );
    } finally {
      await receiver.stop();
    }
  });

  test('a test delivery, a redelivery, and a disabled webhook that gets nothing', async () => {
    const receiver = await startReceiver();
    try {
      const secret = 'a-secret-of-our-own-choosing';
      await subscribe(receiver, 'Pinged', ['deployment.succeeded'], { secret });
      assert.equal(receiver.secret, secret, 'a secret given is the one answered');
      const test = await h.api('POST', '/api/webhooks/Pinged/test');
      assert.equal(test.status, 202, JSON.stringify(test.body));
      assert.equal(test.body.event, 'ping');
      assert.equal(test.body.state, 'pending');
      const ping = await receiver.next('ping');
      assert.ok(ping.signatureValid);
      assert.equal(ping.body.id, test.body.id);
      assert.deepEqual(ping.body.data.events, ['deployment.succeeded']);
      const delivered = await waitFor('the ping delivered', async () => {
        const d = (await h.api('GET', `/api/webhooks/Pinged/deliveries/${test.body.id}`)).body;
        return d.state === 'delivered' && d;
      });
      assert.equal(delivered.lastStatus, 200);

      const again = await h.api('POST', `/api/webhooks/Pinged/deliveries/${test.body.id}/redeliver`);
      assert.equal(again.status, 202, JSON.stringify(again.body));
      assert.notEqual(again.body.id, test.body.id);
      const repeated = await receiver.next('ping', (r) => r.body.id === again.body.id);
      assert.deepEqual(
        [repeated.body.occurredAt, repeated.body.data],
        [ping.body.occurredAt, ping.body.data],
        'the same event again, under a new delivery id',
      );

      // A new secret signs what is sent from then on.
      receiver.secret = 'a-rotated-secret-0123456789';
      const rotated = await h.api('PUT', '/api/webhooks/Pinged', {
        name: 'Pinged',
        url: receiver.url,
        events: ['deployment.succeeded'],
        secret: receiver.secret,
      });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const second = await h.api('POST', '/api/webhooks/Pinged/test');
      assert.ok((await receiver.next('ping', (r) => r.body.id === second.body.id)).signatureValid);

      const disabled = await h.api('PUT', '/api/webhooks/Pinged', {
        name: 'Pinged',
        url: receiver.url,
        events: ['deployment.succeeded'],
        enabled: false,
      });
      assert.equal(disabled.body.enabled, false);
      const refused = await h.api('POST', '/api/webhooks/Pinged/test');
      assert.equal(refused.status, 409);
      assert.match(refused.body.message, /Webhook 'Pinged' is disabled/);
      const before = (await deliveries('Pinged')).length;
      await deploy();
      assert.equal((await deliveries('Pinged')).length, before, 'a disabled webhook is not sent events');
    } finally {
      await receiver.stop();
    }
  });

  test('a cancelled deployment is told; a webhook that cannot be queued holds no deployment up', async () => {
    const receiver = await startReceiver();
    try {
      await subscribe(receiver, 'Cancels', ['deployment.cancelled', 'deployment.succeeded']);
      const deployed = await h.api('POST', '/api/deployments', { project: 'Hooked', environment: 'Hooked' });
      assert.equal((await h.api('POST', `/api/tasks/${deployed.body.taskId}/cancel`)).status, 202);
      const cancelled = await receiver.next('deployment.cancelled');
      assert.deepEqual([cancelled.body.data.taskId, cancelled.body.data.state], [deployed.body.taskId, 'cancelled']);

      // The store refuses new deliveries, as a bug in queuing them would: the deployment still ends.
      const restore = await refuseWrites(h.server.ctx.db, {
        name: 'refuse_deliveries',
        event: 'INSERT',
        table: 'webhook_deliveries',
        message: 'refused',
      });
      try {
        const taskId = await deploy();
        assert.equal((await h.api('GET', `/api/tasks/${taskId}`)).body.state, 'succeeded');
      } finally {
        await restore();
      }
      assert.deepEqual(
        (await deliveries('Cancels')).map((d) => d.event),
        ['deployment.cancelled'],
      );
    } finally {
      await receiver.stop();
    }
  });

  test('a delivery queued before the server stopped goes out after it starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longshore-webhook-restart-'));
    const receiver = await startReceiver();
    try {
      // Its one retry waits long enough for it to stop first; the next server keeps to that time.
      const slow = { webhookRetryBaseMs: 1500, webhookRetryMaxDelayMs: 1500 };
      const first = await startHarness({ ...FAST_RETRIES, ...slow }, dir);
      await first.api('POST', '/api/environments', { name: 'Hooked' });
      await first.api('POST', '/api/projects', {
        name: 'Hooked',
        process: { steps: [{ name: 'Only', script: { body: 'echo hi' } }] },
      });
      const worker = await registerFakeAgent(first, 'restart-worker');
      await subscribe(receiver, 'Durable', ['deployment.succeeded'], {}, first);
      await receiver.stop();
      const taskId = await deploy('succeeded', first, worker);
      await waitFor('a refused attempt', async () => {
        const [d] = (await first.api('GET', '/api/webhooks/Durable/deliveries')).body.items;
        return d?.lastError;
      });
      await first.close();
      await receiver.start();
      const second = await startHarness(FAST_RETRIES, dir);
      try {
        const got = await receiver.next('deployment.succeeded');
        assert.equal(got.body.data.taskId, taskId);
        assert.ok(got.signatureValid);
      } finally {
        await second.close();
      }
    } finally {
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
